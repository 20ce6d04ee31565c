"""Cell coding for files without codes: 14-digit codes numbered west→east, north→south per village."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from grid.places import cell_code


def reading_order(polygons: Sequence[BaseGeometry]) -> list[int]:
    """Indexes of `polygons` in reading order: rows from north to south, each row west to east.

    Rows are bands as tall as a typical cell, so a slightly lower neighbour still counts as the
    same row.
    """
    if not polygons:
        return []
    geoms = np.asarray(polygons, dtype=object)
    points = shapely.point_on_surface(geoms)
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
