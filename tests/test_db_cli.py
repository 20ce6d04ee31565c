"""Migrations match the models; `gridwatch db` and `gridwatch token` from the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect
from sqlmodel import SQLModel

import server.db.tables  # noqa: F401  (registers the tables)
from server.cli import main
from server.db import migrate
from server.db.engine import make_engine
from tests.commands import run_gridwatch
from tests.postgres import create_database


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_build_exactly_the_models(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_admin_url"), "gw_migrations")
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert migrate.current(engine) == migrate.head()
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def gridwatch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}"}
    return run_gridwatch(*args, env=env, cwd=tmp_path)


def test_db_commands(tmp_path: Path) -> None:
    head = migrate.head()
    assert f"database empty, code {head}" in gridwatch(tmp_path, "db", "current").stdout
    # The previous release's schema first, then up to this one, as an upgrade in the field goes.
    assert "schema at 0001" in gridwatch(tmp_path, "db", "upgrade", "0001").stdout
    assert f"schema at {head}" in gridwatch(tmp_path, "db", "upgrade").stdout
    assert f"database {head}" in gridwatch(tmp_path, "db", "current").stdout
    assert "schema at base" in gridwatch(tmp_path, "db", "downgrade", "base").stdout
    bad = gridwatch(tmp_path, "db", "upgrade", "9999")
    assert bad.returncode != 0
    assert "9999" in bad.stderr


def test_token_create(tmp_path: Path) -> None:
    gridwatch(tmp_path, "db", "upgrade")
    made = gridwatch(
        tmp_path, "token", "create", "--role", "admin", "--scope", "county:339921", "--days", "30"
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("gw_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "king", "--scope", "county:339921"), "Invalid value for '--role'"),
        (("--role", "duty", "--scope", "unit:x"), "takes scope county:ID or township:ID"),
        (("--role", "duty", "--scope", "township:12"), "9 digits"),
        (("--role", "worker", "--scope", "worker:nobody"), "no worker"),
        (("--role", "admin", "--scope", "county:339921", "--days", "0"), "--days"),
        (
            (
                "--role",
                "admin",
            ),
            "Missing option '--scope'",
        ),
    ],
)
def test_token_create_refusals(
    tmp_path: Path, args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'gw.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    done = runner.invoke(main, ["token", "create", *args])
    assert done.exit_code == 2
    assert message in done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
