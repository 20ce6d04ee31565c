"""Who is on the list for a sweep day, why, and which units' matters apply at each stop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import msgspec

from grid.places import Township, township_of
from grid.routing import Router
from grid.subjects import Subject
from grid.sweep.plan import Reason, ReasonKind, Stop, StopKind, SweepRules


class OpenIncident(msgspec.Struct, frozen=True, kw_only=True):
    """An open incident whose next step is on-site enforcement; `units` lead its matters."""

    id: str
    category: str
    township: str
    cell: str | None
    lon: float
    lat: float
    units: tuple[str, ...]
    reported_on: dt.date
    subject: str | None = None


class HotCell(msgspec.Struct, frozen=True, kw_only=True):
    """A cell with many recent incidents; `units` lead most of them."""

    cell: str
    township: str
    name: str
    lon: float
    lat: float
    incidents: int
    units: tuple[str, ...]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def days_since_visit(subject: Subject, on: dt.date, rules: SweepRules) -> int:
    if subject.last_inspected is None:
        return rules.never_visited_days
    return (on - subject.last_inspected).days


def in_quiet_period(subject: Subject, on: dt.date, rules: SweepRules) -> bool:
    """无事不扰: visited within its quiet period, the subject is left alone (unless an incident names it)."""
    return days_since_visit(subject, on, rules) <= subject.quiet_days


def subject_units(subject: Subject, township: Township, router: Router, on: dt.date) -> tuple[str, ...]:
    """The units that lead the matters of the subject's trade in its township on the day; a trade the
    catalog does not know falls to the township's enforcement office (属地)."""
    catalog = router.catalog
    leads = (
        router.decide(catalog.matter(code), township, on).lead
        for code in catalog.trade_matters(subject.trade)
    )
    return _unique(leads) or (township.enforcement_office,)


def due_reason(subject: Subject, on: dt.date, rules: SweepRules) -> Reason:
    days = days_since_visit(subject, on, rules)
    if subject.last_inspected is None:
        zh, en = f"风险等级 {subject.risk}，从未检查", f"risk {subject.risk}, never visited"
    else:
        zh = f"风险等级 {subject.risk}，距上次检查 {days} 天（无事不扰期 {subject.quiet_days} 天）"
        en = f"risk {subject.risk}, {days} days since the last visit (quiet period {subject.quiet_days} days)"
    return Reason(kind=ReasonKind.DUE, text_zh=zh, text_en=en)


def drawn_reason(subject: Subject) -> Reason:
    return Reason(
        kind=ReasonKind.DRAWN,
        text_zh=f"双随机抽中（风险等级 {subject.risk}）",
        text_en=f"drawn at random (risk {subject.risk})",
    )


def incident_reason(incident: OpenIncident) -> Reason:
    return Reason(
        kind=ReasonKind.INCIDENT,
        text_zh=f"事件 {incident.id}（类别 {incident.category}）需现场执法",
        text_en=f"incident {incident.id} (category {incident.category}) needs on-site enforcement",
        incident=incident.id,
    )


def subject_stop(
    subject: Subject, township: Township, router: Router, on: dt.date, priority: float, reason: Reason
) -> Stop:
    return Stop(
        id=f"subject:{subject.id}",
        kind=StopKind.SUBJECT,
        township=township.code,
        cell=subject.cell,
        lon=subject.lon,
        lat=subject.lat,
        name=subject.name,
        address=subject.address,
        units=subject_units(subject, township, router, on),
        priority=priority,
        reasons=(reason,),
        subject=subject.id,
    )


def with_incident(stop: Stop, incident: OpenIncident, rules: SweepRules, on: dt.date) -> Stop:
    """An incident naming a subject joins the subject's stop: one visit settles both."""
    return msgspec.structs.replace(
        stop,
        units=_unique((*stop.units, *incident.units)),
        priority=max(stop.priority, incident_priority(incident, rules, on)),
        reasons=(*stop.reasons, incident_reason(incident)),
        incidents=(*stop.incidents, incident.id),
    )


def incident_priority(incident: OpenIncident, rules: SweepRules, on: dt.date) -> float:
    return rules.incident_priority + max(0, (on - incident.reported_on).days)


def incident_stop(incident: OpenIncident, rules: SweepRules, on: dt.date) -> Stop:
    return Stop(
        id=f"incident:{incident.id}",
        kind=StopKind.INCIDENT,
        township=incident.township,
        cell=incident.cell,
        lon=incident.lon,
        lat=incident.lat,
        name=incident.id,
        address="",
        units=incident.units,
        priority=incident_priority(incident, rules, on),
        reasons=(incident_reason(incident),),
        incidents=(incident.id,),
    )


def hot_cell_stop(cell: HotCell, rules: SweepRules) -> Stop:
    return Stop(
        id=f"cell:{cell.cell}",
        kind=StopKind.HOT_CELL,
        township=cell.township,
        cell=cell.cell,
        lon=cell.lon,
        lat=cell.lat,
        name=cell.name,
        address="",
        units=cell.units,
        priority=rules.hot_cell_priority * cell.incidents,
        reasons=(
            Reason(
                kind=ReasonKind.HOT_CELL,
                text_zh=f"近 {rules.hot_cell_days} 天网格内 {cell.incidents} 起事件",
                text_en=f"{cell.incidents} incidents in the cell in the last {rules.hot_cell_days} days",
            ),
        ),
    )


def priority_candidates(
    on: dt.date,
    townships: Mapping[str, Township],
    subjects: Iterable[Subject],
    incidents: Iterable[OpenIncident],
    hot_cells: Iterable[HotCell],
    router: Router,
    rules: SweepRules,
) -> list[Stop]:
    """Due subjects (risk × days since the last visit), open on-site incidents (an incident naming a
    subject brings it in even inside its quiet period) and hot cells; most urgent first."""
    by_id = {s.id: s for s in subjects if township_of(s.cell) in townships}
    stops: dict[str, Stop] = {}
    for subject in by_id.values():
        if not in_quiet_period(subject, on, rules):
            priority = subject.risk * days_since_visit(subject, on, rules)
            township = townships[township_of(subject.cell)]
            stops[subject.id] = subject_stop(
                subject, township, router, on, priority, due_reason(subject, on, rules)
            )
    for incident in incidents:
        if incident.township not in townships:
            continue
        named = by_id.get(incident.subject) if incident.subject else None
        if named is None:
            stops[f"incident:{incident.id}"] = incident_stop(incident, rules, on)
            continue
        if named.id not in stops:
            reason = due_reason(named, on, rules)
            township = townships[township_of(named.cell)]
            stops[named.id] = subject_stop(named, township, router, on, 0.0, reason)
        stops[named.id] = with_incident(stops[named.id], incident, rules, on)
    for cell in hot_cells:
        if cell.township in townships and cell.incidents >= rules.hot_cell_incidents:
            stops[f"cell:{cell.cell}"] = hot_cell_stop(cell, rules)
    return sorted(stops.values(), key=lambda s: (-s.priority, s.id))
