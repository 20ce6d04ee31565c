from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geodata.catalog_files import default_calendar, default_catalog
from geodata.dataset import Dataset
from geodata.synth import synthesize
from grid.catalog import Catalog
from grid.workcalendar import WorkingCalendar

# The `gridwatch ingest` processes the tests start serve no metrics unless a test gives them a port:
# several run at once, and 9100 may be taken on the machine.
os.environ.setdefault("GRIDWATCH_METRICS_PORT", "0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL, also those parametrized over the database kind."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgres" in callspec.params.values()
        if on_postgres or "postgres_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


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
def postgres_admin_url() -> Iterator[str]:
    """A private PostgreSQL cluster; missing binaries fail in CI and skip elsewhere, saying why."""
    from tests.support.postgres import cluster, server_binaries

    if server_binaries() is None:
        message = "PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with cluster() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, county: Dataset):  # type: ignore[no-untyped-def]
    from tests.support.api import sqlite_template

    return sqlite_template(tmp_path_factory.mktemp("template"), county)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str, county: Dataset):  # type: ignore[no-untyped-def]
    from tests.support.api import postgres_template

    return postgres_template(postgres_admin_url, county)


@pytest.fixture
def engine_options() -> dict[str, Any]:
    """Options for the `api` fixture's engine; a module overrides this fixture to change the pool."""
    return {}


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path: Path, engine_options: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The API on a fresh copy of the loaded database, once on SQLite and once on PostgreSQL."""
    from tests.support.api import database_for_test, open_api
    from tests.support.postgres import drop_database

    template = request.getfixturevalue(f"{request.param}_template")
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgres" else None
    url = database_for_test(template, tmp_path, admin)
    handle, client = open_api(
        template, url, engine_options, media_dir=tmp_path / "media", media_max_bytes=200_000
    )
    with client:
        yield handle
    handle.runtime.engine.dispose()
    if admin is not None:
        drop_database(admin, url.rsplit("/", 1)[1])


@pytest.fixture
def served(sqlite_template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A real server on a free port for the console (SQLite; the API's own tests cover PostgreSQL)."""
    from tests.support.console import serve

    yield from serve(sqlite_template, tmp_path, monkeypatch)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the loaded county, on SQLite and on PostgreSQL: a URL for commands to use."""
    from tests.support.api import database_for_test
    from tests.support.postgres import drop_database

    template = request.getfixturevalue(f"{request.param}_template")
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgres" else None
    url = database_for_test(template, tmp_path, admin)
    yield url
    if admin is not None:
        drop_database(admin, url.rsplit("/", 1)[1])
