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
from console.screens.dialogs import ConfirmDialog, MoveDialog, SwapDialog
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
        self.refresh_bindings()
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
                mode=t.code("sweep.mode", plan.mode),
                status=t.code("sweep.status", sweep.status),
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A draft is edited and published; a published plan is only read (the footer says so)."""
        if action in ("move", "swap", "publish"):
            return self.sweep is not None and self.sweep.status == "draft"
        return True

    def _selected(self) -> tuple[str | None, str] | None:
        row = self.query_one(DataTable).cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) and self._rows[row][1] else None

    def _done(self, sweep: SweepView, what: str) -> None:
        """Show the plan as the server returned it, and say so where the officer will see it."""
        self.show(sweep)
        self.notify(self.console.t(what))

    @work(exclusive=True, group="sweep", exit_on_error=False)
    async def action_plan(self) -> None:
        try:
            self._done(await self.console.client.plan_sweep(), "sweep.planned")
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
            self._done(await self.console.client.move_stop(sweep, stop, target or None), "sweep.moved")
        except ServerError as exc:
            self.show_refusal(exc)

    @work(group="sweep-edit", exit_on_error=False)
    async def action_swap(self) -> None:
        picked, sweep = self._selected(), self.sweep
        if picked is None or sweep is None or picked[0] is None:
            return
        t, client = self.console.t, self.console.client
        team = next(candidate for candidate in sweep.plan.teams if candidate.id == picked[0])
        officers = [(o, sweep.names.get(o, o)) for o in team.officers]
        try:
            everyone = await client.officers()
        except ServerError as exc:
            self.show_refusal(exc)
            return
        # Free to join: certified that day and in no team yet (the server re-checks every rule).
        busy = {o for other in sweep.plan.teams for o in other.officers}
        candidates = [
            (o.id, o.name) for o in everyone if o.id not in busy and o.certified_on(sweep.plan.date)
        ]
        title = t("sweep.swap_title", team=team.id)
        answer = await self.app.push_screen_wait(SwapDialog(t, title, officers, candidates))
        if answer is None:
            return
        try:
            self._done(await client.swap_officer(sweep, team.id, *answer), "sweep.swapped")
        except ServerError as exc:
            self.show_refusal(exc)

    @work(group="sweep-edit", exit_on_error=False)
    async def action_publish(self) -> None:
        sweep, t = self.sweep, self.console.t
        if sweep is None:
            return
        if sweep.plan.conflicts:  # stops left unplanned: publishing leaves them undone, so ask first
            question = t("sweep.confirm_publish", conflicts=len(sweep.plan.conflicts))
            if not await self.app.push_screen_wait(ConfirmDialog(t, question)):
                return
        try:
            self._done(await self.console.client.publish_sweep(sweep), "sweep.published")
        except ServerError as exc:
            self.show_refusal(exc)
            return
        self.query_one("#status", Static).update(t("sweep.published"))
