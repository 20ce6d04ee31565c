"""Reference data (places, units, people, catalog, lists): loaded from a data folder, read back as
the domain bundle the rules need. Any change bumps `data_version`; cell changes also bump the
geofence `index_version`, so every process rebuilds its index."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, SQLModel, col, select

from geodata.dataset import Dataset
from grid.catalog import Catalog, Category, MajorCategory, Matter, StageLimits
from grid.domain import Domain
from grid.geofence import GeofenceIndex
from grid.lifecycle import Lifecycle
from grid.organisation import Unit
from grid.places import Township
from grid.powers import Agreement, PowerListEntry, PowerLists, TerritorialDuty
from grid.routing import Router
from grid.workcalendar import WorkingCalendar
from server.db.tables import (
    CategoryRow,
    CellRow,
    CountyRow,
    DeviceRow,
    DutyRow,
    MajorCategoryRow,
    MatterRow,
    Meta,
    OfficerRow,
    PowerListRow,
    SubjectRow,
    TownshipRow,
    UnitRow,
    VillageRow,
    WorkerRow,
)

DATA_VERSION = "data_version"
INDEX_VERSION = "index_version"
URGENT_LIMITS = "urgent_limits"
TRADE_MATTERS = "trade_matters"


def plain(value: msgspec.Struct) -> dict[str, Any]:
    """A struct's fields as column values: scalars (dates included) as they are, nested values as
    JSON-ready builtins for the JSON columns."""
    return {
        name: msgspec.to_builtins(v) if isinstance(v, list | tuple | dict | msgspec.Struct) else v
        for name in value.__struct_fields__
        for v in [getattr(value, name)]
    }


def shape_columns(geometry: BaseGeometry) -> dict[str, Any]:
    minx, miny, maxx, maxy = geometry.bounds
    return {"geometry": shapely.to_geojson(geometry), "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def get_meta(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Meta, key)
    return default if row is None else row.value


def bump(session: Session, key: str) -> int:
    value = int(get_meta(session, key, 0)) + 1
    session.merge(Meta(key=key, value=value))
    return value


def load_counties(session: Session, dataset: Dataset) -> None:
    for county, shape in zip(dataset.counties.records, dataset.counties.shapes, strict=True):
        session.merge(
            CountyRow(
                code=county.code, name=county.name, seat_township=county.seat_township, **shape_columns(shape)
            )
        )


def load_dataset(session: Session, dataset: Dataset) -> None:
    """Upsert everything in a data folder (idempotent by code/id) and bump the versions."""
    load_counties(session, dataset)
    for township, shape in zip(dataset.townships.records, dataset.townships.shapes, strict=True):
        session.merge(TownshipRow(**plain(township), county=township.county, **shape_columns(shape)))
    for village, shape in zip(dataset.villages.records, dataset.villages.shapes, strict=True):
        session.merge(VillageRow(**plain(village), township=village.township, **shape_columns(shape)))
    for cell, shape in zip(dataset.cells.records, dataset.cells.shapes, strict=True):
        session.merge(
            CellRow(**plain(cell), village=cell.village, township=cell.township, **shape_columns(shape))
        )
    catalog = dataset.catalog
    for major in catalog.majors:
        session.merge(MajorCategoryRow(**plain(major)))
    for category in catalog.categories:
        session.merge(CategoryRow(**plain(category)))
    for matter in catalog.matters:
        session.merge(MatterRow(**plain(matter)))
    session.merge(Meta(key=URGENT_LIMITS, value=msgspec.to_builtins(catalog.urgent_limits)))
    session.merge(Meta(key=TRADE_MATTERS, value=msgspec.to_builtins(catalog.trades)))
    for unit in dataset.units:
        session.merge(UnitRow(**plain(unit)))
    for worker in dataset.workers:
        session.merge(WorkerRow(**plain(worker)))
    for officer in dataset.officers:
        session.merge(OfficerRow(**plain(officer)))
    townships = {t.code for t in dataset.townships.records}
    for subject in dataset.subjects:
        session.merge(SubjectRow(**plain(subject), township=subject.cell[:9]))
    for device in dataset.devices:
        session.merge(DeviceRow(**plain(device), township=device.cell[:9]))
    for entry in dataset.power_list:
        session.merge(power_list_row(entry))
    # Duties have no natural key: a loaded township's list replaces what was there.
    session.exec(delete(DutyRow).where(col(DutyRow.township).in_(townships)))
    session.add_all(DutyRow(**plain(d)) for d in dataset.duties)
    bump(session, INDEX_VERSION)
    bump(session, DATA_VERSION)


def power_list_row(entry: PowerListEntry) -> PowerListRow:
    agreement = entry.agreement
    return PowerListRow(
        id=entry.id,
        township=entry.township,
        matter=entry.matter,
        mode=entry.mode.value,
        unit=entry.unit,
        agreement_number=agreement.number if agreement else None,
        agreement_department=agreement.department if agreement else None,
        agreement_valid_from=agreement.valid_from if agreement else None,
        agreement_valid_to=agreement.valid_to if agreement else None,
    )


def power_list_entry(row: PowerListRow) -> PowerListEntry:
    agreement = None
    if row.agreement_number:
        agreement = Agreement(
            number=row.agreement_number,
            department=row.agreement_department or "",
            valid_from=row.agreement_valid_from,  # type: ignore[arg-type]
            valid_to=row.agreement_valid_to,  # type: ignore[arg-type]
        )
    return msgspec.convert(
        {
            "id": row.id,
            "township": row.township,
            "matter": row.matter,
            "mode": row.mode,
            "unit": row.unit,
            "agreement": agreement,
        },
        PowerListEntry,
    )


def domain_values(rows: Iterable[SQLModel], kind: type[Any], drop: tuple[str, ...] = ()) -> list[Any]:
    fields = set(kind.__struct_fields__)
    return [
        msgspec.convert({k: v for k, v in row.model_dump().items() if k in fields and k not in drop}, kind)
        for row in rows
    ]


def build_domain(session: Session, calendar: WorkingCalendar) -> Domain:
    catalog = Catalog(
        majors=domain_values(session.exec(select(MajorCategoryRow)), MajorCategory),
        categories=domain_values(session.exec(select(CategoryRow)), Category),
        matters=domain_values(session.exec(select(MatterRow)), Matter),
        urgent_limits=msgspec.convert(get_meta(session, URGENT_LIMITS), StageLimits),
        trades=get_meta(session, TRADE_MATTERS, {}),
    )
    lists = PowerLists(
        (power_list_entry(r) for r in session.exec(select(PowerListRow))),
        domain_values(session.exec(select(DutyRow)), TerritorialDuty),
    )
    units = {u.id: u for u in domain_values(session.exec(select(UnitRow)), Unit)}
    townships = {t.code: t for t in domain_values(session.exec(select(TownshipRow)), Township)}
    cells = session.exec(select(CellRow.code, CellRow.geometry)).all()
    shapes = shapely.from_geojson([g for _, g in cells]) if cells else []
    index = GeofenceIndex(
        zip((c for c, _ in cells), shapes, strict=True), version=int(get_meta(session, INDEX_VERSION, 0))
    )
    return Domain(
        catalog=catalog,
        calendar=calendar,
        router=Router(catalog, lists, units, townships),
        index=index,
        lifecycle=Lifecycle(catalog, calendar),
    )


class DomainCache:
    """The domain bundle of this process, rebuilt when another process (or this one) bumps
    `data_version`. The check is one primary-key read.

    A caller that holds a session passes it (or uses `on(session)`): the check then runs on the
    connection it already has. Opening a second one there would let a full pool deadlock, every
    request holding one connection and waiting for another."""

    def __init__(self, engine: Engine, calendar: WorkingCalendar) -> None:
        self.engine = engine
        self.calendar = calendar
        self._lock = threading.Lock()
        self._version: int | None = None
        self._domain: Domain | None = None

    def __call__(self, session: Session | None = None) -> Domain:
        if session is None:
            with Session(self.engine) as own:
                return self._current(own)
        return self._current(session)

    def on(self, session: Session) -> Callable[[], Domain]:
        """The domain as a service on `session` asks for it."""
        return functools.partial(self, session)

    def _current(self, session: Session) -> Domain:
        # Read before taking the lock, so that the session has its connection before it waits.
        version = int(get_meta(session, DATA_VERSION, 0))
        if self._domain is not None and version == self._version:
            return self._domain
        with self._lock:
            if self._domain is None or version != self._version:
                self._domain = build_domain(session, self.calendar)
                self._version = version
            return self._domain


def has_data(session: Session) -> bool:
    return bool(session.exec(select(func.count()).select_from(CellRow)).one())


def first_county_code(session: Session) -> str:
    """The code of the (first) loaded county: the demo's admin scope."""
    row = session.exec(select(CountyRow.code).order_by(col(CountyRow.code))).first()
    if row is None:
        raise LookupError("no county loaded")
    return row


def worker_cells(session: Session, worker: str) -> list[str]:
    """The cells a grid worker is assigned: where they verify and patrol; none for an unknown id."""
    return list(session.exec(select(WorkerRow.cells).where(WorkerRow.id == worker)).first() or [])
