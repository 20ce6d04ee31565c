"""Incidents, their assignments (with the reasons) and their append-only flow records."""

from __future__ import annotations

import datetime as dt
import enum

import msgspec

from grid.catalog import Stage, TimeUnit
from grid.places import township_of


class Source(enum.StrEnum):
    REPORT = "report"  # a grid worker's patrol report
    ALERT = "alert"  # a camera or sensor (非现场执法)
    OPEN311 = "open311"
    HOTLINE = "hotline"  # 12345
    SWEEP = "sweep"  # found by a joint sweep team (综合查一次)


class IncidentState(enum.StrEnum):
    REPORTED = "reported"  # 上报
    ACCEPTED = "accepted"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    SIGNED = "signed"  # 签收
    HANDLED = "handled"  # 处置反馈
    VERIFIED = "verified"  # 核查
    CLOSED = "closed"  # 结案
    REJECTED = "rejected"  # 不予立案
    RETURNED = "returned"  # 回退
    DUPLICATE = "duplicate"  # 重复
    SUSPENDED = "suspended"  # 缓办
    REOPENED = "reopened"  # 返工


TERMINAL_STATES = frozenset({IncidentState.CLOSED, IncidentState.REJECTED, IncidentState.DUPLICATE})


class RouteBasis(enum.StrEnum):
    """Which row of the routing table decided a matter (docs/domain.md#route)."""

    STATUTORY = "statutory"
    GRANTED = "granted"
    ENTRUSTED = "entrusted"
    ENTRUSTED_LAPSED = "entrusted_lapsed"  # agreement expired or not yet valid
    STATIONED = "stationed"
    NOT_LISTED = "not_listed"  # duty admission: stays with the department
    MANUAL = "manual"  # re-routed by a duty officer, with a reason


class MatterDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The machine-readable reason one matter went where it went."""

    matter: str
    severity: int
    basis: RouteBasis
    lead: str
    support: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()
    list_entry: str | None = None
    agreement: str | None = None
    agreement_valid_from: dt.date | None = None
    agreement_valid_to: dt.date | None = None
    department: str | None = None


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    cell: str | None
    # Metres from the reported point to `cell` when it lay in no cell and was snapped (#locate).
    snapped_m: float | None = None
    township: str
    on: dt.date
    lead_matter: str
    decisions: tuple[MatterDecision, ...]
    text_zh: str
    text_en: str

    def text(self, lang: str = "zh") -> str:
        return self.text_zh if lang == "zh" else self.text_en


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """Who must act: one lead, ordered support units, and units that are only informed."""

    lead: str
    support: tuple[str, ...]
    informed: tuple[str, ...]
    matters: tuple[str, ...]
    basis: RouteBasis
    agreement: str | None
    explanation: Explanation


class Clock(msgspec.Struct, frozen=True, kw_only=True):
    """The running (or, while suspended, stopped) clock of the incident's current stage."""

    stage: Stage
    unit: TimeUnit
    started: dt.datetime
    deadline: dt.datetime
    # Set while suspended: what was left of the limit, in the unit's own seconds.
    remaining: float | None = None


class GpsFix(msgspec.Struct, frozen=True, kw_only=True):
    """The phone's own GPS fix (WGS-84, accuracy in metres), kept when the reporter placed the point by hand."""

    lon: float
    lat: float
    acc: float | None = None


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    source: Source
    category: str
    lon: float
    lat: float
    reported_at: dt.datetime
    state: IncidentState = IncidentState.REPORTED
    accuracy: float | None = None
    cell: str | None = None
    snapped: bool = False
    index_version: int = 0
    urgent: bool = False
    text: str = ""
    media: tuple[str, ...] = ()
    subject: str | None = None
    assignment: Assignment | None = None
    clock: Clock | None = None
    # The state a suspended incident returns to when it resumes.
    suspended_from: IncidentState | None = None
    duplicate_of: str | None = None
    rework_count: int = 0
    # An alert below its category's confidence threshold waits for a person's review (docs/domain.md#remote-enforcement-alerts).
    in_review: bool = False
    # Set when the point was placed by hand: the GPS fix the phone had (docs/field-app.md).
    gps_fix: GpsFix | None = None

    @property
    def township(self) -> str | None:
        return None if self.cell is None else township_of(self.cell)

    @property
    def unlocated(self) -> bool:
        return self.cell is None

    @property
    def is_open(self) -> bool:
        return self.state not in TERMINAL_STATES


class FlowRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One append-only line of an incident's history: who, when, from, to, why."""

    incident: str
    action: str
    actor: str
    at: dt.datetime
    from_state: IncidentState
    to_state: IncidentState
    reason: str | None = None
    unit: str | None = None
    # For a re-route: the lead unit it was taken from.
    from_unit: str | None = None
    duplicate_of: str | None = None
    # For an action that ends a timed stage: whether it came after the stage's deadline (the KPIs
    # count this, so it is fixed when it happens rather than recomputed from the calendar later).
    late: bool | None = None
    # Photos the actor sent with the step (a handling report, a verification), as /media/ URLs.
    media: tuple[str, ...] = ()
