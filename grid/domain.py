"""What the rules need at hand, built by an adapter from whatever it stores: one bundle, one version."""

from __future__ import annotations

from dataclasses import dataclass

from grid.catalog import Catalog
from grid.geofence import GeofenceIndex
from grid.lifecycle import Lifecycle
from grid.routing import Router
from grid.workcalendar import WorkingCalendar


@dataclass(frozen=True)
class Domain:
    catalog: Catalog
    calendar: WorkingCalendar
    router: Router
    index: GeofenceIndex
    lifecycle: Lifecycle
