"""The fault matrix on PostgreSQL and Mosquitto, with `gridwatch ingest` processes and the simulated
phones keeping the end-to-end rule (they re-send each report until the platform's ack): kill -9 of
the ingest workers, of Mosquitto (twice while a backlog waits behind the stopped workers) and of
PostgreSQL, in one run. Every report sent is answered and stored exactly once, and the intake comes
back each time without a person; the time it takes is printed (`-s`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.api import Template, database_for_test
from tests.support.commands import start_ingest
from tests.support.mosquitto import Broker, mosquitto
from tests.support.postgres import control, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto, pytest.mark.process]

RATE = 40
# The phones publish this long, plus twice a worker's start: every fault falls while they do.
FAULTS_SECONDS = 20
# A stuck intake fails the test; on a quiet machine each recovery takes a few seconds.
RESUME_BOUND = 60.0


class Workers:
    """`gridwatch ingest` processes, one client id each; their logs are read as they come, so a
    worker that logs much never blocks on a full pipe."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        shared = ["--shared"] if count > 1 else []
        self.args = [[*shared, "--client-id", f"gridwatch-faults-{n}"] for n in range(count)]
        self.env = env
        self.processes: list[subprocess.Popen[str]] = []
        self.logged: list[str] = []

    def start(self) -> None:
        with ThreadPoolExecutor() as starting:  # at once, as an orchestrator would
            self.processes = list(starting.map(lambda args: start_ingest(*args, env=self.env), self.args))
        for process in self.processes:
            threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.logged.append(line)

    def kill(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> list[int | None]:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)
        return [process.returncode for process in self.processes]


class Observer:
    """Watches the reports go by on the broker, as nobody in particular (no session): which ids
    the broker had passed on by a given moment."""

    def __init__(self, port: int) -> None:
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"faults-observer-{os.getpid()}")
        self.client.on_connect = lambda c, *_: c.subscribe("gw/+/up/+/report", qos=0)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        report_id = str(msgspec.json.decode(message.payload).get("id"))
        with self.lock:
            self.seen.setdefault(report_id, time.monotonic())

    def before(self, moment: float) -> set[str]:
        with self.lock:
            return {report_id for report_id, at in self.seen.items() if at < moment}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def stored_reports(url: str) -> set[str] | None:
    """The client ids of the stored reports; None while the database does not answer."""
    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2) as connection:
            rows = connection.execute("SELECT client_id FROM incident WHERE source = 'report'").fetchall()
    except psycopg.OperationalError:
        return None
    return {row[0] for row in rows}


def seconds_until(condition: Callable[[], bool], since: float, workers: Workers) -> float:
    """Seconds from `since` until `condition` holds; fails past RESUME_BOUND."""
    while not condition():
        stuck = time.monotonic() - since > RESUME_BOUND
        assert not stuck, (
            f"the intake did not resume within {RESUME_BOUND:.0f} s: {''.join(workers.logged)[-3000:]}"
        )
        time.sleep(0.1)
    return time.monotonic() - since


def next_report_stored(url: str, since: float, workers: Workers) -> float:
    """Seconds from `since` until a report not stored now is stored."""
    before = stored_reports(url) or set()
    return seconds_until(lambda: bool((stored_reports(url) or before) - before), since, workers)


def crash(broker: Broker) -> float:
    """kill -9 of the broker and a start; the moment it listens again."""
    broker.kill()
    time.sleep(0.5)
    broker.start()
    return time.monotonic()


@pytest.fixture
def on_postgres(postgres_template: Template, postgres_admin_url: str, tmp_path: Path) -> Iterator[str]:
    url = database_for_test(postgres_template, tmp_path, postgres_admin_url)
    yield url
    drop_database(postgres_admin_url, url.rsplit("/", 1)[1])


@pytest.mark.parametrize("count", [1, 2], ids=["one-worker", "two-shared-workers"])
def test_every_report_is_answered_and_stored_once_through_every_fault(
    count: int, on_postgres: str, postgres_admin_url: str
) -> None:
    url = on_postgres
    with mosquitto() as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "GRIDWATCH_METRICS_PORT": "0",
        }
        workers = Workers(count, env)
        launched = time.monotonic()
        workers.start()
        # The phones must still publish when the database dies, after a second start of the
        # workers: on a busy machine a start takes many seconds.
        duration = FAULTS_SECONDS + 2 * (time.monotonic() - launched)
        observer = Observer(broker.port)
        simulator = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "simulate", "--workers", "8", "--rate", str(RATE),
             "--duration", f"{duration:.0f}", "--bad-share", "0", "--resend-seconds", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        resumed: dict[str, float] = {}
        try:
            assert simulator.stderr is not None
            assert f" cameras at {float(RATE)}/s " in simulator.stderr.readline()  # publishing
            publishing = time.monotonic()
            time.sleep(2)
            # The broker dies under running workers.
            resumed["broker restart → next report stored"] = next_report_stored(url, crash(broker), workers)
            # The workers die; a backlog queues behind them, through two broker crashes.
            workers.kill()
            time.sleep(1.5)
            crash(broker)
            time.sleep(1)
            crash(broker)
            time.sleep(1)
            backlog = observer.before(time.monotonic())
            launched = time.monotonic()
            workers.start()
            ingesting = time.monotonic()
            resumed["workers restarted → ingesting (process start)"] = ingesting - launched
            resumed[f"workers ingesting → backlog of {len(backlog)} reports stored"] = seconds_until(
                lambda: backlog <= (stored_reports(url) or set()), ingesting, workers
            )
            # The database dies, backends and all, and comes back with crash recovery.
            elapsed = time.monotonic() - publishing
            assert elapsed < duration - 4, f"the phones stopped before the database fault: {resumed}"
            control(postgres_admin_url, "kill")
            time.sleep(1)
            control(postgres_admin_url, "start")
            resumed["database restart → next report stored"] = next_report_stored(
                url, time.monotonic(), workers
            )
            out, err = simulator.communicate(timeout=120)
        finally:
            simulator.kill()
            observer.close()
            stopped = workers.stop()
    print(f"\n{count} ingest worker(s), time to resume:")
    for fault, seconds in resumed.items():
        print(f"  {fault}: {seconds:.1f} s")
    assert simulator.returncode == 0, err
    summary = json.loads(out)
    print(f"  phones: {summary}")
    published = summary["published"]
    assert summary["awaiting_ack"] == 0  # every report and alert sent was answered in the end
    # Never "rejected": a report that met a fault is taken again afterwards, not refused for it.
    assert set(summary["acks"]) <= {"accepted", "duplicate"}, "".join(workers.logged)[-4000:]
    assert sum(summary["acks"].values()) == published["report"] + published["alert"]
    assert summary["resent"] > 0  # the faults cost re-sends, not reports
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        reports, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT client_id) FROM incident WHERE source = 'report'"
        ).fetchone() or (0, 0)
        alerts, distinct_alerts = connection.execute(
            "SELECT count(*), count(DISTINCT client_id) FROM alert"
        ).fetchone() or (0, 0)
    assert reports == distinct == published["report"]  # each stored exactly once
    assert alerts == distinct_alerts == published["alert"]
    assert stopped == [0] * count, "".join(workers.logged)[-4000:]  # alive to the end, and a clean stop
