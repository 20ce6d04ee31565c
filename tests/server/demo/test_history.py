"""The demo's data set-up (`gridwatch demo` and `serve --demo` on an empty database): a county with
a year of history whose KPIs are all real figures, a backlog overdue even at night, and simulated
units that sign and handle what the duty officer dispatches."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from geodata.catalog_files import default_calendar
from geodata.dataset import Dataset
from geodata.synth import synthesize
from grid.evaluation.periods import month, quarter
from grid.evaluation.scopes import parse_scope
from server.api.app import create_app
from server.cli.context import demo_county
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import (
    AssignmentRow,
    CellRow,
    FlowRow,
    IncidentRow,
    PatrolDayRow,
    SweepOutcomeRow,
    SweepPlanRow,
    VillageRow,
    WhistleCallRow,
)
from server.demo.history import build_history
from server.demo.units import UnitDesk, unit_tokens
from server.incidents.service import IncidentFilter, IncidentService
from server.kpis.service import KpiService
from server.reference.service import load_dataset
from server.runtime import Runtime
from server.settings import Settings
from tests.support.api import Clock
from tests.support.clock import at
from tests.support.postgres import create_database

# A summer night in Beijing: last month is June and last quarter Q2, README's example reports;
# at 02:30 no working-hour clock runs, so whatever is overdue was left so by the history.
NOW = at("2026-07-15 02:30")
COUNTY = "339921"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Clock, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    clock = Clock(NOW)
    runtime = Runtime(settings=Settings(database_url=url), engine=make_engine(url), clock=clock)
    migrate.upgrade(runtime.engine)
    token, loaded = demo_county(runtime, seed=1)
    assert loaded
    yield runtime, clock, token
    runtime.engine.dispose()


def test_every_township_and_nearly_every_village_has_incidents(demo: tuple[Runtime, Clock, str]) -> None:
    runtime, _, _ = demo
    with Session(runtime.engine) as session:
        townships = set(session.exec(select(CellRow.township).distinct()).all())
        villages = set(session.exec(select(VillageRow.code)).all())
        reported_townships = set(session.exec(select(IncidentRow.township).distinct()).all())
        reported_villages = set(session.exec(select(IncidentRow.village).distinct()).all())
    assert len(townships) == 12 and townships <= reported_townships
    assert len(villages & reported_villages) >= 0.9 * len(villages)


def test_every_figure_of_last_month_and_last_quarter_is_real(demo: tuple[Runtime, Clock, str]) -> None:
    runtime, clock, _ = demo
    with Session(runtime.engine) as session:
        kpis = KpiService(session, default_calendar().tz, clock())
        for period in (month(dt.date(2026, 6, 1)), quarter(dt.date(2026, 4, 1))):
            figures = msgspec.structs.asdict(kpis.scope_figures(parse_scope(f"county:{COUNTY}"), period))
            zeros = sorted(name for name, value in figures.items() if not value)
            assert not zeros, (period, zeros)
            # Real figures, not a perfect county: some late, some reworked, most on time.
            assert 50 < figures["on_time_close_rate"] < 100, figures
            assert figures["closed"] > 300


def test_history_went_through_the_whole_loop(demo: tuple[Runtime, Clock, str]) -> None:
    runtime, _, _ = demo
    with Session(runtime.engine) as session:
        actions = dict(
            session.execute(select(FlowRow.action, func.count()).group_by(col(FlowRow.action))).all()
        )
        first = session.exec(select(func.min(IncidentRow.reported_at))).one()
        rated = session.exec(select(func.count()).where(col(WhistleCallRow.rating).is_not(None))).one()
        patrol_days = session.exec(select(func.count()).select_from(PatrolDayRow)).one()
        published = session.exec(select(SweepPlanRow).where(SweepPlanRow.status == "published")).all()
        outcomes = session.exec(select(SweepOutcomeRow.outcome)).all()
    expected = {"report", "accept", "dispatch", "sign", "handle", "verify", "close", "reject", "return"}
    assert expected | {"reroute", "reopen", "mark_duplicate", "suspend"} <= set(actions), actions
    assert first is not None and NOW - first > dt.timedelta(days=365)
    assert rated > 0 and patrol_days > 0
    # A published sweep each of the last twelve Tuesdays, every township in turn, with outcomes.
    assert len(published) == 12 and len({p.scope for p in published}) == 12
    assert all(p.date.weekday() == 1 and p.date < NOW.date() for p in published)
    assert len(outcomes) >= 12 and "rectification" in outcomes


def test_some_open_incidents_are_overdue_at_night(demo: tuple[Runtime, Clock, str]) -> None:
    runtime, clock, _ = demo
    assert default_calendar().local(clock()).hour == 2
    with Session(runtime.engine) as session:
        incidents = IncidentService(session, runtime.domains.on(session), clock)
        _, overdue = incidents.search(IncidentFilter(county=COUNTY, overdue=True), 1, 0)
    assert overdue >= 10


def test_simulated_units_sign_and_handle_within_five_minutes(demo: tuple[Runtime, Clock, str]) -> None:
    runtime, clock, admin = demo
    with Session(runtime.engine) as session:
        tokens = unit_tokens(session, COUNTY, clock())
        cell = session.exec(select(CellRow).where(CellRow.township == f"{COUNTY}101")).first()
        assert cell is not None
    client = TestClient(create_app(runtime))
    headers = {"Authorization": f"Bearer {admin}"}
    desk = UnitDesk(client, admin, tokens, clock, seed=1)
    clock.advance(seconds=5)
    point = msgspec.json.decode(cell.geometry)["coordinates"][0]
    lon = sum(p[0] for p in point[:-1]) / (len(point) - 1)
    lat = sum(p[1] for p in point[:-1]) / (len(point) - 1)
    body = {"client_id": "demo-live-1", "category": "0501", "lon": lon, "lat": lat, "text": "占道经营"}
    created = client.post("/incidents", json=body, headers=headers)
    assert created.status_code == 201, created.text
    incident = created.json()["incident"]["id"]
    for action in ("accept", "dispatch"):
        answer = client.post(f"/incidents/{incident}/actions/{action}", json={}, headers=headers)
        assert answer.status_code == 200, answer.text
    for _ in range(30):  # five simulated minutes, a step every ten seconds
        clock.advance(seconds=10)
        desk.step()
    read = client.get(f"/incidents/{incident}", headers=headers)
    assert read.status_code == 200, read.text
    done = {(r["action"], r["actor"].split(":")[0]) for r in read.json()["history"]}
    assert {("sign", "unit"), ("handle", "unit")} <= done, done
    assert desk.done["sign"] >= 1 and desk.done["handle"] >= 1
    # The history's backlog is the duty officer's to chase: the units left it alone.
    overdue = client.get("/incidents", params={"overdue": "true", "limit": 1}, headers=headers)
    assert overdue.json()["total"] >= 10


def _digest(url: str) -> str:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = [
            (r.id, r.state, r.category, r.cell, r.reported_at, r.text, r.deadline)
            for r in session.exec(select(IncidentRow).order_by(col(IncidentRow.id))).all()
        ]
        flows = session.exec(
            select(FlowRow.incident, FlowRow.action, FlowRow.at).order_by(col(FlowRow.id))
        ).all()
        # JSON read back as what was written, on either database.
        assignments = [
            (a.incident, a.lead, a.support, a.explanation["township"])
            for a in session.exec(select(AssignmentRow).order_by(col(AssignmentRow.id))).all()
        ]
    engine.dispose()
    return hashlib.sha256(repr((rows, flows, assignments)).encode()).hexdigest()


def _built(url: str, seed: int, county: Dataset) -> str:
    runtime = Runtime(settings=Settings(database_url=url), engine=make_engine(url), clock=Clock(NOW))
    migrate.upgrade(runtime.engine)
    with Session(runtime.engine) as session:
        load_dataset(session, county)
        session.commit()
        build_history(session, runtime.domains(session), seed, NOW, months=1)
    runtime.engine.dispose()
    return url


def test_the_same_seed_gives_the_same_history(tmp_path: Path) -> None:
    county = synthesize(1)
    first = _built(f"sqlite:///{tmp_path / 'first.db'}", 5, county)
    again = _built(f"sqlite:///{tmp_path / 'again.db'}", 5, county)
    other = _built(f"sqlite:///{tmp_path / 'other.db'}", 6, county)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def test_the_history_is_the_same_on_postgresql(postgres_admin_url: str, tmp_path: Path) -> None:
    """The bulk writer speaks each database's own parameters and types."""
    county = synthesize(1)
    on_sqlite = _built(f"sqlite:///{tmp_path / 'h.db'}", 5, county)
    on_postgres = _built(create_database(postgres_admin_url, "gw_demo_history"), 5, county)
    assert _digest(on_postgres) == _digest(on_sqlite)
