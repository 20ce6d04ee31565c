"""The live board: every open incident in scope, newest and most urgent first, counting down."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Input, Static

from console.board import BoardFilter
from console.keys import bind_keys
from console.screens.base import ConsoleScreen
from console.screens.incident import IncidentScreen
from console.widgets.board.filter_bar import FilterBar
from console.widgets.board.incident_table import IncidentTable

TICK_SECONDS = 1.0  # the countdowns move once a second


class BoardScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.where = BoardFilter()

    def compose(self) -> ComposeResult:
        app, t = self.console, self.console.t
        bind_keys(
            self,
            t,
            [
                ("enter", "open", "key.open"),
                ("slash", "search", "key.search"),
                ("f", "filters", "key.filters"),
                ("escape", "clear", "key.clear"),
            ],
        )
        yield Header()
        yield FilterBar(t, app.directory)
        yield IncidentTable(t, app.directory, app.clock)
        yield Static("", id="board-count")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "last_event", self.sync, init=False)
        self.set_interval(TICK_SECONDS, self.tick)  # the clock moves the countdowns, not the stream
        self.sync()
        self.query_one(IncidentTable).focus()

    def sync(self) -> None:
        """Show the board's rows that pass the filter (after a live change, or a new filter)."""
        app = self.console
        rows = app.board.view(self.where, app.clock())
        self.query_one(IncidentTable).show(rows)
        t = app.t
        text = t("board.count", shown=len(rows), total=len(app.board)) if rows else t("board.empty")
        self.query_one("#board-count", Static).update(text)

    def tick(self) -> None:
        if self.where.overdue:  # who is overdue changes with the clock
            self.sync()
        self.query_one(IncidentTable).refresh()

    @on(FilterBar.Changed)
    def _filtered(self, event: FilterBar.Changed) -> None:
        self.where = event.where
        self.sync()

    @on(IncidentTable.Chosen)
    def _chosen(self, event: IncidentTable.Chosen) -> None:
        self.app.push_screen(IncidentScreen(event.incident.id))

    def action_open(self) -> None:
        selected = self.query_one(IncidentTable).selected
        if selected is not None:
            self.app.push_screen(IncidentScreen(selected.id))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_filters(self) -> None:
        self.query_one("#township").focus()

    def action_clear(self) -> None:
        self.query_one(FilterBar).clear()
        self.query_one(IncidentTable).focus()
