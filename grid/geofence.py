"""Point → cell (docs/domain.md#locate): an STRtree over prepared cell polygons.

* A point inside or on the boundary of cells goes to the one with the lowest code, so a point on a
  shared edge always lands in the same cell.
* A point outside every cell but within max(min(accuracy, 100 m), 30 m) of one snaps to the nearest
  (equally near, to within a millimetre: the lowest code), `snapped`.
* Otherwise it is unlocated: never dropped, never guessed.

Cells are kept sorted by code, so "lowest code" is "lowest tree index".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import msgspec
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from grid.geo import METRES_PER_DEGREE_LAT, degrees_covering, metres_per_degree_lon
from grid.places import check_cell_code

SNAP_MIN_M = 30.0
# A phone's accuracy widens the snap radius only this far: beyond it a point is not in the county.
SNAP_MAX_M = 100.0
# Distances closer than this are equally near: float noise must not decide between two cells.
SNAP_TIE_M = 0.001
UNLOCATED = -1


def snap_radius_m(accuracy: float | None) -> float:
    """How far outside every cell a point may be and still be snapped (docs/domain.md#locate)."""
    if accuracy is None or not math.isfinite(accuracy):
        return SNAP_MIN_M
    return max(min(accuracy, SNAP_MAX_M), SNAP_MIN_M)


class Location(msgspec.Struct, frozen=True, kw_only=True):
    cell: str | None
    snapped: bool
    # Distance in metres to the cell a snapped point was moved into; 0 for a point inside.
    distance_m: float
    index_version: int

    @property
    def snapped_m(self) -> float | None:
        """How far a snapped point was moved into its cell; None for a point found inside one."""
        return self.distance_m if self.snapped else None

    @property
    def unlocated(self) -> bool:
        return self.cell is None


class BulkLocation(msgspec.Struct, frozen=True, kw_only=True):
    """Column-wise results of `locate_many`: `cell_index` is -1 for unlocated points."""

    cell_index: npt.NDArray[np.int64]
    snapped: npt.NDArray[np.bool_]
    distance_m: npt.NDArray[np.float64]
    index_version: int

    def cells(self, index: GeofenceIndex) -> list[str | None]:
        codes = index.codes
        return [None if i < 0 else codes[i] for i in self.cell_index.tolist()]


class GeofenceIndex:
    def __init__(self, cells: Iterable[tuple[str, BaseGeometry]], version: int) -> None:
        pairs = sorted(cells, key=lambda pair: pair[0])
        codes = [check_cell_code(code) for code, _ in pairs]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate cell codes in the geofence index")
        self.codes: tuple[str, ...] = tuple(codes)
        self.version = version
        self.polygons = np.array([geometry for _, geometry in pairs], dtype=object)
        if len(self.polygons):
            shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        # The envelope of all cells (minx, miny, maxx, maxy): what "inside the county" means coarsely.
        self.bounds = tuple(shapely.total_bounds(self.polygons).tolist()) if len(self.polygons) else None

    def __len__(self) -> int:
        return len(self.codes)

    def circle(self, code: str) -> tuple[float, float, float]:
        """A circle standing in for a cell where only circles are understood (OwnTracks regions):
        centred inside the cell, with the cell's area, as (lon, lat, radius in metres)."""
        i = self.codes.index(code)
        polygon = self.polygons[i]
        centre = polygon.centroid if polygon.contains(polygon.centroid) else polygon.representative_point()
        lon, lat = centre.x, centre.y
        kx, ky = metres_per_degree_lon(lat), METRES_PER_DEGREE_LAT
        area = shapely.area(shapely.transform(polygon, lambda c: (c - (lon, lat)) * (kx, ky)))
        return lon, lat, math.sqrt(float(area) / math.pi)

    # -- one point --------------------------------------------------------------------------------

    def locate(self, lon: float, lat: float, accuracy: float | None = None) -> Location:
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        # Nearly every point is in exactly one cell; numpy's min() would cost more than the query.
        count = len(hits)
        if count:
            best = hits[0] if count == 1 else hits.min()
            return Location(cell=self.codes[best], snapped=False, distance_m=0.0, index_version=self.version)
        index, distance = self._snap(lon, lat, accuracy)
        return Location(
            cell=None if index == UNLOCATED else self.codes[index],
            snapped=index != UNLOCATED,
            distance_m=distance,
            index_version=self.version,
        )

    def _snap(self, lon: float, lat: float, accuracy: float | None) -> tuple[int, float]:
        """The nearest cell within max(min(accuracy, 100 m), 30 m), measured in metres around the
        point; cells equally near (within SNAP_TIE_M) go to the lowest code."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return UNLOCATED, float("nan")
        radius = snap_radius_m(accuracy)
        point = shapely.Point(lon, lat)
        candidates = self.tree.query(point, predicate="dwithin", distance=degrees_covering(radius, lat))
        if not len(candidates):
            return UNLOCATED, float("nan")
        # A local equirectangular frame centred on the point: metres, isotropic at this latitude.
        kx, ky = metres_per_degree_lon(lat), METRES_PER_DEGREE_LAT

        def to_metres(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return (coords - (lon, lat)) * (kx, ky)

        local = shapely.transform(self.polygons[candidates], to_metres)
        distances = shapely.distance(local, shapely.Point(0.0, 0.0))
        nearest = float(distances.min())
        if nearest > radius:
            return UNLOCATED, float("nan")
        # Candidates come in tree order, not code order: the lowest index among the equally near.
        tied = distances <= nearest + SNAP_TIE_M
        best = int(candidates[tied].min())
        return best, float(distances[candidates == best][0])

    # -- many points ------------------------------------------------------------------------------

    def locate_many(
        self,
        lons: Sequence[float] | npt.NDArray[np.float64],
        lats: Sequence[float] | npt.NDArray[np.float64],
        accuracies: Sequence[float] | npt.NDArray[np.float64] | None = None,
    ) -> BulkLocation:
        lon = np.asarray(lons, dtype=np.float64)
        lat = np.asarray(lats, dtype=np.float64)
        acc = None if accuracies is None else np.asarray(accuracies, dtype=np.float64)
        if lon.shape != lat.shape or lon.ndim != 1 or (acc is not None and acc.shape != lon.shape):
            raise ValueError("lons, lats and accuracies must be 1-D arrays of the same length")
        n = len(lon)
        result = np.full(n, UNLOCATED, dtype=np.int64)
        snapped = np.zeros(n, dtype=bool)
        distance = np.zeros(n, dtype=np.float64)
        if n == 0 or len(self) == 0:
            distance[:] = np.nan
            return BulkLocation(
                cell_index=result, snapped=snapped, distance_m=distance, index_version=self.version
            )
        point_idx, cell_idx = self.tree.query(shapely.points(lon, lat), predicate="intersects")
        # Lowest cell index per point: fill with the maximum, then reduce with minimum.
        np.minimum.at(result.view(np.uint64), point_idx, cell_idx.astype(np.uint64))
        missing = np.flatnonzero(result == UNLOCATED)
        for i in missing.tolist():
            a = None if acc is None or np.isnan(acc[i]) else float(acc[i])
            index, d = self._snap(float(lon[i]), float(lat[i]), a)
            result[i] = index
            snapped[i] = index != UNLOCATED
            distance[i] = d
        return BulkLocation(
            cell_index=result, snapped=snapped, distance_m=distance, index_version=self.version
        )
