"""The compose topology without Docker: PostgreSQL and Mosquitto (Debian's packages, Mosquitto with
the shipped configuration and the files `gridwatch mqtt-acl` writes), two `gridwatch serve`
processes behind Caddy with the shipped Caddyfile, two `gridwatch ingest` processes on the shared
subscription. Phones report under their own logins; one server and one ingest worker are killed
mid-load and started again. Every report the broker acknowledged is an incident exactly once, its
phone got its ack, and both servers' live streams carry it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import paho.mqtt.client as mqtt
import pytest
from httpx_sse import connect_sse
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func
from sqlmodel import Session, select

from server.db.engine import make_engine
from server.db.tables import IncidentRow
from sync.acl import write_broker_files
from tests.support.api import Template, database_for_test
from tests.support.mosquitto import mosquitto
from tests.support.network import free_port, wait_answering
from tests.support.postgres import drop_database

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]

ROOT = Path(__file__).resolve().parents[2]
COUNTY = "339921"
PHONES = 4
REPORTS_EACH = 60
PLATFORM_PASSWORD = "platform-" + uuid.uuid4().hex[:8]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=3).status_code


@dataclass
class Process:
    """One `gridwatch …` process of the topology, restartable with the same arguments."""

    name: str
    args: list[str]
    env: dict[str, str]
    health: str  # the URL that answers 200 once the process is ready
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", *self.args],
                env=self.env,
                stdout=out,
                stderr=out,
                cwd=ROOT,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        try:
            wait_answering(self.health)
        except RuntimeError:
            raise AssertionError(f"{self.name} did not start: {self.log.read_text()[-2000:]}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=10)


class LiveStream(threading.Thread):
    """Follows one server's /events/stream, reconnecting with Last-Event-ID when the server goes away."""

    def __init__(self, url: str, token: str, after: int) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.last = url, token, after
        self.created: set[str] = set()
        self.reconnects = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            headers = {"Authorization": f"Bearer {self.token}", "Last-Event-ID": str(self.last)}
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(5, read=30)) as client,
                    connect_sse(client, "GET", f"{self.url}/events/stream", headers=headers) as source,
                ):
                    for event in source.iter_sse():
                        if event.event == "incident.created":
                            self.created.add(msgspec.json.decode(event.data)["incident"])
                        if event.id:
                            self.last = int(event.id)
                        if self.stopping.is_set():
                            return
            except (httpx.HTTPError, OSError):
                pass
            self.reconnects += 1
            self.stopping.wait(0.3)


@dataclass
class Phone:
    """A grid worker's phone with its own broker login: reports at QoS 1, collects its acks."""

    worker: str
    password: str
    port: int
    acks: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"phone-{self.worker}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(self.worker, self.password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        self.client.subscribe(f"gw/{COUNTY}/down/{self.worker}/ack", qos=1)
        assert subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        ack = msgspec.json.decode(message.payload)
        with self.lock:
            self.acks[ack["id"]].append(ack)

    def report(self, lon: float, lat: float) -> str | None:
        """The report's id once the broker has acknowledged it (PUBACK), else None."""
        report_id = f"t-{uuid.uuid4().hex[:12]}"
        body = {
            "id": report_id,
            "ts": dt.datetime.now(dt.UTC).isoformat(),
            "lon": lon,
            "lat": lat,
            "category": "0501",
        }
        info = self.client.publish(f"gw/{COUNTY}/up/{self.worker}/report", msgspec.json.encode(body), qos=1)
        info.wait_for_publish(timeout=10)
        return report_id if info.is_published() else None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder outside pytest's, for logs and for the files Mosquitto's user must read."""
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-topology-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_county_topology_loses_nothing_when_a_server_and_a_worker_die(
    postgres_template: Template, postgres_admin_url: str, scratch: Path
) -> None:
    template = postgres_template
    url = database_for_test(template, scratch, postgres_admin_url)
    township = template.township_a
    workers = [w for w in template.county.workers if w.township == township][:PHONES]
    shapes = dict(
        zip((c.code for c in template.county.cells.records), template.county.cells.shapes, strict=True)
    )
    points = [shapes[code].representative_point() for code in sorted(shapes) if code.startswith(township)]
    credentials = write_broker_files(
        scratch / "broker", [w.id for w in workers], ingest_password=PLATFORM_PASSWORD
    )
    admin = template.tokens["admin"]
    caddy = shutil.which("caddy")
    assert caddy is not None, "caddy not found: apt-get install caddy (.ci/run does)"

    with mosquitto(auth=scratch / "broker") as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://gridwatch-ingest:{PLATFORM_PASSWORD}@127.0.0.1:{broker.platform_port}",
            "GRIDWATCH_LOG_FORMAT": "json",
        }
        servers = [
            Process(
                f"serve-{n}",
                ["serve", "--no-migrate", "--no-field", "--port", str(port)],
                env,
                f"http://127.0.0.1:{port}/health",
                scratch / f"serve-{n}.log",
            )
            for n, port in ((1, free_port()), (2, free_port()))
        ]
        workers_ = [
            Process(
                f"ingest-{n}",
                ["ingest", "--shared"],
                env
                | {
                    "GRIDWATCH_INGEST_CLIENT_ID": f"gridwatch-ingest-{n}",
                    "GRIDWATCH_METRICS_PORT": str(port),
                },
                f"http://127.0.0.1:{port}/health",
                scratch / f"ingest-{n}.log",
            )
            for n, port in ((1, free_port()), (2, free_port()))
        ]
        server_urls = [f"http://127.0.0.1:{s.args[-1]}" for s in servers]
        proxy_port = free_port()
        proxy_env = {
            **os.environ,
            "GRIDWATCH_UPSTREAMS": " ".join(u.removeprefix("http://") for u in server_urls),
            "GRIDWATCH_PROXY_PORT": str(proxy_port),
            "XDG_DATA_HOME": str(scratch),
            "XDG_CONFIG_HOME": str(scratch),
        }
        proxy = subprocess.Popen(
            [caddy, "run", "--config", str(ROOT / "deploy/caddy/Caddyfile"), "--adapter", "caddyfile"],
            env=proxy_env,
            stdout=subprocess.DEVNULL,
            stderr=(scratch / "caddy.log").open("wb"),
        )
        phones: list[Phone] = []
        streams: list[LiveStream] = []
        try:
            for process in [*servers, *workers_]:
                process.start()
            proxied = f"http://127.0.0.1:{proxy_port}"
            wait_answering(f"{proxied}/health", timeout=30)
            head = httpx.get(f"{proxied}/events/head", headers={"Authorization": f"Bearer {admin}"}).json()
            streams = [LiveStream(u, admin, head["cursor"]) for u in server_urls]
            for stream in streams:
                stream.start()
            phones = [Phone(w.id, credentials[w.id], broker.port) for w in workers]

            # The load: the phones take turns; a third of the way in, serve-1 and ingest-1 die
            # without warning; two thirds in they are started again.
            acked: dict[str, Phone] = {}
            proxy_answers: list[int] = []
            total = PHONES * REPORTS_EACH
            for n in range(total):
                phone = phones[n % PHONES]
                point = points[n % len(points)]
                report_id = phone.report(point.x, point.y)
                if report_id is not None:
                    acked[report_id] = phone
                if n == total // 3:
                    servers[0].kill()
                    workers_[0].kill()
                if n == 2 * total // 3:
                    servers[0].start(wait=False)
                    workers_[0].start(wait=False)
                if n % 10 == 0:
                    proxy_answers.append(status_of(f"{proxied}/incidents?limit=1", admin))
                time.sleep(0.03)
            servers[0].wait_ready()
            workers_[0].wait_ready()
            assert len(acked) == total  # the broker acknowledged every report

            engine = make_engine(url)

            def stored() -> dict[str, tuple[int, str]]:
                with Session(engine) as session:
                    rows = session.exec(
                        select(IncidentRow.client_id, func.count(), func.min(IncidentRow.id)).group_by(
                            IncidentRow.client_id
                        )
                    ).all()
                return {client: (count, incident) for client, count, incident in rows}

            wait_until(lambda: set(acked) <= set(stored()), 90, "every acknowledged report to be stored")
            incidents = stored()
            engine.dispose()
            # Exactly once: one incident per acknowledged report, and nothing else.
            assert set(incidents) == set(acked)
            assert all(count == 1 for count, _ in incidents.values())

            # Every phone heard back, and every answer names the stored incident.
            def all_answered() -> bool:
                return all(report_id in phone.acks for report_id, phone in acked.items())

            wait_until(all_answered, 60, "an ack for every report")
            for report_id, phone in acked.items():
                with phone.lock:
                    said = list(phone.acks[report_id])
                assert {a["status"] for a in said} <= {"accepted", "duplicate"}, said
                assert {a["incident"] for a in said} == {incidents[report_id][1]}

            # Both servers' live streams carry every incident, the killed one after it resumed.
            wanted = {incident for _, incident in incidents.values()}
            wait_until(lambda: all(wanted <= s.created for s in streams), 60, "both live streams")
            assert streams[0].reconnects >= 1  # serve-1's stream was cut and resumed
            # The proxy hid the dead server: every request through it was answered.
            assert set(proxy_answers) == {200}

            # Operations: each worker's health and (for an admin only) its metrics.
            metrics_url = workers_[1].health.removesuffix("/health")
            assert status_of(f"{metrics_url}/metrics") == 401
            assert status_of(f"{metrics_url}/metrics", template.tokens["duty_a"]) == 403
            scraped = httpx.get(f"{metrics_url}/metrics", headers={"Authorization": f"Bearer {admin}"}).text
            reports = [
                float(line.rsplit(" ", 1)[1])
                for line in scraped.splitlines()
                if line.startswith('gridwatch_field_messages_total{kind="report"}')
            ]
            assert reports and reports[0] > 0
            assert "gridwatch_ack_latency_seconds_count" in scraped
            assert "gridwatch_ingest_queue_depth 0.0" in scraped
        finally:
            for stream in streams:
                stream.stopping.set()
            for phone in phones:
                phone.close()
            proxy.terminate()
            proxy.wait(timeout=20)
            exits = {p.name: p.stop() for p in [*workers_, *servers] if p.process is not None}
        # A clean stop: each process finished what it had in hand and said so.
        assert exits == {"ingest-1": 0, "ingest-2": 0, "serve-1": 0, "serve-2": 0}
        # Both workers took a share of the load, the restarted one too.
        for name in ("ingest-1", "ingest-2"):
            stopped = [
                msgspec.json.decode(line)["message"]
                for line in (scratch / f"{name}.log").read_text().splitlines()
                if '"stopped after' in line
            ]
            assert len(stopped) == 1 and int(stopped[0].split()[2]) > 0, stopped
    drop_database(postgres_admin_url, url.rsplit("/", 1)[1])
