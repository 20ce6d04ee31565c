"""The console app: it loads the names and a snapshot of the open incidents, keeps the board up to
date from the live stream, and switches between the screens (board, whistles, map, patrols, sweep,
KPIs). Screens and commands see it as a `console.shell.Shell`."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.reactive import var
from textual.widgets import Footer, Header, Static

from console.board import Board
from console.clock import utc_now
from console.commands import ConsoleCommands
from console.directory import Directory
from console.i18n import Lang, Texts
from console.remote.client import ServerClient, ServerError, Unreachable
from console.remote.models import CellShape, EventView
from console.remote.stream import Connection, LiveStream
from console.screens.board import BoardScreen
from console.screens.kpis import KpisScreen
from console.screens.map import MapScreen
from console.screens.patrols import PatrolsScreen
from console.screens.sweep import SweepScreen
from console.screens.whistles import WhistlesScreen
from console.shell import Shell

RETRY_SECONDS = 2.0


class GridwatchConsole(App[None]):
    CSS_PATH = Path(__file__).parent / "console.tcss"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    MODES = {  # noqa: RUF012
        "board": BoardScreen,
        "whistles": WhistlesScreen,
        "map": MapScreen,
        "patrols": PatrolsScreen,
        "sweep": SweepScreen,
        "kpis": KpisScreen,
    }
    NAVIGATION: ClassVar[tuple[str, ...]] = ("board", "whistles", "map", "patrols", "sweep", "kpis")
    last_event: var[EventView | None] = var(None)  # what screens watch to follow the live stream

    def __init__(self, client: ServerClient, lang: Lang, clock: Callable[[], dt.datetime] = utc_now) -> None:
        super().__init__()
        self.client = client
        self.t = Texts(lang)
        self.clock = clock
        self.directory = Directory()
        self.board = Board(self.directory)
        self.loaded = False
        self.connection = Connection.CONNECTING
        self._cells: dict[str, list[CellShape]] = {}
        self.title = self.t("app.title")
        self.sub_title = self.t("conn.connecting")
        for n, name in enumerate(self.NAVIGATION, start=1):
            self.bind(str(n), f"go('{name}')", description=self.t(f"nav.{name}"))
        self.bind("q", "quit", description=self.t("key.quit"))
        # Textual adds the palette's key with an English label; say it in the console's language.
        for key, bindings in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [
                replace(b, description=self.t("key.palette")) if b.action == "command_palette" else b
                for b in bindings
            ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.t("board.loading"), id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.start()

    async def on_unmount(self) -> None:
        await self.client.close()

    @work(exclusive=True, group="live", exit_on_error=False)
    async def start(self) -> None:
        """Load the names and a snapshot of the open incidents, then follow the live stream from the
        cursor read *before* the snapshot, so no change falls between the two."""
        while True:
            try:
                await self.directory.load(self.client)
                cursor = await self.client.stream_head()
                incidents = await self.client.open_incidents()
                break
            except ServerError as exc:
                self.sub_title = (
                    self.t("error.unreachable", url=self.client.url)
                    if isinstance(exc, Unreachable)
                    else self.t("conn.refused", detail=exc.message(self.t.lang))
                )
                await asyncio.sleep(RETRY_SECONDS)
        self.board.load(incidents)
        self.loaded = True
        await self.switch_mode("board")
        async for event in LiveStream(self.client, cursor, self._connection_changed).events():
            self.take(event)

    def take(self, event: EventView) -> None:
        """Apply a live-stream event to the board, then tell the screens (they watch `last_event`)."""
        arrived = self.board.apply(event)
        # Screens redraw from the app's message queue, not inside the stream worker: an error in a
        # redraw then shows instead of silently ending the stream.
        self.call_next(setattr, self, "last_event", event)
        if arrived is not None and arrived.urgent:
            place = self.directory.place(arrived.cell)
            category = self.directory.category(arrived.category, self.t.lang)
            self.notify(
                self.t("board.urgent_new", category=category, place=place), severity="warning", timeout=10
            )
            self.bell()

    def _connection_changed(self, state: Connection, detail: str) -> None:
        self.connection = state
        self.sub_title = self.t(f"conn.{state.value}")

    async def cells_of(self, township: str) -> list[CellShape]:
        """A township's cell outlines, fetched once."""
        if township not in self._cells:
            self._cells[township] = await self.client.cells(township)
        return self._cells[township]

    def action_go(self, name: str) -> None:
        if not self.loaded:
            return
        self.switch_mode(name)


if TYPE_CHECKING:
    _: type[Shell] = GridwatchConsole  # screens take the app for a Shell; mypy checks here that it is one
