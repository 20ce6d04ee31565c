"""Open whistles: each called department's report-in countdown; report in and rate by key."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from console.board import countdown
from console.clock import local
from console.keys import bind_keys
from console.remote.client import ServerError
from console.remote.models import CallView, EventView, WhistleView
from console.screens.base import ConsoleScreen
from console.screens.dialogs import RatingDialog
from console.screens.incident import IncidentScreen
from console.widgets.tables import row_table

COLUMNS = ("whistle.kind", "col.category", "col.unit", "col.due", "col.left", "col.reported_in", "col.rating")


class WhistlesScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.whistles: list[WhistleView] = []
        self._rows: list[tuple[WhistleView, CallView]] = []

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(
            self,
            t,
            [("i", "report_in", "key.report_in"), ("s", "rate", "key.rate"), ("enter", "open", "key.open")],
        )
        yield Header()
        yield Static(t("whistles.heading"), classes="heading")
        yield row_table(t, COLUMNS)
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.watch(self.app, "last_event", self._live, init=False)
        self.set_interval(1.0, self._draw)  # the clock moves the countdowns, not the stream

    def _live(self, event: EventView | None) -> None:
        if event is not None and event.kind.startswith("whistle."):
            self.load()

    @work(exclusive=True, group="whistles", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.whistles = await self.console.client.open_whistles()
        except ServerError as exc:
            self.show_refusal(exc)
            return
        self._draw()

    def _draw(self) -> None:
        app, t, lang = self.console, self.console.t, self.console.t.lang
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self._rows = []
        now = app.clock()
        for w in self.whistles:
            incident = app.board.incidents.get(w.incident)
            category = app.directory.category(incident.category, lang) if incident else w.incident[:8]
            for call in w.calls:
                if call.reported_at is not None:
                    verdict = t("whistles.late") if call.late else t("whistles.on_time")
                    left = Text(verdict, style="red" if call.late else "green")
                else:
                    left = Text(countdown(call.due_at, now, t), style="bold red" if now > call.due_at else "")
                table.add_row(
                    t.code("whistle.kind", w.kind),
                    category,
                    app.directory.unit(call.unit, lang),
                    local(call.due_at),
                    left,
                    local(call.reported_at) if call.reported_at else t("whistles.waiting"),
                    str(call.rating or ""),
                )
                self._rows.append((w, call))
        if not self._rows:
            self.query_one("#status", Static).update(t("whistles.none"))
        if self._rows:
            table.move_cursor(row=min(row, len(self._rows) - 1))

    def _selected(self) -> tuple[WhistleView, CallView] | None:
        row = self.query_one(DataTable).cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @work(group="whistle-act", exit_on_error=False)
    async def action_report_in(self) -> None:
        picked = self._selected()
        if picked is None:
            return
        try:
            await self.console.client.report_in(picked[0].id, picked[1].unit)
        except ServerError as exc:
            self.show_refusal(exc)
            return
        self.load()

    @work(group="whistle-act", exit_on_error=False)
    async def action_rate(self) -> None:
        picked = self._selected()
        if picked is None:
            return
        t = self.console.t
        rating = await self.app.push_screen_wait(RatingDialog(t, t("whistles.rate_ask")))
        if rating is None:
            return
        try:
            await self.console.client.rate(picked[0].id, picked[1].unit, rating)
        except ServerError as exc:
            self.show_refusal(exc)
            return
        self.load()

    def action_open(self) -> None:
        picked = self._selected()
        if picked is not None:
            self.app.push_screen(IncidentScreen(picked[0].incident))
