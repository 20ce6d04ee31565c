"""Whistles (吹哨报到): a township calls county departments in; each reports in and is rated."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody
from litestar.status_codes import HTTP_200_OK
from sqlmodel import Session

from server.api.deps import IncidentsDep, PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import Offset, Page, strict
from server.api.security import STAFF, allow, deny, township_scope
from server.auth import Principal, Role
from server.db.tables import WhistleCallRow, WhistleRow
from server.incidents.scope import check_scope
from server.runtime import Runtime
from server.whistles.schemas import CallOut, RatingIn, WhistleIn, WhistleOut
from server.whistles.service import WhistleService


def whistle_out(whistle: WhistleRow, calls: list[WhistleCallRow], now: dt.datetime) -> WhistleOut:
    return WhistleOut(
        id=whistle.id,
        incident=whistle.incident,
        township=whistle.township,
        kind=whistle.kind,
        reason=whistle.reason,
        note=whistle.note,
        opened_at=whistle.opened_at,
        opened_by=whistle.opened_by,
        calls=[
            CallOut(
                unit=c.unit,
                due_at=c.due_at,
                reported_at=c.reported_at,
                late=c.late,
                overdue=c.reported_at is None and now > c.due_at,
                rating=c.rating,
            )
            for c in calls
        ],
    )


def _service(session: Session, runtime: Runtime) -> WhistleService:
    return WhistleService(session, runtime.domains.on(session), runtime.clock)


def _check_whistle_scope(principal: Principal, whistle: WhistleRow, calls: list[WhistleCallRow]) -> None:
    if principal.role is Role.UNIT:
        if principal.scope_id not in {c.unit for c in calls}:
            raise deny(f"whistle {whistle.id} did not call your unit")
    elif not principal.sees_township(whistle.township):
        raise deny(f"whistle {whistle.id} is outside your scope")


class WhistleController(Controller):
    tags = ("whistles",)

    @post(
        "/incidents/{incident_id:str}/whistles",
        responses=refusals(404, 422),
        guards=[allow(Role.ADMIN, Role.DUTY)],
        sync_to_thread=True,
    )
    def open_whistle(
        self,
        incident_id: FromPath[str],
        data: JSONBody[WhistleIn],
        body: RawBody,
        principal: PrincipalDep,
        incidents: IncidentsDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> WhistleOut:
        """Whistle (吹哨): call county departments in on an open incident of your township."""
        data = strict(body, WhistleIn)
        check_scope(principal, incidents.row(incident_id), incidents)
        service = _service(session, runtime)
        whistle = service.open(incident_id, data.kind, data.reason, data.units, data.note, principal.actor)
        return whistle_out(whistle, service.calls(whistle.id), runtime.clock())

    @get("/whistles", responses=refusals(), guards=[allow(*STAFF)], sync_to_thread=True)
    def list_whistles(
        self,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
        township: FromQuery[str | None] = None,
        open_only: Annotated[bool, QueryParameter(name="open")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> Page[WhistleOut]:
        service = _service(session, runtime)
        if principal.role is Role.UNIT:
            # A unit sees the whistles that called it, wherever they were blown.
            townships = township_scope(principal, township)[0] if township else None
            rows, total = service.search(townships, None, principal.scope_id, open_only, limit, offset)
        else:
            townships, county = township_scope(principal, township)
            rows, total = service.search(townships, county, None, open_only, limit, offset)
        now = runtime.clock()
        return Page(
            items=[whistle_out(w, service.calls(w.id), now) for w in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get("/whistles/{whistle_id:str}", responses=refusals(404), guards=[allow(*STAFF)], sync_to_thread=True)
    def read_whistle(
        self, whistle_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> WhistleOut:
        whistle, calls = _service(session, runtime).get(whistle_id)
        _check_whistle_scope(principal, whistle, calls)
        return whistle_out(whistle, calls, runtime.clock())

    @post(
        "/whistles/{whistle_id:str}/report-in",
        responses=refusals(404, 422),
        guards=[allow(Role.ADMIN, Role.UNIT)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def report_in(
        self,
        whistle_id: FromPath[str],
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
        unit: FromQuery[str | None] = None,
    ) -> WhistleOut:
        """Report in (报到) for your unit; an admin names the unit with ?unit=."""
        service = _service(session, runtime)
        whistle, calls = service.get(whistle_id)
        _check_whistle_scope(principal, whistle, calls)
        reporting = principal.scope_id if principal.role is Role.UNIT else unit
        if reporting is None:
            raise deny("name the unit that reports in (?unit=)")
        service.report_in(whistle_id, reporting, principal.actor)
        return whistle_out(whistle, service.calls(whistle_id), runtime.clock())

    @post(
        "/whistles/{whistle_id:str}/rate",
        responses=refusals(404, 422),
        guards=[allow(Role.ADMIN, Role.DUTY)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def rate(
        self,
        whistle_id: FromPath[str],
        data: JSONBody[RatingIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> WhistleOut:
        """The whistling township rates a department that reported in (1–5)."""
        data = strict(body, RatingIn)
        service = _service(session, runtime)
        whistle, calls = service.get(whistle_id)
        _check_whistle_scope(principal, whistle, calls)
        service.rate(whistle_id, data.unit, data.rating)
        return whistle_out(whistle, service.calls(whistle_id), runtime.clock())
