"""Boundary files for the tests: the synthetic county's cells written as GeoJSON, converted by GDAL's
ogr2ogr (a different tool from ours), and compared in metres."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import shapely
from shapely.geometry import mapping

from geodata.dataset import Dataset

METRES_PER_DEGREE = 111_320


def township_cells(county: Dataset) -> tuple[list[str], list[str], list[shapely.Geometry]]:
    township = county.townships.records[0].code
    rows = [
        (r, s)
        for r, s in zip(county.cells.records, county.cells.shapes, strict=True)
        if r.code.startswith(township)
    ]
    return [r.code for r, _ in rows], [r.name for r, _ in rows], [s for _, s in rows]


def boundaries_of(county: Dataset) -> dict[str, shapely.Geometry]:
    """The villages' and townships' boundaries by code: the parents of the cells."""
    layers = (county.villages, county.townships)
    return {r.code: s for layer in layers for r, s in zip(layer.records, layer.shapes, strict=True)}


def write_geojson(
    path: Path,
    codes: list[str],
    names: list[str],
    shapes: list[shapely.Geometry],
    fields: tuple[str, str] = ("网格编码", "网格名称"),
) -> Path:
    features = [
        {"type": "Feature", "properties": {fields[0]: c, fields[1]: n}, "geometry": mapping(s)}
        for c, n, s in zip(codes, names, shapes, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def ogr2ogr(*args: str) -> None:
    subprocess.run(["ogr2ogr", *args], check=True, capture_output=True)


def worst_metres(a: list[shapely.Geometry], b: list[shapely.Geometry]) -> float:
    return max(shapely.hausdorff_distance(x, y) for x, y in zip(a, b, strict=True)) * METRES_PER_DEGREE


def write_points(path: Path) -> Path:
    """A layer of points, where polygons are expected."""
    point = {"type": "Feature", "properties": {"code": "x"}, "geometry": mapping(shapely.Point(119.6, 29.1))}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [point]}))
    return path
