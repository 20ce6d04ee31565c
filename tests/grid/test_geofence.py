"""Point → cell (docs/domain.md#locate), as properties: inside, edges, snapping, far away, bulk = single."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geodata.dataset import Dataset
from geodata.synth import synthesize
from grid.geo import METRES_PER_DEGREE_LAT, distance_m, metres_per_degree_lon
from grid.geofence import GeofenceIndex
from grid.places import cell_code

# A 4 × 4 grid of 0.001° squares at (120°E, 30°N); codes run down the columns, so on an edge
# the western or northern neighbour is not always the lower code.
X0, Y0, STEP = 120.0, 30.0, 0.001
SQUARES = {
    cell_code("330100101201", 1 + col * 4 + row): shapely.box(
        X0 + col * STEP, Y0 + row * STEP, X0 + (col + 1) * STEP, Y0 + (row + 1) * STEP
    )
    for col in range(4)
    for row in range(4)
}
GRID = GeofenceIndex(SQUARES.items(), version=7)
_COUNTY = synthesize(11)
COUNTY_INDEX = _COUNTY.geofence()
COUNTY_CELLS = list(zip(_COUNTY.cells.records, _COUNTY.cells.shapes, strict=True))

coordinate = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def square_code(col: int, row: int) -> str:
    return cell_code("330100101201", 1 + col * 4 + row)


@given(col=st.integers(0, 3), row=st.integers(0, 3), u=st.floats(0.01, 0.99), v=st.floats(0.01, 0.99))
def test_point_inside_a_square_locates_to_it(col: int, row: int, u: float, v: float) -> None:
    where = GRID.locate(X0 + (col + u) * STEP, Y0 + (row + v) * STEP)
    assert where.cell == square_code(col, row)
    assert not where.snapped
    assert where.index_version == 7


@given(index=st.integers(0, len(COUNTY_CELLS) - 1), u=coordinate, v=coordinate)
@settings(max_examples=300)
def test_point_well_inside_a_county_cell_locates_to_it(index: int, u: float, v: float) -> None:
    cell, polygon = COUNTY_CELLS[index]
    minx, miny, maxx, maxy = polygon.bounds
    x, y = minx + u * (maxx - minx), miny + v * (maxy - miny)
    assume(polygon.buffer(-1e-6).contains(shapely.Point(x, y)))
    assert COUNTY_INDEX.locate(x, y).cell == cell.code


@given(col=st.integers(0, 2), row=st.integers(0, 3), v=st.floats(0.0, 1.0))
def test_point_on_a_shared_edge_goes_to_the_lowest_code(col: int, row: int, v: float) -> None:
    x, y = X0 + (col + 1) * STEP, Y0 + (row + v) * STEP  # the edge between columns col and col+1
    touching = [code for code, square in SQUARES.items() if square.intersects(shapely.Point(x, y))]
    assert len(touching) >= 2
    expected = min(touching)
    assert GRID.locate(x, y).cell == expected
    assert GRID.locate_many([x], [y]).cells(GRID) == [expected]


@given(index=st.integers(0, len(COUNTY_CELLS) - 1), share=coordinate)
@settings(max_examples=200)
def test_boundary_points_of_county_cells_are_deterministic(index: int, share: float) -> None:
    _, polygon = COUNTY_CELLS[index]
    # Vertices are exact and shared with the neighbours (interpolated points drift off the edge).
    vertices = shapely.get_coordinates(polygon.exterior)[:-1]
    point = shapely.Point(vertices[int(share * (len(vertices) - 1))])
    touching = [c.code for c, p in COUNTY_CELLS if p.intersects(point)]
    where = COUNTY_INDEX.locate(point.x, point.y)
    # A boundary point of one cell is in the lowest-coded cell it touches, every time.
    assert where.cell == min(touching)
    assert where.cell == COUNTY_INDEX.locate(point.x, point.y).cell


@pytest.mark.parametrize(
    ("metres_out", "accuracy", "snapped"),
    [
        (5, None, True),
        (25, None, True),
        (29, 10, True),
        (45, None, False),
        (45, 60, True),
        (95, 5_000, True),  # accuracy widens the radius up to 100 m ...
        (105, 5_000, False),  # ... and no further
        (2_000, 5_000, False),
        (200, 150, False),
        (25, float("nan"), True),  # an unreadable accuracy counts as none
        (45, float("inf"), False),
    ],
)
def test_snapping_within_max_of_min_accuracy_and_100_m_or_30_m(
    metres_out: float, accuracy: float | None, snapped: bool
) -> None:
    # West of the grid's western edge, level with the middle of square (0, 1).
    y = Y0 + 1.5 * STEP
    x = X0 - metres_out / metres_per_degree_lon(y)
    where = GRID.locate(x, y, accuracy)
    assert where.snapped is snapped
    if snapped:
        assert where.cell == square_code(0, 1)
        assert where.distance_m == pytest.approx(metres_out, rel=0.01)
    else:
        assert where.unlocated and where.cell is None


def test_snapping_picks_the_nearest_cell() -> None:
    # Outside the north-east corner: nearer square (3, 3) than anything else.
    y = Y0 + 4 * STEP + 10 / METRES_PER_DEGREE_LAT
    where = GRID.locate(X0 + 3.9 * STEP, y)
    assert (where.cell, where.snapped) == (square_code(3, 3), True)


@given(gap_m=st.floats(2.0, 50.0), noise_m=st.floats(-0.00045, 0.00045), flip=st.booleans())
def test_equally_near_cells_snap_to_the_lowest_code(gap_m: float, noise_m: float, flip: bool) -> None:
    # Two cells with a gap between them; a point in the middle is equally near both, give or take
    # less than a millimetre (the point moves by half the difference), which must not decide.
    y = Y0 + 0.5 * STEP
    kx = metres_per_degree_lon(y)
    west = shapely.box(X0 - STEP, Y0, X0, Y0 + STEP)
    east = shapely.box(X0 + gap_m / kx, Y0, X0 + gap_m / kx + STEP, Y0 + STEP)
    low, high = cell_code("330100101201", 1), cell_code("330100101201", 2)
    index = GeofenceIndex([(low, east if flip else west), (high, west if flip else east)], version=1)
    x = X0 + (gap_m / 2 + noise_m) / kx
    where = index.locate(x, y)
    assert (where.cell, where.snapped) == (low, True)
    assert index.locate_many([x], [y]).cells(index) == [low]


def test_a_nearer_cell_wins_over_a_lower_code() -> None:
    y = Y0 + 0.5 * STEP
    kx = metres_per_degree_lon(y)
    low, high = cell_code("330100101201", 1), cell_code("330100101201", 2)
    index = GeofenceIndex(
        [
            (low, shapely.box(X0 - STEP, Y0, X0, Y0 + STEP)),
            (high, shapely.box(X0 + 20 / kx, Y0, X0 + STEP, Y0 + STEP)),
        ],
        version=1,
    )
    where = index.locate(X0 + 10.01 / kx, y)  # a centimetre nearer the higher code
    assert where.cell == high


@given(
    bearing=st.floats(0, 2 * np.pi),
    km=st.floats(min_value=1.0, max_value=500.0),
    accuracy=st.one_of(st.none(), st.floats(0, 500)),
)
def test_far_points_are_unlocated(bearing: float, km: float, accuracy: float | None) -> None:
    boundary = shapely.union_all(_COUNTY.counties.shapes)
    centre = boundary.centroid
    radius_deg = np.hypot(*np.subtract(boundary.bounds[2:], boundary.bounds[:2]))
    x = centre.x + (radius_deg + km / 100) * np.cos(bearing)
    y = centre.y + (radius_deg + km / 100) * np.sin(bearing)
    assume(
        distance_m(
            x, y, *boundary.exterior.interpolate(boundary.exterior.project(shapely.Point(x, y))).coords[0]
        )
        > 600
    )
    where = COUNTY_INDEX.locate(x, y, accuracy)
    assert where.unlocated and not where.snapped


@pytest.mark.parametrize(("lon", "lat"), [(float("nan"), 30.0), (120.0, float("inf")), (1e300, 1e300)])
def test_non_finite_points_are_unlocated(lon: float, lat: float) -> None:
    assert GRID.locate(lon, lat).unlocated
    assert GRID.locate_many([lon], [lat]).cell_index.tolist() == [-1]


def test_bulk_equals_single(county: Dataset) -> None:
    index = county.geofence()
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = shapely.total_bounds(county.cells.shapes)
    lon = rng.uniform(minx - 0.01, maxx + 0.01, 4000)
    lat = rng.uniform(miny - 0.01, maxy + 0.01, 4000)
    accuracy = rng.choice([np.nan, 10.0, 80.0], 4000)
    bulk = index.locate_many(lon, lat, accuracy)
    single = [
        index.locate(x, y, None if np.isnan(a) else a) for x, y, a in zip(lon, lat, accuracy, strict=True)
    ]
    assert bulk.cells(index) == [s.cell for s in single]
    assert bulk.snapped.tolist() == [s.snapped for s in single]
    located = ~np.isnan(bulk.distance_m)
    assert np.allclose(
        bulk.distance_m[located], [s.distance_m for s, ok in zip(single, located, strict=True) if ok]
    )
    assert 0 < int((bulk.cell_index < 0).sum()) < 4000  # the sample has both kinds
    assert int(bulk.snapped.sum()) > 0


def test_empty_inputs_and_index() -> None:
    assert len(GRID.locate_many([], []).cell_index) == 0
    empty = GeofenceIndex([], version=0)
    assert empty.locate(120.0, 30.0).unlocated
    assert empty.locate_many([120.0], [30.0]).cell_index.tolist() == [-1]
    with pytest.raises(ValueError, match="same length"):
        GRID.locate_many([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="same length"):
        GRID.locate_many([1.0, 2.0], [1.0, 2.0], [10.0])


def test_index_refuses_bad_or_duplicate_codes() -> None:
    square = shapely.box(0, 0, 1, 1)
    with pytest.raises(ValueError, match="duplicate"):
        GeofenceIndex([("33010010120101", square), ("33010010120101", square)], version=1)
    with pytest.raises(Exception, match="14 digits"):
        GeofenceIndex([("3301001012010", square)], version=1)
