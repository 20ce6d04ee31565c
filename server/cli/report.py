"""`gridwatch report monthly|quarterly|yearly`: the county's KPI report as a workbook with charts."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session

from grid.errors import DomainError
from grid.evaluation.periods import Period, PeriodKind, month, parse_period, quarter, year
from grid.evaluation.scopes import Scope, ScopeKind, parse_scope
from server.kpis.charts import NO_CJK_FONT, chart_language, report_charts
from server.kpis.report import build_report
from server.kpis.service import KpiService
from server.kpis.workbook import report_workbook
from server.reference.service import first_county_code
from server.runtime import Runtime, migrated_runtime

KINDS = [PeriodKind.MONTH.value, PeriodKind.QUARTER.value, PeriodKind.YEAR.value]


def last_complete(kind: PeriodKind, runtime: Runtime) -> Period:
    """The report people ask for by default: the month, quarter or year that ended last."""
    today = runtime.today()
    current = {PeriodKind.MONTH: month, PeriodKind.QUARTER: quarter}.get(kind)
    return current(today).previous() if current else year(today.year - 1)


def write_report(
    runtime: Runtime, scope: Scope, period: Period, out: Path, charts_dir: Path | None
) -> list[str]:
    with Session(runtime.engine) as session:
        store = KpiService(session, runtime.domains().calendar.tz, runtime.clock())
        report = build_report(store, scope, period)
    charts = report_charts(report)
    out.write_bytes(report_workbook(report, charts))
    written = [str(out)]
    if charts_dir is not None:
        charts_dir.mkdir(parents=True, exist_ok=True)
        for name, png in charts.items():
            path = charts_dir / f"{name}.png"
            path.write_bytes(png)
            written.append(str(path))
    return written


@click.command("report")
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "--period",
    default=None,
    help="2026-06 (monthly), 2026Q2 (quarterly), 2026 (yearly). Default: the last one that ended.",
)
@click.option(
    "--scope",
    "scope_text",
    default=None,
    help="county:CODE (default), township:CODE, village:CODE, department:ID …",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The .xlsx to write.",
)
@click.option(
    "--charts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the charts as PNG files here.",
)
def report(kind: str, period: str | None, scope_text: str | None, out: Path, charts_dir: Path | None) -> None:
    """月调度、季分析、年总结: every KPI of the scope and of its townships (or villages), departments
    and grid workers, ranked, against the period before (环比) and a year before (同比), with charts
    and the definition of every figure."""
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter(
            f"the report is a workbook: name it .xlsx, not {out.name!r}", param_hint="--out"
        )
    runtime = migrated_runtime()
    period_kind = PeriodKind(kind)
    try:
        chosen = last_complete(period_kind, runtime) if period is None else parse_period(period_kind, period)
        with Session(runtime.engine) as session:
            county = first_county_code(session)
        scope = Scope(kind=ScopeKind.COUNTY, id=county) if scope_text is None else parse_scope(scope_text)
        written = write_report(runtime, scope, chosen, out, charts_dir)
    except DomainError as exc:
        raise click.ClickException(exc.message_en) from None
    language = chart_language()
    click.echo(f"{chosen.title('en')} ({chosen.first} – {chosen.last}), {scope}: charts in {language}")
    if language != "zh":
        click.echo(NO_CJK_FONT, err=True)
    for path in written:
        click.echo(f"  wrote {path}")
