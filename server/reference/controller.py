"""Reference data: places, units, people, catalog, lists. Read by staff in scope; written by admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import shapely
from litestar import Controller, get, post
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, QueryParameter, RawBody
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from geodata.validation import Level
from grid.catalog import Category, MajorCategory, Matter
from grid.errors import DomainError
from grid.organisation import Officer, Unit, Worker
from grid.places import Township, Village
from grid.powers import PowerListEntry, TerritorialDuty
from grid.subjects import Subject
from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.listings import Listing, feature, page_of, parse_bbox
from server.api.problems import refusals
from server.api.schemas import Limit, Offset, Page, strict
from server.api.security import READERS, STAFF, allow, township_scope
from server.auth import Principal, Role
from server.db.tables import (
    CategoryRow,
    CellRow,
    DutyRow,
    MajorCategoryRow,
    MatterRow,
    OfficerRow,
    PowerListRow,
    SubjectRow,
    TownshipRow,
    UnitRow,
    VillageRow,
    WorkerRow,
)
from server.reference.boundaries import Boundaries, BoundaryBatch, BoundaryRefused
from server.reference.schemas import CellCollection, CellsWritten, Written
from server.reference.service import (
    DATA_VERSION,
    get_meta,
    power_list_entry,
    worker_cells,
)
from server.reference.writes import ReferenceRefused, ReferenceWriter

MAX_ITEMS_PER_WRITE = 20_000


class NotAWorker(DomainError):
    """`mine=true` from a role that has no cells of its own (422)."""

    code = "not_a_worker"


def _write(
    session: Session,
    principal: Principal,
    body: bytes,
    kind: Any,
    write: Callable[[ReferenceWriter, Any], int],
) -> Written:
    """Decode a JSON array of `kind` strictly, validate it as a whole, write it or nothing."""
    items = strict(body, list[kind])
    if not items or len(items) > MAX_ITEMS_PER_WRITE:
        raise ValidationException(f"send 1 to {MAX_ITEMS_PER_WRITE} items")
    try:
        written = write(ReferenceWriter(session, principal.county), items)
    except ReferenceRefused as exc:
        raise ValidationException(str(exc), extra=exc.problems) from None
    return Written(written=written, data_version=int(get_meta(session, DATA_VERSION, 0)))


class ReferenceController(Controller):
    tags = ("reference data",)
    guards = [allow(*READERS)]  # noqa: RUF012  (Litestar reads it as a class attribute)

    def _page(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        table: Any,
        kind: Any,
        township: str | None,
        column: str | None,
        key: str,
        limit: int,
        offset: int,
        extra: Any = (),
    ) -> Page[Any]:
        townships, county = township_scope(principal, township)
        items, total = Listing(session).page(
            table,
            kind,
            townships=townships,
            county=county,
            township_column=column,
            key=key,
            limit=limit,
            offset=offset,
            extra=extra,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/townships", responses=refusals(), sync_to_thread=True)
    def townships(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[Township]:
        return self._page(session, principal, TownshipRow, Township, None, "code", "code", limit, offset)

    @get("/villages", responses=refusals(), sync_to_thread=True)
    def villages(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[Village]:
        return self._page(
            session, principal, VillageRow, Village, township, "township", "code", limit, offset
        )

    @get("/units", responses=refusals(), sync_to_thread=True)
    def units(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[Unit]:
        """The county's departments, and the offices and stationed units of the caller's scope."""
        departments = and_(
            col(UnitRow.township).is_(None), col(UnitRow.id).startswith(principal.county + ".")
        )
        if principal.scope_kind == "county" or principal.township is None:
            mine = col(UnitRow.township).startswith(principal.county)
        else:
            mine = col(UnitRow.township) == principal.township
        return self._page(
            session, principal, UnitRow, Unit, None, None, "id", limit, offset, extra=[or_(departments, mine)]
        )

    @get("/workers", responses=refusals(), guards=[allow(*STAFF)], sync_to_thread=True)
    def workers(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[Worker]:
        return self._page(session, principal, WorkerRow, Worker, township, "township", "id", limit, offset)

    @get("/officers", responses=refusals(), guards=[allow(Role.ADMIN, Role.DUTY)], sync_to_thread=True)
    def officers(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        unit: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[Officer]:
        extra: list[Any] = [] if unit is None else [OfficerRow.unit == unit]
        if principal.scope_kind == "township":
            extra.append(col(OfficerRow.unit).startswith(principal.scope_id))
        else:
            extra.append(col(OfficerRow.unit).startswith(principal.county))
        return self._page(
            session, principal, OfficerRow, Officer, None, None, "id", limit, offset, extra=extra
        )

    @get("/subjects", responses=refusals(), guards=[allow(*STAFF)], sync_to_thread=True)
    def subjects(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[Subject]:
        return self._page(session, principal, SubjectRow, Subject, township, "township", "id", limit, offset)

    @get("/categories", responses=refusals(), sync_to_thread=True)
    def categories(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[Category]:
        return self._page(session, principal, CategoryRow, Category, None, None, "code", limit, offset)

    @get("/categories/majors", responses=refusals(), sync_to_thread=True)
    def majors(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[MajorCategory]:
        return self._page(
            session, principal, MajorCategoryRow, MajorCategory, None, None, "code", limit, offset
        )

    @get("/matters", responses=refusals(), sync_to_thread=True)
    def matters(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[Matter]:
        return self._page(session, principal, MatterRow, Matter, None, None, "code", limit, offset)

    @get("/power-lists", responses=refusals(), guards=[allow(*STAFF)], sync_to_thread=True)
    def power_lists(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[PowerListEntry]:
        townships, county = township_scope(principal, township)
        query = select(PowerListRow)
        query = (
            query.where(col(PowerListRow.township).in_(townships))
            if townships
            else query.where(col(PowerListRow.township).startswith(county or ""))
        )
        rows, total = page_of(session, query, [col(PowerListRow.id)], limit, offset)
        return Page(items=[power_list_entry(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/duties", responses=refusals(), guards=[allow(*STAFF)], sync_to_thread=True)
    def duties(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[TerritorialDuty]:
        return self._page(
            session, principal, DutyRow, TerritorialDuty, township, "township", "id", limit, offset
        )

    @post("/units", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_units(
        self, data: JSONBody[list[Unit]], body: RawBody, session: SessionDep, principal: PrincipalDep
    ) -> Written:
        """Add or replace units (offices, stationed units, departments and their teams)."""
        return _write(session, principal, body, Unit, ReferenceWriter.units)

    @post("/workers", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_workers(
        self, data: JSONBody[list[Worker]], body: RawBody, session: SessionDep, principal: PrincipalDep
    ) -> Written:
        """Add or replace grid workers and their cells."""
        return _write(session, principal, body, Worker, ReferenceWriter.workers)

    @post("/officers", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_officers(
        self, data: JSONBody[list[Officer]], body: RawBody, session: SessionDep, principal: PrincipalDep
    ) -> Written:
        """Add or replace enforcement officers and their certificates."""
        return _write(session, principal, body, Officer, ReferenceWriter.officers)

    @post("/subjects", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_subjects(
        self, data: JSONBody[list[Subject]], body: RawBody, session: SessionDep, principal: PrincipalDep
    ) -> Written:
        """Add or replace inspected subjects."""
        return _write(session, principal, body, Subject, ReferenceWriter.subjects)

    @post("/power-lists", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_power_lists(
        self,
        data: JSONBody[list[PowerListEntry]],
        body: RawBody,
        session: SessionDep,
        principal: PrincipalDep,
    ) -> Written:
        """Add or replace power-list entries (and entrustment agreements); routing follows at once."""
        return _write(session, principal, body, PowerListEntry, ReferenceWriter.power_list)

    @get("/cells", responses=refusals(422), sync_to_thread=True, media_type="application/geo+json")
    def cells(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        township: FromQuery[str | None] = None,
        bbox: Annotated[str | None, QueryParameter(description="minlon,minlat,maxlon,maxlat")] = None,
        mine: Annotated[bool, QueryParameter(description="a worker's own cells (workers only)")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Cells as a GeoJSON FeatureCollection (with `total`, `limit`, `offset` for paging).
        `mine=true`: a worker's own cells (the field app draws them); any other role asking for its
        "own" cells is refused (422), since only a worker has cells."""
        townships, county = township_scope(principal, township)
        query = select(CellRow)
        query = (
            query.where(col(CellRow.township).in_(townships))
            if townships
            else query.where(col(CellRow.township).startswith(county or ""))
        )
        if mine:
            if principal.role is not Role.WORKER:
                raise NotAWorker(
                    f"only a grid worker has cells of their own (role {principal.role.value})",
                    "只有网格员有自己负责的网格",
                    field="mine",
                )
            query = query.where(col(CellRow.code).in_(worker_cells(session, principal.scope_id)))
        box = parse_bbox(bbox)
        if box:
            minx, miny, maxx, maxy = box
            query = query.where(
                CellRow.maxx >= minx, CellRow.minx <= maxx, CellRow.maxy >= miny, CellRow.miny <= maxy
            )
        rows, total = page_of(session, query, [col(CellRow.code)], limit, offset)
        return {
            "type": "FeatureCollection",
            "features": [
                feature(
                    {
                        "code": r.code,
                        "name": r.name,
                        "village": r.village,
                        "township": r.township,
                        "patrol_target": r.patrol_target,
                    },
                    r.geometry,
                )
                for r in rows
            ],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @post("/cells", responses=refusals(), guards=[allow(Role.ADMIN)], sync_to_thread=True)
    def write_cells(
        self,
        data: JSONBody[CellCollection],
        body: RawBody,
        session: SessionDep,
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> CellsWritten:
        """Add or replace cells (all or nothing); the geofence index of every process is rebuilt."""
        data = strict(body, CellCollection)
        shapes = []
        unreadable = []
        for n, item in enumerate(data.features):
            try:
                shapes.append(shapely.from_geojson(msgspec.json.encode(item.geometry)))
            except (shapely.errors.GEOSException, ValueError) as exc:
                unreadable.append({"at": f"features[{n}]", "problem": f"geometry is not GeoJSON: {exc}"})
        if unreadable:
            raise ValidationException("cells refused; nothing was written", extra=unreadable)
        batch = BoundaryBatch(
            Level.CELL,
            [f.properties.code for f in data.features],
            [f.properties.name for f in data.features],
            shapes,
            [f.properties.patrol_target for f in data.features],
        )
        try:
            done = Boundaries(session, runtime.clock, scope=principal.county).write(
                batch, "POST /cells", principal.actor
            )
        except BoundaryRefused as exc:
            problems = [
                {"at": ", ".join(f.cells), "kind": f.kind.value, "problem": f.detail}
                for f in exc.findings
                if f.blocking
            ]
            raise ValidationException(str(exc), extra=problems) from None
        return CellsWritten(written=done.written, index_version=done.index_version)
