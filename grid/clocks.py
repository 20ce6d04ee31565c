"""Deadlines on the working calendar, overdue detection, and the clock that stops while suspended."""

from __future__ import annotations

import datetime as dt

from grid.catalog import Stage, TimeLimit, TimeUnit
from grid.incident import Clock, Incident, IncidentState
from grid.workcalendar import WorkingCalendar

HOUR = 3600.0

# Which clock runs once an incident has entered a state; states absent here have none.
STAGE_AFTER = {
    IncidentState.REPORTED: Stage.ACCEPT,
    IncidentState.ACCEPTED: Stage.DISPATCH,
    IncidentState.RETURNED: Stage.DISPATCH,
    IncidentState.DISPATCHED: Stage.SIGN,
    IncidentState.SIGNED: Stage.HANDLE,
    IncidentState.REOPENED: Stage.HANDLE,
    IncidentState.HANDLED: Stage.VERIFY,
}


def _runs_on_working_time(unit: TimeUnit) -> bool:
    return unit in (TimeUnit.WORK_HOUR, TimeUnit.WORK_DAY)


def deadline(start: dt.datetime, limit: TimeLimit, calendar: WorkingCalendar) -> dt.datetime:
    """When a stage that starts at `start` with `limit` falls due."""
    match limit.unit:
        case TimeUnit.URGENT_HOUR:
            return calendar.local(start) + dt.timedelta(hours=limit.value)
        case TimeUnit.NATURAL_DAY:
            return calendar.local(start) + dt.timedelta(days=limit.value)
        case TimeUnit.WORK_HOUR:
            return calendar.add_working_seconds(start, limit.value * HOUR)
        case TimeUnit.WORK_DAY:
            return calendar.close_of_workday(start, int(limit.value))


def start_clock(stage: Stage, limit: TimeLimit, at: dt.datetime, calendar: WorkingCalendar) -> Clock:
    return Clock(stage=stage, unit=limit.unit, started=at, deadline=deadline(at, limit, calendar))


def time_left(clock: Clock, at: dt.datetime, calendar: WorkingCalendar) -> float:
    """Seconds left before the deadline in the clock's own time (working seconds for working units);
    negative once overdue. A stopped clock keeps what it had when it stopped."""
    if clock.remaining is not None:
        return clock.remaining
    if _runs_on_working_time(clock.unit):
        return calendar.working_seconds_between(at, clock.deadline)
    return (clock.deadline - at).total_seconds()


def stop_clock(clock: Clock, at: dt.datetime, calendar: WorkingCalendar) -> Clock:
    left = time_left(clock, at, calendar)
    if at > clock.deadline:
        # Past the deadline outside working hours no working time has elapsed, yet it is overdue.
        left = min(left, -1.0)
    return Clock(
        stage=clock.stage,
        unit=clock.unit,
        started=clock.started,
        deadline=clock.deadline,
        remaining=left,
    )


def restart_clock(clock: Clock, at: dt.datetime, calendar: WorkingCalendar) -> Clock:
    """Resume a stopped clock: the new deadline is what was left, counted from `at`."""
    left = clock.remaining if clock.remaining is not None else time_left(clock, at, calendar)
    if _runs_on_working_time(clock.unit):
        due = calendar.add_working_seconds(at, left)
    else:
        due = calendar.local(at) + dt.timedelta(seconds=left)
    return Clock(stage=clock.stage, unit=clock.unit, started=clock.started, deadline=due)


def past_deadline(clock: Clock, at: dt.datetime) -> bool:
    """Whether the clock's stage is late at `at`; a stopped clock is late only if it already was."""
    if clock.remaining is not None:
        return clock.remaining < 0
    return at > clock.deadline


def is_overdue(incident: Incident, at: dt.datetime) -> bool:
    """Overdue: open, clock running, and past the current stage's deadline. A suspended incident is
    overdue only if it already was when it stopped."""
    clock = incident.clock
    if clock is None or not incident.is_open:
        return False
    return past_deadline(clock, at)
