"""A county's (or province's) data as a folder: GeoJSON for geometry, JSON for the rest.

The format is documented in docs/data-format.md. Loading checks every file against the domain types
and stops at the first bad one with its name and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.catalog_files import parse_catalog
from grid.catalog import Catalog
from grid.errors import DomainError
from grid.geofence import GeofenceIndex
from grid.organisation import Officer, Unit, Worker
from grid.places import Cell, County, Township, Village
from grid.powers import PowerListEntry, PowerLists, TerritorialDuty
from grid.routing import Router
from grid.subjects import Device, Subject

FORMAT = "gridwatch-dataset"
FORMAT_VERSION = 1
# Coordinates are written to 7 decimals (about 1 cm): the grid every written vertex lies on.
GRID_DECIMALS = 7
GRID_DEGREES = 10.0**-GRID_DECIMALS
T = TypeVar("T")


def on_grid(shapes: Sequence[BaseGeometry] | npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Every vertex rounded to the written grid, one by one: a vertex shared by two polygons stays
    shared (unlike snap rounding, which treats each polygon alone)."""
    return np.asarray(shapely.transform(shapes, lambda xy: np.round(xy, GRID_DECIMALS)), dtype=object)


class DatasetError(Exception):
    """A data folder that cannot be read: names the file and what is wrong with it."""


class Manifest(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    index_version: int = 1
    seed: int | None = None
    size: str | None = None
    counties: list[str] = []


class _Feature(msgspec.Struct):
    properties: dict[str, Any]
    geometry: msgspec.Raw


class _FeatureCollection(msgspec.Struct):
    features: list[_Feature]


@dataclass
class Layer:
    """Records of one kind and their geometries, in the same order."""

    records: list[Any]
    shapes: list[BaseGeometry]


@dataclass
class Dataset:
    manifest: Manifest
    catalog: Catalog
    counties: Layer
    townships: Layer
    villages: Layer
    cells: Layer
    units: list[Unit] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    power_list: list[PowerListEntry] = field(default_factory=list)
    duties: list[TerritorialDuty] = field(default_factory=list)
    subjects: list[Subject] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)

    def geofence(self) -> GeofenceIndex:
        return GeofenceIndex(
            ((c.code, s) for c, s in zip(self.cells.records, self.cells.shapes, strict=True)),
            version=self.manifest.index_version,
        )

    def router(self) -> Router:
        return Router(
            self.catalog,
            PowerLists(self.power_list, self.duties),
            {u.id: u for u in self.units},
            {t.code: t for t in self.townships.records},
        )


# -- writing -------------------------------------------------------------------------------------

_ENCODER = msgspec.json.Encoder()


def _write_layer(path: Path, layer: Layer) -> None:
    geometries = shapely.to_geojson(on_grid(layer.shapes)) if layer.shapes else []
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","features":[\n')
        for i, (record, geometry) in enumerate(zip(layer.records, geometries, strict=True)):
            out.write(",\n" if i else "")
            out.write('{"type":"Feature","properties":')
            out.write(_ENCODER.encode(record).decode())
            out.write(',"geometry":')
            out.write(geometry)
            out.write("}")
        out.write("\n]}\n")


def _write_json(path: Path, value: object) -> None:
    path.write_bytes(msgspec.json.format(_ENCODER.encode(value), indent=1) + b"\n")


def write_dataset(dataset: Dataset, folder: Path, catalog_bytes: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "manifest.json", dataset.manifest)
    (folder / "catalog.json").write_bytes(catalog_bytes)
    for name in ("counties", "townships", "villages", "cells"):
        _write_layer(folder / f"{name}.geojson", getattr(dataset, name))
    for name in ("units", "workers", "officers", "power_list", "duties", "subjects", "devices"):
        _write_json(folder / f"{name}.json", getattr(dataset, name))


# -- reading -------------------------------------------------------------------------------------


def _read(folder: Path, name: str) -> bytes:
    path = folder / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing (see docs/data-format.md)") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None


def _read_layer(folder: Path, name: str, kind: type[T]) -> Layer:
    raw = _read(folder, f"{name}.geojson")
    try:
        collection = msgspec.json.decode(raw, type=_FeatureCollection)
        records = [msgspec.convert(f.properties, kind) for f in collection.features]
        shapes = list(shapely.from_geojson([bytes(f.geometry) for f in collection.features]))
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise DatasetError(f"{folder / name}.geojson: {exc}") from None
    except shapely.errors.GEOSException as exc:
        raise DatasetError(f"{folder / name}.geojson: bad geometry: {exc}") from None
    return Layer(records=records, shapes=shapes)


def _read_list(folder: Path, name: str, kind: type[T]) -> list[T]:
    try:
        return msgspec.json.decode(_read(folder, f"{name}.json"), type=list[kind])  # type: ignore[valid-type]
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise DatasetError(f"{folder / name}.json: {exc}") from None


def load_dataset(folder: Path) -> Dataset:
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a data folder (make one with `gridwatch synth --out {folder}`)")
    try:
        manifest = msgspec.json.decode(_read(folder, "manifest.json"), type=Manifest)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DatasetError(f"{folder / 'manifest.json'}: {exc}") from None
    if manifest.format != FORMAT or manifest.format_version != FORMAT_VERSION:
        raise DatasetError(
            f"{folder / 'manifest.json'}: format {manifest.format} v{manifest.format_version}, "
            f"expected {FORMAT} v{FORMAT_VERSION}"
        )
    try:
        catalog = parse_catalog(_read(folder, "catalog.json"))
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError, DomainError) as exc:
        raise DatasetError(f"{folder / 'catalog.json'}: {exc}") from None
    return Dataset(
        manifest=manifest,
        catalog=catalog,
        counties=_read_layer(folder, "counties", County),
        townships=_read_layer(folder, "townships", Township),
        villages=_read_layer(folder, "villages", Village),
        cells=_read_layer(folder, "cells", Cell),
        units=_read_list(folder, "units", Unit),
        workers=_read_list(folder, "workers", Worker),
        officers=_read_list(folder, "officers", Officer),
        power_list=_read_list(folder, "power_list", PowerListEntry),
        duties=_read_list(folder, "duties", TerritorialDuty),
        subjects=_read_list(folder, "subjects", Subject),
        devices=_read_list(folder, "devices", Device),
    )
