"""`gridwatch simulate` against a real Mosquitto and a real `gridwatch ingest` process: everything
it publishes is answered, and what was acknowledged is in the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from server.db.engine import make_engine
from server.db.tables import AlertRow, IncidentRow, PatrolDayRow, RejectRow
from sync.simulator import FIELD_TEXTS
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
        worker = start_ingest("--client-id", "gridwatch-sim-ingest", env=env)
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


def test_every_report_is_answered_and_stored_once_across_a_worker_stop_and_a_broker_crash(
    sqlite_template: Template, tmp_path: Path
) -> None:
    """The end-to-end rule, kept by the simulated phones: while they publish, the ingest worker stops
    (its session queues what comes), then the broker dies (kill -9) with reports it acknowledged
    still only in memory, and both come back. Every report and alert sent is answered in the end,
    and stored exactly once."""
    url = database_for_test(sqlite_template, tmp_path, None)
    with mosquitto() as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "GRIDWATCH_METRICS_PORT": "0",
        }
        worker = start_ingest("--client-id", "gridwatch-sim-ingest", env=env)
        simulator = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "simulate", "--workers", "8", "--rate", "40",
             "--duration", "8", "--bad-share", "0", "--resend-seconds", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert simulator.stderr is not None
            assert " cameras at 40.0/s " in simulator.stderr.readline()  # connected, publishing
            time.sleep(1.5)
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=60)
            time.sleep(1.5)
            broker.kill()
            time.sleep(1)
            broker.start()
            time.sleep(1)
            worker = start_ingest("--client-id", "gridwatch-sim-ingest", env=env)
            out, err = simulator.communicate(timeout=120)
        finally:
            simulator.kill()
            worker.terminate()
            worker.wait(timeout=30)
    assert simulator.returncode == 0, err
    summary = json.loads(out)
    published = summary["published"]
    assert summary["awaiting_ack"] == 0
    assert summary["resent"] > 0
    # One first answer per report and alert: accepted, or duplicate when the first ack was lost.
    assert sum(summary["acks"].values()) == published["report"] + published["alert"]
    assert set(summary["acks"]) <= {"accepted", "duplicate"}
    assert count(url, IncidentRow, col(IncidentRow.source) == "report") == published["report"]
    assert count(url, AlertRow) == published["alert"]


def test_what_the_broker_passed_to_nobody_is_sent_again(sqlite_template: Template, tmp_path: Path) -> None:
    """No ingest worker has subscribed yet: the broker PUBACKs each report with 16 (no matching
    subscribers) and drops it. The simulator sends those again within a second, not after its
    minute-long wait for an ack, so once a worker comes every one is answered and stored."""
    url = database_for_test(sqlite_template, tmp_path, None)
    with mosquitto() as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "GRIDWATCH_METRICS_PORT": "0",
        }
        simulator = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "simulate", "--workers", "4", "--rate", "20",
             "--duration", "4", "--bad-share", "0", "--resend-seconds", "60"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert simulator.stderr is not None
        assert " cameras at 20.0/s " in simulator.stderr.readline()
        time.sleep(1)
        worker = start_ingest("--client-id", "gridwatch-sim-ingest", env=env)
        try:
            out, err = simulator.communicate(timeout=120)
        finally:
            simulator.kill()
            worker.terminate()
            worker.wait(timeout=30)
    assert simulator.returncode == 0, err
    summary = json.loads(out)
    published = summary["published"]
    assert summary["refused"]["No matching subscribers"] > 0
    assert summary["awaiting_ack"] == 0
    assert count(url, IncidentRow, col(IncidentRow.source) == "report") == published["report"]
    assert count(url, AlertRow) == published["alert"]


def test_simulate_refuses_bad_arguments(field: tuple[dict[str, str], str]) -> None:
    env, _ = field
    for args, said in [
        (("--rate", "0"), "--rate"),
        (("--resend-seconds", "0"), "--resend-seconds"),
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


def test_the_field_spreads_over_the_county_with_texts_that_fit(
    field: tuple[dict[str, str], str], sqlite_template: Template
) -> None:
    """With every worker simulated, reports come from every township, each text fits its
    category, and some are urgent."""
    env, url = field
    done = gridwatch(
        env, "simulate", "--workers", "1000000", "--rate", "150", "--duration", "3", "--bad-share", "0",
        "--seed", "3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["awaiting_ack"] == 0
    engine = make_engine(url)
    with Session(engine) as session:
        reports = session.exec(
            select(IncidentRow.township, IncidentRow.category, IncidentRow.text, IncidentRow.urgent).where(
                IncidentRow.source == "report"
            )
        ).all()
    engine.dispose()
    townships = {t.code for t in sqlite_template.county.townships.records}
    assert {township for township, *_ in reports} == townships
    assert all(text in FIELD_TEXTS[category] for _, category, text, _ in reports)
    assert any(urgent for *_, urgent in reports)
