"""The data folder format: written, read back the same, and refused with the file named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geodata.catalog_files import default_catalog_bytes
from geodata.dataset import Dataset, DatasetError, load_dataset, write_dataset


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, county: Dataset) -> Path:
    path = tmp_path_factory.mktemp("county")
    write_dataset(county, path, default_catalog_bytes())
    return path


def test_round_trip(folder: Path, county: Dataset) -> None:
    loaded = load_dataset(folder)
    assert loaded.cells.records == county.cells.records
    assert loaded.townships.records == county.townships.records
    assert loaded.power_list == county.power_list
    assert loaded.officers == county.officers
    assert loaded.manifest.seed == 7
    # Geometry survives to within the 1e-7° written precision (about 1 cm).
    for a, b in zip(loaded.cells.shapes[:50], county.cells.shapes[:50], strict=True):
        assert a.hausdorff_distance(b) < 2e-7


@pytest.fixture
def copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("manifest.json", None, "manifest.json: missing"),
        ("cells.geojson", b"{not json", "cells.geojson"),
        (
            "cells.geojson",
            b'{"type":"FeatureCollection","features":[{"properties":{"code":1},"geometry":null}]}',
            "Expected `str`",
        ),
        (
            "townships.geojson",
            b'{"features":[{"properties":{"code":"1"},"geometry":{"type":"Point","coordinates":[0,0]}}]}',
            "missing required field",
        ),
        (
            "cells.geojson",
            b'{"features":[{"properties":{"code":"33992110120101","name":"x"},"geometry":{"type":"Polygon","coordinates":"no"}}]}',
            "cells.geojson",
        ),
        ("units.json", b'[{"id": "x"}]', "units.json"),
        (
            "power_list.json",
            b'[{"id":"p","township":"t","matter":"m","mode":"entrusted","unit":"u"}]',
            "agreement",
        ),
        ("catalog.json", b'{"majors": []}', "catalog.json"),
        ("manifest.json", b'{"format": "shapefile"}', "expected gridwatch-dataset"),
    ],
)
def test_bad_folder_refused_naming_the_file(
    copy: Path, file: str, content: bytes | None, message: str
) -> None:
    path = copy / file
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as refused:
        load_dataset(copy)
    assert file in str(refused.value)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a data folder"):
        load_dataset(tmp_path / "nowhere")


def test_catalog_inconsistency_refused(copy: Path) -> None:
    data = json.loads((copy / "catalog.json").read_text(encoding="utf-8"))
    data["categories"][0]["matters"] = ["GHOST-1"]
    (copy / "catalog.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DatasetError, match="GHOST-1"):
        load_dataset(copy)
