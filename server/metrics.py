"""Prometheus metrics: counters the code increments, and gauges read from the database at scrape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from server.db.tables import IncidentRow
from server.services.incidents import OPEN_STATES


class IncidentGauges(Collector):
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        open_now = GaugeMetricFamily(
            "gridwatch_open_incidents", "Open incidents by township", labels=["township"]
        )
        overdue = GaugeMetricFamily(
            "gridwatch_overdue_incidents", "Overdue open incidents by township", labels=["township"]
        )
        with Session(self.engine) as session:
            rows = session.exec(
                select(IncidentRow.township, func.count())
                .where(col(IncidentRow.state).in_(OPEN_STATES))
                .group_by(col(IncidentRow.township))
            ).all()
            for township, count in rows:
                open_now.add_metric([township or "unlocated"], count)
            late = session.exec(
                select(IncidentRow.township, func.count())
                .where(
                    col(IncidentRow.state).in_(OPEN_STATES),
                    or_(
                        (col(IncidentRow.clock_remaining).is_(None))
                        & (col(IncidentRow.deadline) < self.clock()),
                        col(IncidentRow.clock_remaining) < 0,
                    ),
                )
                .group_by(col(IncidentRow.township))
            ).all()
            for township, count in late:
                overdue.add_metric([township or "unlocated"], count)
        yield open_now
        yield overdue


class Metrics:
    """One registry per app, so several apps (tests, replicas in one process) never share counts."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.registry = CollectorRegistry()
        self.reports = Counter(
            "gridwatch_reports", "Reports taken in, by outcome", ["status"], registry=self.registry
        )
        self.transitions = Counter(
            "gridwatch_transitions",
            "Lifecycle transitions applied, by action",
            ["action"],
            registry=self.registry,
        )
        self.registry.register(IncidentGauges(engine, clock))
