"""WGS-84 ↔ GCJ-02 ↔ BD-09 round trips over China's extent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodata.coords import (
    Crs,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    outside_china,
    to_wgs84,
    to_wgs84_many,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from grid.geo import distance_m

china_lon = st.floats(min_value=73.7, max_value=134.7)
china_lat = st.floats(min_value=18.2, max_value=53.5)


@given(lon=china_lon, lat=china_lat)
def test_gcj02_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(lon, lat, *back) < 0.5


@given(lon=china_lon, lat=china_lat)
def test_bd09_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    assert distance_m(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 0.5
    assert distance_m(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))) < 0.5


@given(lon=china_lon, lat=china_lat)
def test_offsets_are_the_size_the_maps_show(lon: float, lat: float) -> None:
    # GCJ-02 moves points by tens to several hundred metres; BD-09 adds roughly another kilometre.
    assert 1.0 < distance_m(lon, lat, *wgs84_to_gcj02(lon, lat)) < 1200.0
    assert 200.0 < distance_m(lon, lat, *wgs84_to_bd09(lon, lat)) < 2500.0


def test_known_offset_direction_in_beijing() -> None:
    lon, lat = wgs84_to_gcj02(116.3912757, 39.906217)  # Tian'anmen
    # The published offset there is about +0.0062° east and +0.0014° north.
    assert lon - 116.3912757 == pytest.approx(0.0062, abs=0.0005)
    assert lat - 39.906217 == pytest.approx(0.0014, abs=0.0005)


@pytest.mark.parametrize(("lon", "lat"), [(-0.1276, 51.5072), (139.6917, 35.6895), (150.0, -33.0)])
def test_identity_outside_china(lon: float, lat: float) -> None:
    assert outside_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_to_wgs84_dispatch() -> None:
    lon, lat = 119.6, 29.1
    assert to_wgs84(lon, lat, None) == (lon, lat)
    assert to_wgs84(lon, lat, "wgs84") == (lon, lat)
    gcj = wgs84_to_gcj02(lon, lat)
    assert distance_m(lon, lat, *to_wgs84(*gcj, Crs.GCJ02)) < 0.5
    assert distance_m(lon, lat, *to_wgs84(*wgs84_to_bd09(lon, lat), "bd09")) < 0.5
    with pytest.raises(ValueError, match="mars"):
        to_wgs84(lon, lat, "mars")


@given(
    points=st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50),
    crs=st.sampled_from([Crs.GCJ02, Crs.BD09]),
)
def test_whole_arrays_convert_as_each_point_does(points: list[tuple[float, float]], crs: Crs) -> None:
    lon, lat = np.array(points).T
    many = np.column_stack(to_wgs84_many(lon, lat, crs))
    one_by_one = np.array([to_wgs84(x, y, crs) for x, y in points])
    assert max(distance_m(*a, *b) for a, b in zip(many, one_by_one, strict=True)) < 0.01
