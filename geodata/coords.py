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

import numpy as np
import numpy.typing as npt

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


class Crs(enum.StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


Coordinates = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


def outside_china(lon: float, lat: float) -> bool:
    """The map providers' rough rectangle: no offset is applied outside it."""
    return bool(_outside(np.asarray(lon), np.asarray(lat)))


def _outside(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


# Each transform works on arrays of any shape (a 0-d array for one point), so a boundary file's
# million vertices convert in one pass and a single report uses the same code.


def _offset(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def _to_gcj02(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    d_lon, d_lat = _offset(lon, lat)
    outside = _outside(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def _gcj02_to_bd09(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    """Baidu's published one-step inverse; a starting point for the exact inverse."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


Transform = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], Coordinates]


def _invert(
    forward: Transform, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], start: Coordinates
) -> Coordinates:
    """Solve forward(p) = (lon, lat) by fixed-point iteration from `start`, for every point at once."""
    x, y = start
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        if (
            max(float(np.max(np.abs(dx), initial=0.0)), float(np.max(np.abs(dy), initial=0.0)))
            < _TOLERANCE_DEG
        ):
            break
        x, y = x - dx, y - dy
    return x, y


def _gcj02_to_wgs84(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    d_lon, d_lat = _offset(lon, lat)
    x, y = _invert(_to_gcj02, lon, lat, (lon - d_lon, lat - d_lat))
    outside = _outside(lon, lat)
    return np.where(outside, lon, x), np.where(outside, lat, y)


def _bd09_to_gcj02(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    return _invert(_gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def _bd09_to_wgs84(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


def _wgs84_to_bd09(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Coordinates:
    return _gcj02_to_bd09(*_to_gcj02(lon, lat))


def _point(transform: Transform) -> Callable[[float, float], tuple[float, float]]:
    def convert(lon: float, lat: float) -> tuple[float, float]:
        x, y = transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return float(x), float(y)

    convert.__doc__ = f"One point: {transform.__name__.lstrip('_').replace('_', ' ')}."
    return convert


wgs84_to_gcj02 = _point(_to_gcj02)
gcj02_to_wgs84 = _point(_gcj02_to_wgs84)
gcj02_to_bd09 = _point(_gcj02_to_bd09)
bd09_to_gcj02 = _point(_bd09_to_gcj02)
wgs84_to_bd09 = _point(_wgs84_to_bd09)
bd09_to_wgs84 = _point(_bd09_to_wgs84)

_TO_WGS84: dict[Crs, Transform] = {Crs.GCJ02: _gcj02_to_wgs84, Crs.BD09: _bd09_to_wgs84}


def to_wgs84_many(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], crs: Crs | str) -> Coordinates:
    """Convert arrays of coordinates in `crs` to WGS-84 (a boundary file's vertices)."""
    transform = _TO_WGS84.get(Crs(crs))
    return (lon, lat) if transform is None else transform(lon, lat)


_POINT_TO_WGS84 = {Crs.GCJ02: gcj02_to_wgs84, Crs.BD09: bd09_to_wgs84}


def to_wgs84(lon: float, lat: float, crs: Crs | str | None) -> tuple[float, float]:
    """Convert a coordinate in `crs` (default WGS-84) to WGS-84 for storage."""
    convert = _POINT_TO_WGS84.get(Crs(crs or Crs.WGS84))
    return (lon, lat) if convert is None else convert(lon, lat)
