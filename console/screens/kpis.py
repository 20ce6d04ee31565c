"""KPIs (绩效评价) for the duty officer's scope: every figure of the period against the period before
(环比), the ranking one level down, and a terminal chart of the ranked figure."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Select, Static

from console.clock import LOCAL
from console.keys import bind_keys
from console.remote.client import ServerError
from console.remote.models import Figure, KpiDefinitionView, KpiView
from console.screens.base import ConsoleScreen
from console.widgets.bar_chart import BarChart
from console.widgets.tables import row_table

PERIODS = ("this_month", "last_month", "this_quarter", "this_year")
OWN = "own"
# The figures a duty officer looks at first; the table lists every figure below them.
LEADING = ("on_time_close_rate", "close_rate", "overdue", "reported", "accepted")
LEVEL_BELOW = {"county": "township", "township": "village", "village": "cell", "department": "unit"}
RANK_COLUMNS = ("col.rank", "col.name", "col.kpi_reported", "col.kpi_on_time_close", "col.kpi_overdue")


def period_days(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a period the picker offers; the current ones end today."""
    month_start = today.replace(day=1)
    if period == "last_month":
        last = month_start - dt.timedelta(days=1)
        return last.replace(day=1), last
    if period == "this_quarter":
        return dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today
    if period == "this_year":
        return dt.date(today.year, 1, 1), today
    return month_start, today


def shown(value: Figure, kind: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}%" if kind == "rate" else f"{value:g}"


def shown_change(value: float | None, kind: str) -> Text:
    if value is None:
        return Text("—")
    text = f"{value:+.2f}" + (" pp" if kind == "rate" else "%")
    return Text(text, style="green" if value > 0 else "red" if value < 0 else "")


class KpisScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.scope: str | None = None  # None: the caller's own scope
        self.period = PERIODS[0]
        self.definitions: list[KpiDefinitionView] = []
        self.own: str | None = None

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(self, t, [("ctrl+r", "refresh", "key.refresh")])
        yield Header()
        places = [
            (tw.name, f"township:{code}") for code, tw in sorted(self.console.directory.townships.items())
        ]
        places.insert(0, (t("kpis.my_scope"), OWN))
        yield Select(places, value=places[0][1], allow_blank=False, id="kpi-scope")
        yield Select(
            [(t(f"kpis.period.{p}"), p) for p in PERIODS],
            value=self.period,
            allow_blank=False,
            id="kpi-period",
        )
        yield Static("", id="kpi-summary")
        yield row_table(
            t, ("col.figure", "col.this_period", "col.previous_period", "col.change"), id="kpi-figures"
        )
        yield row_table(t, RANK_COLUMNS, id="kpi-ranking")
        yield BarChart(id="kpi-chart")
        yield Footer()

    def on_mount(self) -> None:
        picker = self.query_one("#kpi-scope", Select)
        self.scope = None if picker.value in (OWN, Select.NULL) else str(picker.value)
        self.load()

    @on(Select.Changed, "#kpi-scope")
    def _scope(self, event: Select.Changed) -> None:
        self.scope = None if event.value == OWN else str(event.value)
        self.load()

    @on(Select.Changed, "#kpi-period")
    def _period(self, event: Select.Changed) -> None:
        self.period = str(event.value)
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(exclusive=True, group="kpis", exit_on_error=False)
    async def load(self) -> None:
        client, t = self.console.client, self.console.t
        first, last = period_days(self.period, self.console.clock().astimezone(LOCAL).date())
        try:
            if not self.definitions:
                self.definitions = await client.kpi_definitions()
            if self.own is None:  # what the server takes the caller's own scope to be
                self.own = (await client.kpis(None, first, last, None)).table.scope
            scope = self.scope or self.own
            kpis = await client.kpis(scope, first, last, LEVEL_BELOW.get(scope.split(":")[0]))
        except ServerError as exc:
            self.query_one("#kpi-summary", Static).update(t("conn.refused", detail=exc.message(t.lang)))
            return
        self.show(kpis)

    def show(self, kpis: KpiView) -> None:
        t, lang = self.console.t, self.console.t.lang
        table = kpis.table
        f = table.figures
        self.query_one("#kpi-summary", Static).update(
            t(
                "kpis.summary",
                first=table.first.isoformat(),
                last=table.last.isoformat(),
                due=shown(f.get("due_to_close"), "count"),
                closed=shown(f.get("closed"), "count"),
                on_time=shown(f.get("on_time_close_rate"), "rate"),
            )
        )
        kinds = {d.key: d.kind for d in self.definitions}
        order = [*LEADING, *(d.key for d in self.definitions if d.key not in LEADING)]
        names = {d.key: d.name(lang) for d in self.definitions}
        figures = self.query_one("#kpi-figures", DataTable)
        figures.clear()
        previous, change = kpis.previous or {}, kpis.previous_change or {}
        for key in order:
            kind = kinds.get(key, "count")
            figures.add_row(
                names.get(key, key),
                shown(f.get(key), kind),
                shown(previous.get(key), kind),
                shown_change(change.get(key), kind),
                key=key,
            )
        ranking = self.query_one("#kpi-ranking", DataTable)
        ranking.clear()
        for row in table.rows:
            ranking.add_row(
                "—" if row.rank is None else str(row.rank),
                row.name,
                shown(row.figures.get("reported"), "count"),
                shown(row.figures.get("on_time_close_rate"), "rate"),
                shown(row.figures.get("overdue"), "count"),
                key=row.key,
            )
        self._chart(kpis, names.get("on_time_close_rate", ""))

    def _chart(self, kpis: KpiView, title: str) -> None:
        rows = [r for r in kpis.table.rows if r.figures.get("on_time_close_rate") is not None][:12]
        bars = [(r.name, float(r.figures["on_time_close_rate"] or 0)) for r in rows]
        self.query_one("#kpi-chart", BarChart).show(
            f"{title} (%)", bars, 100.0, self.console.t("chart.empty")
        )
