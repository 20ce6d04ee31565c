"""One place that wires the server's parts together: settings, engine, domain, intake, clock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from geodata.catalog_files import default_calendar
from geodata.coords import to_wgs84
from grid.intake import Intake
from grid.patrols import Patrols
from server.db import migrate as db_migrate
from server.db.engine import OutageCheck, make_engine
from server.field.store import SqlRejects, SqlRoster
from server.incidents.store import SqlIntakeStore
from server.ops.metrics import Metrics
from server.patrols.store import SqlPatrolStore
from server.reference.service import DomainCache
from server.settings import Settings, get_settings
from server.sweeps.solver import OrToolsRoutes
from sync.ingest import Ingest


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_incident_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Callable[[], dt.datetime] = utc_now
    domains: DomainCache = field(init=False)
    intake: Intake = field(init=False)
    patrols: Patrols = field(init=False)
    metrics: Metrics = field(init=False)
    sweep_solver: OrToolsRoutes = field(default_factory=OrToolsRoutes)

    def __post_init__(self) -> None:
        self.domains = DomainCache(self.engine, default_calendar())
        self.intake = Intake(self.domains, SqlIntakeStore(self.engine), to_wgs84, self.clock)
        self.patrols = Patrols(self.domains, SqlPatrolStore(self.engine, self.clock), to_wgs84)
        self.metrics = Metrics(self.engine, self.clock)

    def today(self) -> dt.date:
        """Today in the county's time zone (the calendar is fixed: no database read)."""
        return self.domains.calendar.local(self.clock()).date()

    def field_ingest(self, roster: SqlRoster | None = None) -> Ingest:
        """The MQTT side's pipeline: reports and alerts into the intake, pings into patrols."""
        return Ingest(
            self.intake,
            self.patrols,
            roster or SqlRoster(self.engine),
            SqlRejects(self.engine, self.clock),
            outage=OutageCheck(self.engine),
        )


def runtime_from(settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> Runtime:
    return Runtime(settings=settings, engine=make_engine(settings.database_url), clock=clock)


def migrated_runtime() -> Runtime:
    """The runtime of a one-shot command, on a database brought up to the latest schema."""
    runtime = runtime_from(get_settings())
    db_migrate.upgrade(runtime.engine)
    return runtime
