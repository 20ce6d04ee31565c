"""Cell coding for files without codes: 14-digit codes numbered west→east, north→south per village."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from grid.places import cell_code

# Vertices this close to the line of their neighbours are where a neighbour's edge meets a border
# (about a centimetre): they must not move a cell's anchor point.
_NODE_DEGREES = 3e-7


def anchor_points(polygons: Sequence[BaseGeometry] | npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """A point inside each polygon that stays put when a neighbour's node is added on its edge
    (GEOS's point on surface scans the line through the middle vertex, which such a node can move)."""
    simple = shapely.simplify(np.asarray(polygons, dtype=object), _NODE_DEGREES, preserve_topology=True)
    return np.asarray(shapely.point_on_surface(simple), dtype=object)


def reading_order(polygons: Sequence[BaseGeometry]) -> list[int]:
    """Indexes of `polygons` in reading order: rows from north to south, each row west to east.

    Rows are bands as tall as a typical cell, so a slightly lower neighbour still counts as the
    same row.
    """
    if not polygons:
        return []
    geoms = np.asarray(polygons, dtype=object)
    points = anchor_points(geoms)
    x, y = shapely.get_x(points), shapely.get_y(points)
    band = float(np.sqrt(np.median(shapely.area(geoms)))) or 1.0
    top = float(y.max())
    rows = np.floor((top - y) / band)
    return [int(i) for i in np.lexsort((x, rows))]


def code_cells(village_code: str, polygons: Sequence[BaseGeometry], start: int = 1) -> list[str]:
    """Codes for `polygons` (same order as given) within one village, numbered from `start`."""
    codes = [""] * len(polygons)
    for sequence, index in enumerate(reading_order(polygons), start=start):
        codes[index] = cell_code(village_code, sequence)
    return codes
