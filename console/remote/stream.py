"""The live stream: Server-Sent Events from the server, resumed after a drop from the last event seen."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Callable

import httpx
import msgspec
from httpx_sse import aconnect_sse

from console.remote.client import ServerClient
from console.remote.models import EventView

RETRY_FIRST = 0.5
RETRY_MOST = 5.0


class Connection(enum.StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    LOST = "lost"
    # The server no longer takes the token (revoked, or expired): asking again cannot help.
    REVOKED = "revoked"


class LiveStream:
    """Yields every event after `cursor` in order, reconnecting with `Last-Event-ID` for as long as it is
    iterated and the token is taken; `on_state` hears when the connection comes and goes."""

    def __init__(
        self, client: ServerClient, cursor: int, on_state: Callable[[Connection, str], None]
    ) -> None:
        self.client = client
        self.cursor = cursor
        self.on_state = on_state

    async def events(self) -> AsyncIterator[EventView]:
        wait = RETRY_FIRST
        self.on_state(Connection.CONNECTING, "")
        while True:
            try:
                async with aconnect_sse(
                    self.client.http,
                    "GET",
                    "/events/stream",
                    headers={"Last-Event-ID": str(self.cursor)},
                    timeout=httpx.Timeout(10.0, read=60.0),  # the server sends a keep-alive every 15 s
                ) as source:
                    source.response.raise_for_status()
                    self.on_state(Connection.LIVE, "")
                    wait = RETRY_FIRST
                    async for sse in source.aiter_sse():
                        if not sse.data:
                            continue
                        event = msgspec.json.decode(sse.data, type=EventView)
                        self.cursor = event.id
                        yield event
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == httpx.codes.UNAUTHORIZED:
                    self.on_state(Connection.REVOKED, str(exc))
                    return
                self.on_state(Connection.LOST, str(exc))
            except (httpx.HTTPError, msgspec.DecodeError) as exc:
                self.on_state(Connection.LOST, str(exc) or type(exc).__name__)
            else:  # the server ended the stream (restart): come back
                self.on_state(Connection.LOST, "stream ended")
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MOST)
