"""Prometheus metrics: counters the code increments, and gauges read from the database at scrape.

What an operator watches: the intake rate (gridwatch_reports_total over HTTP,
gridwatch_field_messages_total over MQTT), the ack latency (gridwatch_ack_latency_seconds), the
ingest queue (gridwatch_ingest_queue_depth, gridwatch_ingest_failed_batches_total), the outbox not
yet relayed (gridwatch_outbox_backlog) and the open and overdue incidents per township."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from server.db.tables import IncidentRow
from server.events.store import SqlOutbox
from server.incidents.store import OPEN_STATES
from sync.ingest import MqttIngest


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
        yield GaugeMetricFamily(
            "gridwatch_outbox_backlog",
            "Committed changes not yet relayed to the broker",
            value=SqlOutbox(self.engine).backlog(),
        )


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
        self.field_messages = Counter(
            "gridwatch_field_messages",
            "MQTT messages committed and answered, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "gridwatch_ack_latency_seconds",
            "From a message's arrival at the ingest worker to its ack, after the commit",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.failed_batches = Counter(
            "gridwatch_ingest_failed_batches",
            "Ingest batches that failed and went back to the broker",
            registry=self.registry,
        )
        self.failed_messages = Counter(
            "gridwatch_ingest_failed_messages",
            "Messages in failed batches (redelivered by the broker)",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "gridwatch_ingest_queue_depth",
            "Messages received by the ingest worker and not yet committed",
            registry=self.registry,
        )
        self.registry.register(IncidentGauges(engine, clock))

    # sync.ingest.IngestMeter
    def taken(self, kinds: Sequence[str], waits: Sequence[float]) -> None:
        for kind in kinds:
            self.field_messages.labels(kind=kind).inc()
        for wait in waits:
            self.ack_latency.observe(wait)

    def failed(self, count: int) -> None:
        self.failed_batches.inc()
        self.failed_messages.inc(count)

    def watch(self, ingest: MqttIngest) -> None:
        self.queue_depth.set_function(ingest.inbox.qsize)
