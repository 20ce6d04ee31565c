"""The live board's state: the open incidents in scope, kept in board order, filtered and searched.

Pure logic with no widgets, so the board's rules are tested without a terminal and the widget only
draws the rows it is asked for.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from console.directory import Directory
from console.i18n import Texts
from console.remote.models import CLOSED_STATES, EventView, IncidentView

SortKey = tuple[bool, float, str]


class IncidentChange(msgspec.Struct):
    """What an incident event carries about the incident: enough to draw its row."""

    state: str
    category: str
    cell: str | None
    township: str | None
    lead: str | None
    deadline: dt.datetime | None
    urgent: bool
    source: str
    in_review: bool
    lon: float
    lat: float


def board_key(incident: IncidentView) -> SortKey:
    """Urgent first, then newest first; the id keeps the order total."""
    return (not incident.urgent, -incident.reported_at.timestamp(), incident.id)


def is_overdue(incident: IncidentView, now: dt.datetime) -> bool:
    if incident.state == "suspended":  # the clock stopped; the server said whether it was late then
        return incident.overdue
    return incident.deadline is not None and now > incident.deadline


def time_left(incident: IncidentView, now: dt.datetime, t: Texts) -> str:
    """The countdown to the current stage's deadline, or how long it is overdue."""
    return countdown(incident.deadline, now, t)


def countdown(deadline: dt.datetime | None, now: dt.datetime, t: Texts) -> str:
    if deadline is None:
        return t("time.none")
    seconds = int((deadline - now).total_seconds())
    span = _span(abs(seconds), t)
    return t("time.overdue", span=span) if seconds < 0 else span


def _span(seconds: int, t: Texts) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("span.days", d=days, h=hours)
    if hours:
        return t("span.hours", h=hours, m=minutes)
    return t("span.minutes", m=minutes)


@dataclass(frozen=True)
class BoardFilter:
    township: str | None = None
    unit: str | None = None
    state: str | None = None
    category: str | None = None
    overdue: bool = False
    search: str = ""

    def with_(self, **changes: Any) -> BoardFilter:
        return replace(self, **changes)


class Board:
    """The open incidents by id, and their board order."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.incidents: dict[str, IncidentView] = {}
        self._order: list[tuple[SortKey, str]] = []
        self._haystack: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.incidents)

    def load(self, incidents: list[IncidentView]) -> None:
        self.incidents = {i.id: i for i in incidents if i.state not in CLOSED_STATES}
        self._order = sorted((board_key(i), i.id) for i in self.incidents.values())
        self._haystack = {i.id: self._words(i) for i in self.incidents.values()}

    def upsert(self, incident: IncidentView) -> bool:
        """Put a fresh copy of an incident on the board (or take it off once closed); True if it is new."""
        old = self.incidents.get(incident.id)
        if old is not None:
            self._order.pop(bisect.bisect_left(self._order, (board_key(old), old.id)))
            del self.incidents[incident.id]
        if incident.state in CLOSED_STATES:
            self._haystack.pop(incident.id, None)
            return False
        self.incidents[incident.id] = incident
        bisect.insort(self._order, (board_key(incident), incident.id))
        self._haystack[incident.id] = self._words(incident)
        return old is None

    def apply(self, event: EventView) -> IncidentView | None:
        """Apply a live-stream event; the incident if it just arrived on the board."""
        if event.incident is None or not event.kind.startswith("incident."):
            return None
        try:
            change = msgspec.convert(event.payload, IncidentChange)
        except msgspec.ValidationError:  # an event this console cannot read (a newer server): skip it
            return None
        fields = msgspec.structs.asdict(change)
        old = self.incidents.get(event.incident)
        if old is not None:
            fresh = msgspec.structs.replace(old, **fields)
        else:
            category = self.directory.categories.get(change.category)
            fresh = IncidentView(
                id=event.incident,
                reported_at=event.at,
                village=change.cell[:12] if change.cell else None,
                category_name_zh=category.name_zh if category else "",
                category_name_en=category.name_en if category else "",
                **fields,
            )
        return fresh if self.upsert(fresh) else None

    def view(self, where: BoardFilter, now: dt.datetime) -> list[IncidentView]:
        """The incidents that pass the filter, in board order."""
        terms = where.search.lower().split()  # every term must match, in any order
        shown: list[IncidentView] = []
        for _, incident_id in self._order:
            i = self.incidents[incident_id]
            if (
                (where.township is None or i.township == where.township)
                and (where.unit is None or i.lead == where.unit)
                and (where.state is None or i.state == where.state)
                and (where.category is None or i.category == where.category)
                and (not where.overdue or is_overdue(i, now))
                and all(term in self._haystack[incident_id] for term in terms)
            ):
                shown.append(i)
        return shown

    def _words(self, i: IncidentView) -> str:
        d = self.directory
        words = [
            i.id,
            i.category,
            d.category(i.category, "zh"),
            d.category(i.category, "en"),
            i.cell or "",
            d.village(i.village),
            d.township(i.township),
            d.unit(i.lead, "zh"),
            d.unit(i.lead, "en"),
            i.text,
        ]
        return " ".join(words).lower()
