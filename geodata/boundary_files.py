"""Boundary files as counties deliver them: GeoJSON, GeoPackage or Shapefile (with its .prj) in any
coordinate system PROJ knows, or GCJ-02 / BD-09 web-map exports, read into WGS-84 polygons with
their codes and names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from geodata.coords import Crs, to_wgs84_many

# Field names counties use for a code and a name, tried in this order when none is named.
CODE_FIELDS = ("code", "网格编码", "网格代码", "编码", "wgbm", "bm", "CODE")
NAME_FIELDS = ("name", "网格名称", "名称", "wgmc", "mc", "NAME")
POLYGONAL = {"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "Polygon M", "MultiPolygon M"}
WGS84 = CRS.from_epsg(4326)


class BoundaryFileError(ValueError):
    """The file cannot be read as boundaries; the message says what to do about it."""


@dataclass(frozen=True)
class Hint:
    """Something about the file that is probably why the findings look as they do, and what to try."""

    en: str
    zh: str


@dataclass(frozen=True)
class FieldMap:
    code: str | None = None
    name: str | None = None


@dataclass
class BoundaryLayer:
    path: Path
    layer: str
    source_crs: str
    code_field: str | None
    name_field: str | None
    codes: list[str | None]
    names: list[str]
    shapes: np.ndarray  # shapely geometries in WGS-84 lon/lat; None where the feature had none
    hints: list[Hint] = field(default_factory=list)
    # Lon/lat (so a Chinese web map's GCJ-02 or BD-09 is possible), not a projected system.
    geographic: bool = True


def _pick(wanted: str | None, candidates: Sequence[str], fields: Sequence[str], what: str) -> str | None:
    if wanted is not None:
        if wanted not in fields:
            raise BoundaryFileError(f"no field {wanted!r} for the {what}; the layer has {', '.join(fields)}")
        return wanted
    lowered = {f.lower(): f for f in fields}
    return next((lowered[c.lower()] for c in candidates if c.lower() in lowered), None)


def read_boundaries(
    path: Path,
    layer: str | None = None,
    fields: FieldMap = FieldMap(),
    source_crs: str | None = None,
    web_crs: Crs | None = None,
    encoding: str | None = None,
) -> BoundaryLayer:
    """Read one polygon layer and bring it to WGS-84.

    `source_crs` names the coordinate system when the file does not (a Shapefile without .prj);
    `web_crs` says the lon/lat are GCJ-02 or BD-09 from a Chinese web map; `encoding` names the text
    encoding when the file does not (an old Shapefile without .cpg, usually GBK).
    """
    if not path.exists():
        raise BoundaryFileError(f"{path} does not exist")
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except (DataSourceError, DataLayerError) as exc:
        raise BoundaryFileError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise _wrong_encoding(path, encoding) from None
    name = str(info.get("layer_name") or layer or path.stem)
    geometry_type = str(info.get("geometry_type"))
    if geometry_type not in POLYGONAL:
        raise BoundaryFileError(f"layer {name!r} holds {geometry_type} geometries, not polygons")
    crs_text = source_crs or info.get("crs")
    if not crs_text:
        raise BoundaryFileError(
            f"{path} does not say its coordinate system (for a Shapefile, the .prj file is missing); "
            "name it with --source-crs, e.g. EPSG:4549"
        )
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError as exc:
        raise BoundaryFileError(f"unknown coordinate system {crs_text!r}: {exc}") from None
    if web_crs not in (None, Crs.WGS84) and not crs.is_geographic:
        raise BoundaryFileError(
            f"--crs {web_crs} is for lon/lat web-map exports, but the file is in {crs.name}"
        )
    names_in_file = [str(f) for f in info["fields"]]
    if encoding is None and any(_misread_gbk(f) for f in names_in_file):
        raise BoundaryFileError(
            f"{path}: the field names read as {', '.join(names_in_file)}: Chinese text in GBK that the file "
            f"does not declare (no .cpg), read as {info.get('encoding') or 'Latin-1'}; import again with "
            "--encoding gbk\n"
            f"{path}：字段名读出来是乱码（{', '.join(names_in_file)}）——文件为 GBK 编码但未声明（缺少 .cpg），"
            "请加 --encoding gbk 重新导入"
        )
    code_field = _pick(fields.code, CODE_FIELDS, names_in_file, "code")
    name_field = _pick(fields.name, NAME_FIELDS, names_in_file, "name")
    columns = [f for f in (code_field, name_field) if f is not None]
    try:
        _, _, wkb, values = pyogrio.raw.read(path, layer=layer, columns=columns, encoding=encoding)
    except UnicodeDecodeError:
        raise _wrong_encoding(path, encoding) from None
    shapes = shapely.from_wkb(wkb)
    if not crs.equals(WGS84, ignore_axis_order=True):
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
        shapes = shapely.transform(
            shapes, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    if web_crs not in (None, Crs.WGS84):
        shapes = from_web_crs(shapes, web_crs)
    by_field = dict(zip(columns, values, strict=True))
    count = len(shapes)
    codes: list[str | None] = [_text(v) for v in by_field[code_field]] if code_field else [None] * count
    names = [_text(v) or "" for v in by_field[name_field]] if name_field else [""] * count
    hints = []
    if encoding is None and any(_misread_gbk(n) for n in names):
        hints.append(
            Hint(
                "the names look like GBK text read in another encoding (the file declares none); "
                "import again with --encoding gbk",
                "名称疑似乱码：文件为 GBK 编码但未声明，请加 --encoding gbk 重新导入",
            )
        )
    return BoundaryLayer(
        path,
        name,
        crs.to_string(),
        code_field,
        name_field,
        codes,
        names,
        _one_part(shapes),
        hints,
        bool(crs.is_geographic),
    )


def from_web_crs(shapes: np.ndarray, web_crs: Crs) -> np.ndarray:
    """Shapes whose lon/lat are GCJ-02 or BD-09 (a Chinese web map's) in WGS-84."""
    converted: np.ndarray = shapely.transform(
        shapes, lambda xy: np.column_stack(to_wgs84_many(xy[:, 0], xy[:, 1], web_crs))
    )
    return converted


def _wrong_encoding(path: Path, encoding: str | None) -> BoundaryFileError:
    said = encoding or "in the encoding it declares"
    return BoundaryFileError(
        f"{path}: its text is not {said}; name the encoding with --encoding, e.g. --encoding gbk\n"
        f"{path}：文本不是 {encoding or '文件声明的编码'}，请用 --encoding 指定编码，例如 --encoding gbk"
    )


def _one_part(shapes: np.ndarray) -> np.ndarray:
    """A MultiPolygon of one part (what GIS tools write for every polygon) as the Polygon it is."""
    single = (shapely.get_type_id(shapes) == shapely.GeometryType.MULTIPOLYGON) & (
        shapely.get_num_geometries(shapes) == 1
    )
    out = np.array(shapes, dtype=object)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _misread_gbk(text: str) -> bool:
    """Chinese in GBK read as Latin-1: every character is a byte, and those bytes are Chinese in GBK."""
    if not any("\x80" <= c <= "\xff" for c in text):
        return False
    try:
        decoded = text.encode("latin-1").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return any("\u4e00" <= c <= "\u9fff" for c in decoded)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code stored as a number
    text = str(value).strip()
    return text or None


DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}


def write_features(
    path: Path, layer: str, shapes: Sequence[BaseGeometry], fields: Mapping[str, Sequence[object]]
) -> None:
    """Write WGS-84 points or (multi)polygons to a GeoPackage or GeoJSON file (by its suffix) that QGIS
    opens as is; an existing file is replaced."""
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise BoundaryFileError(f"{path}: write .gpkg or .geojson, not {path.suffix or 'no suffix'}")
    geometry = np.asarray(shapes, dtype=object)
    points = bool(len(geometry)) and bool((shapely.get_type_id(geometry) == shapely.GeometryType.POINT).all())
    path.unlink(missing_ok=True)
    pyogrio.raw.write(
        path,
        shapely.to_wkb(geometry),
        [np.asarray(values) for values in fields.values()],
        list(fields),
        layer=layer,
        driver=driver,
        geometry_type="Point" if points else "MultiPolygon",
        promote_to_multi=not points,
        crs="EPSG:4326",
        encoding="UTF-8",
    )
