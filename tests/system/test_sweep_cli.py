"""`gridwatch sweep` on SQLite and PostgreSQL: plan with its files, show, publish, outcomes, audit,
absences, and the answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from server.db.engine import make_engine
from server.db.tables import OfficerRow, SubjectRow, SweepPlanRow
from tests.support.commands import gridwatch

pytestmark = pytest.mark.process


def _plan_id(output: str) -> str:
    return output.split(" ", 1)[0]


def test_plan_show_publish_record_and_audit(database: str, tmp_path: Path) -> None:
    planned = gridwatch(
        database,
        "sweep",
        "plan",
        "--date",
        "2026-06-23",
        "--township",
        "339921101",
        "--out-dir",
        str(tmp_path),
    )
    assert planned.exit_code == 0, planned.output
    plan_id = _plan_id(planned.output)
    assert "teams" in planned.output and "conflicts:" in planned.output
    book = openpyxl.load_workbook(tmp_path / f"{plan_id}.xlsx")
    geo = json.loads((tmp_path / f"{plan_id}.geojson").read_text())
    shown = json.loads(gridwatch(database, "sweep", "show", plan_id, "--json").output)
    assert len(book.sheetnames) == len(shown["teams"]) + 2
    assert sum(f["geometry"]["type"] == "LineString" for f in geo["features"]) == len(shown["teams"])
    stop = shown["teams"][0]["stops"][0]
    early = gridwatch(database, "sweep", "outcome", plan_id, stop, "nothing_found")
    assert early.exit_code == 1 and "published" in early.output
    assert gridwatch(database, "sweep", "publish", plan_id).exit_code == 0
    again = gridwatch(database, "sweep", "publish", plan_id)
    assert again.exit_code == 1 and "published" in again.output
    recorded = gridwatch(database, "sweep", "outcome", plan_id, stop, "rectification", "--note", "限期整改")
    assert recorded.exit_code == 0, recorded.output
    engine = make_engine(database)
    with Session(engine) as session:
        subject = session.get(SubjectRow, stop.split(":", 1)[1])
        assert subject is not None and str(subject.last_inspected) == "2026-06-23"
    engine.dispose()
    audit = gridwatch(database, "sweep", "audit", plan_id)
    # The outcome changed the subject's last visit: the inputs are not what the plan was drawn from.
    assert audit.exit_code == 1 and json.loads(audit.output)["same_inputs"] is False


def test_a_double_random_plan_needs_its_seed_and_audits(database: str) -> None:
    refused = gridwatch(database, "sweep", "plan", "--mode", "double_random", "--date", "2026-06-23")
    assert refused.exit_code == 2 and "--seed" in refused.output
    planned = gridwatch(
        database, "sweep", "plan", "--mode", "double_random", "--seed", "31", "--date", "2026-06-23"
    )
    assert planned.exit_code == 0, planned.output
    assert "seed 31" in planned.output
    audit = gridwatch(database, "sweep", "audit", _plan_id(planned.output))
    assert audit.exit_code == 0 and json.loads(audit.output)["same_draw"] is True


def test_absent_officers_are_left_out(database: str) -> None:
    engine = make_engine(database)
    first = gridwatch(database, "sweep", "plan", "--date", "2026-06-23", "--township", "339921101", "--json")
    officers = [o for t in json.loads(first.output)["teams"] for o in t["officers"]]
    for officer in officers:
        result = gridwatch(
            database,
            "sweep",
            "absent",
            officer,
            "--from",
            "2026-06-22",
            "--to",
            "2026-06-24",
            "--reason",
            "培训",
        )
        assert result.exit_code == 0, result.output
    second = json.loads(
        gridwatch(
            database, "sweep", "plan", "--date", "2026-06-23", "--township", "339921101", "--json"
        ).output
    )
    assert not {o for t in second["teams"] for o in t["officers"]} & set(officers)
    with Session(engine) as session:
        assert len(session.exec(select(SweepPlanRow)).all()) == 2
    engine.dispose()


def test_bad_input(database: str) -> None:
    for args, code, words in (
        (("sweep", "plan", "--date", "tuesday"), 2, "tuesday"),
        (("sweep", "plan", "--date", "0001-01-01"), 1, "between 2000-01-01 and 2099-12-31"),
        (("sweep", "plan", "--mode", "lottery"), 2, "lottery"),
        (("sweep", "plan", "--seed", "-4"), 2, "-4"),
        (("sweep", "plan", "--township", "339921999"), 1, "339921999"),
        (("sweep", "show", "SW-nope"), 1, "no sweep plan"),
        (("sweep", "publish", "SW-nope"), 1, "no sweep plan"),
        (("sweep", "outcome", "SW-nope", "subject:x", "fined"), 2, "fined"),
        (("sweep", "absent", "o-nobody", "--from", "2026-06-22", "--to", "2026-06-24"), 2, "no officer"),
        (("sweep", "absent", "o-nobody", "--from", "2026-06-24", "--to", "2026-06-22"), 2, "before"),
    ):
        result = gridwatch(database, *args)
        assert result.exit_code == code, (args, result.output)
        assert words in result.output, (args, result.output)


def test_the_summary_gives_reasons_counts_and_tells_namesakes_apart(database: str) -> None:
    planned = gridwatch(
        database, "sweep", "plan", "--date", "2026-06-23", "--township", "339921101", "--stops-per-team", "1"
    )
    assert planned.exit_code == 0, planned.output
    plan_id = _plan_id(planned.output)
    plan = json.loads(gridwatch(database, "sweep", "show", plan_id, "--json").output)
    assert "1 stop," in planned.output and "1 stops" not in planned.output
    assert plan["conflicts"], "the township has stops no team of one stop can take"
    for conflict in plan["conflicts"]:
        where = conflict["stop"] or conflict["township"]
        assert f"{conflict['kind']} [{where}]: {conflict['text_en']}" in planned.output
        assert conflict["text_zh"] in planned.output
    officers = [o for t in plan["teams"] for o in t["officers"]]
    assert len(officers) >= 3
    engine = make_engine(database)
    with Session(engine) as session:  # two officers of the plan who happen to share a name
        for officer in officers[:2]:
            row = session.get(OfficerRow, officer)
            assert row is not None
            row.name = "王伟"
            session.add(row)
        session.commit()
        third = session.get(OfficerRow, officers[2])
        assert third is not None and third.name != "王伟"
    engine.dispose()
    shown = gridwatch(database, "sweep", "show", plan_id).output
    assert f"王伟 ({officers[0]})" in shown and f"王伟 ({officers[1]})" in shown
    assert f"{third.name} ({officers[2]})" not in shown  # a unique name stays plain
    assert third.name in shown


def test_publish_refuses_an_officer_booked_that_day_and_outcomes_wait_for_the_day(database: str) -> None:
    def plan() -> str:
        done = gridwatch(database, "sweep", "plan", "--township", "339921101")  # the next Tuesday
        assert done.exit_code == 0, done.output
        return _plan_id(done.output)

    first, second = plan(), plan()
    assert gridwatch(database, "sweep", "publish", first).exit_code == 0
    refused = gridwatch(database, "sweep", "publish", second)
    assert refused.exit_code == 1
    assert f"already on published plan {first}" in refused.output
    assert f"已发布计划 {first}" in refused.output
    stop = json.loads(gridwatch(database, "sweep", "show", first, "--json").output)["teams"][0]["stops"][0]
    ahead = gridwatch(database, "sweep", "outcome", first, stop, "nothing_found")
    assert ahead.exit_code == 1
    assert "has not happened yet" in ahead.output and "检查尚未进行" in ahead.output
