"""The closed loop (docs/domain.md#lifecycle-and-clocks): every transition, allowed and refused, with clocks."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec
import pytest

from grid.catalog import Catalog, Stage
from grid.clocks import is_overdue, time_left
from grid.errors import TransitionRefused
from grid.incident import Incident, IncidentState, Source
from grid.lifecycle import Action, Lifecycle
from grid.workcalendar import WorkingCalendar
from tests.support.clock import at
from tests.support.routing import CATALOG, SINGLE, make_router

S = IncidentState
A = Action

# The loop as the design states it, written out by hand: (action, from) -> to.
ALLOWED = {
    (A.ACCEPT, S.REPORTED): S.ACCEPTED,
    (A.REJECT, S.REPORTED): S.REJECTED,
    (A.MARK_DUPLICATE, S.REPORTED): S.DUPLICATE,
    (A.MARK_DUPLICATE, S.ACCEPTED): S.DUPLICATE,
    (A.DISPATCH, S.ACCEPTED): S.DISPATCHED,
    (A.DISPATCH, S.RETURNED): S.DISPATCHED,
    (A.SIGN, S.DISPATCHED): S.SIGNED,
    (A.RETURN, S.DISPATCHED): S.RETURNED,
    (A.RETURN, S.SIGNED): S.RETURNED,
    (A.HANDLE, S.SIGNED): S.HANDLED,
    (A.HANDLE, S.REOPENED): S.HANDLED,
    (A.VERIFY, S.HANDLED): S.VERIFIED,
    (A.CLOSE, S.VERIFIED): S.CLOSED,
    (A.REOPEN, S.HANDLED): S.REOPENED,
    (A.REOPEN, S.VERIFIED): S.REOPENED,
    (A.REOPEN, S.CLOSED): S.REOPENED,
    (A.SUSPEND, S.ACCEPTED): S.SUSPENDED,
    (A.SUSPEND, S.DISPATCHED): S.SUSPENDED,
    (A.SUSPEND, S.SIGNED): S.SUSPENDED,
    (A.SUSPEND, S.RETURNED): S.SUSPENDED,
    (A.SUSPEND, S.REOPENED): S.SUSPENDED,
}
NEEDS_REASON = {A.REJECT, A.RETURN, A.REOPEN, A.SUSPEND}
STATE_ACTIONS = [a for a in Action if a not in (A.RESUME, A.REROUTE)]

MONDAY_9 = at("2026-06-15 09:00")


@pytest.fixture
def loop(calendar: WorkingCalendar) -> Lifecycle:
    return Lifecycle(CATALOG, calendar)


def incident_in(state: IncidentState, routed: bool = True) -> Incident:
    router = make_router()
    assignment = (
        router.route(SINGLE["GRNT"], "330100101", MONDAY_9.date(), "33010010120001") if routed else None
    )
    return Incident(
        id="i1",
        source=Source.REPORT,
        category=SINGLE["GRNT"],
        lon=120.0,
        lat=30.0,
        reported_at=MONDAY_9,
        state=state,
        cell="33010010120001",
        assignment=assignment,
    )


def kwargs_for(action: Action) -> dict[str, str]:
    extra = {"reason": "因为"} if action in NEEDS_REASON else {}
    if action is A.MARK_DUPLICATE:
        extra["duplicate_of"] = "i0"
    return extra


@pytest.mark.parametrize(
    ("action", "state"), list(itertools.product(STATE_ACTIONS, list(S))), ids=lambda v: getattr(v, "value", v)
)
def test_every_transition(loop: Lifecycle, action: Action, state: IncidentState) -> None:
    incident = incident_in(state)
    expected = ALLOWED.get((action, state))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            loop.apply(incident, action, actor="u1", at=MONDAY_9, **kwargs_for(action))
        assert state.value in refused.value.message_en
        assert "allowed only from" in refused.value.message_en
        assert "仅允许" in refused.value.message_zh
        return
    after, record = loop.apply(incident, action, actor="u1", at=MONDAY_9, **kwargs_for(action))
    assert after.state is expected
    assert (record.from_state, record.to_state, record.action, record.actor, record.at) == (
        state,
        expected,
        action.value,
        "u1",
        MONDAY_9,
    )
    assert incident.state is state  # values are never mutated


@pytest.mark.parametrize("action", sorted(NEEDS_REASON))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required(loop: Lifecycle, action: Action, reason: str | None) -> None:
    state = next(s for (a, s) in ALLOWED if a is action)
    with pytest.raises(TransitionRefused, match="reason is required") as refused:
        loop.apply(incident_in(state), action, actor="u1", at=MONDAY_9, reason=reason)
    assert "理由" in refused.value.message_zh


def test_reason_kept_in_flow_record(loop: Lifecycle) -> None:
    _, record = loop.apply(
        incident_in(S.REPORTED), A.REJECT, actor="duty", at=MONDAY_9, reason="  不属于管辖范围 "
    )
    assert record.reason == "不属于管辖范围"


def test_photos_of_a_step_kept_in_flow_record(loop: Lifecycle) -> None:
    photos = ("/media/" + "a" * 64 + ".jpg", "/media/" + "b" * 64 + ".png")
    after, record = loop.apply(incident_in(S.SIGNED), A.HANDLE, actor="unit", at=MONDAY_9, media=photos)
    assert record.media == photos
    assert after.media == ()  # the report's photos stay the report's; the step's go with the step
    _, plain = loop.apply(after, A.VERIFY, actor="worker", at=MONDAY_9)
    assert plain.media == ()


def test_duplicate_needs_the_original(loop: Lifecycle) -> None:
    with pytest.raises(TransitionRefused, match="name the incident"):
        loop.apply(incident_in(S.REPORTED), A.MARK_DUPLICATE, actor="d", at=MONDAY_9)
    with pytest.raises(TransitionRefused, match="itself"):
        loop.apply(incident_in(S.REPORTED), A.MARK_DUPLICATE, actor="d", at=MONDAY_9, duplicate_of="i1")
    after, record = loop.apply(
        incident_in(S.REPORTED), A.MARK_DUPLICATE, actor="d", at=MONDAY_9, duplicate_of="i0"
    )
    assert after.duplicate_of == record.duplicate_of == "i0"
    assert not after.is_open


def test_dispatch_without_responsible_unit_refused(loop: Lifecycle) -> None:
    with pytest.raises(TransitionRefused, match="no responsible unit"):
        loop.apply(incident_in(S.ACCEPTED, routed=False), A.DISPATCH, actor="d", at=MONDAY_9)


def test_happy_path_runs_the_stage_clocks(loop: Lifecycle) -> None:
    incident = loop.open(incident_in(S.REPORTED))
    assert incident.clock is not None
    assert incident.clock.stage is Stage.ACCEPT
    assert incident.clock.deadline == at("2026-06-15 10:00")  # 1 work hour
    records = []
    stages = []
    moment = MONDAY_9
    for action in (A.ACCEPT, A.DISPATCH, A.SIGN, A.HANDLE, A.VERIFY, A.CLOSE):
        moment += dt.timedelta(minutes=20)
        incident, record = loop.apply(incident, action, actor="u", at=moment)
        records.append(record)
        stages.append(incident.clock.stage if incident.clock else None)
    assert stages == [Stage.DISPATCH, Stage.SIGN, Stage.HANDLE, Stage.VERIFY, None, None]
    assert [r.to_state for r in records] == [
        S.ACCEPTED,
        S.DISPATCHED,
        S.SIGNED,
        S.HANDLED,
        S.VERIFIED,
        S.CLOSED,
    ]
    assert all(r.unit == "330100101.office.enforcement" for r in records)
    assert incident.state is S.CLOSED


def test_handle_clock_uses_the_category_limit(loop: Lifecycle) -> None:
    incident, _ = loop.apply(incident_in(S.SIGNED), A.RETURN, actor="u", at=MONDAY_9, reason="不归我们")
    assert incident.clock is not None and incident.clock.stage is Stage.DISPATCH
    incident, _ = loop.apply(incident_in(S.DISPATCHED), A.SIGN, actor="u", at=MONDAY_9)
    # handle: 2 work days from Monday 09:00 → close of Wednesday.
    assert incident.clock is not None and incident.clock.deadline == at("2026-06-17 18:00")


def test_reopen_goes_back_to_the_same_unit_and_counts(loop: Lifecycle) -> None:
    incident = incident_in(S.HANDLED)
    incident, record = loop.apply(incident, A.REOPEN, actor="duty", at=MONDAY_9, reason="核查未通过")
    assert incident.rework_count == 1
    assert record.unit == incident.assignment.lead  # type: ignore[union-attr]
    incident, _ = loop.apply(incident, A.HANDLE, actor="unit", at=MONDAY_9)
    incident, _ = loop.apply(incident, A.REOPEN, actor="duty", at=MONDAY_9, reason="again")
    assert incident.rework_count == 2


def test_suspension_stops_the_clock(loop: Lifecycle, calendar: WorkingCalendar) -> None:
    incident, _ = loop.apply(incident_in(S.DISPATCHED), A.SIGN, actor="u", at=MONDAY_9)
    due = incident.clock.deadline  # type: ignore[union-attr]
    # Suspend after 4 working hours (Mon 09:00 → 15:00 = 3 h morning + 1 h afternoon).
    suspended, _ = loop.apply(incident, A.SUSPEND, actor="d", at=at("2026-06-15 15:00"), reason="等待鉴定")
    left = time_left(suspended.clock, at("2026-06-30 15:00"), calendar)  # type: ignore[arg-type]
    # Mon 09:00 → Wed 18:00 holds 23 working hours (7 + 8 + 8); 4 were used: 19 left.
    assert left == pytest.approx(19 * 3600)
    assert not is_overdue(suspended, at("2026-07-30 09:00"))  # weeks later: the clock is stopped
    resumed, record = loop.apply(suspended, A.RESUME, actor="d", at=at("2026-06-22 08:00"))
    assert resumed.state is S.SIGNED and record.to_state is S.SIGNED
    assert resumed.suspended_from is None
    # 19 working hours from Monday 22 June 08:00: Mon 8 + Tue 8 + Wed 08:00–11:00.
    assert resumed.clock.deadline == at("2026-06-24 11:00")  # type: ignore[union-attr]
    assert resumed.clock.deadline > due  # type: ignore[union-attr]
    assert not is_overdue(resumed, at("2026-06-24 10:59"))
    assert is_overdue(resumed, at("2026-06-24 11:01"))


def test_overdue_stays_overdue_through_suspension(loop: Lifecycle) -> None:
    incident, _ = loop.apply(incident_in(S.DISPATCHED), A.SIGN, actor="u", at=MONDAY_9)
    late = at("2026-06-18 20:00")  # Thursday evening, after Wednesday's 18:00 deadline
    assert is_overdue(incident, late)
    suspended, _ = loop.apply(incident, A.SUSPEND, actor="d", at=late, reason="x")
    assert is_overdue(suspended, late)
    resumed, _ = loop.apply(suspended, A.RESUME, actor="d", at=at("2026-06-22 09:00"))
    assert is_overdue(resumed, at("2026-06-22 09:00"))


def test_closed_and_terminal_states_are_not_overdue(loop: Lifecycle) -> None:
    incident = loop.open(incident_in(S.REPORTED))
    rejected, _ = loop.apply(incident, A.REJECT, actor="d", at=MONDAY_9, reason="无效")
    assert rejected.clock is None
    assert not is_overdue(rejected, at("2027-01-01 00:00"))


def test_urgent_incident_uses_urgent_hours(calendar: WorkingCalendar, catalog: Catalog) -> None:
    loop = Lifecycle(catalog, calendar)
    friday_night = at("2026-06-19 23:00")  # a Friday night before Dragon Boat holiday
    ordinary = Incident(id="u", source=Source.REPORT, category="0501", lon=0, lat=0, reported_at=friday_night)
    urgent = msgspec.structs.replace(ordinary, urgent=True)
    assert loop.open(urgent).clock.deadline == friday_night + dt.timedelta(minutes=15)  # type: ignore[union-attr]
    # The ordinary one waits for the first working hour after the holiday: Monday 22 June 09:00.
    assert loop.open(ordinary).clock.deadline == at("2026-06-22 09:00")  # type: ignore[union-attr]
    # A category urgent by itself keeps its own limits.
    gas = Incident(
        id="g", source=Source.ALERT, category="0401", lon=0, lat=0, reported_at=friday_night, urgent=True
    )
    assert loop.open(gas).clock.deadline == friday_night + dt.timedelta(minutes=15)  # type: ignore[union-attr]


def test_reroute(loop: Lifecycle) -> None:
    router = make_router()
    new = router.route(SINGLE["NLNO"], "330100101", MONDAY_9.date(), "33010010120001")
    signed = incident_in(S.SIGNED)
    with pytest.raises(TransitionRefused, match="reason"):
        loop.reroute(signed, new, actor="d", at=MONDAY_9, reason=" ")
    after, record = loop.reroute(signed, new, actor="d", at=MONDAY_9, reason="事项属水利局")
    assert after.state is S.DISPATCHED  # the new unit must sign again
    assert after.clock is not None and after.clock.stage is Stage.SIGN
    assert (record.from_unit, record.unit) == ("330100101.office.enforcement", new.lead)
    assert after.assignment == new
    accepted, _ = loop.reroute(incident_in(S.ACCEPTED), new, actor="d", at=MONDAY_9, reason="x")
    assert accepted.state is S.ACCEPTED
    for state in (S.HANDLED, S.CLOSED, S.REJECTED, S.SUSPENDED):
        with pytest.raises(TransitionRefused):
            loop.reroute(incident_in(state), new, actor="d", at=MONDAY_9, reason="x")


def test_resume_only_from_suspended(loop: Lifecycle) -> None:
    for state in S:
        if state is S.SUSPENDED:
            continue
        with pytest.raises(TransitionRefused):
            loop.apply(incident_in(state), A.RESUME, actor="d", at=MONDAY_9)
