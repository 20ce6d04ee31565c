"""The console app: it loads the names and a snapshot of the open incidents, keeps the board up to
date from the live stream, and switches between the screens (board, whistles, map, patrols, sweep,
KPIs). Screens and commands see it as a `console.shell.Shell`."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Static

from console.board import Board
from console.clock import utc_now
from console.commands import ConsoleCommands
from console.directory import Directory
from console.i18n import TEXTS, Lang, Texts
from console.remote.client import ServerClient, ServerError, ServerRefused, Unreachable
from console.remote.models import CellShape, EventView
from console.remote.stream import Connection, LiveStream
from console.screens.board import BoardScreen
from console.screens.kpis import KpisScreen
from console.screens.map import MapScreen
from console.screens.pairing import pair_phone
from console.screens.patrols import PatrolsScreen
from console.screens.sweep import SweepScreen
from console.screens.whistles import WhistlesScreen
from console.shell import Shell

RETRY_SECONDS = 2.0
TOKEN_REFUSED = 401


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

    def __init__(
        self,
        client: ServerClient,
        lang: Lang,
        clock: Callable[[], dt.datetime] = utc_now,
        downloads: Path | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        # What the command that launched the console wants the officer to see first (the demo's
        # pairing links, which the console's screen would otherwise hide).
        self.notice = notice
        self.downloads = downloads  # where photos are saved; None: a folder in the system's temp
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
        # Off the footer, which is full at 150 columns: the keys panel (the palette's "Keys") names it.
        self.bind("f2", "pair", description=self.t("key.pair"), show=False)
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
        if self.notice:
            self.notify(self.notice, timeout=120)
        self.start()

    async def on_unmount(self) -> None:
        await self.client.close()

    @work(exclusive=True, group="live")
    async def start(self) -> None:
        """Load the names and a snapshot of the open incidents, then follow the live stream from the
        cursor read *before* the snapshot, so no change falls between the two. The server's refusals
        are shown; anything else is a bug, and ends the console with a non-zero exit code."""
        while True:
            try:
                await self.directory.load(self.client)
                cursor = await self.client.stream_head()
                incidents = await self.client.open_incidents()
                break
            except ServerError as exc:
                if isinstance(exc, ServerRefused) and exc.problem.status == TOKEN_REFUSED:
                    # Asking again with the same token cannot help: say so and stop.
                    self._say(self.t("conn.token_refused", detail=exc.message(self.t.lang)))
                    return
                self._say(
                    self.t("conn.unreachable_retry", url=self.client.url, seconds=f"{RETRY_SECONDS:g}")
                    if isinstance(exc, Unreachable)
                    else self.t("conn.refused", detail=exc.message(self.t.lang))
                )
                await asyncio.sleep(RETRY_SECONDS)
        self.board.load(incidents)
        self.loaded = True
        await self.switch_mode("board")
        async for event in LiveStream(self.client, cursor, self._connection_changed).events():
            self.take(event)

    def _say(self, problem: str) -> None:
        """Why the board is not there yet, where the officer is looking (and in the title)."""
        self.sub_title = problem
        self.query_one("#loading", Static).update(problem)

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
        self.sub_title = self.t.code("conn", state.value)
        if state is Connection.REVOKED:  # what is on screen no longer changes: say so where it is seen
            self.notify(self.sub_title, severity="error", timeout=60)

    async def cells_of(self, township: str) -> list[CellShape]:
        """A township's cell outlines, fetched once."""
        if township not in self._cells:
            self._cells[township] = await self.client.cells(township)
        return self._cells[township]

    async def action_go(self, name: str) -> None:
        if not self.loaded:
            self.notify(self.t("conn.not_loaded"), severity="warning")
            return
        if isinstance(self.screen, ModalScreen):  # a dialog is waiting for its answer
            return
        await self.switch_mode(name)
        while len(self.screen_stack) > 1:  # the screen itself, not an incident opened there earlier
            await self.pop_screen()

    @work(exclusive=True, group="pair", exit_on_error=False)
    async def action_pair(self) -> None:
        """Pair a phone for a worker or a unit officer (F2, from any screen)."""
        if not self.loaded:
            self.notify(self.t("conn.not_loaded"), severity="warning")
            return
        if isinstance(self.screen, ModalScreen):  # a dialog is waiting for its answer
            return
        await pair_phone(self, self.client, self.directory, self.t)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=self.t("palette.placeholder"))
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, quit, keys...), named in the console's language."""
        for command in super().get_system_commands(screen):
            if f"system.{command.title}" in TEXTS:  # a command of a newer Textual stays as it is
                help_text = self.t(f"system.{command.title}.help")
                command = command._replace(title=self.t(f"system.{command.title}"), help=help_text)
            yield command

    def show_photo(self, name: str, content: bytes, mime: str) -> None:
        """Open a photo read with the console's token: in the officer's browser when the console is
        served to one (--web); else saved on this machine and opened with the system's viewer."""
        if self.is_web:
            self.deliver_binary(
                io.BytesIO(content), save_filename=name, open_method="browser", mime_type=mime, name="photo"
            )
            return
        if self.downloads is None:  # private to this user and session (0700), not a shared /tmp name
            self.downloads = Path(tempfile.mkdtemp(prefix="gridwatch-photos-"))
        folder = self.downloads
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name  # named by its content hash: the same photo is the same file
        path.write_bytes(content)
        self.notify(self.t("photo.saved", path=path))
        if not self.is_headless:
            self.open_url(path.as_uri())

    @on(events.DeliveryFailed)
    def _photo_failed(self, event: events.DeliveryFailed) -> None:
        if event.name == "photo":
            self.notify(self.t("photo.failed", detail=event.exception), severity="error")

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies); say which key does, in the console's language."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(self.t("quit.how", keys=key), title=self.t("quit.title"))
                return


if TYPE_CHECKING:
    _: type[Shell] = GridwatchConsole  # screens take the app for a Shell; mypy checks here that it is one
