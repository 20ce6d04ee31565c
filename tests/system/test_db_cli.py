"""Migrations match the models; `gridwatch db` and `gridwatch token` from the command line."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

import server.db.tables  # noqa: F401  (registers the tables)
from server.auth import TokenRejected, authenticate
from server.cli import main
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import IncidentRow
from tests.support.commands import gridwatch as in_process
from tests.support.commands import run_gridwatch
from tests.support.postgres import create_database

pytestmark = pytest.mark.process


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


def gridwatch(tmp_path: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": url or f"sqlite:///{tmp_path / 'gw.db'}"}
    return run_gridwatch(*args, env=env, cwd=tmp_path)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_db_commands(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    url = None
    if backend == "postgres":
        url = create_database(request.getfixturevalue("postgres_admin_url"), "gw_db_commands")
    head = migrate.head()
    previous = sorted(migrate.known_revisions())[-2]
    assert f"database empty, code {head}" in gridwatch(tmp_path, "db", "current", url=url).stdout
    # The previous release's schema first, then up to this one, as an upgrade in the field goes.
    assert f"schema at {previous}" in gridwatch(tmp_path, "db", "upgrade", previous, url=url).stdout
    assert f"schema at {head}" in gridwatch(tmp_path, "db", "upgrade", url=url).stdout
    assert f"database {head}" in gridwatch(tmp_path, "db", "current", url=url).stdout
    assert "schema at base" in gridwatch(tmp_path, "db", "downgrade", "base", url=url).stdout
    # And from empty to this release in one step.
    assert f"schema at {head}" in gridwatch(tmp_path, "db", "upgrade", url=url).stdout
    bad = gridwatch(tmp_path, "db", "upgrade", "9999", url=url)
    assert bad.returncode != 0
    assert "9999" in bad.stderr


def test_token_create(tmp_path: Path, database: str) -> None:
    made = gridwatch(
        tmp_path,
        "token",
        "create",
        "--role",
        "admin",
        "--scope",
        "county:339921",
        "--days",
        "30",
        url=database,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("gw_")
    # Only a county loaded here: a scope naming another would be a working token for nothing.
    elsewhere = gridwatch(
        tmp_path, "token", "create", "--role", "admin", "--scope", "county:339922", url=database
    )
    assert elsewhere.returncode == 2
    assert "no county 339922 is loaded here" in elsewhere.stderr


def test_token_list_and_revoke(database: str) -> None:
    secret = in_process(
        database,
        "token",
        "create",
        "--role",
        "duty",
        "--scope",
        "township:339921101",
        "--label",
        "night shift",
    ).output.strip()
    listed = in_process(database, "token", "list").output.splitlines()
    [line] = [row for row in listed if row.endswith("night shift")]
    token_id, role, scope, state, expires, _ = line.split("\t")
    assert (role, scope, state, expires) == ("duty", "township:339921101", "active", "-")
    assert secret not in "\n".join(listed)
    revoked = in_process(database, "token", "revoke", token_id)
    assert revoked.output == f"revoked token {token_id} (duty township:339921101)\n"
    assert f"{token_id}\tduty\ttownship:339921101\trevoked" in in_process(database, "token", "list").output
    engine = make_engine(database)
    with pytest.raises(TokenRejected, match="revoked"):
        authenticate(engine, secret, dt.datetime.now(dt.UTC))
    engine.dispose()
    again = in_process(database, "token", "revoke", token_id)
    assert again.output == f"token {token_id} was already revoked\n"
    missing = CliRunner().invoke(
        main, ["token", "revoke", "999999"], env={"GRIDWATCH_DATABASE_URL": database}
    )
    assert missing.exit_code == 1
    assert missing.output == "Error: no token 999999\n"


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


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_milestones_are_backfilled_from_the_history(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Incidents stored before 0005 get their milestones from their flow records."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_admin_url"), "gw_backfill")
    engine = make_engine(url)
    migrate.upgrade(engine, "0004")
    at = [dt.datetime(2026, 6, 16, 1, m, tzinfo=dt.UTC) for m in range(8)]
    # Written as the UtcDateTime column writes them: naive UTC on SQLite.
    stored = [a.replace(tzinfo=None) for a in at] if backend == "sqlite" else at
    history = [  # (incident, action, from, to, minute): A closed after a rework, B returned and re-dispatched
        ("A", "report", "reported", "reported", 0),
        ("A", "accept", "reported", "accepted", 1),
        ("A", "dispatch", "accepted", "dispatched", 2),
        ("A", "sign", "dispatched", "signed", 3),
        ("A", "handle", "signed", "handled", 4),
        ("A", "reopen", "handled", "reopened", 5),
        ("A", "handle", "reopened", "handled", 6),
        ("A", "verify", "handled", "verified", 6),
        ("A", "close", "verified", "closed", 7),
        ("B", "report", "reported", "reported", 0),
        ("B", "accept", "reported", "accepted", 1),
        ("B", "dispatch", "accepted", "dispatched", 2),
        ("B", "return", "dispatched", "returned", 3),
        ("B", "dispatch", "returned", "dispatched", 4),
    ]
    with engine.begin() as connection:
        for incident, state in (("A", "closed"), ("B", "dispatched")):
            connection.execute(
                text(
                    "INSERT INTO incident (id, source, category, lon, lat, snapped, index_version, urgent, text,"
                    " media, state, rework_count, reported_at, created_at, updated_at, device, client_id,"
                    " revision, in_review, alert_count) VALUES (:id, 'report', '0501', 0, 0, false, 0, false,"
                    " '', '[]', :state, 0, :at, :at, :at, 'd', :id, 0, false, 0)"
                ),
                {"id": incident, "state": state, "at": stored[0]},
            )
        for incident, action, before, after, minute in history:
            connection.execute(
                text(
                    "INSERT INTO flow_record (incident, action, actor, at, from_state, to_state)"
                    " VALUES (:incident, :action, 'x', :at, :before, :after)"
                ),
                {
                    "incident": incident,
                    "action": action,
                    "at": stored[minute],
                    "before": before,
                    "after": after,
                },
            )
    migrate.upgrade(engine)
    with Session(engine) as session:
        a, b = session.get(IncidentRow, "A"), session.get(IncidentRow, "B")
    assert a is not None and b is not None
    assert (a.accepted_at, a.dispatched_at, a.handled_at, a.closed_at) == (at[1], at[2], at[6], at[7])
    assert not a.misdispatched and a.late_stages == 0
    assert (b.dispatched_at, b.handled_at, b.closed_at, b.misdispatched) == (at[2], None, None, True)
    engine.dispose()
