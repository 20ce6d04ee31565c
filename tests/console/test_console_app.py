"""The console driven by Textual's Pilot against a real server started by the test."""

from __future__ import annotations

import io
import socket
import time
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Label, Select, SelectionList, Static

from console.i18n import Lang
from console.remote.stream import Connection
from console.screens.board import BoardScreen
from console.screens.dialogs import (
    ConfirmDialog,
    MoveDialog,
    RatingDialog,
    ReasonDialog,
    RerouteDialog,
    SwapDialog,
    WhistleDialog,
)
from console.screens.incident import IncidentScreen
from console.screens.kpis import KpisScreen
from console.screens.sweep import SweepScreen
from console.screens.whistles import WhistlesScreen
from console.widgets.bar_chart import BarChart
from console.widgets.board.incident_table import IncidentTable
from console.widgets.map.cell_map import CellMap
from tests.support.console import Served, until
from tests.support.steps import closed_loop_day

pytestmark = pytest.mark.anyio
SIZE = (160, 45)


def shown(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    return [i.id for i in screen.query_one(IncidentTable).rows] if isinstance(screen, BoardScreen) else []


def plain(widget: Static) -> str:
    """What a Static shows, as plain text (Rich tables and groups included)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def status(app: object) -> str:
    return plain(app.screen.query_one("#status", Static))  # type: ignore[attr-defined]


def offered(app: object) -> set[str]:
    """The actions the footer shows on the current screen."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}  # type: ignore[attr-defined]


async def test_board_lists_open_incidents_urgent_and_newest_first(served: Served) -> None:
    api = served.api
    first = api.report(n=0).json()["incident"]["id"]
    api.clock.advance(minutes=5)
    urgent = api.report(n=1, urgent=True).json()["incident"]["id"]
    api.clock.advance(minutes=5)
    newest = api.report(n=2).json()["incident"]["id"]
    closed = api.report(n=3).json()["incident"]["id"]
    api.act(closed, "reject", reason="不属实")
    app = served.console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded and isinstance(app.screen, BoardScreen))
        await until(pilot, lambda: len(shown(app)) == 3)
        assert shown(app) == [urgent, newest, first]
        assert "3 shown of 3 open" in plain(app.screen.query_one("#board-count", Static))
        assert (
            app.connection is Connection.LIVE
            or await until(pilot, lambda: app.connection is Connection.LIVE) >= 0
        )


async def test_a_new_incident_reaches_the_board_within_a_second(served: Served) -> None:
    api = served.api
    api.report(n=0)
    app = served.console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 1)
        await until(pilot, lambda: app.connection is Connection.LIVE)
        committed = time.monotonic()
        urgent = api.report(n=4, urgent=True).json()["incident"]["id"]  # returns after the commit
        await until(pilot, lambda: urgent in shown(app), timeout=1.0)
        assert time.monotonic() - committed < 1.0
        # Urgent incidents are announced.
        assert any("Urgent incident" in n.message for n in app._notifications)


async def test_a_dropped_connection_resumes_with_nothing_missed(served: Served) -> None:
    api = served.api
    app = served.console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection is Connection.LIVE)
        served.live.stop()
        await until(pilot, lambda: app.connection is Connection.LOST)
        assert "lost" in app.sub_title
        # Changes made while the console is cut off ...
        while_down = [api.report(n=n).json()["incident"]["id"] for n in range(3)]
        api.act(while_down[0], "accept")
        served.live.start()
        # ... all arrive once it is back, in their latest state.
        await until(pilot, lambda: set(while_down) <= set(shown(app)), timeout=15)
        assert app.board.incidents[while_down[0]].state == "accepted"
        assert app.connection is Connection.LIVE


async def test_a_token_revoked_during_the_day_stops_the_stream_and_says_so(served: Served) -> None:
    api = served.api
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection is Connection.LIVE)
        listed = api.client.get("/tokens", headers=api.auth("admin")).json()
        [mine] = [t for t in listed["items"] if t["label"] == "duty_a"]
        revoked = api.client.post(f"/tokens/{mine['id']}/revoke", headers=api.auth("admin"))
        assert revoked.status_code == 200, revoked.text
        served.live.stop()  # the stream reconnects, and the server no longer takes the token
        served.live.start()
        await until(pilot, lambda: app.connection is Connection.REVOKED, timeout=15)
        assert "no longer accepted" in app.sub_title
        assert any("no longer accepted" in n.message for n in app._notifications)


async def test_filters_and_search_narrow_the_board(served: Served) -> None:
    api = served.api
    a, b = api.template.township_a, api.template.township_b
    in_a = api.report(n=0).json()["incident"]["id"]
    in_b = api.report(who="duty_b", township=b, text="桥下有人摆摊").json()["incident"]["id"]
    app = served.console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 2)
        app.screen.query_one("#township", Select).value = a
        await until(pilot, lambda: shown(app) == [in_a])
        await pilot.press("escape")  # clear the filters
        await until(pilot, lambda: len(shown(app)) == 2)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"摆摊")
        await until(pilot, lambda: shown(app) == [in_b])
        await pilot.press("escape")
        app.screen.query_one("#overdue").value = True  # nothing is late yet
        await until(pilot, lambda: shown(app) == [])
        assert "No incident matches" in plain(app.screen.query_one("#board-count", Static))


async def test_detail_shows_why_and_history_and_actions_go_through_the_server(served: Served) -> None:
    api = served.api
    incident = api.report(n=0, text="路口占道").json()["incident"]["id"]
    other = api.report(n=0).json()["incident"]["id"]  # same place and category: a probable duplicate
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 2)
        table = app.screen.query_one(IncidentTable)
        table.cursor = shown(app).index(incident)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        routing = plain(screen.query_one("#routing", Static))
        assert "Enforcement" in routing or "enforcement" in routing
        assert other[:8] in plain(screen.query_one("#duplicates", Static))
        assert screen.query_one(CellMap).markers  # its position, drawn
        # The footer offers the steps a reported incident allows, and nothing else.
        assert offered(app) >= {"step('accept')", "step('reject')", "step('reroute')"}
        assert not offered(app) & {"step('close')", "step('dispatch')", "step('resume')"}
        # Accept: the footer follows the new state; a step it no longer offers does nothing.
        await pilot.press("a")
        await until(pilot, lambda: screen.detail is not None and screen.detail.incident.state == "accepted")
        await until(pilot, lambda: "step('dispatch')" in offered(app))
        assert "step('accept')" not in offered(app) and "step('close')" not in offered(app)
        assert any("Accept: done" in n.message for n in app._notifications)
        await pilot.press("c")
        await pilot.pause(0.3)
        assert (
            api.client.get(f"/incidents/{incident}", headers=api.auth("duty_a")).json()["incident"]["state"]
            == "accepted"
        )
        # Suspend asks for a reason; an empty one is not sent.
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        assert "required" in plain(app.screen.query_one(".problem", Static))
        await pilot.press(*"等待天晴", "enter")
        await until(pilot, lambda: screen.detail is not None and screen.detail.incident.state == "suspended")
        await pilot.press("u")
        await until(pilot, lambda: screen.detail is not None and screen.detail.incident.state == "accepted")
        await pilot.press("d")
        await until(pilot, lambda: screen.detail is not None and screen.detail.incident.state == "dispatched")
        history = [f.action for f in screen.detail.history]
        assert history == ["report", "accept", "suspend", "resume", "dispatch"]


async def test_reroute_and_reject_from_the_console(served: Served) -> None:
    api = served.api
    incident = api.report(n=0).json()["incident"]["id"]
    wrong = api.report(n=1).json()["incident"]["id"]
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 2)
        app.push_screen(IncidentScreen(incident))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        screen = app.screen
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RerouteDialog))
        dialog = app.screen
        new_lead = next(u.id for u in dialog.units if u.township is None)
        dialog.query_one("#lead", Select).value = new_lead
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"not ours", "enter")
        await until(
            pilot,
            lambda: (
                isinstance(screen, IncidentScreen)
                and screen.detail is not None
                and screen.detail.incident.lead == new_lead
            ),
        )
        assert [a.basis for a in screen.detail.assignments if a.current] == ["manual"]
        await pilot.press("escape")
        app.push_screen(IncidentScreen(wrong))
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, IncidentScreen)
                and app.screen.incident_id == wrong
                and app.screen.detail is not None
            ),
        )
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press(*"重复上报", "enter")
        # Rejected incidents leave the board through the live stream.
        await until(pilot, lambda: wrong not in app.board.incidents)


async def test_whistle_report_in_and_rating(served: Served) -> None:
    api = served.api
    incident = api.report(n=0).json()["incident"]["id"]
    api.act(incident, "accept")
    app = served.console(who="admin")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 1)
        app.push_screen(IncidentScreen(incident))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WhistleDialog))
        await pilot.click("#ok")  # nobody picked yet
        assert "at least one" in plain(app.screen.query_one(".problem", Static))
        picker = app.screen.query_one("#units", SelectionList)
        picker.select(picker.get_option_at_index(0).value)
        called = list(picker.selected)
        await pilot.pause(0.5)  # a button ignores a second press while it still shows the first
        await pilot.click("#ok")
        await until(pilot, lambda: "done" in status(app))
        await pilot.press("escape")
        await pilot.press("2")
        await until(
            pilot, lambda: app.screen.query(DataTable) and app.screen.query_one(DataTable).row_count == 1
        )
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[5]) == "waiting"
        await pilot.press("i")  # report in for the called department
        await until(pilot, lambda: str(app.screen.query_one(DataTable).get_row_at(0)[5]) != "waiting")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, RatingDialog))
        await pilot.click("#ok")  # the rating dialog offers 5
        await until(pilot, lambda: str(app.screen.query_one(DataTable).get_row_at(0)[6]) == "5")
    whistles = api.client.get("/whistles", headers=api.auth("admin")).json()["items"]
    assert [c["unit"] for c in whistles[0]["calls"]] == called
    assert whistles[0]["calls"][0]["rating"] == 5


async def test_map_draws_the_township_and_opens_a_marker(served: Served) -> None:
    api = served.api
    ids = {api.report(n=n).json()["incident"]["id"] for n in range(3)}
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("3")
        await until(
            pilot, lambda: bool(app.screen.query(CellMap)) and len(app.screen.query_one(CellMap).markers) == 3
        )
        cell_map = app.screen.query_one(CellMap)
        assert len(cell_map.cells) == sum(1 for c in api.shapes if c.startswith(api.template.township_a))
        await pilot.press("plus")
        assert cell_map.zoom == 2
        await pilot.press("minus", "minus")
        assert cell_map.zoom == 0.5
        await pilot.press("n")
        marker = cell_map.selected_marker
        assert marker is not None and marker.incident in ids
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen))
        assert app.screen.incident_id == marker.incident


async def test_open_screens_follow_changes_made_elsewhere(served: Served) -> None:
    api = served.api
    incident = api.report(n=0).json()["incident"]["id"]
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 1)
        await until(pilot, lambda: app.connection is Connection.LIVE)
        app.push_screen(IncidentScreen(incident))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        screen = app.screen
        api.act(incident, "accept")  # at another desk
        await until(pilot, lambda: screen.detail is not None and screen.detail.incident.state == "accepted")
        await pilot.press("escape", "3")
        await until(
            pilot, lambda: bool(app.screen.query(CellMap)) and len(app.screen.query_one(CellMap).markers) == 1
        )
        api.report(n=1)
        await until(pilot, lambda: len(app.screen.query_one(CellMap).markers) == 2)
        await pilot.press("2")
        await until(
            pilot, lambda: isinstance(app.screen, WhistlesScreen) and "No open whistles" in status(app)
        )
        api.client.post(
            f"/incidents/{incident}/whistles",
            json={"kind": "routine", "reason": "no_power", "units": ["339921.dept.zhzf"]},
            headers=api.auth("duty_a"),
        )
        await until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1)


async def test_patrols_show_the_township_workers(served: Served) -> None:
    api = served.api
    workers = [w for w in api.template.county.workers if w.township == api.template.township_a]
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("4")
        await until(
            pilot,
            lambda: (
                bool(app.screen.query("#workers"))
                and app.screen.query_one("#workers", DataTable).row_count == len(workers)
            ),
        )
        summary = plain(app.screen.query_one("#patrol-summary", Static))
        assert f"0 of {len(workers)} online" in summary
        assert app.screen.query_one("#villages", DataTable).row_count > 0


async def test_sweep_plan_review_and_publish(served: Served) -> None:
    api = served.api
    app = served.console(who="duty_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and "press n" in summary_of(app))
        await pilot.press("n")
        await until(pilot, lambda: app.screen.sweep is not None)
        sweep = app.screen.sweep
        first = sweep.plan.teams[0]
        assert f"{len(sweep.plan.teams)} teams" in summary_of(app) and "draft" in summary_of(app)
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)[:3]] == [first.id, "1", sweep.stop(first.stops[0]).name]
        # Take the first stop off the plan: it moves to the "not planned" rows with the reason.
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MoveDialog))
        app.screen.query_one("#team", Select).value = ""
        await pilot.click("#ok")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.sweep.revision == 1)
        rows = [
            app.screen.query_one(DataTable).get_row_at(r)
            for r in range(app.screen.query_one(DataTable).row_count)
        ]
        assert any(
            "taken off the plan" in str(r[4]) and str(r[2]) == sweep.stop(first.stops[0]).name for r in rows
        )
        # The swap picks from lists: the team's officers, and those free and certified that day.
        await pilot.press("home", "o")
        await until(pilot, lambda: isinstance(app.screen, SwapDialog))
        dialog = app.screen
        busy = {o for team in sweep.plan.teams for o in team.officers}
        assert dialog.candidates and not {oid for oid, _ in dialog.candidates} & busy
        await pilot.press("escape")
        # Someone else edits the plan meanwhile: the console's next edit is refused, and the refusal is
        # a notification, seen whatever the length of the table.
        second = first.stops[1]
        moved = api.client.post(
            f"/sweeps/{sweep.id}/moves",
            json={"revision": 1, "stop": second, "team": None},
            headers=api.auth("duty_a"),
        )
        assert moved.status_code == 200, moved.text
        await until(pilot, lambda: isinstance(app.screen, SweepScreen))
        await pilot.press("home", "m")
        await until(pilot, lambda: isinstance(app.screen, MoveDialog))
        app.screen.query_one("#team", Select).value = ""
        await pilot.click("#ok")
        await until(pilot, lambda: any("server refused" in n.message for n in app._notifications))
        assert "refused" in status(app) and sweep_of(app).revision == 1
        await pilot.press("r")
        await until(pilot, lambda: sweep_of(app).revision == 2)
        # Publishing a plan with conflicts (the stops taken off) asks first; "cancel" keeps the draft.
        conflicts = len(sweep_of(app).plan.conflicts)
        assert conflicts >= 2
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert f"{conflicts} conflicts" in plain(app.screen.query_one(Label))
        await pilot.click("#cancel")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen))
        assert "draft" in summary_of(app)
        assert {"move", "swap", "publish"} <= offered(app)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#ok")
        await until(pilot, lambda: "published" in summary_of(app))
        assert any(n.message == "Plan published" for n in app._notifications)
        # A published plan is not edited here: the footer no longer offers it.
        assert not {"move", "swap", "publish"} & offered(app) and "plan" in offered(app)
    stored = api.client.get(f"/sweeps/{sweep.id}", headers=api.auth("duty_a")).json()
    assert stored["status"] == "published" and first.stops[0] not in stored["plan"]["teams"][0]["stops"]


def sweep_of(app: object) -> Any:
    return app.screen.sweep  # type: ignore[attr-defined]


def summary_of(app: object) -> str:
    return plain(app.screen.query_one("#summary", Static))  # type: ignore[attr-defined]


async def test_a_unit_officer_sees_its_own_work_and_is_refused_the_duty_steps(served: Served) -> None:
    api = served.api
    mine = api.report(n=0).json()["incident"]["id"]  # led by township A's enforcement office
    api.report(who="duty_b", township=api.template.township_b)
    app = served.console(who="unit_a")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await until(pilot, lambda: shown(app) == [mine])
        app.push_screen(IncidentScreen(mine))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("a")
        await until(pilot, lambda: "refused" in status(app))
    assert (
        api.client.get(f"/incidents/{mine}", headers=api.auth("admin")).json()["incident"]["state"]
        == "reported"
    )


async def test_a_bad_token_is_shown_not_crashed_on(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    # The template is shared by every test of the session: the forged token must not outlive this one.
    monkeypatch.setitem(served.api.template.tokens, "forged", "gw_not-a-real-token")
    app = served.console(who="forged", lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        # Said where the officer looks (not "Loading incidents…" forever), with what to do.
        await until(pilot, lambda: "令牌被拒绝" in plain(app.query_one("#loading", Static)))
        assert "GRIDWATCH_TOKEN" in plain(app.query_one("#loading", Static)) and "令牌被拒绝" in app.sub_title
        assert not app.loaded
        await pilot.press("2")  # nothing to go to yet: said so, no crash
        await until(pilot, lambda: any("尚未连接" in n.message for n in app._notifications))
        assert not isinstance(app.screen, BoardScreen)


async def test_command_palette_finds_screens_and_incidents(served: Served) -> None:
    api = served.api
    incident = api.report(n=0, text="palette-needle").json()["incident"]["id"]
    app = served.console()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(shown(app)) == 1)
        await pilot.press("ctrl+p")
        await pilot.press(*"palette-needle")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen))
        assert app.screen.incident_id == incident


async def test_an_unreachable_server_is_named_and_retried() -> None:
    from console.app import GridwatchConsole
    from console.remote.client import ServerClient

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app = GridwatchConsole(ServerClient(url, "gw_x"), "en")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "cannot reach the server" in app.sub_title)
        assert url in app.sub_title and not app.loaded
        assert "cannot reach the server" in plain(app.query_one("#loading", Static))


async def test_the_launching_commands_notice_is_shown_first() -> None:
    """The demo's pairing links went to the terminal the console then covers: it shows them too."""
    from console.app import GridwatchConsole
    from console.remote.client import ServerClient

    notice = "field app / 现场端 — grid worker: http://127.0.0.1:8000/field/#pair=ABCDEFGH"
    app = GridwatchConsole(ServerClient("http://127.0.0.1:9", "gw_x"), "en", notice=notice)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(n.message == notice for n in app._notifications))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_kpis_for_the_duty_officers_scope(served: Served, lang: Lang) -> None:
    api = served.api
    closed_loop_day(api)  # township A on 2026-06-16: 6 due, 4 closed, 2 on time (test_kpis)
    app = served.console(who="duty_a", lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("6")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, KpisScreen)
                and app.screen.query_one("#kpi-figures", DataTable).row_count > 0
            ),
        )
        figures = app.screen.query_one("#kpi-figures", DataTable)
        first = [str(c) for c in figures.get_row_at(0)]
        assert first[0] == ("按期结案率" if lang == "zh" else "On-time close rate")
        assert first[1:3] == ["33.33%", "—"]  # nothing in May to compare with
        summary = plain(app.screen.query_one("#kpi-summary", Static))
        assert ("应结案 6，已结案 4" if lang == "zh" else "6 due to close, 4 closed") in summary
        ranking = app.screen.query_one("#kpi-ranking", DataTable)
        villages = api.client.get(
            "/kpis",
            params={
                "scope": f"township:{api.template.township_a}",
                "by": "village",
                "from": "2026-06-01",
                "to": "2026-06-16",
            },
            headers=api.auth("duty_a"),
        ).json()["table"]["rows"]
        assert ranking.row_count == len(villages)
        assert [str(c) for c in ranking.get_row_at(0)[:4]] == [
            str(villages[0]["rank"]),
            villages[0]["name"],
            str(villages[0]["figures"]["reported"]),
            f"{villages[0]['figures']['on_time_close_rate']:.2f}%",
        ]
        chart = app.screen.query_one("#kpi-chart", BarChart)
        rated = [v for v in villages if v["figures"]["on_time_close_rate"] is not None][:12]
        assert chart.bars and [name for name, _ in chart.bars] == [v["name"] for v in rated]
        # Last month: May held nothing.
        app.screen.query_one("#kpi-period", Select).value = "last_month"
        await until(pilot, lambda: "2026-05-01" in plain(app.screen.query_one("#kpi-summary", Static)))
        assert [str(c) for c in app.screen.query_one("#kpi-figures", DataTable).get_row_at(0)[1:3]] == [
            "—",
            "—",
        ]
