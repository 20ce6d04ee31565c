"""`gridwatch import` and `gridwatch export` on a real database: files written by GDAL's ogr2ogr come
back as the same cells, broken files change nothing, a rollback restores what was there, and the
exports open in GDAL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon, mapping
from sqlalchemy import text
from sqlmodel import Session, select

from geodata.coding import reading_order
from geodata.coords import wgs84_to_gcj02
from geodata.dataset import Dataset, Layer
from server.db.engine import make_engine
from server.db.tables import CellRow, Meta
from server.reference.service import INDEX_VERSION
from tests.support.api import Api, Template, database_for_test
from tests.support.boundaries import ogr2ogr, township_cells, worst_metres, write_geojson, write_points
from tests.support.commands import gridwatch

pytestmark = pytest.mark.process

Source = tuple[Path, list[str], list[str], list[Any]]


@pytest.fixture
def sqlite_database(sqlite_template: Template, tmp_path: Path) -> str:
    return database_for_test(sqlite_template, tmp_path, None)


def cells_in(url: str) -> dict[str, tuple[str, shapely.Geometry]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(CellRow)).all()
        found = {r.code: (r.name, shapely.from_geojson(r.geometry)) for r in rows}
    engine.dispose()
    return found


def fingerprint(url: str) -> tuple[str, int]:
    """A digest of every cell row and the index version: equal means nothing changed."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(CellRow).order_by(CellRow.code)).all()
        digest = hashlib.sha256(msgspec.json.encode([r.model_dump() for r in rows])).hexdigest()
        meta = session.get(Meta, INDEX_VERSION)
        version = int(meta.value) if meta else 0
    engine.dispose()
    return digest, version


@pytest.fixture(scope="module")
def source(county: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Source:
    codes, names, shapes = township_cells(county)
    folder = tmp_path_factory.mktemp("import")
    return write_geojson(folder / "cells.geojson", codes, names, shapes), codes, names, shapes


@pytest.mark.parametrize(
    ("target", "options", "read_options"),
    [
        ("cells.shp", ["-lco", "ENCODING=GBK", "-t_srs", "EPSG:4549"], []),
        ("cells.gpkg", ["-nln", "网格", "-t_srs", "EPSG:4490"], ["--layer", "网格"]),
    ],
)
def test_files_from_ogr2ogr_import_back_to_the_same_cells(
    source: Source,
    sqlite_database: str,
    tmp_path: Path,
    target: str,
    options: list[str],
    read_options: list[str],
) -> None:
    _, codes, names, shapes = source
    renamed = [f"{n}(新)" for n in names]
    renamed_file = write_geojson(tmp_path / "renamed.geojson", codes, renamed, shapes)
    written = tmp_path / target
    ogr2ogr(*options, str(written), str(renamed_file))
    _, version = fingerprint(sqlite_database)
    done = gridwatch(sqlite_database, "import", "cell", str(written), *read_options)
    assert done.exit_code == 0, done.output
    assert f"wrote {len(codes)} cells (0 new, {len(codes)} replaced)" in done.output
    after = cells_in(sqlite_database)
    assert [after[c][0] for c in codes] == renamed
    assert worst_metres([after[c][1] for c in codes], shapes) < 0.5
    assert fingerprint(sqlite_database)[1] == version + 1
    # The same file again changes no cell: an import is idempotent.
    digest, _ = fingerprint(sqlite_database)
    assert gridwatch(sqlite_database, "import", "cell", str(written), *read_options).exit_code == 0
    assert fingerprint(sqlite_database)[0] == digest


def test_a_gcj02_web_export_imports_with_crs(source: Source, sqlite_database: str, tmp_path: Path) -> None:
    _, codes, names, shapes = source
    shifted = [shapely.transform(s, lambda xy: [wgs84_to_gcj02(x, y) for x, y in xy]) for s in shapes]
    path = write_geojson(tmp_path / "web.geojson", codes, names, shifted)
    # Taken as WGS-84 the cells land hundreds of metres off: they leave their villages, and the
    # report says what the offset looks like and what to try.
    plain = gridwatch(sqlite_database, "import", "cell", str(path))
    assert plain.exit_code == 1
    assert "crosses_township" in plain.output
    assert (
        "hint: the polygons lie off their parents the way lon/lat from a Chinese web map (GCJ-02) do "
        "when read as WGS-84, and as GCJ-02 they fit; import again with --crs gcj02"
    ) in plain.output
    assert "提示：" in plain.output and "请加 --crs gcj02 重新导入" in plain.output
    report = json.loads(gridwatch(sqlite_database, "import", "cell", str(path), "--dry-run", "--json").output)
    assert [h["en"].rsplit(" ", 2)[-2:] for h in report["hints"]] == [["--crs", "gcj02"]]
    # Polygons that are simply wrong get no such hint.
    stretched = write_geojson(tmp_path / "stretched.geojson", codes, names, [s.buffer(0.003) for s in shapes])
    wrong = gridwatch(sqlite_database, "import", "cell", str(stretched))
    assert wrong.exit_code == 1 and "crosses_" in wrong.output and "hint:" not in wrong.output
    done = gridwatch(sqlite_database, "import", "cell", str(path), "--crs", "gcj02")
    assert done.exit_code == 0, done.output
    after = cells_in(sqlite_database)
    assert worst_metres([after[c][1] for c in codes], shapes) < 0.5


def broken_cases(codes: list[str], shapes: list[Any]) -> dict[str, tuple[list[str], list[Any]]]:
    a = shapes[0]
    minx, miny, maxx, maxy = a.bounds
    bow_tie = Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    return {
        "invalid_geometry": (codes, [bow_tie, *shapes[1:]]),
        "overlap": (codes, [a.buffer(0.0005), *shapes[1:]]),
        "gap": (codes, [a.buffer(-0.0003), *shapes[1:]]),
        "duplicate_code": ([codes[0], *codes[:-1]], shapes),
        "malformed_code": (["12345", *codes[1:]], shapes),
    }


@pytest.mark.parametrize("kind", ["invalid_geometry", "overlap", "gap", "duplicate_code", "malformed_code"])
def test_broken_files_are_named_and_change_nothing(
    source: Source, sqlite_database: str, tmp_path: Path, kind: str
) -> None:
    _, codes, names, shapes = source
    case_codes, case_shapes = broken_cases(codes, shapes)[kind]
    path = write_geojson(tmp_path / "broken.geojson", case_codes, names, case_shapes)
    gpkg = tmp_path / "broken.gpkg"
    ogr2ogr("-t_srs", "EPSG:4490", str(gpkg), str(path))
    before = fingerprint(sqlite_database)
    done = gridwatch(sqlite_database, "import", "cell", str(gpkg), "--json")
    assert done.exit_code == 1, done.output
    report = json.loads(done.output)
    assert kind in {f["kind"] for f in report["findings"]}, report
    assert report["written"] is None
    assert fingerprint(sqlite_database) == before
    human = gridwatch(sqlite_database, "import", "cell", str(gpkg))
    assert f"✗ {kind}" in human.output and "nothing written" in human.output


def test_fix_makes_a_bow_tie_valid_and_writes_it(
    source: Source, sqlite_database: str, tmp_path: Path
) -> None:
    _, codes, names, shapes = source
    case_codes, case_shapes = broken_cases(codes, shapes)["invalid_geometry"]
    path = write_geojson(tmp_path / "bow.geojson", case_codes, names, case_shapes)
    done = gridwatch(sqlite_database, "import", "cell", str(path), "--fix", "--json")
    report = json.loads(done.output)
    kinds = {f["kind"] for f in report["findings"]}
    # The bow-tie's two triangles now leave part of its old cell uncovered: a gap, so still refused.
    assert "fixed_geometry" in kinds and "gap" in kinds and done.exit_code == 1
    assert "Self-intersection" in next(
        f["detail"] for f in report["findings"] if f["kind"] == "fixed_geometry"
    )


def test_file_errors_are_clear_and_change_nothing(
    source: Source, sqlite_database: str, tmp_path: Path
) -> None:
    path, *_ = source
    shp = tmp_path / "cells.shp"
    ogr2ogr("-lco", "ENCODING=GBK", "-t_srs", "EPSG:4549", str(shp), str(path))
    shp.with_suffix(".prj").unlink()
    before = fingerprint(sqlite_database)
    missing_prj = gridwatch(sqlite_database, "import", "cell", str(shp))
    assert missing_prj.exit_code == 1 and "--source-crs" in missing_prj.output
    points = write_points(tmp_path / "points.geojson")
    not_polygons = gridwatch(sqlite_database, "import", "cell", str(points))
    assert not_polygons.exit_code == 1 and "not polygons" in not_polygons.output
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"\x00garbage")
    assert gridwatch(sqlite_database, "import", "cell", str(garbage)).exit_code == 1
    for args, message in [
        (["import"], "Usage:"),
        (["import", "cell"], "Missing argument 'FILE'"),
        (["import", "street", str(path)], "No such command 'street'"),
        (["import", "--rollback"], "No such option '--rollback'"),
        (["import", "rollback", str(path)], "unexpected extra argument"),
        (["import", "village", str(path), "--code-cells"], "numbers cells only"),
    ]:
        done = gridwatch(sqlite_database, *args)
        assert done.exit_code == 2 and message in done.output, (args, done.output)
    assert fingerprint(sqlite_database) == before


def test_rollback_restores_the_previous_version(source: Source, database: str, tmp_path: Path) -> None:
    _, codes, names, shapes = source
    original = cells_in(database)
    digest, version = fingerprint(database)
    # A new version: one cell cut in two (a new code for its east half), the others renamed.
    code, shape = codes[0], shapes[0]
    minx, miny, maxx, maxy = shape.bounds
    middle = (minx + maxx) / 2
    west = shape.intersection(shapely.box(minx - 1, miny - 1, middle, maxy + 1))
    east = shape.intersection(shapely.box(middle, miny - 1, maxx + 1, maxy + 1))
    new_code = f"{code[:12]}98"
    path = write_geojson(
        tmp_path / "v2.geojson",
        [code, new_code, *codes[1:]],
        ["西", "东", *(f"{n}·2" for n in names[1:])],
        [west, east, *shapes[1:]],
    )
    done = gridwatch(database, "import", "cell", str(path))
    assert done.exit_code == 0, done.output
    assert "(1 new," in done.output and "as import #1" in done.output
    assert "Undo: gridwatch import rollback" in done.output
    assert cells_in(database)[new_code][0] == "东"
    assert fingerprint(database)[1] == version + 1
    undone = gridwatch(database, "import", "rollback")
    assert undone.exit_code == 0, undone.output
    assert "1 removed" in undone.output and f"{len(codes)} restored" in undone.output
    assert cells_in(database).keys() == original.keys()
    assert fingerprint(database) == (digest, version + 2)  # the rows as they were; a new index version
    again = gridwatch(database, "import", "rollback")
    assert again.exit_code == 1 and "no boundary import to roll back" in again.output


def test_code_cells_numbers_west_to_east_north_to_south(
    source: Source, sqlite_database: str, tmp_path: Path
) -> None:
    _, codes, _, shapes = source
    village = codes[0][:12]
    members = [n for n, c in enumerate(codes) if c.startswith(village)]
    # The village's cells again, without codes, replacing nothing: delete them first.
    engine = make_engine(sqlite_database)
    with Session(engine) as session:
        session.exec(text("DELETE FROM cell WHERE village = :v").bindparams(v=village))  # type: ignore[call-overload]
        session.commit()
    engine.dispose()
    features = [
        {"type": "Feature", "properties": {"名称": f"格{n}"}, "geometry": mapping(shapes[n])} for n in members
    ]
    path = tmp_path / "uncoded.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    refused = gridwatch(sqlite_database, "import", "cell", str(path))
    assert refused.exit_code == 1 and "missing_code" in refused.output
    done = gridwatch(sqlite_database, "import", "cell", str(path), "--code-cells")
    assert done.exit_code == 0, done.output
    after = cells_in(sqlite_database)
    order = reading_order([shapes[n] for n in members])
    expected = {f"{village}{k + 1:02d}": f"格{members[i]}" for k, i in enumerate(order)}
    assert {c: after[c][0] for c in expected} == expected


def write_layer(path: Path, layer: Layer, shapes: list[Any] | None = None) -> Path:
    codes, names = [r.code for r in layer.records], [r.name for r in layer.records]
    return write_geojson(path, codes, names, shapes or list(layer.shapes), fields=("code", "name"))


def test_villages_and_townships_import_and_refuse_crossings(
    county: Dataset, sqlite_database: str, tmp_path: Path
) -> None:
    villages = county.villages
    path = write_layer(tmp_path / "villages.geojson", villages)
    done = gridwatch(sqlite_database, "import", "village", str(path))
    assert done.exit_code == 0 and f"wrote {len(villages.records)} villages" in done.output, done.output
    grown = [villages.shapes[0].buffer(0.02), *villages.shapes[1:]]
    path = write_layer(tmp_path / "grown.geojson", villages, grown)
    refused = gridwatch(sqlite_database, "import", "village", str(path), "--json")
    kinds = {f["kind"] for f in json.loads(refused.output)["findings"]}
    assert refused.exit_code == 1 and {"crosses_township", "overlap"} <= kinds
    townships = county.townships
    path = write_layer(tmp_path / "townships.geojson", townships)
    done = gridwatch(sqlite_database, "import", "township", str(path))
    assert done.exit_code == 0 and f"wrote {len(townships.records)} townships" in done.output, done.output


def test_exports_open_in_gdal_with_the_counts(api: Api, county: Dataset, tmp_path: Path) -> None:
    reported = [api.report(n=n).json()["incident"] for n in range(3)]
    assert api.act(reported[0]["id"], "reject", reason="不属于网格事项").status_code == 200
    url = api.runtime.engine.url.render_as_string(hide_password=False)
    cells = tmp_path / "cells.gpkg"
    assert gridwatch(url, "export", "cells", "--out", str(cells)).exit_code == 0
    info = pyogrio.read_info(cells)
    assert info["features"] == len(county.cells.records) and info["crs"] == "EPSG:4326"
    counts = tmp_path / "counts.geojson"
    assert gridwatch(url, "export", "counts", "--out", str(counts)).exit_code == 0
    table = pyogrio.read_dataframe(counts).set_index("code")
    assert int(table["reported"].sum()) == 3 and int(table["open"].sum()) == 2
    for incident in reported:
        assert table.loc[incident["cell"], "reported"] >= 1
    points = tmp_path / "incidents.gpkg"
    assert gridwatch(url, "export", "incidents", "--out", str(points)).exit_code == 0
    exported = pyogrio.read_dataframe(points)
    assert sorted(exported["id"]) == sorted(i["id"] for i in reported)
    assert {"rejected", "reported"} <= set(exported["state"])
    later = tmp_path / "later.geojson"
    assert gridwatch(url, "export", "counts", "--out", str(later), "--since", "2030-01-01").exit_code == 0
    assert int(pyogrio.read_dataframe(later)["reported"].sum()) == 0
    township = county.townships.records[0].code
    mine = tmp_path / "mine.geojson"
    assert gridwatch(url, "export", "cells", "--out", str(mine), "--township", township).exit_code == 0
    assert set(pyogrio.read_dataframe(mine)["township"]) == {township}
    for args, message in [
        (["export", "cells", "--out", str(tmp_path / "x.shp")], "write .gpkg or .geojson"),
        (["export", "cells", "--out", str(mine), "--township", "33"], "9 digits"),
        (["export", "counts", "--out", str(mine), "--since", "yesterday"], "--since"),
        (["export", "roads", "--out", str(mine)], "Invalid value"),
    ]:
        done = gridwatch(url, *args)
        assert done.exit_code == 2 and message in done.output, (args, done.output)


def test_the_own_export_imports_back_without_warnings(sqlite_database: str, tmp_path: Path) -> None:
    exported = tmp_path / "cells.gpkg"
    assert gridwatch(sqlite_database, "export", "cells", "--out", str(exported)).exit_code == 0
    assert pyogrio.read_info(exported)["geometry_type"] == "MultiPolygon"  # as GIS tools write them
    done = gridwatch(sqlite_database, "import", "cell", str(exported), "--dry-run")
    assert done.exit_code == 0, done.output
    assert "multipart" not in done.output and "findings" not in done.output
    assert "dry run: nothing written" in done.output
