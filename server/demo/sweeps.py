"""The demo county's last Tuesday sweeps (综合查一次): planned, published and their outcomes recorded
through the sweep service itself, each on its own Tuesday, so the plans, subject visits and risk
levels are what the platform would have kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
from sqlmodel import Session

from grid.sweep.outcomes import Outcome
from grid.sweep.plan import Mode, SweepRules
from server.runtime import Runtime
from server.sweeps.service import SweepService, plan_of

# One township a Tuesday (every township in turn), the last twelve weeks.
WEEKS = 12
NOTES = {
    Outcome.NOTHING_FOUND: "现场检查未发现问题",
    Outcome.RECTIFICATION: "发现问题，已责令限期整改",
    Outcome.CASE_OPENED: "发现违法行为，立案查处",
}


def _tuesdays(today: dt.date, weeks: int) -> Iterator[dt.date]:
    last = today - dt.timedelta(days=(today.weekday() - 1) % 7 or 7)
    for k in range(weeks):
        yield last - dt.timedelta(weeks=weeks - 1 - k)


def _service_at(session: Session, runtime: Runtime, moment: dt.datetime) -> SweepService:
    """The sweep service as it was at `moment`."""
    return SweepService(session, runtime.domains.on(session), lambda: moment, runtime.sweep_solver)


def past_sweeps(session: Session, runtime: Runtime, seed: int, weeks: int = WEEKS) -> int:
    """Plan, publish and record the last `weeks` Tuesdays' sweeps; how many outcomes were recorded."""
    rng = np.random.default_rng(seed)
    domain = runtime.domains(session)
    townships = sorted(domain.router.townships)
    today = domain.calendar.local(runtime.clock()).date()
    recorded = 0
    for k, tuesday in enumerate(_tuesdays(today, weeks)):
        scope = townships[k % len(townships)]
        morning = dt.datetime.combine(tuesday, dt.time(8), domain.calendar.tz)
        actor = f"duty:{scope}"
        sweeps = _service_at(session, runtime, morning)
        draft = sweeps.create(tuesday, scope, Mode.DOUBLE_RANDOM, seed + k, SweepRules(), actor)
        published = sweeps.publish(draft.id, draft.revision, actor)
        plan = plan_of(published)
        evening = _service_at(session, runtime, morning + dt.timedelta(hours=9))
        for stop_id in [s for team in plan.teams for s in team.stops]:
            stop = plan.stop(stop_id)
            roll = rng.random()
            outcome = (
                Outcome.CASE_OPENED
                if stop.incidents and roll < 0.3
                else Outcome.RECTIFICATION
                if roll < 0.35
                else Outcome.NOTHING_FOUND
            )
            evening.record(published.id, stop_id, outcome, NOTES[outcome], None, actor, runtime.intake)
            recorded += 1
    return recorded
