"""The KPI report: the workbook's numbers are the API's, its charts are real PNGs, and the CLI
answers bad input with a clear error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from grid.evaluation.figures import DEFINITIONS
from grid.evaluation.periods import PeriodKind, parse_period
from grid.evaluation.scopes import Scope, ScopeKind
from server.cli.report import write_report
from server.kpis.charts import chart_language
from server.kpis.workbook import CHARTS, DEFINITIONS_SHEET, SHEET_NAMES, SUMMARY
from tests.support.api import CST, Api
from tests.support.commands import gridwatch
from tests.support.steps import JUNE, closed_loop_day

pytestmark = pytest.mark.process


def test_the_workbook_holds_the_apis_figures(api: Api, tmp_path: Path) -> None:
    closed_loop_day(api)
    out = tmp_path / "june.xlsx"
    county = Scope(kind=ScopeKind.COUNTY, id="339921")
    written = write_report(
        api.runtime, county, parse_period(PeriodKind.MONTH, "2026-06"), out, tmp_path / "charts"
    )
    assert len(written) == 5
    book = openpyxl.load_workbook(out)
    levels = [SHEET_NAMES[k] for k in (ScopeKind.TOWNSHIP, ScopeKind.DEPARTMENT, ScopeKind.WORKER)]
    assert book.sheetnames == [SUMMARY, *levels, CHARTS, DEFINITIONS_SHEET]

    headers = {"Authorization": f"Bearer {api.template.tokens['admin']}"}
    total = api.client.get(
        "/kpis", params={"scope": "county:339921", "compare": "true", **JUNE}, headers=headers
    ).json()
    summary = book[SUMMARY]
    rows = summary.iter_rows(min_row=4, max_row=3 + len(DEFINITIONS), values_only=True)
    for d, row in zip(DEFINITIONS, rows, strict=True):
        assert row[1] == total["table"]["figures"][d.key], d.key
        assert row[2] == total["previous"][d.key], d.key
        assert row[4] == total["year_before"][d.key], d.key

    for level, sheet_name in zip(("township", "department", "worker"), levels, strict=True):
        api_rows = api.client.get(
            "/kpis", params={"scope": "county:339921", "by": level, **JUNE}, headers=headers
        ).json()["table"]["rows"]
        sheet = list(book[sheet_name].iter_rows(min_row=2, values_only=True))
        assert [(r[0], r[1], r[2]) for r in sheet] == [(r["rank"], r["key"], r["name"]) for r in api_rows]
        for got, want in zip(sheet, api_rows, strict=True):
            assert list(got[3 : 3 + len(DEFINITIONS)]) == [want["figures"][d.key] for d in DEFINITIONS]
    township_a = next(
        r for r in book[levels[0]].iter_rows(min_row=2, values_only=True) if r[1] == api.template.township_a
    )
    assert township_a[3] == 9  # reported, as worked out by hand in test_kpis

    definitions = list(book[DEFINITIONS_SHEET].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in definitions] == [d.key for d in DEFINITIONS]
    assert any("应结案数" in str(r[4]) for r in definitions)

    images = book[CHARTS]._images  # openpyxl keeps the images it loaded there only
    assert len(images) == 4
    for path in written[1:]:
        with Image.open(path) as png:
            assert png.format == "PNG" and png.width > 400 and png.height > 300


def test_charts_are_labelled_in_chinese_where_a_cjk_font_is_installed() -> None:
    # .ci/run installs fonts-wqy-microhei; without one the labels fall back to English.
    assert chart_language() == "zh"


def test_report_command(database: str, tmp_path: Path) -> None:
    out = tmp_path / "q2.xlsx"
    done = gridwatch(database, "report", "quarterly", "--period", "2026Q2", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "Q2 2026 (2026-04-01 – 2026-06-30), county:339921" in done.output
    book = openpyxl.load_workbook(out)
    townships = list(book[SHEET_NAMES[ScopeKind.TOWNSHIP]].iter_rows(min_row=2, values_only=True))
    assert len(townships) == 12 and all(r[0] is None for r in townships)  # no incidents: no ranks
    township = gridwatch(
        database, "report", "monthly", "--scope", "township:339921101", "--out", str(tmp_path / "m.xlsx")
    )
    assert township.exit_code == 0, township.output
    assert SHEET_NAMES[ScopeKind.VILLAGE] in openpyxl.load_workbook(tmp_path / "m.xlsx").sheetnames
    today = dt.datetime.now(CST).date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%B %Y")
    assert last_month in township.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["report", "monthly", "--period", "2026-13", "--out", "x.xlsx"], 1, "month 13 does not exist"),
        (["report", "monthly", "--period", "June", "--out", "x.xlsx"], 1, "YYYY-MM"),
        (["report", "quarterly", "--period", "2026Q5", "--out", "x.xlsx"], 1, "YYYYQn"),
        (["report", "yearly", "--period", "1066", "--out", "x.xlsx"], 1, "2000–2099"),
        (["report", "weekly", "--out", "x.xlsx"], 2, "weekly"),
        (["report", "monthly", "--out", "x.pdf"], 2, ".xlsx"),
        (["report", "monthly"], 2, "--out"),
        (["report", "monthly", "--scope", "township:339921999", "--out", "x.xlsx"], 1, "no township"),
        (["report", "monthly", "--scope", "worker", "--out", "x.xlsx"], 1, "KIND:ID"),
    ],
)
def test_report_command_refuses_bad_input(
    database: str, tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    done = gridwatch(database, *args)
    assert done.exit_code == code, done.output
    assert words in done.output
    assert not list(tmp_path.glob("x.*"))  # nothing half-written
