"""Probable duplicates (docs/domain.md#duplicates): same minor category, within 50 m and 24 h of an open incident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from grid.geo import METRES_PER_DEGREE_LAT, distance_m
from grid.incident import Incident

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = dt.timedelta(hours=24)


def probable_duplicate(
    category: str,
    lon: float,
    lat: float,
    at: dt.datetime,
    candidates: Iterable[Incident],
    *,
    radius_m: float = DUPLICATE_RADIUS_M,
    window: dt.timedelta = DUPLICATE_WINDOW,
) -> Incident | None:
    """The nearest open incident the new report probably duplicates, or None.

    Ties go to the earlier incident, so a cluster of reports links to its first one. The caller
    pre-selects candidates (a bounding-box query); this decides.
    """
    best: tuple[float, dt.datetime, str] | None = None
    found: Incident | None = None
    for incident in candidates:
        if incident.category != category or not incident.is_open:
            continue
        if abs(at - incident.reported_at) > window:
            continue
        # A degree of latitude is the same everywhere: most candidates fail here, cheaply.
        if abs(incident.lat - lat) * METRES_PER_DEGREE_LAT > radius_m:
            continue
        d = distance_m(lon, lat, incident.lon, incident.lat)
        if d > radius_m:
            continue
        key = (d, incident.reported_at, incident.id)
        if best is None or key < best:
            best, found = key, incident
    return found
