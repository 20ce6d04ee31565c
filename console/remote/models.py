"""The server's answers as the console reads them (msgspec; fields the console does not use are ignored)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

OPEN_STATES = (
    "reported",
    "accepted",
    "dispatched",
    "signed",
    "handled",
    "verified",
    "returned",
    "suspended",
    "reopened",
)
CLOSED_STATES = frozenset({"closed", "rejected", "duplicate"})


class IncidentView(msgspec.Struct, kw_only=True):
    id: str
    source: str
    state: str
    category: str
    lon: float
    lat: float
    cell: str | None
    township: str | None
    urgent: bool
    lead: str | None
    deadline: dt.datetime | None
    reported_at: dt.datetime
    village: str | None = None
    category_name_zh: str = ""
    category_name_en: str = ""
    snapped: bool = False
    unlocated: bool = False
    support: list[str] = []
    stage: str | None = None
    probable_duplicate_of: str | None = None
    duplicate_of: str | None = None
    rework_count: int = 0
    text: str = ""
    media: list[str] = []
    in_review: bool = False
    overdue: bool = False  # the server's word when it was read; the board recomputes from the deadline
    alert_count: int = 0
    last_seen: dt.datetime | None = None


class FlowView(msgspec.Struct):
    action: str
    actor: str
    at: dt.datetime
    from_state: str
    to_state: str
    reason: str | None = None
    unit: str | None = None


class AssignmentView(msgspec.Struct):
    lead: str
    support: list[str]
    basis: str
    current: bool
    at: dt.datetime
    by: str
    reason: str | None = None
    agreement: str | None = None


class IncidentDetail(msgspec.Struct):
    incident: IncidentView
    explanation_zh: str | None
    explanation_en: str | None
    assignments: list[AssignmentView]
    history: list[FlowView]


class CallView(msgspec.Struct):
    unit: str
    due_at: dt.datetime
    reported_at: dt.datetime | None
    late: bool
    overdue: bool
    rating: int | None


class PairingView(msgspec.Struct):
    """What POST /pairings answers, as the console shows it: the code is shown once."""

    id: int
    code: str
    link: str
    role: str
    scope: str
    name: str
    expires_at: dt.datetime


class WhistleView(msgspec.Struct):
    id: str
    incident: str
    township: str
    kind: str
    reason: str
    note: str
    opened_at: dt.datetime
    opened_by: str
    calls: list[CallView]


class PresenceView(msgspec.Struct):
    worker: str
    township: str
    online: bool
    last_ping_at: dt.datetime | None
    cell: str | None
    cells_visited_this_week: int


class CellCoverageView(msgspec.Struct):
    cell: str
    days_visited: int
    target: int
    covered: bool


class AreaCoverageView(msgspec.Struct):
    code: str
    cells: int
    covered: int
    share: float


class CoveragePage(msgspec.Struct):
    items: list[CellCoverageView]
    total: int


class CoverageView(msgspec.Struct):
    week_start: dt.date
    week_end: dt.date
    townships: list[AreaCoverageView]
    villages: list[AreaCoverageView]
    cells: CoveragePage


class UnitView(msgspec.Struct):
    id: str
    name_zh: str
    name_en: str
    kind: str
    township: str | None = None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class TownshipView(msgspec.Struct):
    code: str
    name: str
    seat_lon: float
    seat_lat: float


class VillageView(msgspec.Struct):
    code: str
    name: str


class WorkerView(msgspec.Struct):
    id: str
    name: str
    township: str


class CertificateView(msgspec.Struct):
    valid_from: dt.date
    expires: dt.date


class OfficerView(msgspec.Struct):
    """An enforcement officer (执法人员) who may join a sweep team on a day their certificate holds."""

    id: str
    name: str
    unit: str
    certificates: list[CertificateView] = []

    def certified_on(self, day: dt.date) -> bool:
        return any(c.valid_from <= day <= c.expires for c in self.certificates)


class CategoryView(msgspec.Struct):
    code: str
    name_zh: str
    name_en: str
    urgent: bool = False

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class CellShape(msgspec.Struct):
    """A cell's outline, as the rings of its polygon(s) in lon/lat."""

    code: str
    name: str
    village: str
    township: str
    rings: list[list[tuple[float, float]]]


class EventView(msgspec.Struct):
    id: int
    at: dt.datetime
    kind: str
    incident: str | None
    township: str | None
    payload: dict[str, Any]


class Problem(msgspec.Struct):
    status: int = 0
    code: str = ""
    detail: str = ""
    detail_zh: str | None = None


class SweepReasonView(msgspec.Struct):
    kind: str
    text_zh: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_zh if lang == "zh" else self.text_en


class SweepStopView(msgspec.Struct):
    id: str
    kind: str
    township: str
    name: str
    address: str
    units: list[str]
    priority: float
    reasons: list[SweepReasonView]


class SweepTeamView(msgspec.Struct):
    id: str
    township: str
    officers: list[str]
    units: list[str]
    stops: list[str]
    length_m: float


class SweepConflictView(msgspec.Struct):
    kind: str
    township: str
    text_zh: str
    text_en: str
    stop: str | None = None

    def text(self, lang: str) -> str:
        return self.text_zh if lang == "zh" else self.text_en


class SweepPlanView(msgspec.Struct):
    date: dt.date
    scope: str
    mode: str
    stops: list[SweepStopView]
    teams: list[SweepTeamView]
    conflicts: list[SweepConflictView]
    seed: int | None = None


class SweepView(msgspec.Struct):
    id: str
    status: str
    revision: int
    plan: SweepPlanView
    names: dict[str, str]

    def stop(self, stop_id: str) -> SweepStopView:
        return next(s for s in self.plan.stops if s.id == stop_id)


class SweepSummaryView(msgspec.Struct):
    id: str
    scope: str
    date: dt.date
    status: str


Figure = float | int | None


class KpiDefinitionView(msgspec.Struct):
    key: str
    zh: str
    en: str
    kind: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class KpiRowView(msgspec.Struct):
    key: str
    name: str
    rank: int | None
    figures: dict[str, Figure]


class KpiTableView(msgspec.Struct):
    scope: str
    first: dt.date
    last: dt.date
    figures: dict[str, Figure]
    by: str | None = None
    rows: list[KpiRowView] = msgspec.field(default_factory=list)


class KpiView(msgspec.Struct):
    table: KpiTableView
    previous: dict[str, Figure] | None = None
    previous_change: dict[str, float | None] | None = None
