"""Small-distance geodesy on WGS-84 longitude/latitude, good to well under a metre over a few km."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180.0


def metres_per_degree_lon(lat: float) -> float:
    return METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def degrees_covering(metres: float, lat: float) -> float:
    """A radius in degrees that covers `metres` in every direction at latitude `lat`."""
    return metres / min(METRES_PER_DEGREE_LAT, metres_per_degree_lon(min(abs(lat) + 1.0, 89.0)))
