"""The working calendar and deadlines: lunch, evenings, weekends, holidays, make-up days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodata.catalog_files import default_calendar, holiday_years
from grid.catalog import TimeLimit, TimeUnit
from grid.clocks import deadline
from grid.errors import CalendarError
from grid.workcalendar import WorkingCalendar, YearStatus
from tests.support.clock import CST, at

H = 3600


def limit(value: float, unit: str) -> TimeLimit:
    return TimeLimit(value, TimeUnit(unit))


@pytest.mark.parametrize(
    ("start", "limit_", "due"),
    [
        # work hours: mornings and afternoons only
        ("2026-06-16 09:00", (1, "work_hour"), "2026-06-16 10:00"),
        ("2026-06-16 11:30", (1, "work_hour"), "2026-06-16 14:30"),  # across lunch
        ("2026-06-16 12:30", (1, "work_hour"), "2026-06-16 15:00"),  # reported during lunch
        ("2026-06-16 17:30", (1, "work_hour"), "2026-06-17 08:30"),  # across the evening
        ("2026-06-16 21:00", (2, "work_hour"), "2026-06-17 10:00"),  # reported at night
        ("2026-06-16 07:00", (4, "work_hour"), "2026-06-16 12:00"),  # before opening
        ("2026-06-12 17:00", (2, "work_hour"), "2026-06-15 09:00"),  # Friday → Monday
        ("2026-06-13 10:00", (1, "work_hour"), "2026-06-15 09:00"),  # on a Saturday
        ("2026-06-16 09:00", (0.5, "work_hour"), "2026-06-16 09:30"),
        # Mid-Autumn (25–27 Sep) and National Day (1–7 Oct); 28–30 Sep are working days
        ("2026-09-24 17:00", (2, "work_hour"), "2026-09-28 09:00"),
        ("2026-09-30 17:00", (2, "work_hour"), "2026-10-08 09:00"),  # one hour before, one after the week off
        # make-up working day: Saturday 10 October 2026 is worked
        ("2026-10-09 17:00", (2, "work_hour"), "2026-10-10 09:00"),
        ("2026-10-10 10:00", (1, "work_hour"), "2026-10-10 11:00"),
        # make-up Sunday 4 January 2026 after New Year (1–3 January)
        ("2026-12-31 17:00", (2, "work_hour"), "2027-01-04 09:00"),
        # work days: close of the Nth working day after the start's date
        ("2026-06-16 09:00", (1, "work_day"), "2026-06-17 18:00"),
        ("2026-06-12 09:00", (1, "work_day"), "2026-06-15 18:00"),  # Friday → Monday
        ("2026-06-18 10:00", (1, "work_day"), "2026-06-22 18:00"),  # Dragon Boat 19–21 June
        ("2026-10-09 10:00", (1, "work_day"), "2026-10-10 18:00"),  # make-up Saturday counts
        ("2026-02-13 10:00", (3, "work_day"), "2026-02-25 18:00"),  # 14 Feb make-up, Spring Festival 15–23
        # natural days and urgent hours ignore the calendar
        ("2026-10-01 10:00", (2, "natural_day"), "2026-10-03 10:00"),
        ("2026-10-01 23:30", (1, "urgent_hour"), "2026-10-02 00:30"),
        ("2026-06-13 12:10", (0.25, "urgent_hour"), "2026-06-13 12:25"),
    ],
)
def test_deadline(calendar: WorkingCalendar, start: str, limit_: tuple[float, str], due: str) -> None:
    assert deadline(at(start), limit(*limit_), calendar) == at(due)


def test_holidays_and_makeup_days(calendar: WorkingCalendar) -> None:
    assert not calendar.is_workday(dt.date(2026, 10, 1))  # National Day, a Thursday
    assert calendar.is_workday(dt.date(2026, 10, 8))  # after the holiday
    assert calendar.is_workday(dt.date(2026, 10, 10))  # make-up Saturday
    assert not calendar.is_workday(dt.date(2026, 10, 11))  # ordinary Sunday
    assert calendar.is_workday(dt.date(2026, 2, 28))  # make-up Saturday
    assert not calendar.is_workday(dt.date(2026, 2, 16))  # Spring Festival Monday
    assert calendar.holidays[dt.date(2026, 2, 17)].startswith("春节")


def test_working_time(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_time(at("2026-06-16 08:00"))
    assert not calendar.is_working_time(at("2026-06-16 12:00"))  # lunch starts
    assert not calendar.is_working_time(at("2026-06-16 13:59"))
    assert calendar.is_working_time(at("2026-06-16 14:00"))
    assert not calendar.is_working_time(at("2026-06-16 18:00"))
    assert not calendar.is_working_time(at("2026-06-13 10:00"))  # Saturday
    # The same moment in UTC is judged in China time.
    assert calendar.is_working_time(dt.datetime(2026, 6, 16, 1, 30, tzinfo=dt.UTC))  # 09:30 CST


def test_working_seconds_between(calendar: WorkingCalendar) -> None:
    assert calendar.working_seconds_between(at("2026-06-16 11:00"), at("2026-06-16 15:00")) == 2 * H
    assert calendar.working_seconds_between(at("2026-06-12 17:00"), at("2026-06-15 09:00")) == 2 * H
    assert calendar.working_seconds_between(at("2026-06-16 15:00"), at("2026-06-16 11:00")) == -2 * H
    assert calendar.working_seconds_between(at("2026-06-13 00:00"), at("2026-06-14 23:59")) == 0


@given(
    start=st.datetimes(
        min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 1), timezones=st.just(CST)
    ),
    hours=st.floats(min_value=0.01, max_value=200),
)
def test_adding_working_time_inverts_measuring_it(start: dt.datetime, hours: float) -> None:
    calendar = default_calendar()
    end = calendar.add_working_seconds(start, hours * H)
    assert calendar.working_seconds_between(start, end) == pytest.approx(hours * H, abs=1e-3)
    assert calendar.is_working_time(end - dt.timedelta(seconds=1))
    back = calendar.add_working_seconds(end, -hours * H)
    assert calendar.working_seconds_between(back, end) == pytest.approx(hours * H, abs=1e-3)


def test_year_coverage_and_fallback(calendar: WorkingCalendar) -> None:
    assert calendar.coverage(dt.date(2026, 5, 1)).status is YearStatus.OFFICIAL
    assert calendar.coverage(dt.date(2026, 5, 1)).warning_en is None
    provisional = calendar.coverage(dt.date(2027, 3, 1))
    assert provisional.status is YearStatus.PROVISIONAL
    assert provisional.warning_en and "provisional" in provisional.warning_en
    fallback = calendar.coverage(dt.date(2028, 10, 2))
    assert fallback.status is YearStatus.WEEKENDS_ONLY
    assert fallback.warning_en and "weekends only" in fallback.warning_en
    assert fallback.warning_zh and "周末" in fallback.warning_zh
    # With no data National Day 2028 (a Monday) counts as a working day; weekends still do not.
    assert calendar.is_workday(dt.date(2028, 10, 2))
    assert not calendar.is_workday(dt.date(2028, 10, 7))
    # 2027's statutory days are loaded: Spring Festival eve.
    assert not calendar.is_workday(dt.date(2027, 2, 5))


def test_a_later_file_replaces_a_shipped_year(tmp_path: Path) -> None:
    published = {
        "year": 2027,
        "source": "test",
        "holidays": {"春节": ["2027-02-05", "2027-02-11"]},
        "makeup_workdays": ["2027-02-06"],
    }
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(published), encoding="utf-8")
    calendar = default_calendar([path])
    assert calendar.coverage(dt.date(2027, 1, 1)).status is YearStatus.OFFICIAL
    assert calendar.is_workday(dt.date(2027, 2, 6))  # the make-up Saturday
    assert not calendar.is_workday(dt.date(2027, 2, 11))
    assert calendar.is_workday(dt.date(2027, 10, 1))  # the shipped provisional file was replaced
    assert [y.year for y in holiday_years([path])] == [2026, 2027]


def test_configurable_work_periods() -> None:
    calendar = WorkingCalendar(periods=[(dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17, 30))])
    assert deadline(at("2026-06-16 11:00"), limit(2, "work_hour"), calendar) == at("2026-06-16 14:30")
    assert deadline(at("2026-06-16 09:00"), limit(1, "work_day"), calendar) == at("2026-06-17 17:30")


@pytest.mark.parametrize(
    "periods",
    [[], [(dt.time(12), dt.time(8))], [(dt.time(8), dt.time(13)), (dt.time(12), dt.time(18))]],
)
def test_bad_work_periods_refused(periods: list[tuple[dt.time, dt.time]]) -> None:
    with pytest.raises(CalendarError):
        WorkingCalendar(periods=periods)


def test_naive_timestamps_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(CalendarError, match="no time zone"):
        deadline(dt.datetime(2026, 6, 16, 9), limit(1, "work_hour"), calendar)


@pytest.mark.parametrize(
    ("value", "unit"), [(0, "work_hour"), (-1, "urgent_hour"), (1.5, "work_day"), (0.5, "natural_day")]
)
def test_bad_time_limits_refused(value: float, unit: str) -> None:
    with pytest.raises(ValueError, match=r"time limit|whole days"):
        TimeLimit(value, TimeUnit(unit))
