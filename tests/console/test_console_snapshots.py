"""Snapshots of the main screens in both languages, against a real server with a fixed clock and
numbered incident ids. Accept a deliberate change with `uv run pytest --snapshot-update`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from console.i18n import Lang
from console.screens.board import BoardScreen
from console.screens.incident import IncidentScreen
from console.screens.kpis import KpisScreen
from console.screens.sweep import SweepScreen
from console.widgets.bar_chart import BarChart
from console.widgets.map.cell_map import CellMap
from tests.support.console import Served, until
from tests.support.steps import closed_loop_day

SIZE = (150, 40)


def county_day(served: Served) -> list[str]:
    """A few open incidents in township A at set times, one accepted and one whistled."""
    api = served.api
    ids = []
    for n, category in enumerate(["0501", "0202", "0501", "0301"]):
        ids.append(api.report(n=n, category=category, text=f"snapshot {n}").json()["incident"]["id"])
        api.clock.advance(minutes=7)
    api.act(ids[0], "accept")
    api.client.post(
        f"/incidents/{ids[0]}/whistles",
        json={"kind": "routine", "reason": "no_power", "units": ["339921.dept.zhzf"]},
        headers=api.auth("duty_a"),
    )
    api.clock.advance(minutes=30)
    return ids


def loaded(served: Served) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and len(app.board) == 4)  # type: ignore[attr-defined]
        await pilot.pause(0.5)

    return run_before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_board(served: Served, snap_compare: Any, lang: Lang) -> None:
    county_day(served)
    assert snap_compare(served.console("duty_a", lang), terminal_size=SIZE, run_before=loaded(served))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_incident_detail(served: Served, snap_compare: Any, lang: Lang) -> None:
    ids = county_day(served)
    wait = loaded(served)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait(pilot)
        pilot.app.push_screen(IncidentScreen(ids[0]))
        await until(
            pilot,
            lambda: isinstance(pilot.app.screen, IncidentScreen) and pilot.app.screen.detail is not None,
        )
        await pilot.pause(0.3)

    assert snap_compare(served.console("duty_a", lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(("lang", "key"), [("zh", "2"), ("en", "2"), ("zh", "3"), ("en", "4")])
def test_whistles_map_and_patrols(served: Served, snap_compare: Any, lang: Lang, key: str) -> None:
    county_day(served)
    wait = loaded(served)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait(pilot)
        await pilot.press(key)
        if key == "3":
            await until(
                pilot,
                lambda: (
                    bool(pilot.app.screen.query(CellMap))
                    and len(pilot.app.screen.query_one(CellMap).markers) == 4
                ),
            )
        await pilot.pause(0.8)

    assert snap_compare(served.console("duty_a", lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sweep(served: Served, snap_compare: Any, lang: Lang) -> None:
    county_day(served)
    wait = loaded(served)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait(pilot)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(pilot.app.screen, SweepScreen))
        await pilot.press("n")
        await until(pilot, lambda: getattr(pilot.app.screen, "sweep", None) is not None)
        pilot.app.clear_notifications()  # "plan made" fades out on its own; the snapshot shows the plan
        await pilot.pause(0.5)

    assert snap_compare(served.console("duty_a", lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kpis(served: Served, snap_compare: Any, lang: Lang) -> None:
    closed_loop_day(served.api)  # township A's villages, ranked: Chinese names on the chart's bars

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await pilot.press("6")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, KpisScreen) and bool(app.screen.query_one("#kpi-chart", BarChart).bars)
            ),
        )
        await pilot.pause(0.5)

    assert snap_compare(served.console("duty_a", lang), terminal_size=SIZE, run_before=run_before)
