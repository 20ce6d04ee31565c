"""The working calendar: work periods, weekends, public holidays and make-up working days (调休).

Years come from data (one schedule per year, published by the State Council each November); a date
in a year that was not loaded falls back to weekends only, and `coverage` says so.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import msgspec

from grid.errors import CalendarError

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_PERIODS = ((dt.time(8), dt.time(12)), (dt.time(14), dt.time(18)))
# A working-time search never needs more than a year of days; anything longer is a bug.
_MAX_DAYS_SEARCHED = 3660


class YearStatus(enum.StrEnum):
    OFFICIAL = "official"  # the State Council's published schedule
    PROVISIONAL = "provisional"  # statutory days only, awaiting the published schedule
    WEEKENDS_ONLY = "weekends_only"  # no data at all for the year


class HolidayYear(msgspec.Struct, frozen=True, kw_only=True):
    """One year's schedule as it is kept in the data files."""

    year: int
    source: str
    holidays: dict[str, list[dt.date]]
    makeup_workdays: list[dt.date] = []
    status: YearStatus = YearStatus.OFFICIAL


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    status: YearStatus
    warning_en: str | None = None
    warning_zh: str | None = None


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(
            f"timestamp {moment.isoformat()} has no time zone",
            f"时间 {moment.isoformat()} 缺少时区",
        )
    return moment


class WorkingCalendar:
    def __init__(
        self,
        years: Iterable[HolidayYear] = (),
        *,
        periods: Iterable[tuple[dt.time, dt.time]] = DEFAULT_PERIODS,
        tz: str = DEFAULT_TZ,
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.periods = tuple(sorted(periods))
        if not self.periods or any(start >= end for start, end in self.periods):
            raise CalendarError(
                "work periods must be non-empty start<end pairs", "工作时段必须为开始早于结束的时段"
            )
        for (_, end), (start, _) in zip(self.periods, self.periods[1:], strict=False):
            if start < end:
                raise CalendarError("work periods overlap", "工作时段相互重叠")
        self.holidays: dict[dt.date, str] = {}
        self.makeup_workdays: set[dt.date] = set()
        self.years: dict[int, YearStatus] = {}
        for year in years:
            self.years[year.year] = year.status
            for name, days in year.holidays.items():
                self.holidays.update(dict.fromkeys(days, name))
            self.makeup_workdays.update(year.makeup_workdays)
        clash = self.makeup_workdays & self.holidays.keys()
        if clash:
            raise CalendarError(
                f"days both holiday and make-up working day: {sorted(clash)}",
                f"同一天既是假日又是调休上班日：{sorted(clash)}",
            )

    # -- days -------------------------------------------------------------------------------------

    def is_workday(self, day: dt.date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def coverage(self, day: dt.date) -> Coverage:
        status = self.years.get(day.year, YearStatus.WEEKENDS_ONLY)
        if status is YearStatus.OFFICIAL:
            return Coverage(year=day.year, status=status)
        if status is YearStatus.PROVISIONAL:
            return Coverage(
                year=day.year,
                status=status,
                warning_en=f"{day.year}: provisional holidays (statutory days only); load the published schedule",
                warning_zh=f"{day.year} 年仅含法定节日（暂定），请导入国务院办公厅公布的放假安排",
            )
        return Coverage(
            year=day.year,
            status=status,
            warning_en=f"{day.year}: no holiday schedule loaded; counting weekends only",
            warning_zh=f"{day.year} 年未导入节假日安排，仅按周末计算",
        )

    def local(self, moment: dt.datetime) -> dt.datetime:
        return _aware(moment).astimezone(self.tz)

    def _work_intervals(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        if self.is_workday(day):
            for start, end in self.periods:
                yield (
                    dt.datetime.combine(day, start, self.tz),
                    dt.datetime.combine(day, end, self.tz),
                )

    # -- working time -----------------------------------------------------------------------------

    def is_working_time(self, moment: dt.datetime) -> bool:
        local = self.local(moment)
        return any(a <= local < b for a, b in self._work_intervals(local.date()))

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working seconds in [start, end); negative when end is before start."""
        a, b = self.local(start), self.local(end)
        if b < a:
            return -self.working_seconds_between(end, start)
        total = 0.0
        day = a.date()
        while day <= b.date():
            for lo, hi in self._work_intervals(day):
                overlap = (min(hi, b) - max(lo, a)).total_seconds()
                total += max(0.0, overlap)
            day += dt.timedelta(days=1)
        return total

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment `seconds` of working time after (or, if negative, before) `start`."""
        local = self.local(start)
        if seconds == 0:
            return local
        forward = seconds > 0
        left = abs(seconds)
        step = dt.timedelta(days=1 if forward else -1)
        day = local.date()
        for _ in range(_MAX_DAYS_SEARCHED):
            intervals = list(self._work_intervals(day))
            for lo, hi in intervals if forward else reversed(intervals):
                a, b = (max(lo, local), hi) if forward else (lo, min(hi, local))
                span = (b - a).total_seconds()
                if span <= 0:
                    continue
                if left <= span:
                    return a + dt.timedelta(seconds=left) if forward else b - dt.timedelta(seconds=left)
                left -= span
            day += step
        raise CalendarError("no working time found within ten years", "十年内没有工作时间")

    def close_of_workday(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end of the last work period of the `days`-th working day after `start`'s date."""
        if days < 1:
            raise CalendarError("a work-day limit is at least one day", "工作日时限至少为一天")
        day = self.local(start).date()
        for _ in range(_MAX_DAYS_SEARCHED):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                days -= 1
                if days == 0:
                    return dt.datetime.combine(day, self.periods[-1][1], self.tz)
        raise CalendarError("no working day found within ten years", "十年内没有工作日")
