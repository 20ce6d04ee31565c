"""The Tuesday sweep: review the latest plan (teams, routes, reasons, what could not be planned),
move a stop, swap an officer, publish. Every edit goes to the server, which re-checks the rules."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from console.keys import bind_keys
from console.remote.client import ServerError
from console.remote.models import SweepView
from console.screens.base import ConsoleScreen
from console.screens.dialogs import MoveDialog, SwapDialog
from console.widgets.tables import row_table

COLUMNS = ("col.team", "col.order", "col.stop", "col.departments", "col.reason")


class SweepScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.sweep: SweepView | None = None
        self._rows: list[tuple[str | None, str]] = []  # (team, stop) per table row

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(
            self,
            t,
            [
                ("n", "plan", "key.plan"),
                ("m", "move", "key.move"),
                ("o", "swap", "key.swap"),
                ("P", "publish", "key.publish"),
                ("r", "refresh", "key.refresh"),
            ],
        )
        yield Header()
        yield Static(t("sweep.heading"), classes="heading")
        yield Static("", id="summary")
        yield row_table(t, COLUMNS)
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="sweep", exit_on_error=False)
    async def action_refresh(self) -> None:
        try:
            self.show(await self.console.client.latest_sweep())
        except ServerError as exc:
            self.show_refusal(exc)

    def show(self, sweep: SweepView | None) -> None:
        t, lang = self.console.t, self.console.t.lang
        self.sweep = sweep
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self._rows = []
        summary = self.query_one("#summary", Static)
        if sweep is None:
            summary.update(t("sweep.none"))
            return
        plan = sweep.plan
        summary.update(
            t(
                "sweep.summary",
                date=plan.date,
                scope=plan.scope,
                mode=t(f"sweep.mode.{plan.mode}"),
                status=t(f"sweep.status.{sweep.status}"),
                teams=len(plan.teams),
                stops=sum(len(team.stops) for team in plan.teams),
                km=f"{sum(team.length_m for team in plan.teams) / 1000:.1f}",
                conflicts=len(plan.conflicts),
            )
        )
        for team in plan.teams:
            for n, stop_id in enumerate(team.stops, start=1):
                stop = sweep.stop(stop_id)
                units = "、".join(sweep.names.get(u, u) for u in stop.units)
                reason = stop.reasons[0].text(lang) if stop.reasons else ""
                table.add_row(team.id, str(n), stop.name, units, reason)
                self._rows.append((team.id, stop_id))
        for conflict in plan.conflicts:
            if conflict.stop is None:
                table.add_row(
                    Text(t("sweep.unplanned"), style="yellow"), "", conflict.township, "", conflict.text(lang)
                )
                self._rows.append((None, ""))
                continue
            stop = sweep.stop(conflict.stop)
            table.add_row(Text(t("sweep.unplanned"), style="red"), "", stop.name, "", conflict.text(lang))
            self._rows.append((None, conflict.stop))
        if self._rows:
            table.move_cursor(row=min(row, len(self._rows) - 1))

    def _selected(self) -> tuple[str | None, str] | None:
        row = self.query_one(DataTable).cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) and self._rows[row][1] else None

    @work(exclusive=True, group="sweep", exit_on_error=False)
    async def action_plan(self) -> None:
        try:
            self.show(await self.console.client.plan_sweep())
        except ServerError as exc:
            self.show_refusal(exc)

    @work(group="sweep-edit", exit_on_error=False)
    async def action_move(self) -> None:
        picked, sweep = self._selected(), self.sweep
        if picked is None or sweep is None:
            return
        t = self.console.t
        team, stop = picked
        teams = [candidate.id for candidate in sweep.plan.teams]
        title = t("sweep.move_title", stop=sweep.stop(stop).name)
        target = await self.app.push_screen_wait(MoveDialog(t, title, teams, team))
        if target is None:
            return
        try:
            self.show(await self.console.client.move_stop(sweep, stop, target or None))
        except ServerError as exc:
            self.show_refusal(exc)

    @work(group="sweep-edit", exit_on_error=False)
    async def action_swap(self) -> None:
        picked, sweep = self._selected(), self.sweep
        if picked is None or sweep is None or picked[0] is None:
            return
        t = self.console.t
        team = next(candidate for candidate in sweep.plan.teams if candidate.id == picked[0])
        officers = [(o, sweep.names.get(o, o)) for o in team.officers]
        answer = await self.app.push_screen_wait(SwapDialog(t, t("sweep.swap_title", team=team.id), officers))
        if answer is None:
            return
        try:
            self.show(await self.console.client.swap_officer(sweep, team.id, *answer))
        except ServerError as exc:
            self.show_refusal(exc)

    @work(group="sweep-edit", exit_on_error=False)
    async def action_publish(self) -> None:
        if self.sweep is None:
            return
        try:
            self.show(await self.console.client.publish_sweep(self.sweep))
        except ServerError as exc:
            self.show_refusal(exc)
            return
        self.query_one("#status", Static).update(self.console.t("sweep.published"))
