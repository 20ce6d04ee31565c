"""What the screens and the command palette use of the console app, so they depend on this and not
on the app (which imports them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar, Protocol

from console.board import Board
from console.directory import Directory
from console.i18n import Texts
from console.remote.client import ServerClient
from console.remote.models import CellShape, EventView


class Shell(Protocol):
    NAVIGATION: ClassVar[tuple[str, ...]]  # the screens by name, in the order of their keys
    client: ServerClient
    t: Texts
    clock: Callable[[], dt.datetime]
    directory: Directory
    board: Board
    # A reactive: the live stream's latest event, set once the board has it. Screens follow the
    # stream with `self.watch(self.app, "last_event", callback, init=False)`.
    last_event: EventView | None

    async def cells_of(self, township: str) -> list[CellShape]: ...

    def show_photo(self, name: str, content: bytes, mime: str) -> None: ...

    async def action_go(self, name: str) -> None: ...
