"""The validation report on a set of townships, villages or cells before anything is written: what is
wrong, where, and how much (areas in m² on the WGS-84 ellipsoid).

The checks are vectorised (shapely over arrays) so a province of 300,000 cells is checked in seconds:
an overlap is looked for only where two polygons still meet after each is shrunk by half a sliver,
and a crossing only where a polygon is not covered by its slightly grown parent.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from grid.errors import InvalidCode
from grid.places import (
    TOWNSHIP_DIGITS,
    VILLAGE_DIGITS,
    check_cell_code,
    check_code,
    county_of,
    township_of,
    village_of,
)

GEOD = Geod(ellps="WGS84")
# Slivers below these are rounding between neighbours' shared edges (a reprojection moves each copy
# of an edge a little), not overlaps or gaps: a piece must be this wide somewhere and this large.
SLIVER_WIDTH_M = 0.5
MIN_AREA_M2 = 1.0
_SLIVER_DEG = SLIVER_WIDTH_M / 111_320
POLYGONAL = ("Polygon", "MultiPolygon")


class Level(enum.StrEnum):
    TOWNSHIP = "township"
    VILLAGE = "village"
    CELL = "cell"


class Kind(enum.StrEnum):
    MISSING_CODE = "missing_code"
    MALFORMED_CODE = "malformed_code"
    DUPLICATE_CODE = "duplicate_code"
    OUTSIDE_SCOPE = "outside_scope"
    UNKNOWN_PARENT = "unknown_parent"
    EMPTY = "empty_geometry"
    INVALID = "invalid_geometry"
    FIXED = "fixed_geometry"
    MULTIPART = "multipart"
    OVERLAP = "overlap"
    GAP = "gap"
    CROSSES_VILLAGE = "crosses_village"
    CROSSES_TOWNSHIP = "crosses_township"
    CROSSES_COUNTY = "crosses_county"


# Findings that stop an import; the others are reported and written anyway.
BLOCKING = frozenset(set(Kind) - {Kind.MULTIPART, Kind.FIXED})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    cells: tuple[str, ...]  # the codes (or #n feature numbers) concerned, whatever the level
    detail: str
    area_m2: float | None = None
    share: float | None = None

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING


@dataclass(frozen=True)
class Container:
    """A level above: which of its codes holds a code, what it is called, how leaving it is named."""

    of: Callable[[str], str]
    name: str
    crossing: Kind


@dataclass(frozen=True)
class LevelRules:
    check: Callable[[object], str]
    # The area inside which this level's polygons should leave no gap.
    group_of: Callable[[str], str]
    containers: tuple[Container, ...]


CROSSINGS = frozenset({Kind.CROSSES_VILLAGE, Kind.CROSSES_TOWNSHIP, Kind.CROSSES_COUNTY})
_VILLAGE = Container(village_of, "village", Kind.CROSSES_VILLAGE)
_TOWNSHIP = Container(township_of, "township", Kind.CROSSES_TOWNSHIP)
_COUNTY = Container(county_of, "county", Kind.CROSSES_COUNTY)
RULES = {
    Level.CELL: LevelRules(check_cell_code, township_of, (_VILLAGE, _TOWNSHIP)),
    Level.VILLAGE: LevelRules(
        partial(check_code, digits=VILLAGE_DIGITS, what="village code"), township_of, (_TOWNSHIP,)
    ),
    Level.TOWNSHIP: LevelRules(
        partial(check_code, digits=TOWNSHIP_DIGITS, what="township code"), county_of, (_COUNTY,)
    ),
}


def area_m2(shape: BaseGeometry) -> float:
    return abs(GEOD.geometry_area_perimeter(shape)[0])


def substantial_area_m2(shape: BaseGeometry) -> float:
    """The area of the parts of `shape` wider than a sliver."""
    if shape.is_empty:
        return 0.0
    parts = [p for p in shapely.get_parts(shape) if p.area > 0 and not p.buffer(-_SLIVER_DEG / 2).is_empty]
    return sum(area_m2(p) for p in parts)


def repair(
    codes: Sequence[str | None], shapes: Sequence[BaseGeometry | None]
) -> tuple[list[BaseGeometry | None], list[Finding]]:
    """`--fix`: make invalid polygons valid (GEOS make_valid, keeping only polygonal parts) and say
    which were changed and why they were invalid."""
    fixed = list(shapes)
    findings = []
    for n, shape in enumerate(shapes):
        if shape is None or shape.is_empty or shape.is_valid or shape.geom_type not in POLYGONAL:
            continue
        fixed[n] = shapely.make_valid(shape, method="structure", keep_collapsed=False)
        label = codes[n] or f"#{n + 1}"
        findings.append(Finding(Kind.FIXED, (label,), f"made valid ({shapely.is_valid_reason(shape)})"))
    return fixed, findings


def validate(
    level: Level,
    codes: Sequence[str | None],
    shapes: Sequence[BaseGeometry | None],
    parents: Mapping[str, BaseGeometry] | None = None,
    context: Mapping[str, BaseGeometry] | None = None,
) -> list[Finding]:
    """Every finding on the polygons of one level.

    `parents` (the boundaries of the levels above, by code) enables the unknown-parent and crossing
    checks, and measures gaps against the containing area; without it gaps are the holes inside the
    polygons' union. `context` holds polygons of the same level already in place (by code) that the
    new ones must not overlap and that count towards covering their area.
    """
    rules = RULES[level]
    labels = [c or f"#{n + 1}" for n, c in enumerate(codes)]
    findings = _codes(level, codes, labels)
    good: list[int] = []
    for n, shape in enumerate(shapes):
        if shape is None or shape.is_empty:
            findings.append(Finding(Kind.EMPTY, (labels[n],), "the feature has no geometry"))
        elif shape.geom_type not in POLYGONAL:
            findings.append(Finding(Kind.INVALID, (labels[n],), f"a {shape.geom_type} is not a polygon"))
        elif not shape.is_valid:
            findings.append(Finding(Kind.INVALID, (labels[n],), shapely.is_valid_reason(shape)))
        else:
            # A MultiPolygon of one part is how GIS tools write any polygon: not multipart.
            if shape.geom_type == "MultiPolygon" and len(shape.geoms) > 1:
                findings.append(Finding(Kind.MULTIPART, (labels[n],), f"{len(shape.geoms)} separate parts"))
            good.append(n)
    geoms = np.array([shapes[n] for n in good], dtype=object)
    # Gaps and crossings read the parents from the code, so only well-formed ones count.
    coded = [codes[n] if _well_formed(rules, codes[n]) else None for n in good]
    batch = {code for code in coded if code is not None}
    kept = {c: s for c, s in (context or {}).items() if c not in batch}
    all_geoms = np.concatenate([geoms, np.array(list(kept.values()), dtype=object)])
    findings += _overlaps(all_geoms, [labels[n] for n in good] + list(kept), len(good))
    findings += _gaps(rules, all_geoms, coded + list(kept), parents, {rules.group_of(c) for c in batch})
    if parents is not None:
        for container in rules.containers:
            findings += _crossings(geoms, coded, parents, container)
    return findings


def _well_formed(rules: LevelRules, code: str | None) -> bool:
    try:
        rules.check(code)
    except InvalidCode:
        return False
    return True


def _codes(level: Level, codes: Sequence[str | None], labels: list[str]) -> list[Finding]:
    hint = "; number the cells with --code-cells" if level is Level.CELL else ""
    findings = []
    for n, code in enumerate(codes):
        if code is None:
            findings.append(Finding(Kind.MISSING_CODE, (labels[n],), f"no code{hint}"))
            continue
        try:
            RULES[level].check(code)
        except InvalidCode as exc:
            findings.append(Finding(Kind.MALFORMED_CODE, (code,), exc.message_en))
    for code, count in Counter(c for c in codes if c is not None).items():
        if count > 1:
            findings.append(Finding(Kind.DUPLICATE_CODE, (code,), f"{count} features share this code"))
    return findings


def _overlaps(geoms: np.ndarray, labels: list[str], new: int) -> list[Finding]:
    """Overlaps among `geoms` where at least one of the pair is among the first `new`."""
    if len(geoms) < 2 or new == 0:
        return []
    # Neighbours that only share an edge (give or take a sliver) no longer meet once shrunk.
    shrunk = shapely.buffer(geoms, -_SLIVER_DEG / 2)
    left, right = shapely.STRtree(shrunk).query(shrunk[:new], predicate="intersects")
    pairs = (left != right) & ((right >= new) | (left < right))
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
    rules: LevelRules,
    geoms: np.ndarray,
    codes: Sequence[str | None],
    parents: Mapping[str, BaseGeometry] | None,
    groups: set[str],
) -> list[Finding]:
    members: dict[str, list[int]] = defaultdict(list)
    for n, code in enumerate(codes):
        if code is not None and rules.group_of(code) in groups:
            members[rules.group_of(code)].append(n)
    findings = []
    for group, indexes in sorted(members.items()):
        covered = shapely.union_all(geoms[indexes])
        boundary = parents.get(group) if parents else None
        if boundary is not None:
            uncovered = shapely.difference(boundary, covered)
            whole = boundary
        else:  # no boundary: the holes inside the union are the gaps
            outline = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(covered)])
            uncovered, whole = shapely.difference(outline, covered), outline
        area = substantial_area_m2(uncovered)
        if area >= MIN_AREA_M2:
            share = area / area_m2(whole)
            findings.append(
                Finding(
                    Kind.GAP,
                    (group,),
                    f"{area:,.0f} m² ({share:.2%}) of {group} is in no polygon of this level",
                    area_m2=area,
                    share=share,
                )
            )
    return findings


def _crossings(
    geoms: np.ndarray,
    codes: Sequence[str | None],
    parents: Mapping[str, BaseGeometry],
    container: Container,
) -> list[Finding]:
    parent_at = {n: container.of(code) for n, code in enumerate(codes) if code is not None}
    findings = [
        Finding(Kind.UNKNOWN_PARENT, (code,), f"{container.name} {code} does not exist")
        for code in sorted(set(parent_at.values()) - parents.keys())
    ]
    checked = [n for n, parent in parent_at.items() if parent in parents]
    # Grown by a sliver and prepared once: a polygon it covers does not cross it.
    grown = {
        parent: shapely.buffer(parents[parent], _SLIVER_DEG) for parent in {parent_at[n] for n in checked}
    }
    shapely.prepare(list(grown.values()))
    outer = np.array([grown[parent_at[n]] for n in checked], dtype=object)
    inside = shapely.covered_by(geoms[checked], outer) if checked else np.array([], dtype=bool)
    for n, ok in zip(checked, inside, strict=True):
        if ok:
            continue
        code, parent = codes[n] or "", parent_at[n]
        area = substantial_area_m2(shapely.difference(geoms[n], parents[parent]))
        if area >= MIN_AREA_M2:
            findings.append(
                Finding(
                    container.crossing,
                    (code,),
                    f"reaches {area:,.0f} m² outside {container.name} {parent}",
                    area_m2=area,
                )
            )
    return findings
