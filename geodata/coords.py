"""WGS-84 ↔ GCJ-02 ↔ BD-09, the coordinate systems of Chinese phone maps.

GCJ-02 is the public "leaked" obfuscation (Krasovsky ellipsoid constants); BD-09 is Baidu's further
rotation of GCJ-02. Inverses are found by fixed-point iteration until the forward transform of the
estimate lands within 1e-9° (~0.1 mm) of the input. Outside China the transforms are the identity,
as the map providers do.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


class Crs(enum.StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def outside_china(lon: float, lat: float) -> bool:
    """The map providers' rough rectangle: no offset is applied outside it."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if outside_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02_approx(lon: float, lat: float) -> tuple[float, float]:
    """Baidu's published one-step inverse; a starting point for the exact inverse."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _invert(
    forward: Callable[[float, float], tuple[float, float]], lon: float, lat: float, start: tuple[float, float]
) -> tuple[float, float]:
    """Solve forward(p) = (lon, lat) by fixed-point iteration from `start`."""
    x, y = start
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        if abs(dx) < _TOLERANCE_DEG and abs(dy) < _TOLERANCE_DEG:
            break
        x, y = x - dx, y - dy
    return x, y


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if outside_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _offset(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat, (lon - d_lon, lat - d_lat))


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lon, lat, bd09_to_gcj02_approx(lon, lat))


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: float, lat: float, crs: Crs | str | None) -> tuple[float, float]:
    """Convert a coordinate in `crs` (default WGS-84) to WGS-84 for storage."""
    match Crs(crs or Crs.WGS84):
        case Crs.WGS84:
            return lon, lat
        case Crs.GCJ02:
            return gcj02_to_wgs84(lon, lat)
        case Crs.BD09:
            return bd09_to_wgs84(lon, lat)
