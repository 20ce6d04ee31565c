"""What an incident reached in the closed loop and when: kept on the incident as it moves, so the
KPIs are sums over one table instead of a replay of every flow record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from grid.incident import FlowRecord, IncidentState
from grid.lifecycle import Action

# A re-route out of these states takes the incident from a unit it was already dispatched to.
_DISPATCHED = frozenset({IncidentState.DISPATCHED, IncidentState.SIGNED})


class Milestones(msgspec.Struct, frozen=True, kw_only=True):
    accepted_at: dt.datetime | None = None  # 立案 (the first)
    accept_late: bool = False
    dispatched_at: dt.datetime | None = None  # 派遣 (the first)
    # Returned (回退) or re-routed away from a dispatched unit: the dispatch was not accurate.
    misdispatched: bool = False
    handled_at: dt.datetime | None = None  # 处置反馈 (the latest)
    handle_late: bool = False  # any 处置 after its deadline
    closed_at: dt.datetime | None = None  # 结案; cleared by a 返工 after closing
    late_stages: int = 0  # timed stages ended after their deadline, over the whole loop


def reached(milestones: Milestones, records: Iterable[FlowRecord]) -> Milestones:
    """The milestones after these flow records, in order."""
    for record in records:
        milestones = _after(milestones, record)
    return milestones


def _after(m: Milestones, record: FlowRecord) -> Milestones:
    late = bool(record.late)
    changes: dict[str, object] = {}
    if late:
        changes["late_stages"] = m.late_stages + 1
    match record.action:
        case Action.ACCEPT:
            if m.accepted_at is None:
                changes.update(accepted_at=record.at, accept_late=late)
        case Action.DISPATCH:
            if m.dispatched_at is None:
                changes["dispatched_at"] = record.at
        case Action.RETURN:
            changes["misdispatched"] = True
        case Action.REROUTE if record.from_state in _DISPATCHED:
            changes["misdispatched"] = True
        case Action.HANDLE:
            changes.update(handled_at=record.at, handle_late=m.handle_late or late)
        case Action.CLOSE:
            changes["closed_at"] = record.at
        case Action.REOPEN:
            changes["closed_at"] = None
    return msgspec.structs.replace(m, **changes) if changes else m
