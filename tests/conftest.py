from __future__ import annotations

import datetime as dt

import pytest

from geodata.catalog_files import default_calendar, default_catalog
from geodata.dataset import Dataset
from geodata.synth import synthesize
from grid.catalog import Catalog
from grid.workcalendar import WorkingCalendar

CST = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """A China Standard Time moment from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CST)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return default_calendar()


@pytest.fixture(scope="session")
def county() -> Dataset:
    return synthesize(7)


@pytest.fixture(scope="session")
def api_template(tmp_path_factory: pytest.TempPathFactory, county: Dataset):  # type: ignore[no-untyped-def]
    from tests.api_support import build_template

    return build_template(tmp_path_factory.mktemp("template"), county)


@pytest.fixture
def api(api_template, tmp_path):  # type: ignore[no-untyped-def]
    from tests.api_support import open_api

    handle, client = open_api(api_template, tmp_path, media_dir=tmp_path / "media", media_max_bytes=200_000)
    with client:
        yield handle
    handle.runtime.engine.dispose()
