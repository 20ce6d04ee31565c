"""Boundary writes (township, village or cell polygons, from a file import or an API upload):
validated against what is already in place, upserted by code all or nothing, the index version
bumped, and the rows they replaced kept so the latest write can be rolled back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from geodata.boundary_files import from_web_crs
from geodata.coding import code_cells
from geodata.coords import Crs
from geodata.validation import CROSSINGS, RULES, Finding, Kind, Level, validate
from grid.places import county_of, township_of, village_of
from server.db.tables import (
    BoundaryImportRow,
    BoundaryPreviousRow,
    CellRow,
    CountyRow,
    TownshipRow,
    VillageRow,
)
from server.db.upsert import upsert
from server.reference.service import DATA_VERSION, INDEX_VERSION, bump

TABLES: dict[Level, type[Any]] = {Level.TOWNSHIP: TownshipRow, Level.VILLAGE: VillageRow, Level.CELL: CellRow}
CONTAINER_TABLES: dict[str, type[Any]] = {"village": VillageRow, "township": TownshipRow, "county": CountyRow}
CHILD_TABLES: dict[Level, tuple[type[Any], Any] | None] = {
    Level.TOWNSHIP: (VillageRow, VillageRow.township),
    Level.VILLAGE: (CellRow, CellRow.village),
    Level.CELL: None,
}
# Codes per IN (...) list: well under the bound-parameter limits of SQLite and PostgreSQL.
CHUNK = 1000
# A web-map export read as WGS-84 lies 100-700 m off: many of its polygons cross their parents.
OFFSET_CROSSINGS = 3
OFFSET_SHARE = 0.1


@dataclass
class BoundaryBatch:
    level: Level
    codes: list[str | None]
    names: list[str]
    shapes: list[BaseGeometry | None]
    # Cells only: visits per week; None keeps what is in place (2 for a new cell).
    patrol_targets: list[int] | None = None


class BoundaryRefused(Exception):
    """Blocking findings: nothing was written."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("boundaries refused; nothing was written")
        self.findings = findings


class NothingToRollBack(Exception):
    pass


@dataclass
class BoundaryWrite:
    import_id: int
    level: Level
    written: int
    added: int
    index_version: int
    findings: list[Finding] = field(default_factory=list)  # the warnings it was written with

    @property
    def replaced(self) -> int:
        return self.written - self.added


@dataclass
class RolledBack:
    import_id: int
    level: Level
    source: str
    removed: int
    restored: int
    index_version: int


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class Boundaries:
    def __init__(self, session: Session, clock: Callable[[], dt.datetime], scope: str | None = None) -> None:
        self.session = session
        self.clock = clock
        self.scope = scope  # a county code every written code must start with (an admin's county)

    def _rows(self, table: Any, codes: Iterable[str], columns: Sequence[Any] | None = None) -> list[Any]:
        wanted = sorted(set(codes))
        query = select(*columns) if columns else select(table)
        found: list[Any] = []
        for chunk in _chunks(wanted):
            found += self.session.exec(query.where(col(table.code).in_(chunk))).all()
        return found

    def _shapes(self, table: Any, codes: Iterable[str]) -> dict[str, BaseGeometry]:
        rows = self._rows(table, codes, [table.code, table.geometry])
        return dict(zip((c for c, _ in rows), shapely.from_geojson([g for _, g in rows]), strict=True))

    def check(self, batch: BoundaryBatch) -> list[Finding]:
        """The validation report against the parents and neighbours in the database."""
        rules = RULES[batch.level]
        codes = [c for c in batch.codes if c is not None]
        parents: dict[str, BaseGeometry] = {}
        for container in rules.containers:
            parents |= self._shapes(CONTAINER_TABLES[container.name], {container.of(c) for c in codes})
        groups = {rules.group_of(c) for c in codes}
        table = TABLES[batch.level]
        group_column = table.county if batch.level is Level.TOWNSHIP else table.township
        neighbours: list[str] = []
        for chunk in _chunks(sorted(groups)):
            neighbours += self.session.exec(select(table.code).where(col(group_column).in_(chunk))).all()
        context = self._shapes(table, set(neighbours) - set(codes))
        findings = validate(batch.level, batch.codes, batch.shapes, parents, context)
        if self.scope is not None:
            findings += [
                Finding(Kind.OUTSIDE_SCOPE, (c,), f"{batch.level} {c} is outside county {self.scope}")
                for c in codes
                if not c.startswith(self.scope)
            ]
        return findings

    def web_crs_hint(self, batch: BoundaryBatch, findings: Sequence[Finding]) -> Crs | None:
        """When many polygons cross their parents, the web-map system (GCJ-02, BD-09) in which they
        would not: a systematic offset of lon/lat read as WGS-84, not a file of bad polygons."""
        crossing = sum(f.kind in CROSSINGS for f in findings)
        if crossing < max(OFFSET_CROSSINGS, OFFSET_SHARE * len(batch.codes)):
            return None
        shapes = np.array(batch.shapes, dtype=object)
        for crs in (Crs.GCJ02, Crs.BD09):
            moved = BoundaryBatch(batch.level, batch.codes, batch.names, list(from_web_crs(shapes, crs)))
            if 4 * sum(f.kind in CROSSINGS for f in self.check(moved)) <= crossing:
                return crs
        return None

    def number_cells(self, batch: BoundaryBatch) -> BoundaryBatch:
        """`--code-cells`: give each cell without a code the next codes of the village it lies in,
        west→east, north→south, after the codes that village already has."""
        missing = [n for n, c in enumerate(batch.codes) if c is None and batch.shapes[n] is not None]
        if not missing:
            return batch
        points = shapely.point_on_surface(np.array([batch.shapes[n] for n in missing], dtype=object))
        rows = self.session.exec(select(VillageRow.code, VillageRow.geometry)).all()
        villages = [c for c, _ in rows]
        tree = shapely.STRtree(shapely.from_geojson([g for _, g in rows]) if rows else [])
        at_point, at_village = tree.query(points, predicate="within")
        village_of_point = dict(zip(at_point.tolist(), (villages[v] for v in at_village), strict=True))
        by_village: dict[str, list[int]] = {}
        for p, n in enumerate(missing):
            if p in village_of_point:
                by_village.setdefault(village_of_point[p], []).append(n)
        # The highest sequence each of those villages already has, in the database or the file.
        in_place: list[str] = []
        for chunk in _chunks(sorted(by_village)):
            in_place += self.session.exec(select(CellRow.code).where(col(CellRow.village).in_(chunk))).all()
        taken: dict[str, int] = {}
        for code in [*in_place, *(c for c in batch.codes if c is not None)]:
            taken[village_of(code)] = max(taken.get(village_of(code), 0), int(code[-2:]))
        codes: list[str | None] = list(batch.codes)
        for village, members in by_village.items():
            numbered = code_cells(
                village, [batch.shapes[n] for n in members], start=taken.get(village, 0) + 1
            )
            for n, code in zip(members, numbered, strict=True):
                codes[n] = code
        return BoundaryBatch(batch.level, codes, batch.names, batch.shapes, batch.patrol_targets)

    def write(self, batch: BoundaryBatch, source: str, actor: str) -> BoundaryWrite:
        """Validate, then upsert every polygon by code in one transaction, or raise BoundaryRefused."""
        findings = self.check(batch)
        if any(f.blocking for f in findings):
            raise BoundaryRefused(findings)
        codes = [c for c in batch.codes if c is not None]
        table = TABLES[batch.level]
        previous = {row.code: row.model_dump(mode="json") for row in self._rows(table, codes)}
        record = BoundaryImportRow(
            level=batch.level.value,
            source=source,
            actor=actor,
            at=self.clock(),
            written=len(codes),
            added=len(codes) - len(previous),
        )
        self.session.add(record)
        self.session.flush()
        assert record.id is not None
        self.session.exec(
            insert(BoundaryPreviousRow),
            params=[{"import_id": record.id, "code": c, "previous": previous.get(c)} for c in codes],
        )
        rows, refreshed = _rows_of(batch, previous)
        upsert(self.session, table, rows, ["code"], lambda new: {c: new[c] for c in refreshed})
        record.index_version = self._bump()
        self.session.commit()
        return BoundaryWrite(
            record.id,
            batch.level,
            record.written,
            record.added,
            record.index_version,
            [f for f in findings if not f.blocking],
        )

    def _bump(self) -> int:
        bump(self.session, DATA_VERSION)
        return bump(self.session, INDEX_VERSION)

    def rollback(self) -> RolledBack:
        """Undo the latest write not yet rolled back: its new codes removed, its replaced rows back."""
        record = self.session.exec(
            select(BoundaryImportRow)
            .where(col(BoundaryImportRow.rolled_back_at).is_(None))
            .order_by(col(BoundaryImportRow.id).desc())
        ).first()
        if record is None or record.id is None:
            raise NothingToRollBack("no boundary import to roll back")
        level = Level(record.level)
        table = TABLES[level]
        kept = self.session.exec(
            select(BoundaryPreviousRow.code, BoundaryPreviousRow.previous).where(
                BoundaryPreviousRow.import_id == record.id
            )
        ).all()
        added = [code for code, row in kept if row is None]
        restored = [row for _, row in kept if row is not None]
        children = CHILD_TABLES[level]
        if children is not None:
            child, parent_column = children
            for chunk in _chunks(added):
                orphan = self.session.exec(
                    select(child.code).where(col(parent_column).in_(chunk)).limit(1)
                ).first()
                if orphan is not None:
                    raise BoundaryRefused(
                        [
                            Finding(
                                Kind.UNKNOWN_PARENT,
                                (orphan,),
                                f"import #{record.id} added the {level} of {orphan}; roll back or move its "
                                f"{child.__tablename__}s first",
                            )
                        ]
                    )
        for chunk in _chunks(added):
            self.session.exec(delete(table).where(col(table.code).in_(chunk)))
        columns = [c.name for c in table.__table__.columns if c.name != "code"]
        upsert(self.session, table, restored, ["code"], lambda new: {c: new[c] for c in columns})
        record.rolled_back_at = self.clock()
        self.session.add(record)
        version = self._bump()
        self.session.commit()
        return RolledBack(record.id, level, record.source, len(added), len(restored), version)


def _rows_of(
    batch: BoundaryBatch, previous: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows to upsert and the columns a replaced row takes from them (the rest stay as they were:
    a township's office and seat, a cell's patrol target unless one is given)."""
    shapes = np.array(batch.shapes, dtype=object)
    geojson = shapely.to_geojson(shapes)
    bounds = shapely.bounds(shapes)
    refreshed = ["name", "geometry", "minx", "miny", "maxx", "maxy"]
    rows = []
    for n, code in enumerate(batch.codes):
        assert code is not None  # validation refused missing codes
        minx, miny, maxx, maxy = bounds[n].tolist()
        row: dict[str, Any] = {
            "code": code,
            "name": batch.names[n],
            "geometry": geojson[n],
            "minx": minx,
            "miny": miny,
            "maxx": maxx,
            "maxy": maxy,
        }
        if batch.level is Level.CELL:
            row |= {"village": village_of(code), "township": township_of(code)}
            target = batch.patrol_targets[n] if batch.patrol_targets else None
            row["patrol_target"] = (
                target if target is not None else previous.get(code, {}).get("patrol_target", 2)
            )
        elif batch.level is Level.VILLAGE:
            row["township"] = township_of(code)
        else:
            seat = shapely.point_on_surface(batch.shapes[n])
            row |= {
                "county": county_of(code),
                "kind": "ordinary",
                "population": 0,
                "enforcement_office": "",
                "seat_lon": seat.x,
                "seat_lat": seat.y,
            }
        rows.append(row)
    if batch.level is Level.CELL:
        refreshed.append("patrol_target")
    return rows, refreshed
