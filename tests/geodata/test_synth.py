"""The synthetic demo county: deterministic, valid codes, a proper tessellation, every mode present."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely

from geodata.catalog_files import default_catalog_bytes
from geodata.coding import anchor_points
from geodata.dataset import Dataset, load_dataset, write_dataset
from geodata.synth import REFERENCE_DATE, synthesize
from geodata.validation import Level, validate
from grid.places import CELL_DIGITS, TownshipKind, check_cell_code
from grid.powers import HoldingMode
from grid.staffing import check_two_certified
from tests.support.boundaries import boundaries_of


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_dataset(synthesize(seed), tmp_path / name, default_catalog_bytes())
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["cells.geojson"] != digest(tmp_path / "c")["cells.geojson"]


def test_sizes(county: Dataset) -> None:
    assert len(county.counties.records) == 1
    assert len(county.townships.records) >= 10
    assert len(county.cells.records) >= 1000
    kinds = Counter(t.kind for t in county.townships.records)
    assert kinds[TownshipKind.SEAT] == 1
    assert len(kinds) >= 5
    assert county.counties.records[0].seat_township in {t.code for t in county.townships.records}
    assert len({t.population for t in county.townships.records}) > 1


def test_codes_nest(county: Dataset) -> None:
    townships = {t.code for t in county.townships.records}
    villages = {v.code for v in county.villages.records}
    codes = [c.code for c in county.cells.records]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert check_cell_code(code) == code and len(code) == CELL_DIGITS
        assert code[:12] in villages and code[:9] in townships
        assert code[:6] == county.counties.records[0].code
    assert all(v.code[:9] in townships for v in county.villages.records)


def test_cells_tile_each_village_without_gaps_or_overlaps(county: Dataset) -> None:
    by_village: dict[str, list[shapely.Geometry]] = {}
    for cell, shape in zip(county.cells.records, county.cells.shapes, strict=True):
        by_village.setdefault(cell.code[:12], []).append(shape)
    for village, shape in zip(county.villages.records, county.villages.shapes, strict=True):
        pieces = by_village[village.code]
        assert all(p.is_valid and p.geom_type == "Polygon" for p in pieces)
        total = sum(p.area for p in pieces)
        assert total == pytest.approx(shape.area, rel=1e-9)  # no overlaps
        assert shapely.union_all(pieces).area == pytest.approx(shape.area, rel=1e-9)  # no gaps
    county_shape = county.counties.shapes[0]
    assert sum(s.area for s in county.townships.shapes) == pytest.approx(county_shape.area, rel=1e-9)


def test_cells_numbered_west_to_east_then_north_to_south(county: Dataset) -> None:
    """Rows are bands as tall as a typical cell of the village: a lower number is never more than
    one band south of the next, and the first cell of a village is in its northernmost band."""
    villages: dict[str, dict[int, shapely.Geometry]] = {}
    for cell, shape in zip(county.cells.records, county.cells.shapes, strict=True):
        villages.setdefault(cell.code[:12], {})[int(cell.code[-2:])] = shape
    for cells in villages.values():
        band = float(np.sqrt(np.median([s.area for s in cells.values()])))
        anchors = anchor_points(list(cells.values()))
        y = {n: float(p.y) for n, p in zip(cells, anchors, strict=True)}
        assert sorted(cells) == list(range(1, len(cells) + 1))
        assert max(y.values()) - y[1] < band
        for n in range(1, len(cells)):
            assert y[n] - y[n + 1] > -band, (n, n + 1)
        # Overall the numbering runs north to south.
        assert np.corrcoef(list(cells), [y[n] for n in cells])[0, 1] < 0


def test_power_lists_cover_every_mode(county: Dataset) -> None:
    modes = Counter(e.mode for e in county.power_list)
    assert set(modes) == set(HoldingMode)
    agreements = [e.agreement for e in county.power_list if e.agreement]
    assert any(a.valid_to < REFERENCE_DATE for a in agreements)  # expired
    assert any(a.valid_from > REFERENCE_DATE for a in agreements)  # not yet valid
    assert any(a.valid_on(REFERENCE_DATE) for a in agreements)
    assert county.duties


def test_references_resolve(county: Dataset) -> None:
    units = {u.id for u in county.units}
    cells = {c.code for c in county.cells.records}
    assert all(e.unit in units for e in county.power_list)
    assert all(e.agreement.department in units for e in county.power_list if e.agreement)
    assert all(d.unit in units for d in county.duties)
    assert all(o.unit in units for o in county.officers)
    assert all(t.enforcement_office in units for t in county.townships.records)
    assert all(set(w.cells) <= cells for w in county.workers)
    assert {c for w in county.workers for c in w.cells} == cells  # every cell has a worker
    assert all(s.cell in cells and 1 <= s.risk <= 4 for s in county.subjects)
    assert all(d.cell in cells and d.categories for d in county.devices)


def test_subjects_and_devices_lie_in_their_cells(county: Dataset) -> None:
    index = county.geofence()
    for item in [*county.subjects, *county.devices]:
        assert index.locate(item.lon, item.lat).cell == item.cell


def test_officers_include_expired_certificates(county: Dataset) -> None:
    on = REFERENCE_DATE + dt.timedelta(days=200)
    certified = [o for o in county.officers if o.certified_on(on)]
    assert 0 < len(certified) < len(county.officers)
    assert any(o.certificates and not o.certified_on(on) for o in county.officers)
    by_unit: dict[str, list] = {}
    for o in county.officers:
        by_unit.setdefault(o.unit, []).append(o)
    checks = [check_two_certified(team, on).ok for team in by_unit.values()]
    assert any(checks) and not all(checks)  # the sweep planner has conflicts to state


def test_every_incident_category_routes_everywhere(county: Dataset) -> None:
    router = county.router()
    for township in county.townships.records:
        for category in county.catalog.categories:
            assignment = router.route(category.code, township.code, REFERENCE_DATE)
            assert assignment.lead and assignment.explanation.text_zh


def test_unknown_size_refused() -> None:
    with pytest.raises(ValueError, match="unknown size"):
        synthesize(1, "galaxy")


@pytest.mark.parametrize("written", [False, True], ids=["in memory", "written and read"])
def test_the_synthetic_county_tiles_exactly(county: Dataset, written: bool, tmp_path: Path) -> None:
    """Cells share their vertices across village and township borders: no gap, no sliver (not even
    below the validation's tolerance), and the importer's own validation finds nothing at any level."""
    if written:
        write_dataset(county, tmp_path / "county", default_catalog_bytes())
        county = load_dataset(tmp_path / "county")
    cells = np.array(county.cells.shapes, dtype=object)
    assert shapely.coverage_is_valid(cells)
    union = shapely.coverage_union_all(cells)
    assert union.geom_type == "Polygon" and not union.interiors
    (whole,) = county.counties.shapes
    assert shapely.equals_exact(shapely.normalize(union), shapely.normalize(whole), tolerance=0)
    # Every level is exactly the union of its cells, so the levels above tile as well.
    for layer, digits in ((county.villages, 12), (county.townships, 9)):
        for record, shape in zip(layer.records, layer.shapes, strict=True):
            mine = cells[[c.code[:digits] == record.code for c in county.cells.records]]
            assert shape.symmetric_difference(shapely.coverage_union_all(mine)).area == 0.0
        assert shapely.coverage_is_valid(np.array(layer.shapes, dtype=object))
    # Every vertex on the 1e-7° grid the files are written at: what is written is what is tiled.
    xy = shapely.get_coordinates(cells)
    assert np.array_equal(xy, np.round(xy, 7))
    parents = boundaries_of(county) | {
        r.code: s for r, s in zip(county.counties.records, county.counties.shapes, strict=True)
    }
    for level, layer in (
        (Level.CELL, county.cells),
        (Level.VILLAGE, county.villages),
        (Level.TOWNSHIP, county.townships),
    ):
        assert validate(level, [r.code for r in layer.records], layer.shapes, parents) == [], level
