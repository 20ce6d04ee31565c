"""The sweep API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from grid.sweep.outcomes import Outcome
from grid.sweep.plan import FIRST_DAY, LAST_DAY, Mode, SweepPlan
from server.api.schemas import CategoryCode, Text

StopId = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
OfficerId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    date: dt.date | None = None  # default: the next Tuesday
    township: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{9}$")] | None = None  # default: your scope
    mode: Mode = Mode.PRIORITY
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | None = None
    stops_per_team: Annotated[int, msgspec.Meta(ge=1, le=50)] = 8

    def __post_init__(self) -> None:
        if self.date is not None and not FIRST_DAY <= self.date <= LAST_DAY:
            raise ValueError(f"date must lie between {FIRST_DAY} and {LAST_DAY}")


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    revision: int
    stop: StopId
    team: StopId | None  # null takes the stop off the plan


class SwapIn(msgspec.Struct, forbid_unknown_fields=True):
    revision: int
    team: StopId
    leaving: OfficerId
    joining: OfficerId


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    revision: int


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    stop: StopId
    outcome: Outcome
    note: Text = ""
    category: CategoryCode | None = None  # what was found, when the outcome opens a case


class SweepSummary(msgspec.Struct):
    id: str
    scope: str
    date: dt.date
    mode: str
    status: str
    revision: int
    created_by: str


class SweepOut(msgspec.Struct):
    id: str
    status: str
    revision: int
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    plan: SweepPlan
    names: dict[str, str]  # officer and unit ids → names


class OutcomeOut(msgspec.Struct):
    stop: str
    outcome: str
    note: str
    incident: str | None
    recorded_at: dt.datetime
    recorded_by: str
