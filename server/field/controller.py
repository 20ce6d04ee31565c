"""Rejects: input that was refused and kept with its raw bytes (MQTT fills it; admins read it)."""

from __future__ import annotations

import base64
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from sqlmodel import col, select

from server.api.deps import SessionDep
from server.api.listings import page_of
from server.api.problems import refusals
from server.api.schemas import Offset, Page
from server.api.security import allow
from server.auth import Role
from server.db.tables import RejectRow
from server.field.schemas import RejectOut


class RejectController(Controller):
    path = "/rejects"
    tags = ("rejects",)

    @get("/", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def list_rejects(
        self,
        session: SessionDep,
        channel: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> Page[RejectOut]:
        query = select(RejectRow)
        if channel:
            query = query.where(RejectRow.channel == channel)
        rows, total = page_of(session, query, [col(RejectRow.id).desc()], limit, offset)
        items = [
            RejectOut(
                id=r.id or 0,
                at=r.at,
                channel=r.channel,
                topic=r.topic,
                device=r.device,
                reason=r.reason,
                raw_base64=base64.b64encode(r.raw).decode(),
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)
