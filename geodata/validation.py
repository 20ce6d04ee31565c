"""The validation report on a set of cells before anything is written: what is wrong, where, and
how much (areas in m² on the WGS-84 ellipsoid)."""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from grid.errors import InvalidCode
from grid.places import check_cell_code, township_of, village_of

GEOD = Geod(ellps="WGS84")
# Slivers below these are rounding between neighbours' shared edges (a reprojection moves each copy
# of an edge a little), not overlaps or gaps: a piece must be this wide somewhere and this large.
SLIVER_WIDTH_M = 0.5
MIN_AREA_M2 = 1.0
_SLIVER_DEG = SLIVER_WIDTH_M / 111_320


class Kind(enum.StrEnum):
    MISSING_CODE = "missing_code"
    MALFORMED_CODE = "malformed_code"
    DUPLICATE_CODE = "duplicate_code"
    EMPTY = "empty_geometry"
    INVALID = "invalid_geometry"
    MULTIPART = "multipart"
    OVERLAP = "overlap"
    GAP = "gap"
    CROSSES_VILLAGE = "crosses_village"
    CROSSES_TOWNSHIP = "crosses_township"


# Findings that stop an import; the others are reported and written anyway.
BLOCKING = frozenset(set(Kind) - {Kind.MULTIPART})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    cells: tuple[str, ...]
    detail: str
    area_m2: float | None = None
    share: float | None = None

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING


def area_m2(shape: BaseGeometry) -> float:
    return abs(GEOD.geometry_area_perimeter(shape)[0])


def substantial_area_m2(shape: BaseGeometry) -> float:
    """The area of the parts of `shape` wider than a sliver."""
    if shape.is_empty:
        return 0.0
    parts = [p for p in shapely.get_parts(shape) if p.area > 0 and not p.buffer(-_SLIVER_DEG / 2).is_empty]
    return sum(area_m2(p) for p in parts)


def validate_cells(
    codes: Sequence[str | None],
    shapes: Sequence[BaseGeometry | None],
    villages: Mapping[str, BaseGeometry] | None = None,
    townships: Mapping[str, BaseGeometry] | None = None,
) -> list[Finding]:
    """Every finding on the cells; `villages` and `townships` (by code) enable the crossing and gap
    checks against their boundaries (without townships, gaps are the holes inside the cells' union)."""
    labels = [c or f"#{n + 1}" for n, c in enumerate(codes)]
    findings = _codes(codes, labels)
    good: list[int] = []
    for n, shape in enumerate(shapes):
        if shape is None or shape.is_empty:
            findings.append(Finding(Kind.EMPTY, (labels[n],), "the feature has no geometry"))
            continue
        if not shape.is_valid:
            findings.append(Finding(Kind.INVALID, (labels[n],), shapely.is_valid_reason(shape)))
            continue
        if shape.geom_type == "MultiPolygon":
            parts = len(shape.geoms)
            findings.append(Finding(Kind.MULTIPART, (labels[n],), f"{parts} separate parts"))
        good.append(n)
    geoms = np.array([shapes[n] for n in good], dtype=object)
    findings += _overlaps(geoms, [labels[n] for n in good])
    # Gaps and crossings read the township and village from the code, so only well-formed ones count.
    coded = [codes[n] if _well_formed(codes[n]) else None for n in good]
    findings += _gaps(geoms, coded, townships)
    if villages is not None:
        findings += _crossings(geoms, coded, villages, village_of, Kind.CROSSES_VILLAGE)
    if townships is not None:
        findings += _crossings(geoms, coded, townships, township_of, Kind.CROSSES_TOWNSHIP)
    return findings


def _well_formed(code: str | None) -> bool:
    try:
        check_cell_code(code)
    except InvalidCode:
        return False
    return True


def _codes(codes: Sequence[str | None], labels: list[str]) -> list[Finding]:
    findings = []
    for n, code in enumerate(codes):
        if code is None:
            findings.append(
                Finding(Kind.MISSING_CODE, (labels[n],), "no code; number the cells with --code-cells")
            )
            continue
        try:
            check_cell_code(code)
        except InvalidCode as exc:
            findings.append(Finding(Kind.MALFORMED_CODE, (code,), exc.message_en))
    for code, count in Counter(c for c in codes if c is not None).items():
        if count > 1:
            findings.append(Finding(Kind.DUPLICATE_CODE, (code,), f"{count} features share this code"))
    return findings


def _overlaps(geoms: np.ndarray, labels: list[str]) -> list[Finding]:
    if len(geoms) < 2:
        return []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.intersection(geoms[left], geoms[right])
    findings = []
    for i, j, piece in zip(left, right, shared, strict=True):
        area = substantial_area_m2(piece)
        if area >= MIN_AREA_M2:
            findings.append(
                Finding(Kind.OVERLAP, (labels[i], labels[j]), f"overlap of {area:,.0f} m²", area_m2=area)
            )
    return findings


def _gaps(
    geoms: np.ndarray, codes: Sequence[str | None], townships: Mapping[str, BaseGeometry] | None
) -> list[Finding]:
    by_township: dict[str, list[int]] = defaultdict(list)
    for n, code in enumerate(codes):
        if code is not None:
            by_township[code[:9]].append(n)
    findings = []
    for township, members in sorted(by_township.items()):
        covered = shapely.union_all(geoms[members])
        boundary = townships.get(township) if townships else None
        if boundary is not None:
            uncovered = shapely.difference(boundary, covered)
            whole = boundary
        else:  # no boundary: the holes inside the cells' union are the gaps
            outline = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(covered)])
            uncovered, whole = shapely.difference(outline, covered), outline
        area = substantial_area_m2(uncovered)
        if area >= MIN_AREA_M2:
            share = area / area_m2(whole)
            findings.append(
                Finding(
                    Kind.GAP,
                    (township,),
                    f"{area:,.0f} m² ({share:.2%}) of the township is in no cell",
                    area_m2=area,
                    share=share,
                )
            )
    return findings


def _crossings(
    geoms: np.ndarray,
    codes: Sequence[str | None],
    areas: Mapping[str, BaseGeometry],
    parent_of: Callable[[str], str],
    kind: Kind,
) -> list[Finding]:
    findings = []
    for n, code in enumerate(codes):
        if code is None:
            continue
        parent = parent_of(code)
        boundary = areas.get(parent)
        outside = geoms[n] if boundary is None else shapely.difference(geoms[n], boundary)
        area = substantial_area_m2(outside)
        if area >= MIN_AREA_M2:
            where = (
                "is not among the boundaries" if boundary is None else f"reaches {area:,.0f} m² outside it"
            )
            findings.append(Finding(kind, (code,), f"{parent} {where}", area_m2=area))
    return findings
