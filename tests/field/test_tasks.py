"""Tasks on the phone (docs/field-app.md#tasks): the closed loop 立案→派遣→签收→处置→核查→结案 driven
through the field app and the API with its clocks shown, each phone seeing only its own work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import FieldPhone, camera_photo
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]


def answer(
    phone: FieldPhone, incident: str, kind: str, button: str, note: str = "", photo: Path | None = None
) -> str:
    """Answer a task on the tasks screen; the client id of the answer it queued."""
    before = set(phone.queue())
    phone.go("tasks")
    task = phone.hook("task-item", kind=kind, incident=incident)
    task.wait_for()
    task.locator(f'[data-testid="{button}"]').click()
    if note:
        phone.hook("answer-note").fill(note)
    if photo is not None:
        phone.hook("answer-photo-input").set_input_files(str(photo))
        phone.page.wait_for_function(
            "() => document.querySelector('[data-testid=answer-photo-item][data-bytes]')", timeout=60_000
        )
    phone.hook("answer-submit").click()
    phone.go("queue")
    made = phone.wait_new(before)
    phone.wait_states({made: "accepted"})
    assert phone.queue()[made]["kind"] == "answer"
    return made


def incident(live: Live, incident_id: str) -> dict[str, Any]:
    found = live.server.call("GET", f"/incidents/{incident_id}", live.token("admin"))
    assert found.status_code == 200, found.text
    detail: dict[str, Any] = found.json()
    return detail


def act(live: Live, incident_id: str, action: str, who: str = "duty_a") -> None:
    done = live.server.call("POST", f"/incidents/{incident_id}/actions/{action}", live.token(who), json={})
    assert done.status_code == 200, done.text


def handled_in(live: Live, cell: str) -> str:
    """An incident reported in a cell and taken to 处置 over the API (township A's office leads)."""
    fix = live.fix_in(cell)
    made = live.server.call(
        "POST",
        "/incidents",
        live.token("duty_a"),
        json={"client_id": f"api-{cell}", "category": "0501", "lon": fix.lon, "lat": fix.lat},
    )
    assert made.status_code == 201, made.text
    incident_id = str(made.json()["incident"]["id"])
    for action, who in [
        ("accept", "duty_a"),
        ("dispatch", "duty_a"),
        ("sign", "unit_a"),
        ("handle", "unit_a"),
    ]:
        act(live, incident_id, action, who)
    return incident_id


def local_clock(moment: str) -> str:
    """HH:MM of a deadline in the county's time (China Standard Time), as a phone shows it."""
    return dt.datetime.fromisoformat(moment).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%H:%M")


def test_the_closed_loop_through_the_app(live: Live, phones: Phones, tmp_path: Path) -> None:
    worker, other = live.worker(0), live.worker(1)
    reporter = phones(live, live.fix_in(worker.cells[0]))
    reporter.pair(live.link(worker=worker.id))
    filed = reporter.file_report("0501", "占道经营")
    reporter.wait_states({filed: "accepted"})
    incident_id = str(reporter.queue()[filed]["incident"])

    act(live, incident_id, "accept")  # 立案
    act(live, incident_id, "dispatch")  # 派遣
    lead = incident(live, incident_id)["incident"]["lead"]
    unit = phones(live, live.fix_in(worker.cells[0]))
    unit.pair(live.link(unit=lead))
    unit.go("tasks")
    unit.hook("task-item", kind="sign", incident=incident_id).wait_for()
    # The clock shown is the incident's: the same deadline, in the phone's (the county's) time.
    deadline = incident(live, incident_id)["incident"]["deadline"]
    due = unit.hook("task-item", kind="sign", incident=incident_id).locator('[data-testid="task-due"]')
    assert dt.datetime.fromisoformat(str(due.get_attribute("data-due"))) == dt.datetime.fromisoformat(
        deadline
    )
    assert local_clock(deadline) in str(due.text_content())
    assert due.get_attribute("data-overdue") == "false"
    answer(unit, incident_id, "sign", "task-sign")  # 签收
    assert incident(live, incident_id)["incident"]["state"] == "signed"
    photo = camera_photo(tmp_path / "done.jpg", 1200, 900, seed=5)
    answer(unit, incident_id, "handle", "task-handle", note="已清理", photo=photo)  # 处置
    handled = incident(live, incident_id)
    assert handled["incident"]["state"] == "handled"

    # Verification is the worker's of that cell, and nobody else's: each of two neighbours sees
    # their own cell's handled incident and not the other's.
    assert worker.cells[0] not in other.cells
    theirs = handled_in(live, other.cells[0])
    neighbour = phones(live, live.fix_in(other.cells[0]))
    neighbour.pair(live.link(worker=other.id))
    for phone, own, not_own in [(reporter, incident_id, theirs), (neighbour, theirs, incident_id)]:
        phone.go("tasks")
        phone.hook("task-item", kind="verify", incident=own).wait_for()
        assert phone.hook("task-item", incident=not_own).count() == 0
    listed = live.server.call("GET", "/tasks", live.token("worker_a2")).json()
    assert [t["incident"]["id"] for t in listed["items"]] == [theirs]
    answer(reporter, incident_id, "verify", "task-verify-fixed", note="已核实")  # 核查
    act(live, incident_id, "close")  # 结案

    done = incident(live, incident_id)
    assert done["incident"]["state"] == "closed"
    steps = [(h["action"], h["actor"]) for h in done["history"]]
    assert [a for a, _ in steps] == ["report", "accept", "dispatch", "sign", "handle", "verify", "close"]
    assert lead in dict(steps)["sign"] and lead in dict(steps)["handle"]
    assert worker.id in dict(steps)["verify"]
    (handle,) = [h for h in done["history"] if h["action"] == "handle"]
    (url,) = handle["media"]  # the unit officer's photo of the work done, uploaded from the phone
    shown = live.server.call("GET", url, live.token("admin"))
    assert shown.status_code == 200 and shown.content[:2] == b"\xff\xd8"
    moments = [h["at"] for h in done["history"]]
    assert moments == sorted(moments), "the history's clock runs backwards"
