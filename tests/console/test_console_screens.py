"""Every screen of the console, in both languages, against a real server holding incidents of every
source, state and routing basis with a history row of every action: each is drawn in words, and
nothing raises. Then the parts of the first hour that used to go wrong: going back to the board,
the palette in Chinese, photos, a crash's exit code."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import Session, col, select
from textual.command import CommandPalette
from textual.widgets import DataTable, Static

from console.i18n import Lang, Texts
from console.remote.models import CLOSED_STATES
from console.screens.board import BoardScreen
from console.screens.incident import IncidentScreen
from console.screens.kpis import KpisScreen
from console.screens.patrols import PatrolsScreen
from console.screens.sweep import SweepScreen
from console.screens.whistles import WhistlesScreen
from console.widgets.board.incident_table import IncidentTable
from console.widgets.map.cell_map import CellMap
from server.db.tables import AssignmentRow, FlowRow, IncidentRow
from tests.support.api import Api
from tests.support.console import SERVER_CODES, Served, until

pytestmark = pytest.mark.anyio
SIZE = (160, 45)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


def plain(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def every_value(api: Api) -> dict[str, tuple[str, str, str]]:
    """Incidents reported through the API, then given every source, state and basis the server knows
    (written into its database: no field message makes some of them on demand); the first carries a
    photo and a history row of every action. Incident id → (source, state, basis)."""
    photo = api.client.post(
        "/media", files={"file": ("p.jpg", JPEG, "image/jpeg")}, headers=api.auth("worker_a1")
    ).json()["url"]
    sources, states, bases = (sorted(SERVER_CODES[f]) for f in ("source", "state", "basis"))
    count = max(len(sources), len(states), len(bases))
    ids = [
        api.report(n=k % 4, text=f"every value {k}", media=[photo] if k == 0 else []).json()["incident"]["id"]
        for k in range(count)
    ]
    made: dict[str, tuple[str, str, str]] = {}
    with Session(api.runtime.engine) as session:
        for k, incident_id in enumerate(ids):
            row = session.get(IncidentRow, incident_id)
            assert row is not None
            made[incident_id] = (sources[k % len(sources)], states[k % len(states)], bases[k % len(bases)])
            row.source, row.state, _ = made[incident_id]
            session.add(row)
            for assignment in session.exec(
                select(AssignmentRow).where(col(AssignmentRow.incident) == incident_id)
            ):
                assignment.basis = made[incident_id][2]
                session.add(assignment)
        for action in sorted(SERVER_CODES["action"]):
            session.add(
                FlowRow(
                    incident=ids[0],
                    action=action,
                    actor="duty_a",
                    at=api.clock(),
                    from_state="accepted",
                    to_state="dispatched",
                )
            )
        session.commit()
    return made


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_screen_in_words_whatever_the_server_holds(served: Served, lang: Lang) -> None:
    made = every_value(served.api)
    t = Texts(lang)
    app = served.console("admin", lang)
    async with app.run_test(size=SIZE) as pilot:
        on_board = {i for i, (_, state, _) in made.items() if state not in CLOSED_STATES}
        await until(pilot, lambda: app.loaded and set(app.board.incidents) == on_board)
        # The board: every source and state in words (a code shown as it is would be English in zh).
        table = app.screen.query_one(IncidentTable)
        await until(pilot, lambda: len(table.rows) == len(on_board))
        cells = [[text for text, _ in table._cells(row)] for row in table.rows]
        assert {c[7] for c in cells} == {t.code("source", made[r.id][0]) for r in table.rows}
        assert {c[5] for c in cells} == {t.state(made[r.id][1]) for r in table.rows}
        for y in range(len(table.rows) + 1):
            table.render_line(y)
        # Every incident's screen, closed ones included: source, basis and each history step in words.
        for incident_id, (source, _, basis) in made.items():
            app.push_screen(IncidentScreen(incident_id))
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, IncidentScreen)
                    and app.screen.incident_id == incident_id  # noqa: B023
                    and app.screen.detail is not None
                ),
            )
            screen = app.screen
            assert t.code("source", source) in plain(screen.query_one("#summary", Static))
            assert t.code("basis", basis) in plain(screen.query_one("#routing", Static))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        first = next(iter(made))
        app.push_screen(IncidentScreen(first))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        history = plain(app.screen.query_one("#history", Static))
        for action in SERVER_CODES["action"]:
            assert t.code("action", action) in history, action
        # The first row is the report: one state, not "reported → reported".
        assert f"{t.state('reported')} → {t.state('reported')}" not in history
        # The other screens, each with what it loads.
        await pilot.press("2")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, WhistlesScreen)
                and t("whistles.none") in plain(app.screen.query_one("#status", Static))
            ),
        )
        await pilot.press("3")
        await until(
            pilot, lambda: bool(app.screen.query(CellMap)) and bool(app.screen.query_one(CellMap).cells)
        )
        await pilot.press("4")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, PatrolsScreen)
                and app.screen.query_one("#workers", DataTable).row_count > 0
            ),
        )
        await pilot.press("5")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, SweepScreen)
                and t("sweep.none") in plain(app.screen.query_one("#summary", Static))
            ),
        )
        await pilot.press("6")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, KpisScreen)
                and app.screen.query_one("#kpi-figures", DataTable).row_count > 0
            ),
        )
        # `1` is the board, even with an incident opened on the board's own stack before.
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
    assert not app.return_code


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_one_returns_to_the_board_after_a_marker(served: Served, lang: Lang) -> None:
    api = served.api
    ids = [api.report(n=n).json()["incident"]["id"] for n in range(2)]
    app = served.console("duty_a", lang)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded and len(app.board) == 2)
        app.push_screen(IncidentScreen(ids[0]))  # incident → 2 → 3 → marker → 1
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("2", "3")
        await until(
            pilot, lambda: bool(app.screen.query(CellMap)) and len(app.screen.query_one(CellMap).markers) == 2
        )
        await pilot.press("n", "enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await pilot.press("3")
        await until(pilot, lambda: bool(app.screen.query(CellMap)))
        assert not isinstance(app.screen, IncidentScreen)


async def test_palette_and_quit_hint_in_chinese(served: Served) -> None:
    app = served.console("duty_a", "zh")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"主题", "退出", "按键", "截图"} <= titles and not titles & {"Theme", "Quit", "Keys"}
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        assert "搜索" in str(app.screen.query_one("CommandInput").placeholder)
        await pilot.press(*"绩效评价")
        await pilot.pause(0.5)
        await pilot.press("enter")  # "转到: 绩效评价"
        await until(pilot, lambda: isinstance(app.screen, KpisScreen))
        await pilot.press("ctrl+c")
        await until(pilot, lambda: any("退出" in n.message for n in app._notifications))
        assert any(n.title == "要退出吗?" for n in app._notifications)


async def test_a_photo_is_fetched_with_the_token_and_saved(served: Served, tmp_path: Any) -> None:
    api = served.api
    photo = api.client.post(
        "/media", files={"file": ("p.jpg", JPEG, "image/jpeg")}, headers=api.auth("worker_a1")
    ).json()["url"]
    incident = api.report(media=[photo]).json()["incident"]["id"]
    app = served.console("duty_a", "en")
    app.downloads = tmp_path / "photos"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        app.push_screen(IncidentScreen(incident))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        assert "photos" in {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("f")
        saved = tmp_path / "photos" / photo.rsplit("/", 1)[-1]
        await until(pilot, lambda: saved.exists() and saved.read_bytes() == JPEG)
        await until(pilot, lambda: any(str(saved) in n.message for n in app._notifications))


@pytest.mark.parametrize(("lang", "words"), [("zh", "照片无法打开"), ("en", "cannot be opened")])
async def test_a_photo_the_server_refuses_is_said_in_words(
    served: Served, tmp_path: Any, lang: Lang, words: str
) -> None:
    api = served.api
    missing = "/media/" + "ab" * 32 + ".jpg"  # never uploaded
    incident = api.report(media=[missing]).json()["incident"]["id"]
    app = served.console("duty_a", lang)
    app.downloads = tmp_path / "photos"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        app.push_screen(IncidentScreen(incident))
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("f")
        await until(pilot, lambda: any(words in n.message for n in app._notifications))
        assert not (tmp_path / "photos").exists()
