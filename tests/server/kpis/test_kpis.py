"""KPIs (绩效评价) over HTTP, on SQLite and PostgreSQL, against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from grid.evaluation.figures import Counts, figures
from grid.incident import IncidentState
from grid.patrols import Ping
from grid.staffing import enforcement_staff_needed
from server.db.tables import CellRow, IncidentRow, OfficerRow, TownshipRow
from tests.support.api import CST, Api
from tests.support.steps import JUNE, ZHZF, ZRZY, _at, _run, closed_loop_day, whistle


def test_the_published_check_reproduces() -> None:
    # 天门, December: 972 due, 911 closed, 737 on time.
    got = figures(Counts(due_to_close=972, closed=911, closed_on_time=737))
    assert (got.close_rate, got.on_time_close_rate) == (93.72, 75.82)


def test_the_published_check_through_the_store(api: Api) -> None:
    """972 incidents due to close in the database, 911 of them closed, 737 on time."""
    township = api.template.township_a
    cell = next(c.code for c in api.template.county.cells.records if c.township == township)
    accepted = dt.datetime(2026, 6, 10, 9, 0, tzinfo=CST)
    rows = []
    for n in range(972):
        closed = n < 911
        rows.append(
            IncidentRow(
                id=f"tm{n:04d}",
                source="report",
                category="0501",
                lon=0.0,
                lat=0.0,
                cell=cell,
                village=cell[:12],
                township=township,
                state=IncidentState.CLOSED if closed else IncidentState.HANDLED,
                reported_at=accepted,
                created_at=accepted,
                updated_at=accepted,
                device="d",
                client_id=f"tm{n}",
                accepted_at=accepted,
                closed_at=accepted + dt.timedelta(days=1) if closed else None,
                late_stages=0 if n < 737 else 1,
            )
        )
    with Session(api.runtime.engine) as session:
        session.add_all(rows)
        session.commit()
    got = api.client.get("/kpis", params={"scope": f"township:{township}", **JUNE}, headers=api.auth("admin"))
    assert got.status_code == 200, got.text
    f = got.json()["table"]["figures"]
    assert (f["due_to_close"], f["closed"], f["closed_on_time"]) == (972, 911, 737)
    assert (f["close_rate"], f["on_time_close_rate"]) == (93.72, 75.82)
    assert f["overdue"] == 972 - 737  # every late one, closed or not


def test_hand_computed_township_figures(api: Api) -> None:
    closed_loop_day(api)
    # At 11:30: A and C closed on time (C after one rework), B closed but accepted late, I closed
    # but handled late, D handled by the department after a re-route and waiting for its 11:18
    # verification, E suspended, F dispatched and unsigned since its 10:06 limit, G rejected,
    # H never accepted.
    got = api.client.get(
        "/kpis", params={"scope": f"township:{api.template.township_a}", **JUNE}, headers=api.auth("duty_a")
    )
    assert got.status_code == 200, got.text
    f = got.json()["table"]["figures"]
    expected = {
        "reported": 9,  # A–I
        "accepted": 7,  # A–F and I; G rejected, H waiting
        "accepted_on_time": 6,  # all but B
        "on_time_accept_rate": 85.71,  # 6/7
        "dispatched": 6,  # A B C D F I
        "dispatched_accurately": 5,  # D was re-routed away from the office it was dispatched to
        "accurate_dispatch_rate": 83.33,  # 5/6
        "due_to_handle": 6,  # the six dispatched; none suspended
        "handled": 5,  # all but F
        "handled_on_time": 4,  # all but I
        "handle_rate": 83.33,  # 5/6
        "on_time_handle_rate": 66.67,  # 4/6
        "reworked": 1,  # C
        "rework_rate": 20.0,  # 1/5
        "due_to_close": 6,  # the seven accepted less E (suspended)
        "closed": 4,  # A B C I
        "closed_on_time": 2,  # A C
        "close_rate": 66.67,  # 4/6
        "on_time_close_rate": 33.33,  # 2/6
        "suspended": 1,  # E
        "overdue": 4,  # B and I (a late stage), F (unsigned) and D (unverified) past their limits now
        # Accepted after 0.1 h (A C D E F I) and 2 h (B): 2.6 / 7 = 0.371
        "mean_accept_hours": 0.37,
        # Last handling minus first dispatch: A 0.2, B 0, C 0.4, D 0.2, I 2.4 → 3.2 / 5
        "mean_handle_hours": 0.64,
        "whistles": 0,
        "whistle_rate": 0.0,
        "report_ins_due": 0,
        "on_time_report_in_rate": None,
    }
    assert {k: f[k] for k in expected} == expected


def test_whistles_report_ins_ratings_and_units(api: Api) -> None:
    ids = closed_loop_day(api)
    # One routine whistle on F at 11:30 calls two departments; report-in limit two working
    # hours: 15:30. The ZHZF team reports in at 12:00 and is rated 4; ZRZY never comes.
    opened = whistle(api, ids["F"]).json()
    _at(api, 12, 0)
    assert (
        api.client.post(f"/whistles/{opened['id']}/report-in", headers=api.auth("unit_dept")).status_code
        == 200
    )
    rated = api.client.post(
        f"/whistles/{opened['id']}/rate", json={"unit": ZHZF, "rating": 4}, headers=api.auth("duty_a")
    )
    assert rated.status_code == 200, rated.text

    def township() -> Any:
        return api.client.get(
            "/kpis",
            params={"scope": f"township:{api.template.township_a}", **JUNE},
            headers=api.auth("duty_a"),
        ).json()["table"]["figures"]

    def zrzy() -> Any:
        return api.client.get(
            "/kpis", params={"scope": f"department:{ZRZY}", **JUNE}, headers=api.auth("admin")
        ).json()["table"]["figures"]

    noon = township()
    assert (noon["whistles"], noon["whistle_rate"]) == (1, 14.29)  # 1/7 accepted
    # At noon ZRZY's limit is still ahead: not a miss yet, so only ZHZF's report-in is due.
    assert (noon["report_ins_due"], noon["report_ins_on_time"]) == (1, 1)
    assert (noon["on_time_report_in_rate"], noon["mean_rating"]) == (100.0, 4.0)
    assert (zrzy()["report_ins_due"], zrzy()["on_time_report_in_rate"]) == (0, None)
    # The department: the calls made to it (on time, rated 4) and the incidents it leads (D).
    department = api.client.get(
        "/kpis", params={"scope": f"department:{ZHZF}", **JUNE}, headers=api.auth("unit_dept")
    ).json()["table"]["figures"]
    assert (
        department["report_ins_due"],
        department["on_time_report_in_rate"],
        department["mean_rating"],
    ) == (
        1,
        100.0,
        4.0,
    )
    assert (department["dispatched"], department["dispatched_accurately"], department["handled"]) == (1, 0, 1)
    assert department["whistles"] == 0  # whistling is the township's figure
    _at(api, 15, 31)  # past ZRZY's limit: its missing report-in now counts
    evening = township()
    assert (evening["report_ins_due"], evening["report_ins_on_time"]) == (2, 1)
    assert evening["on_time_report_in_rate"] == 50.0
    assert (zrzy()["report_ins_due"], zrzy()["on_time_report_in_rate"]) == (1, 0.0)


def test_breakdowns_rank_and_add_up(api: Api) -> None:
    closed_loop_day(api)
    b = api.template.township_b
    _at(api, 11, 40)
    other = api.report(who="duty_b", township=b).json()["incident"]["id"]
    _run(api, other, "accept", who="duty_b")

    def by_township() -> Any:
        return api.client.get(
            "/kpis", params={"scope": "county:339921", "by": "township", **JUNE}, headers=api.auth("admin")
        ).json()["table"]

    rows = {r["key"]: r for r in by_township()["rows"]}
    a = api.template.township_a
    assert rows[a]["figures"]["reported"] == 9 and rows[b]["figures"]["reported"] == 1
    assert rows[a]["name"] == next(t.name for t in api.template.county.townships.records if t.code == a)
    # B's one accepted incident is open and within its limit: nothing of B's is due yet, so B has
    # no rate and no rank (not 0 %); A has 33.33 %.
    assert (rows[b]["figures"]["due_to_close"], rows[b]["figures"]["on_time_close_rate"]) == (0, None)
    assert rows[a]["rank"] == 1 and rows[b]["rank"] is None
    api.clock.advance(days=1)  # B's dispatch limit has passed: now it is due, and missed
    county = by_township()
    rows = {r["key"]: r for r in county["rows"]}
    assert (rows[b]["figures"]["due_to_close"], rows[b]["figures"]["on_time_close_rate"]) == (1, 0.0)
    assert rows[a]["rank"] == 1 and rows[b]["rank"] == 2
    assert county["rows"][0]["key"] == a
    for figure in ("reported", "accepted", "closed", "due_to_close", "overdue"):
        assert sum(r["figures"][figure] for r in county["rows"]) == county["figures"][figure]
    units = api.client.get(
        "/kpis",
        params={"scope": f"township:{a}", "by": "unit", **JUNE},
        headers=api.auth("duty_a"),
    ).json()["table"]["rows"]
    assert {r["key"] for r in units} >= {f"{a}.office.enforcement", ZHZF}
    workers = api.client.get(
        "/kpis", params={"scope": f"township:{a}", "by": "worker", **JUNE}, headers=api.auth("duty_a")
    ).json()["table"]["rows"]
    assert [
        (r["figures"]["reported"], r["figures"]["accepted"]) for r in workers if r["figures"]["reported"]
    ] == [(9, 7)]


def test_the_running_month_counts_only_what_is_due(api: Api) -> None:
    """Mid-morning of 2026-06-16 (the clock is fixed), in June: an incident dispatched and signed
    within its limits has missed nothing yet, so it is in no denominator; once its handle limit
    (11:12) has passed unhandled it counts, as a miss."""
    _at(api, 9, 0)
    incident = api.report().json()["incident"]["id"]
    _at(api, 9, 6)
    _run(api, incident, "accept", "dispatch")
    _at(api, 9, 12)
    _run(api, incident, "sign")

    def june() -> Any:
        return api.client.get(
            "/kpis",
            params={"scope": f"township:{api.template.township_a}", **JUNE},
            headers=api.auth("duty_a"),
        ).json()["table"]["figures"]

    _at(api, 10, 0)
    f = june()
    assert (f["reported"], f["accepted"], f["dispatched"]) == (1, 1, 1)
    assert (f["due_to_handle"], f["handle_rate"], f["on_time_handle_rate"]) == (0, None, None)
    assert (f["due_to_close"], f["close_rate"], f["on_time_close_rate"]) == (0, None, None)
    assert f["overdue"] == 0
    _at(api, 11, 13)
    f = june()
    assert (f["due_to_handle"], f["handled"], f["handle_rate"]) == (1, 0, 0.0)
    assert (f["due_to_close"], f["closed"], f["on_time_close_rate"]) == (1, 0, 0.0)
    assert f["overdue"] == 1


def test_compare_with_the_period_before_and_a_year_before(api: Api) -> None:
    closed_loop_day(api)
    api.clock.advance(days=30)  # July: the month before holds the nine
    got = api.client.get(
        "/kpis",
        params={
            "scope": f"township:{api.template.township_a}",
            "from": "2026-07-01",
            "to": "2026-07-31",
            "compare": "true",
        },
        headers=api.auth("duty_a"),
    ).json()
    assert got["table"]["figures"]["reported"] == 0
    assert got["previous"]["reported"] == 9
    assert got["year_before"]["reported"] == 0


def test_patrol_coverage_and_staffing(api: Api) -> None:
    a = api.template.township_a
    worker = next(w for w in api.template.county.workers if w.township == a)
    cell = worker.cells[0]
    with Session(api.runtime.engine) as session:
        shape = session.exec(select(CellRow).where(CellRow.code == cell)).one()
        target = shape.patrol_target
        population = session.exec(select(TownshipRow.population).where(TownshipRow.code == a)).one()
        office = session.exec(
            select(OfficerRow).where(col(OfficerRow.unit) == f"{a}.office.enforcement")
        ).all()
    lon, lat = api.point_in(
        a, sorted(c.code for c in api.template.county.cells.records if c.township == a).index(cell)
    )
    days = [dt.datetime(2026, 6, 15 + d, 10, 0, tzinfo=CST) for d in range(target)]
    api.runtime.patrols.take(
        [Ping(worker=worker.id, lon=lon, lat=lat, at=at) for at in days], via="gridwatch"
    )
    # June holds five weeks that start on a Monday (1, 8, 15, 22, 29); the cell met its target in one.
    got = api.client.get("/kpis", params={"scope": f"cell:{cell}", **JUNE}, headers=api.auth("duty_a")).json()
    assert got["table"]["figures"]["patrol_coverage"] == 20.0
    mine = api.client.get("/kpis", params=JUNE, headers=api.auth(_worker_token(api, worker.id))).json()
    cells = len(worker.cells)
    assert mine["table"]["scope"] == f"worker:{worker.id}"
    assert mine["table"]["figures"]["patrol_coverage"] == round(100 / (5 * cells), 2)
    township = api.client.get(
        "/kpis", params={"scope": f"township:{a}", **JUNE}, headers=api.auth("duty_a")
    ).json()
    f = township["table"]["figures"]
    certified = sum(
        1
        for o in office
        if any(
            dt.date.fromisoformat(str(c["valid_from"]))
            <= dt.date(2026, 6, 30)
            <= dt.date.fromisoformat(str(c["expires"]))
            for c in o.certificates
        )
    )
    assert f["staff_needed"] == enforcement_staff_needed(population)
    assert f["staff_certified"] == certified
    assert f["staffing_gap"] == max(0, f["staff_needed"] - certified)


def _worker_token(api: Api, worker: str) -> str:
    for name in ("worker_a1", "worker_a2"):
        me = api.client.get("/kpis", params=JUNE, headers=api.auth(name)).json()
        if me["table"]["scope"] == f"worker:{worker}":
            return name
    raise AssertionError(f"no token for {worker}")


SCOPE_RULES: list[tuple[str, str, int]] = [
    ("admin", "county:339921", 200),
    ("duty_county", "department:339921.dept.zhzf", 200),
    ("duty_a", "township:{a}", 200),
    ("duty_a", "township:{b}", 403),
    ("duty_a", "county:339921", 403),
    ("duty_a", "department:339921.dept.zhzf", 403),
    ("duty_a", "unit:{a}.office.enforcement", 200),
    ("duty_b", "village:{a_village}", 403),
    ("unit_a", "unit:{a}.office.enforcement", 200),
    ("unit_a", "township:{a}", 403),
    ("unit_dept", "department:339921.dept.zhzf", 200),
    ("unit_dept", "unit:{a}.office.enforcement", 403),
    ("worker_a1", "township:{a}", 403),
    ("worker_a1", "worker:{other_worker}", 403),
    ("device", "county:339921", 403),
    ("anon", "county:339921", 401),
    ("expired", "county:339921", 401),
    ("admin", "county:339922", 403),
]


def test_who_may_read_which_figures(api: Api) -> None:
    a, b = api.template.township_a, api.template.township_b
    values = {
        "a": a,
        "b": b,
        "a_village": next(v.code for v in api.template.county.villages.records if v.township == a),
        "other_worker": next(w.id for w in api.template.county.workers if w.township == b),
    }
    for who, scope, status in SCOPE_RULES:
        got = api.client.get("/kpis", params={"scope": scope.format(**values), **JUNE}, headers=api.auth(who))
        assert got.status_code == status, (who, scope, got.text)
    for who in ("admin", "duty_a", "unit_a", "unit_dept", "worker_a1"):
        own = api.client.get("/kpis", headers=api.auth(who))
        assert own.status_code == 200, (who, own.text)
    definitions = api.client.get("/kpis/definitions", headers=api.auth("worker_a1")).json()
    assert {d["key"] for d in definitions} >= {"close_rate", "on_time_close_rate", "staffing_gap"}
    assert api.client.get("/kpis/definitions", headers=api.auth("device")).status_code == 403


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"scope": "township"}, "KIND:ID"),
    ({"scope": "planet:1"}, "KIND:ID"),
    ({"scope": "township:12"}, "9 digits"),
    ({"scope": "cell:3399210010010"}, "14 digits"),
    ({"scope": "township:339921999"}, "no township"),
    ({"scope": "department:339921.office.x"}, "no department"),
    ({"scope": "unit:nope"}, "no unit"),
    ({"from": "2026-07-01", "to": "2026-06-01"}, "before it starts"),
    ({"from": "1999-12-31", "to": "2026-06-01"}, "2000–2099"),
    ({"from": "June"}, "from"),
    ({"by": "planet"}, "by"),
    ({"scope": "cell:{cell}", "by": "township"}, "breaks down"),
    ({"compare": "maybe"}, "compare"),
    ({"scope": "x" * 200}, "scope"),
]


def test_bad_queries_get_problems(api: Api) -> None:
    cell = api.template.county.cells.records[0].code
    for params, words in BAD_QUERIES:
        query = {k: v.format(cell=cell) for k, v in params.items()}
        got = api.client.get("/kpis", params=query, headers=api.auth("admin"))
        assert got.status_code == 400, (params, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
        assert words in got.json()["detail"], (params, got.json())


def test_each_action_moves_the_milestones(api: Api) -> None:
    """Every accept, dispatch, handling and close moves the incident's milestones with its state."""
    ids = closed_loop_day(api)
    with Session(api.runtime.engine) as session:
        rows = {
            r.id: r
            for r in session.exec(select(IncidentRow).where(col(IncidentRow.id).in_(list(ids.values()))))
        }
    a, b, c, d, h = (rows[ids[n]] for n in "ABCDH")
    assert a.closed_at is not None and a.late_stages == 0 and not a.accept_late
    assert b.accept_late and b.late_stages == 1
    assert (
        c.rework_count == 1
        and c.closed_at is not None
        and c.handled_at == dt.datetime(2026, 6, 16, 9, 30, tzinfo=CST)
    )
    assert d.misdispatched and d.closed_at is None
    assert (h.accepted_at, h.dispatched_at) == (None, None)
