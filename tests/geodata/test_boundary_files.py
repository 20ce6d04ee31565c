"""Boundary files written by another tool (GDAL's ogr2ogr) read back to the same cells, and broken
files each named for what is wrong with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
import shapely.affinity
from shapely.geometry import Polygon

from geodata.boundary_files import BoundaryFileError, FieldMap, read_boundaries, write_features
from geodata.coords import Crs, wgs84_to_gcj02
from geodata.dataset import Dataset
from geodata.validation import Kind, Level, validate
from tests.support.boundaries import (
    boundaries_of,
    ogr2ogr,
    township_cells,
    worst_metres,
    write_geojson,
    write_points,
)


@pytest.fixture(scope="module")
def source(
    county: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str], list[str], list[shapely.Geometry]]:
    codes, names, shapes = township_cells(county)
    folder = tmp_path_factory.mktemp("boundaries")
    return write_geojson(folder / "cells.geojson", codes, names, shapes), codes, names, shapes


def test_gauss_kruger_shapefile_reads_back_within_half_a_metre(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, codes, names, shapes = source
    target = tmp_path / "cells.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", "-t_srs", "EPSG:4549", str(target), str(path))
    layer = read_boundaries(target)
    assert "4549" in layer.source_crs
    assert (layer.code_field, layer.name_field) == ("网格编码", "网格名称")
    assert layer.codes == codes and layer.names == names
    assert worst_metres(list(layer.shapes), shapes) < 0.5
    assert validate(Level.CELL, layer.codes, list(layer.shapes)) == []


def test_cgcs2000_geopackage_reads_back_within_half_a_metre(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, codes, _, shapes = source
    target = tmp_path / "cells.gpkg"
    ogr2ogr("-f", "GPKG", "-nln", "网格", "-t_srs", "EPSG:4490", str(target), str(path))
    layer = read_boundaries(target, layer="网格")
    assert layer.layer == "网格" and "4490" in layer.source_crs
    assert layer.codes == codes
    assert worst_metres(list(layer.shapes), shapes) < 0.5


def test_gcj02_web_export_reads_back_within_half_a_metre(county: Dataset, tmp_path: Path) -> None:
    codes, names, shapes = township_cells(county)
    shifted = [shapely.transform(s, lambda xy: [wgs84_to_gcj02(x, y) for x, y in xy]) for s in shapes]
    path = write_geojson(tmp_path / "web.geojson", codes, names, shifted, fields=("code", "name"))
    plain = read_boundaries(path)
    assert worst_metres(list(plain.shapes), shapes) > 100  # GCJ-02 is hundreds of metres off
    layer = read_boundaries(path, web_crs=Crs.GCJ02)
    assert worst_metres(list(layer.shapes), shapes) < 0.5


def test_named_fields_and_missing_ones(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, codes, *_ = source
    layer = read_boundaries(path, fields=FieldMap(code="网格编码", name="网格名称"))
    assert layer.codes == codes
    with pytest.raises(BoundaryFileError, match="no field 'wgbm' for the code"):
        read_boundaries(path, fields=FieldMap(code="wgbm"))


def test_a_shapefile_without_prj_is_refused_until_named(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _, _, shapes = source
    target = tmp_path / "cells.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", "-t_srs", "EPSG:4549", str(target), str(path))
    target.with_suffix(".prj").unlink()
    with pytest.raises(BoundaryFileError, match=r"\.prj file is missing.*--source-crs"):
        read_boundaries(target)
    layer = read_boundaries(target, source_crs="EPSG:4549")
    assert worst_metres(list(layer.shapes), shapes) < 0.5
    with pytest.raises(BoundaryFileError, match="unknown coordinate system"):
        read_boundaries(target, source_crs="EPSG:999999")


def test_a_point_layer_and_garbage_are_refused(tmp_path: Path) -> None:
    points = write_points(tmp_path / "points.geojson")
    with pytest.raises(BoundaryFileError, match="Point geometries, not polygons"):
        read_boundaries(points)
    garbage = tmp_path / "cells.geojson"
    garbage.write_bytes(b"\x00\x01 not a boundary file")
    with pytest.raises(BoundaryFileError):
        read_boundaries(garbage)
    with pytest.raises(BoundaryFileError, match="does not exist"):
        read_boundaries(tmp_path / "nowhere.gpkg")


def test_broken_cells_each_get_their_named_finding(county: Dataset) -> None:
    codes, _, shapes = township_cells(county)
    parents = boundaries_of(county)
    a = shapes[0]
    minx, miny, maxx, maxy = a.bounds
    bow_tie = Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    cases = {
        Kind.INVALID: (codes, [bow_tie, *shapes[1:]]),
        Kind.OVERLAP: (codes, [a.buffer(0.0005), *shapes[1:]]),
        Kind.GAP: (codes, [a.buffer(-0.0003), *shapes[1:]]),
        Kind.DUPLICATE_CODE: ([codes[0], codes[0], *codes[2:]], shapes),
        Kind.MALFORMED_CODE: (["12345", *codes[1:]], shapes),
        Kind.MISSING_CODE: ([None, *codes[1:]], shapes),
        Kind.EMPTY: (codes, [None, *shapes[1:]]),
    }
    assert validate(Level.CELL, codes, shapes, parents) == []
    for kind, (case_codes, case_shapes) in cases.items():
        found = validate(Level.CELL, case_codes, case_shapes, parents)
        assert kind in {f.kind for f in found}, (kind, found)
        assert all(f.blocking for f in found if f.kind is kind)
    invalid = next(f for f in validate(Level.CELL, *cases[Kind.INVALID]) if f.kind is Kind.INVALID)
    assert "Self-intersection" in invalid.detail
    overlap = next(f for f in validate(Level.CELL, *cases[Kind.OVERLAP]) if f.kind is Kind.OVERLAP)
    assert overlap.area_m2 is not None and overlap.area_m2 > 1000 and codes[0] in overlap.cells
    gap = next(f for f in validate(Level.CELL, *cases[Kind.GAP], parents) if f.kind is Kind.GAP)
    assert gap.share is not None and 0 < gap.share < 0.05 and "m²" in gap.detail
    # Without the township's boundary a gap still shows when it is a hole among the cells.
    union = shapely.union_all(shapes)
    inner = next(n for n, s in enumerate(shapes) if s.distance(union.exterior) > 0.001)
    holed = [s.buffer(-0.0003) if n == inner else s for n, s in enumerate(shapes)]
    assert Kind.GAP in {f.kind for f in validate(Level.CELL, codes, holed)}


def test_cells_crossing_their_village_or_township(county: Dataset) -> None:
    codes, _, shapes = township_cells(county)
    parents = boundaries_of(county)
    assert validate(Level.CELL, codes, shapes, parents) == []
    stretched = [shapes[0].buffer(0.01), *shapes[1:]]
    kinds = {f.kind for f in validate(Level.CELL, codes, stretched, parents)}
    assert {Kind.CROSSES_VILLAGE, Kind.CROSSES_TOWNSHIP, Kind.OVERLAP} <= kinds


def test_a_gbk_shapefile_without_cpg_names_its_encoding(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, codes, names, _ = source
    target = tmp_path / "cells.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(target), str(path))
    target.with_suffix(".cpg").unlink()  # an old Shapefile: GBK, and nothing says so
    with pytest.raises(BoundaryFileError, match="--encoding gbk") as refused:
        read_boundaries(target)
    assert "GBK" in str(refused.value) and "请加 --encoding gbk 重新导入" in str(refused.value)
    layer = read_boundaries(target, encoding="gbk")
    assert layer.codes == codes and layer.names == names and layer.hints == []
    # Field names in ASCII, names in undeclared GBK: the fields are found, the names get a hint.
    plain = write_geojson(tmp_path / "plain.geojson", codes, names, source[3], fields=("code", "name"))
    ascii_fields = tmp_path / "ascii.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(ascii_fields), str(plain))
    ascii_fields.with_suffix(".cpg").unlink()
    garbled = read_boundaries(ascii_fields)
    assert garbled.codes == codes and garbled.names != names
    assert [h.en for h in garbled.hints] == [
        "the names look like GBK text read in another encoding (the file declares none); "
        "import again with --encoding gbk"
    ]
    assert "--encoding gbk" in garbled.hints[0].zh
    assert read_boundaries(ascii_fields, encoding="gbk").names == names


def test_garbage_in_another_encoding_is_named(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, *_ = source
    target = tmp_path / "cells.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(target), str(path))
    with pytest.raises(BoundaryFileError, match="its text is not utf-8; name the encoding with --encoding"):
        read_boundaries(target, encoding="utf-8")


def test_one_part_multipolygons_are_polygons_and_not_multipart(county: Dataset, tmp_path: Path) -> None:
    codes, names, shapes = township_cells(county)
    target = tmp_path / "export.gpkg"
    write_features(target, "cells", shapes, {"code": codes, "name": names})  # as `gridwatch export` does
    layer = read_boundaries(target)
    assert {s.geom_type for s in layer.shapes} == {"Polygon"}
    assert validate(Level.CELL, layer.codes, list(layer.shapes), boundaries_of(county)) == []
    two = shapely.MultiPolygon([shapes[0], shapely.affinity.translate(shapes[0], 1.0)])
    one = shapely.MultiPolygon([shapes[0]])
    found = validate(Level.CELL, codes[:2], [two, one])
    assert [(f.kind, f.cells, f.detail) for f in found if f.kind is Kind.MULTIPART] == [
        (Kind.MULTIPART, (codes[0],), "2 separate parts")
    ]
