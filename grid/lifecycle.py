"""The closed loop (docs/domain.md#lifecycle-and-clocks): a table of allowed transitions, refusals with reasons, clocks."""

from __future__ import annotations

import datetime as dt
import enum
from typing import NamedTuple

import msgspec

from grid.catalog import Catalog
from grid.clocks import STAGE_AFTER, past_deadline, restart_clock, start_clock, stop_clock
from grid.errors import TransitionRefused
from grid.incident import Assignment, Clock, FlowRecord, Incident, IncidentState
from grid.workcalendar import WorkingCalendar

S = IncidentState


class Action(enum.StrEnum):
    ACCEPT = "accept"  # 立案
    REJECT = "reject"  # 不予立案
    MARK_DUPLICATE = "mark_duplicate"  # 合并为重复
    DISPATCH = "dispatch"  # 派遣
    SIGN = "sign"  # 签收
    RETURN = "return"  # 回退
    HANDLE = "handle"  # 处置反馈
    VERIFY = "verify"  # 核查通过
    CLOSE = "close"  # 结案
    REOPEN = "reopen"  # 返工
    SUSPEND = "suspend"  # 缓办
    RESUME = "resume"  # 恢复办理
    REROUTE = "reroute"  # 改派


class Rule(NamedTuple):
    sources: frozenset[IncidentState]
    # None: back to the state the incident was suspended from.
    target: IncidentState | None
    reason_required: bool


RULES: dict[Action, Rule] = {
    Action.ACCEPT: Rule(frozenset({S.REPORTED}), S.ACCEPTED, False),
    Action.REJECT: Rule(frozenset({S.REPORTED}), S.REJECTED, True),
    Action.MARK_DUPLICATE: Rule(frozenset({S.REPORTED, S.ACCEPTED}), S.DUPLICATE, False),
    Action.DISPATCH: Rule(frozenset({S.ACCEPTED, S.RETURNED}), S.DISPATCHED, False),
    Action.SIGN: Rule(frozenset({S.DISPATCHED}), S.SIGNED, False),
    Action.RETURN: Rule(frozenset({S.DISPATCHED, S.SIGNED}), S.RETURNED, True),
    Action.HANDLE: Rule(frozenset({S.SIGNED, S.REOPENED}), S.HANDLED, False),
    Action.VERIFY: Rule(frozenset({S.HANDLED}), S.VERIFIED, False),
    Action.CLOSE: Rule(frozenset({S.VERIFIED}), S.CLOSED, False),
    Action.REOPEN: Rule(frozenset({S.HANDLED, S.VERIFIED, S.CLOSED}), S.REOPENED, True),
    Action.SUSPEND: Rule(
        frozenset({S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.RETURNED, S.REOPENED}), S.SUSPENDED, True
    ),
    Action.RESUME: Rule(frozenset({S.SUSPENDED}), None, False),
}

# A re-route changes who acts, not where the incident is in the loop, except that a unit that was
# already dispatched to is replaced: the new unit must sign again.
REROUTABLE = frozenset({S.REPORTED, S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.SIGNED})

STATE_NAMES_ZH = {
    S.REPORTED: "已上报",
    S.ACCEPTED: "已立案",
    S.DISPATCHED: "已派遣",
    S.SIGNED: "已签收",
    S.HANDLED: "已处置",
    S.VERIFIED: "已核查",
    S.CLOSED: "已结案",
    S.REJECTED: "不予立案",
    S.RETURNED: "已回退",
    S.DUPLICATE: "重复",
    S.SUSPENDED: "缓办",
    S.REOPENED: "返工",
}
ACTION_NAMES_ZH = {
    Action.ACCEPT: "立案",
    Action.REJECT: "不予立案",
    Action.MARK_DUPLICATE: "标记重复",
    Action.DISPATCH: "派遣",
    Action.SIGN: "签收",
    Action.RETURN: "回退",
    Action.HANDLE: "处置反馈",
    Action.VERIFY: "核查",
    Action.CLOSE: "结案",
    Action.REOPEN: "返工",
    Action.SUSPEND: "缓办",
    Action.RESUME: "恢复办理",
    Action.REROUTE: "改派",
}


def _refuse(action: Action, incident: Incident, why_en: str, why_zh: str) -> TransitionRefused:
    return TransitionRefused(
        f"cannot {action.value} incident {incident.id} ({incident.state.value}): {why_en}",
        f"事件 {incident.id}（{STATE_NAMES_ZH[incident.state]}）不能{ACTION_NAMES_ZH[action]}：{why_zh}",
        incident=incident.id,
        action=action.value,
        state=incident.state.value,
    )


def _allowed_from(sources: frozenset[IncidentState]) -> tuple[str, str]:
    ordered = [s for s in S if s in sources]
    return ", ".join(s.value for s in ordered), "、".join(STATE_NAMES_ZH[s] for s in ordered)


class Lifecycle:
    """Applies transitions to incidents; returns the new incident and its flow record."""

    def __init__(self, catalog: Catalog, calendar: WorkingCalendar) -> None:
        self.catalog = catalog
        self.calendar = calendar

    def _clock_for(self, incident: Incident, state: IncidentState, at: dt.datetime) -> Clock | None:
        stage = STAGE_AFTER.get(state)
        if stage is None:
            return None
        category = self.catalog.category(incident.category)
        limit = self.catalog.limits_for(category, incident.urgent).for_stage(stage)
        return start_clock(stage, limit, at, self.calendar)

    def open(self, incident: Incident) -> Incident:
        """Start the accept clock of a newly reported incident."""
        return msgspec.structs.replace(
            incident, clock=self._clock_for(incident, S.REPORTED, incident.reported_at)
        )

    def apply(
        self,
        incident: Incident,
        action: Action,
        *,
        actor: str,
        at: dt.datetime,
        reason: str | None = None,
        duplicate_of: str | None = None,
        media: tuple[str, ...] = (),
    ) -> tuple[Incident, FlowRecord]:
        rule = RULES.get(action)
        if rule is None:
            raise _refuse(action, incident, "use reroute() for a re-route", "改派请使用改派操作")
        if incident.state not in rule.sources:
            en, zh = _allowed_from(rule.sources)
            raise _refuse(action, incident, f"allowed only from {en}", f"仅允许从 {zh} 状态执行")
        reason = (reason or "").strip() or None
        if rule.reason_required and reason is None:
            raise _refuse(action, incident, "a reason is required", "必须填写理由")
        if action is Action.MARK_DUPLICATE and not duplicate_of:
            raise _refuse(action, incident, "name the incident it duplicates", "须指明与哪个事件重复")
        if duplicate_of == incident.id:
            raise _refuse(action, incident, "an incident cannot duplicate itself", "事件不能与自身重复")
        if action is Action.DISPATCH and incident.assignment is None:
            raise _refuse(
                action,
                incident,
                "no responsible unit: locate and route it first",
                "尚无责任单位，请先定位并分派",
            )

        changes: dict[str, object] = {}
        # Suspending and resuming pause the stage; every other action ends it.
        ends_stage = action not in (Action.SUSPEND, Action.RESUME) and incident.clock is not None
        late = past_deadline(incident.clock, at) if ends_stage and incident.clock else None
        if action is Action.SUSPEND:
            target = S.SUSPENDED
            changes["suspended_from"] = incident.state
            changes["clock"] = (
                None if incident.clock is None else stop_clock(incident.clock, at, self.calendar)
            )
        elif action is Action.RESUME:
            target = incident.suspended_from or S.ACCEPTED
            changes["suspended_from"] = None
            changes["clock"] = (
                None if incident.clock is None else restart_clock(incident.clock, at, self.calendar)
            )
        else:
            assert rule.target is not None
            target = rule.target
            changes["clock"] = self._clock_for(incident, target, at)
        if action is Action.REOPEN:
            changes["rework_count"] = incident.rework_count + 1
        if action is Action.MARK_DUPLICATE:
            changes["duplicate_of"] = duplicate_of
        # A person acting on an alert in the review queue has reviewed it.
        changes["in_review"] = False

        lead = incident.assignment.lead if incident.assignment else None
        record = FlowRecord(
            incident=incident.id,
            action=action.value,
            actor=actor,
            at=at,
            from_state=incident.state,
            to_state=target,
            reason=reason,
            unit=lead,
            duplicate_of=duplicate_of,
            late=late,
            media=media,
        )
        return msgspec.structs.replace(incident, state=target, **changes), record

    def assign(self, incident: Incident, assignment: Assignment) -> Incident:
        """Attach the router's first decision to a new incident (no flow record: nothing moved yet)."""
        return msgspec.structs.replace(incident, assignment=assignment)

    def reroute(
        self, incident: Incident, assignment: Assignment, *, actor: str, at: dt.datetime, reason: str | None
    ) -> tuple[Incident, FlowRecord]:
        """A duty officer's re-route; the old assignment stays in the history through the record."""
        if incident.state not in REROUTABLE:
            en, zh = _allowed_from(REROUTABLE)
            raise _refuse(Action.REROUTE, incident, f"allowed only from {en}", f"仅允许从 {zh} 状态执行")
        reason = (reason or "").strip() or None
        if reason is None:
            raise _refuse(Action.REROUTE, incident, "a reason is required", "必须填写理由")
        target = S.DISPATCHED if incident.state in (S.DISPATCHED, S.SIGNED) else incident.state
        clock = self._clock_for(incident, target, at) if target is S.DISPATCHED else incident.clock
        record = FlowRecord(
            incident=incident.id,
            action=Action.REROUTE.value,
            actor=actor,
            at=at,
            from_state=incident.state,
            to_state=target,
            reason=reason,
            unit=assignment.lead,
            from_unit=incident.assignment.lead if incident.assignment else None,
        )
        return msgspec.structs.replace(incident, state=target, assignment=assignment, clock=clock), record
