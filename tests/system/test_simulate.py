"""`gridwatch simulate` against a real Mosquitto and a real `gridwatch ingest` process: everything
it publishes is answered, and what was acknowledged is in the database."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from server.db.engine import make_engine
from server.db.tables import AlertRow, IncidentRow, PatrolDayRow, RejectRow
from tests.support.api import Template, database_for_test
from tests.support.commands import run_gridwatch, start_ingest
from tests.support.mosquitto import mosquitto

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]


def gridwatch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_gridwatch(*args, env=env)


@pytest.fixture
def field(sqlite_template: Template, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    url = database_for_test(sqlite_template, tmp_path, None)
    with mosquitto() as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        }
        worker = start_ingest("--client-id", "sim-ingest", env=env)
        yield env, url
        worker.terminate()
        worker.wait(timeout=30)


def count(url: str, table: object, *where: object) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(table).where(*where)).one())  # type: ignore[arg-type]
    engine.dispose()
    return n


def test_simulated_field_is_acknowledged_and_stored(
    field: tuple[dict[str, str], str], sqlite_template: Template
) -> None:
    env, url = field
    done = gridwatch(
        env, "simulate", "--workers", "8", "--rate", "60", "--duration", "3", "--bad-share", "0.1"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    published = summary["published"]
    assert sum(published.values()) == 180
    assert {"report", "ping", "alert", "bad"} <= set(published)
    assert summary["awaiting_ack"] == 0
    acks = summary["acks"]
    # Every report, alert and bad message got its ack; good pings are answered by PUBACK alone.
    assert sum(acks.values()) == published["report"] + published["alert"] + published["bad"]
    assert acks["rejected"] == published["bad"]
    time.sleep(0.5)
    joined = count(url, AlertRow, col(AlertRow.merged).is_(True))
    assert count(url, IncidentRow) + joined == acks["accepted"]
    assert count(url, RejectRow) == published["bad"]
    assert count(url, PatrolDayRow) > 0


def test_simulate_refuses_bad_arguments(field: tuple[dict[str, str], str]) -> None:
    env, _ = field
    for args, said in [
        (("--rate", "0"), "--rate"),
        (("--url", "http://example.org"), "expected mqtt://"),
        (("--url", "mqtt://127.0.0.1:port"), "is not a number"),
        (("--url", "mqtt://127.0.0.1:9"), "cannot simulate against"),
    ]:
        done = gridwatch(env, "simulate", "--duration", "1", *args)
        assert done.returncode != 0 and said in done.stderr, (args, done.stderr)


def test_simulate_needs_a_county(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    assert gridwatch(env, "db", "upgrade").returncode == 0
    done = gridwatch(env, "simulate", "--duration", "1")
    assert done.returncode == 1 and "no county loaded" in done.stderr
