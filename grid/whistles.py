"""Whistle and report-in (吹哨报到, docs/domain.md#whistle-and-report-in): who may be called, when each must report in, ratings."""

from __future__ import annotations

import datetime as dt
import enum

from grid.catalog import TimeLimit, TimeUnit
from grid.clocks import deadline
from grid.errors import DomainError
from grid.workcalendar import WorkingCalendar


class WhistleKind(enum.StrEnum):
    ROUTINE = "routine"  # 日常哨
    CAMPAIGN = "campaign"  # 攻坚哨
    EMERGENCY = "emergency"  # 应急哨


class WhistleReason(enum.StrEnum):
    CANNOT_SOLVE = "cannot_solve"  # the township cannot solve it
    NO_POWER = "no_power"  # it lacks the enforcement power
    EMERGENCY = "emergency"


# Emergency whistles are answered within 30 minutes, day or night; routine ones within two working
# hours; a campaign is planned work, so a working day.
REPORT_IN_LIMITS = {
    WhistleKind.EMERGENCY: TimeLimit(0.5, TimeUnit.URGENT_HOUR),
    WhistleKind.ROUTINE: TimeLimit(2, TimeUnit.WORK_HOUR),
    WhistleKind.CAMPAIGN: TimeLimit(1, TimeUnit.WORK_DAY),
}
RATINGS = range(1, 6)


class WhistleRefused(DomainError):
    code = "whistle_refused"


def report_in_due(kind: WhistleKind, opened: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
    return deadline(opened, REPORT_IN_LIMITS[kind], calendar)


def check_rating(rating: int, reported: bool) -> None:
    if rating not in RATINGS:
        raise WhistleRefused(f"a rating is 1 to 5, not {rating}", f"评分应为 1 至 5，而不是 {rating}")
    if not reported:
        raise WhistleRefused("a department is rated after it reports in", "部门报到后方可评分")
