"""The live stream of incident and whistle changes (Server-Sent Events), with a resume cursor.

A new connection starts live, from the newest settled event. Events come from the outbox table, so
every replica serves every change and a client that reconnects with `Last-Event-ID` (or `?after=`)
misses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from server.api.deps import PrincipalDep, RuntimeDep
from server.api.problems import refusals
from server.api.schemas import MAX_CURSOR, Cursor
from server.api.security import allow
from server.auth import Role
from server.events.schemas import EventHead, EventOut, EventPage
from server.events.store import events_after, stream_head

POLL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0
BATCH = 500


def _out(row: Any) -> EventOut:
    return EventOut(
        id=row.id, at=row.at, kind=row.kind, incident=row.incident, township=row.township, payload=row.payload
    )


def _resume_from(request: Request[Any, Any, Any], after: int | None) -> int | None:
    """The cursor a client asked to resume from (`Last-Event-ID`, else `?after=`), if it asked."""
    header = request.headers.get("last-event-id")
    if header and header.isdigit() and int(header) <= MAX_CURSOR:
        return int(header)
    return after


class EventController(Controller):
    path = "/events"
    tags = ("live stream",)
    guards = [allow(Role.ADMIN, Role.DUTY, Role.UNIT, Role.WORKER)]  # noqa: RUF012

    @get("/", responses=refusals(), sync_to_thread=True)
    def catch_up(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        after: Cursor = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=BATCH)] = 100,
    ) -> EventPage:
        """Events after a cursor, for clients that poll; `cursor` is where to continue."""
        rows, cursor = events_after(runtime.engine, principal, after, limit)
        return EventPage(events=[_out(r) for r in rows], cursor=cursor)

    @get("/head", responses=refusals(), sync_to_thread=True)
    def head(self, runtime: RuntimeDep) -> EventHead:
        """The cursor to stream from after loading a snapshot of the incidents: nothing after it is missed."""
        return EventHead(cursor=stream_head(runtime.engine))

    @get("/stream", responses=refusals(), media_type="text/event-stream")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        principal: PrincipalDep,
        runtime: RuntimeDep,
        after: Annotated[int | None, QueryParameter(ge=0, le=MAX_CURSOR)] = None,
    ) -> ServerSentEvent:
        """Server-Sent Events of the changes from now on; to resume without a gap, send the last event
        id seen as `Last-Event-ID` (or `?after=`; `?after=0` replays the whole history)."""
        asked = _resume_from(request, after)
        cursor = asked if asked is not None else await asyncio.to_thread(stream_head, runtime.engine)

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            nonlocal cursor
            quiet = 0.0
            while True:
                rows, cursor = await asyncio.to_thread(events_after, runtime.engine, principal, cursor, BATCH)
                for row in rows:
                    yield ServerSentEventMessage(
                        data=msgspec.json.encode(_out(row)).decode(), event=row.kind, id=str(row.id)
                    )
                if rows:
                    quiet = 0.0
                    continue
                await asyncio.sleep(POLL_SECONDS)
                quiet += POLL_SECONDS
                if quiet >= KEEP_ALIVE_SECONDS:  # proxies close silent connections
                    quiet = 0.0
                    yield ServerSentEventMessage(comment="keep-alive")

        return ServerSentEvent(messages())
