"""Workers and patrols: who is online, their last ping, and the cells covered this week against target."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Select, Static

from console.clock import local
from console.keys import bind_keys
from console.remote.client import ServerError
from console.screens.base import ConsoleScreen
from console.widgets.tables import row_table
from console.widgets.township_picker import township_picker

REFRESH_SECONDS = 10.0


class PatrolsScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.township: str | None = None

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(self, t, [("ctrl+r", "refresh", "key.refresh")])
        yield Header()
        yield township_picker(t, self.console.directory, id="patrol-township")
        yield Static("", id="patrol-summary")
        yield row_table(
            t, ("col.worker", "col.online", "col.last_ping", "col.cell_now", "col.covered"), id="workers"
        )
        yield row_table(t, ("col.area", "col.cells_covered", "col.share"), id="villages")
        yield Footer()

    def on_mount(self) -> None:
        picker = self.query_one("#patrol-township", Select)
        if picker.value is not Select.NULL:
            self.township = str(picker.value)
            self.load()
        self.set_interval(REFRESH_SECONDS, self.load)  # pings and coverage are not on the live stream

    @on(Select.Changed, "#patrol-township")
    def _township(self, event: Select.Changed) -> None:
        self.township = str(event.value)
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(exclusive=True, group="patrols", exit_on_error=False)
    async def load(self) -> None:
        app, t = self.console, self.console.t
        if self.township is None:
            return
        try:
            presence = await app.client.presence(self.township)
            coverage = await app.client.coverage(self.township)
            names = {w.id: w.name for w in await app.client.workers(self.township)}
        except ServerError as exc:
            self.query_one("#patrol-summary", Static).update(t("conn.refused", detail=exc.message(t.lang)))
            return
        d = app.directory
        week = coverage.week_start.isocalendar().week
        lines = [t("patrols.heading", township=d.township(self.township), week=week)]
        lines.append(t("patrols.online", online=sum(p.online for p in presence), total=len(names)))
        for area in coverage.townships:
            lines.append(
                t("patrols.coverage", covered=area.covered, cells=area.cells, share=f"{area.share:.0%}")
            )
        self.query_one("#patrol-summary", Static).update("\n".join(lines))
        workers = self.query_one("#workers", DataTable)
        workers.clear()
        seen = {p.worker: p for p in presence}
        for worker_id in sorted(names, key=lambda w: (not (seen.get(w) and seen[w].online), w)):
            p = seen.get(worker_id)
            online = (
                Text(t("patrols.yes"), style="green")
                if p and p.online
                else Text(t("patrols.no"), style="grey50")
            )
            workers.add_row(
                names[worker_id],
                online,
                local(p.last_ping_at) if p else "—",
                d.place(p.cell) if p and p.cell else "—",
                str(p.cells_visited_this_week) if p else "0",
            )
        villages = self.query_one("#villages", DataTable)
        villages.clear()
        for area in coverage.villages:
            villages.add_row(d.village(area.code), f"{area.covered}/{area.cells}", f"{area.share:.0%}")
