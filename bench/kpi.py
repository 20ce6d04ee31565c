"""County KPIs for a quarter over one million incidents, against a bare SQL count of the same rows.

    uv run python bench/kpi.py                                # 1,000,000 incidents, SQLite and PostgreSQL
    uv run python bench/kpi.py --incidents 100000 --backend sqlite   # a quick look

The synthetic county is loaded into a fresh database (a temporary SQLite file; a private PostgreSQL
cluster from Debian's binaries) and filled with incidents reported in Q2 2026, their milestones set as
the closed loop would have left them (accepted, dispatched, handled, closed, late, re-routed,
suspended …), plus whistles with their calls and a quarter of patrol days. Timed, best of 3:

- **ours**: every county figure of the quarter (`KpiService.table`, what `GET /kpis` answers);
- **by township**: the same, broken down and ranked by township (the report's first sheet);
- **bare**: `SELECT count(*) FROM incident WHERE reported_at in the quarter`, the baseline.

The ratio is ours / bare (how many bare counts one KPI computation costs). Target: ours under 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from geodata.dataset import Dataset
from geodata.synth import synthesize
from grid.evaluation.periods import PeriodKind, parse_period
from grid.evaluation.scopes import Scope, ScopeKind
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import IncidentRow, PatrolDayRow, WhistleCallRow, WhistleRow
from server.kpis.service import KpiService
from server.reference.service import load_dataset

CST = dt.timezone(dt.timedelta(hours=8))
QUARTER = parse_period(PeriodKind.QUARTER, "2026Q2")
START = dt.datetime(2026, 4, 1, tzinfo=CST)
SECONDS = 91 * 86400
NOW = dt.datetime(2026, 7, 10, tzinfo=CST)
CHUNK = 50_000


def _incidents(county: Dataset, n: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Rows in chunks, drawn with numpy: where, when and how far each got in the loop."""
    rng = np.random.default_rng(seed)
    # Stored in the order they arrive, as the intake writes them.
    arrivals = np.sort(rng.integers(0, SECONDS, n))
    cells = [c.code for c in county.cells.records]
    offices = {t.code: t.enforcement_office for t in county.townships.records}
    workers: dict[str, list[str]] = {}
    for w in county.workers:
        workers.setdefault(w.township, []).append(w.id)
    departments = [u.id for u in county.units if u.kind == "department"]
    categories = [c.code for c in county.catalog.categories]
    for first in range(0, n, CHUNK):
        size = min(CHUNK, n - first)
        cell = rng.integers(0, len(cells), size)
        reported = arrivals[first : first + size]
        stage = rng.random(size)  # how far each incident got
        late = rng.random((size, 3)) < (0.15, 0.1, 0.05)
        accept_after = rng.exponential(1800, size)
        handle_after = rng.exponential(86400, size)
        rows = []
        for i in range(size):
            code = cells[cell[i]]
            township = code[:9]
            at = START + dt.timedelta(seconds=int(reported[i]))
            s = stage[i]
            accepted = at + dt.timedelta(seconds=float(accept_after[i])) if s > 0.08 else None
            dispatched = accepted + dt.timedelta(minutes=20) if accepted and s > 0.12 else None
            handled = (
                dispatched + dt.timedelta(seconds=float(handle_after[i])) if dispatched and s > 0.25 else None
            )
            closed = handled + dt.timedelta(hours=3) if handled and s > 0.35 else None
            state = (
                "rejected"
                if s <= 0.05
                else "reported"
                if s <= 0.08
                else "suspended"
                if s <= 0.1
                else "duplicate"
                if s <= 0.12
                else "dispatched"
                if s <= 0.25
                else "handled"
                if s <= 0.35
                else "closed"
            )
            rows.append(
                {
                    "id": f"b{first + i:08d}",
                    "source": "report",
                    "category": categories[(first + i) % len(categories)],
                    "lon": 0.0,
                    "lat": 0.0,
                    "media": [],
                    "cell": code,
                    "village": code[:12],
                    "township": township,
                    "state": state,
                    "lead_unit": departments[i % len(departments)] if i % 7 == 0 else offices[township],
                    "deadline": at + dt.timedelta(days=3) if state in ("dispatched", "handled") else None,
                    "rework_count": 1 if i % 23 == 0 else 0,
                    "reported_at": at,
                    "created_at": at,
                    "updated_at": at,
                    "device": "bench",
                    "client_id": f"b{first + i}",
                    "reporter": workers[township][i % len(workers[township])],
                    "accepted_at": accepted,
                    "accept_late": bool(late[i, 0]) and accepted is not None,
                    "dispatched_at": dispatched,
                    "misdispatched": i % 11 == 0 and dispatched is not None,
                    "handled_at": handled,
                    "handle_late": bool(late[i, 1]) and handled is not None,
                    "closed_at": closed,
                    "late_stages": int(late[i].sum()),
                }
            )
        yield rows


def fill(engine: Engine, county: Dataset, n: int) -> None:
    with engine.begin() as connection:
        for chunk in _incidents(county, n, seed=7):
            connection.execute(insert(IncidentRow), chunk)
        whistled = [f"b{i:08d}" for i in range(0, n, 100)]
        connection.execute(
            insert(WhistleRow),
            [
                {
                    "id": f"w{i}",
                    "incident": inc,
                    "township": county.townships.records[i % 12].code,
                    "kind": "routine",
                    "reason": "no_power",
                    "opened_at": START + dt.timedelta(minutes=i),
                    "opened_by": "bench",
                }
                for i, inc in enumerate(whistled)
            ],
        )
        connection.execute(
            insert(WhistleCallRow),
            [
                {
                    "whistle": f"w{i}",
                    "unit": unit,
                    "due_at": START + dt.timedelta(minutes=i, hours=2),
                    "reported_at": START + dt.timedelta(minutes=i, hours=1) if i % 3 else None,
                    "late": False,
                    "rating": 4 if i % 3 else None,
                }
                for i in range(len(whistled))
                for unit in ("339921.dept.zhzf", "339921.dept.zrzy")
                if unit.startswith(county.counties.records[0].code)
            ],
        )
        days = []
        for w in county.workers:
            for cell in w.cells:
                for week in range(13):
                    for d in (0, 3):
                        day = QUARTER.first + dt.timedelta(days=week * 7 + d)
                        days.append(
                            {
                                "cell": cell,
                                "day": day,
                                "worker": w.id,
                                "township": w.township,
                                "pings": 5,
                                "first_at": START,
                                "last_at": START,
                            }
                        )
        for first in range(0, len(days), CHUNK):
            connection.execute(insert(PatrolDayRow), days[first : first + CHUNK])


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(engine: Engine, county_code: str) -> tuple[float, float, float, int]:
    county = Scope(kind=ScopeKind.COUNTY, id=county_code)
    start = dt.datetime.combine(QUARTER.first, dt.time(), CST)
    end = dt.datetime.combine(QUARTER.last + dt.timedelta(days=1), dt.time(), CST)
    reported = 0
    with Session(engine) as session:
        store = KpiService(session, CST, NOW)

        def ours() -> None:
            nonlocal reported
            reported = store.table(county, QUARTER).figures.reported

        def bare() -> None:
            session.execute(
                text("SELECT count(*) FROM incident WHERE reported_at >= :s AND reported_at < :e"),
                {
                    "s": start
                    if engine.dialect.name != "sqlite"
                    else start.astimezone(dt.UTC).replace(tzinfo=None),
                    "e": end
                    if engine.dialect.name != "sqlite"
                    else end.astimezone(dt.UTC).replace(tzinfo=None),
                },
            ).scalar_one()

        bare()  # warm the cache for both
        times = [
            best_of(3, ours),
            best_of(3, lambda: store.table(county, QUARTER, ScopeKind.TOWNSHIP)),
            best_of(3, bare),
        ]
    return times[0], times[1], times[2], reported


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'kpi.db'}"
        return
    from tests.support.postgres import cluster, create_database

    with cluster() as admin:
        yield create_database(admin, "kpi_bench")


def run(backend: str, n: int) -> None:
    county = synthesize(1)
    with database(backend) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        with Session(engine) as session:
            load_dataset(session, county)
            session.commit()
        started = time.perf_counter()
        fill(engine, county, n)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE" if backend == "sqlite" else "VACUUM ANALYZE")
            )
        print(f"{backend}: {n:,} incidents loaded in {time.perf_counter() - started:.0f} s")
        ours, by_township, bare, reported = measure(engine, county.counties.records[0].code)
        engine.dispose()
    assert reported == n, (reported, n)
    verdict = "met" if ours < 5 else "MISSED"
    print(
        f"{backend}: county KPIs {ours:.2f} s, by township {by_township:.2f} s, bare count {bare:.3f} s; "
        f"ratio ours/bare {ours / bare:.1f}; target < 5 s {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.incidents)


if __name__ == "__main__":
    main()
