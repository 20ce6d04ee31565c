"""Catalogs and holiday schedules as data files: the shipped defaults and a county's own copies."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import msgspec

from grid.catalog import Catalog, Category, MajorCategory, Matter, StageLimits
from grid.organisation import Unit
from grid.workcalendar import HolidayYear, WorkingCalendar

DATA = resources.files("geodata") / "data"


class CatalogFile(msgspec.Struct, kw_only=True):
    source: str = ""
    majors: list[MajorCategory]
    categories: list[Category]
    matters: list[Matter]
    urgent_limits: StageLimits
    trades: dict[str, list[str]] = {}


class DepartmentsFile(msgspec.Struct, kw_only=True):
    departments: list[Unit]


def default_catalog_bytes() -> bytes:
    return (DATA / "catalog.json").read_bytes()


def parse_catalog(raw: bytes) -> Catalog:
    """Decode and check a catalog file; msgspec's and the catalog's errors name the bad field."""
    data = msgspec.json.decode(raw, type=CatalogFile)
    return Catalog(
        majors=data.majors,
        categories=data.categories,
        matters=data.matters,
        urgent_limits=data.urgent_limits,
        trades=data.trades,
    )


def default_catalog() -> Catalog:
    return parse_catalog(default_catalog_bytes())


def department_templates() -> list[Unit]:
    """The county departments of the demo catalog; ids are department kinds, prefixed per county."""
    return msgspec.json.decode((DATA / "departments.json").read_bytes(), type=DepartmentsFile).departments


def holiday_years(extra: Iterable[Path] = ()) -> list[HolidayYear]:
    """The shipped holiday years, then any extra files; a later file for the same year wins."""
    years: dict[int, HolidayYear] = {}
    shipped = sorted((DATA / "holidays").iterdir(), key=lambda p: p.name)
    for path in [*shipped, *extra]:
        if path.name.endswith(".json"):
            year = msgspec.json.decode(path.read_bytes(), type=HolidayYear)
            years[year.year] = year
    return [years[y] for y in sorted(years)]


def default_calendar(extra: Iterable[Path] = ()) -> WorkingCalendar:
    return WorkingCalendar(holiday_years(extra))
