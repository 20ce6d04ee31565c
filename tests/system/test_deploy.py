"""The shipped deployment: compose.yaml is checked for its services, images, health checks and
start order; the Mosquitto, Caddy and Dockerfile it uses are checked by the programs that read them."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, select

from server.db.engine import make_engine
from server.db.tables import IncidentRow
from server.settings import Settings
from sync.acl import INGEST_USER, write_broker_files
from tests.support.api import Template, database_for_test
from tests.support.commands import run_gridwatch, start_ingest
from tests.support.mosquitto import SHIPPED, Broker, mosquitto
from tests.support.phone import Phone, login

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
JOBS = {"migrate", "broker-files"}
ON_DEMAND = {"console"}
PLATFORM_PASSWORD = "platform-secret"


def start_order() -> list[str]:
    """A topological order of depends_on; fails on a cycle or an unknown service."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        assert name in SERVICES, f"depends on unknown service {name}"
        if name in order:
            return
        assert name not in visiting, f"dependency cycle through {name}"
        visiting.add(name)
        for needed in SERVICES[name].get("depends_on", {}):
            visit(needed)
        visiting.discard(name)
        order.append(name)

    for name in SERVICES:
        visit(name)
    return order


def test_compose_has_the_topology_of_a_county() -> None:
    assert set(SERVICES) == {
        "postgres", "migrate", "broker-files", "mosquitto", "serve-1", "serve-2",
        "ingest-1", "ingest-2", "proxy", "console",
    }  # fmt: skip
    assert SERVICES["postgres"]["image"].startswith("postgis/postgis:15-")
    assert SERVICES["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert SERVICES["proxy"]["image"].startswith("caddy:2")
    ours = [name for name, s in SERVICES.items() if s.get("build") == "."]
    assert set(ours) == set(SERVICES) - {"postgres", "mosquitto", "proxy"}
    assert {SERVICES[name]["image"] for name in ours} == {"gridwatch:${GRIDWATCH_VERSION:-latest}"}
    assert SERVICES["serve-1"]["command"] == ["serve", "--no-migrate", "--no-field"]
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    assert SERVICES["broker-files"]["command"][0] == "mqtt-acl"
    assert SERVICES["console"]["profiles"] == ["console"]
    # Two ingest workers on the shared subscription, each with its own fixed client id.
    ingest = [s for name, s in SERVICES.items() if name.startswith("ingest-")]
    assert all(s["command"] == ["ingest", "--shared"] for s in ingest)
    ids = {s["environment"]["GRIDWATCH_INGEST_CLIENT_ID"] for s in ingest}
    assert len(ids) == 2


def test_compose_starts_things_in_order_and_checks_their_health() -> None:
    order = start_order()
    before = order.index
    assert before("postgres") < before("migrate") < before("broker-files") < before("mosquitto")
    for name in ("serve-1", "serve-2", "ingest-1", "ingest-2"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert before("migrate") < before(name)
    for name in ("ingest-1", "ingest-2"):
        assert SERVICES[name]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert (
        SERVICES["mosquitto"]["depends_on"]["broker-files"]["condition"] == "service_completed_successfully"
    )
    assert {n: c["condition"] for n, c in SERVICES["proxy"]["depends_on"].items()} == {
        "serve-1": "service_healthy",
        "serve-2": "service_healthy",
    }
    for name, service in SERVICES.items():
        if name in JOBS or name in ON_DEMAND:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        check = service["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL") and len(check) > 1, name
    # The health checks ask the processes on the ports they listen on.
    assert "8000/health" in " ".join(SERVICES["serve-1"]["healthcheck"]["test"])
    assert "9100/health" in " ".join(SERVICES["ingest-1"]["healthcheck"]["test"])
    assert SERVICES["ingest-1"]["environment"]["GRIDWATCH_METRICS_PORT"] == "9100"


def test_compose_keeps_state_in_volumes_and_names_real_settings() -> None:
    declared = set(COMPOSE["volumes"])
    mounted = {
        m.split(":")[0] for s in SERVICES.values() for m in s.get("volumes", []) if not m.startswith(".")
    }
    assert mounted == declared == {"pgdata", "mqtt-data", "broker-auth", "media"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "mqtt-data:/mosquitto/data" in SERVICES["mosquitto"]["volumes"]
    assert SERVICES["serve-1"]["volumes"] == SERVICES["serve-2"]["volumes"]  # one media folder for both
    for service in SERVICES.values():
        for mount in service.get("volumes", []):
            if mount.startswith("./"):
                assert (ROOT / mount.split(":")[0]).exists(), mount
    # The shipped reliability settings are the folder the tests start Mosquitto with.
    assert "./deploy/mosquitto/conf.d:/mosquitto/config/conf.d:ro" in SERVICES["mosquitto"]["volumes"]
    assert (ROOT / "deploy/mosquitto/conf.d") == SHIPPED
    known = {f"GRIDWATCH_{name.upper()}" for name in Settings.__dataclass_fields__}
    known |= {"GRIDWATCH_TOKEN", "GRIDWATCH_UPSTREAMS", "GRIDWATCH_PROXY_PORT"}
    for name, service in SERVICES.items():
        for variable in service.get("environment", {}):
            if variable.startswith("GRIDWATCH_"):
                assert variable in known, (name, variable)
    env = SERVICES["serve-1"]["environment"]
    assert env["GRIDWATCH_LOG_FORMAT"] == "json"
    # The platform on its own listener, which is not published: phones reach the other one only.
    assert env["GRIDWATCH_MQTT_URL"].startswith("mqtt://gridwatch-ingest:")
    assert env["GRIDWATCH_MQTT_URL"].endswith("@mosquitto:1884")
    assert SERVICES["mosquitto"]["ports"] == ["1883:1883"]
    assert "-p 1884 -u gridwatch-ingest" in SERVICES["mosquitto"]["healthcheck"]["test"][1]


def test_the_image_holds_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]["packages"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in packages:
        assert re.search(rf"^COPY {package} {package}$", dockerfile, re.MULTILINE), package
    assert 'ENTRYPOINT ["gridwatch"]' in dockerfile
    assert "postgresql-client" in dockerfile  # gridwatch backup needs pg_dump


@dataclass
class ComposeBroker:
    broker: Broker
    credentials: dict[str, str]
    ca: Path  # the county's own CA, which signed the broker's certificate

    def phones(self) -> list[str]:
        return [user for user in self.credentials if user != INGEST_USER]

    def platform_url(self, port: int, scheme: str = "mqtt") -> str:
        return f"{scheme}://{INGEST_USER}:{PLATFORM_PASSWORD}@127.0.0.1:{port}"


def make_certificates(folder: Path) -> None:
    """A CA and a broker certificate for 127.0.0.1 signed by it (openssl, as a county would)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Gridwatch test CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "san.ext",
    )  # fmt: skip


@pytest.fixture
def compose_broker(sqlite_template: Template) -> Iterator[ComposeBroker]:
    """deploy/mosquitto/mosquitto.conf as compose runs it, its documented TLS listeners switched on,
    with the files `gridwatch mqtt-acl` writes for two of the county's workers."""
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-compose-mqtt-"))
    folder.chmod(0o755)  # Mosquitto's user reads the certificates inside
    certs = folder / "certs"
    certs.mkdir()
    make_certificates(certs)
    phones = [w.id for w in sqlite_template.county.workers][:2]
    credentials = write_broker_files(folder / "auth", phones, ingest_password=PLATFORM_PASSWORD)
    try:
        with mosquitto(auth=folder / "auth", certs=certs) as broker:
            yield ComposeBroker(broker, credentials, certs / "ca.crt")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_compose_broker_configuration_runs_and_refuses_strangers(compose_broker: ComposeBroker) -> None:
    broker, credentials = compose_broker.broker, compose_broker.credentials
    phone = compose_broker.phones()[0]
    assert credentials[INGEST_USER] == PLATFORM_PASSWORD
    assert login(broker.platform_port, INGEST_USER, PLATFORM_PASSWORD) == "Success"
    assert login(broker.port, phone, credentials[phone]) == "Success"
    # Each kind of account on its own listener only.
    assert login(broker.port, INGEST_USER, PLATFORM_PASSWORD) == "Not authorized"
    assert login(broker.platform_port, phone, credentials[phone]) == "Not authorized"
    for port in (broker.port, broker.platform_port):
        assert login(port, None, None) == "Not authorized"
        assert login(port, phone, "wrong") == "Not authorized"


def test_the_platform_takes_reports_over_tls(
    compose_broker: ComposeBroker, sqlite_template: Template, tmp_path: Path
) -> None:
    """mqtts:// with the county's CA: a phone reports over TLS and hears back; without the CA the
    platform refuses the broker's certificate and says so."""
    broker = compose_broker.broker
    assert broker.tls_port is not None and broker.platform_tls_port is not None
    url = database_for_test(sqlite_template, tmp_path, None)
    phone_id = compose_broker.phones()[0]
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": url,
        "GRIDWATCH_MQTT_URL": compose_broker.platform_url(broker.platform_tls_port, "mqtts"),
        "GRIDWATCH_METRICS_PORT": "0",
    }
    untrusted = run_gridwatch("ingest", env=env, cwd=tmp_path, timeout=60)
    assert untrusted.returncode == 1
    assert "certificate verify failed" in untrusted.stderr
    assert PLATFORM_PASSWORD not in untrusted.stderr
    env["GRIDWATCH_MQTT_CA_FILE"] = str(compose_broker.ca)
    worker = start_ingest(env=env, cwd=tmp_path)
    phone = Phone(phone_id, compose_broker.credentials[phone_id], broker.tls_port, compose_broker.ca)
    try:
        cells = sqlite_template.county.cells
        phone.report("tls-1", cells.shapes[0].representative_point())  # a worker may report anywhere
        phone.wait_for(["tls-1"])
        assert phone.acks == {"tls-1": [f"accepted {cells.records[0].code}"]}
    finally:
        phone.close()
        worker.terminate()
        worker.wait(timeout=30)


def test_a_phone_cannot_take_the_ingest_workers_session(
    compose_broker: ComposeBroker, sqlite_template: Template, tmp_path: Path
) -> None:
    """The broker ends a session when another client connects with its id. A phone that logs in
    with the ingest worker's (the default, gridwatch-ingest-1) and a clean start, again and again
    while the worker runs and once while it is stopped, takes nothing: the worker keeps its session,
    and every report is stored once and answered."""
    broker, credentials = compose_broker.broker, compose_broker.credentials
    honest, hostile = compose_broker.phones()
    env = {key: value for key, value in os.environ.items() if key != "GRIDWATCH_INGEST_CLIENT_ID"} | {
        "GRIDWATCH_DATABASE_URL": database_for_test(sqlite_template, tmp_path, None),
        "GRIDWATCH_MQTT_URL": compose_broker.platform_url(broker.platform_port),
        "GRIDWATCH_METRICS_PORT": "0",
    }
    point = sqlite_template.county.cells.shapes[0].representative_point()

    def impostor() -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="gridwatch-ingest-1", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(hostile, credentials[hostile])
        client.reconnect_delay_set(min_delay=1, max_delay=1)  # and comes back whenever dropped
        client.connect("127.0.0.1", broker.port, clean_start=True)
        client.loop_start()
        return client

    worker = start_ingest(env=env, cwd=tmp_path)
    phone = Phone(honest, credentials[honest], broker.port)
    try:
        while_running = [f"run-{n}" for n in range(20)]
        thief = impostor()
        for report_id in while_running:
            phone.report(report_id, point)
            time.sleep(0.1)
        phone.wait_for(while_running)
        thief.loop_stop()
        thief.disconnect()
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
        # Stopped: its session holds what phones send, and a clean start under its id would drop it.
        while_stopped = [f"stopped-{n}" for n in range(30)]
        for report_id in while_stopped:
            phone.report(report_id, point)
        thief = impostor()
        time.sleep(1)
        thief.loop_stop()
        thief.disconnect()
        worker = start_ingest(env=env, cwd=tmp_path)
        phone.wait_for(while_stopped)
    finally:
        phone.close()
        worker.terminate()
        worker.wait(timeout=30)
    assert set(phone.acks) == {*while_running, *while_stopped}
    assert all(statuses[0].startswith("accepted") for statuses in phone.acks.values())
    engine = make_engine(env["GRIDWATCH_DATABASE_URL"])
    with Session(engine) as session:
        stored = list(session.exec(select(IncidentRow.client_id)).all())
    engine.dispose()
    assert sorted(stored) == sorted([*while_running, *while_stopped])


def test_the_proxy_configuration_is_valid(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    assert caddy is not None, "caddy not found: apt-get install caddy (.ci/run does)"
    for upstreams in (None, "127.0.0.1:8001 127.0.0.1:8002"):
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        if upstreams:
            env["GRIDWATCH_UPSTREAMS"] = upstreams
        done = subprocess.run(
            [caddy, "adapt", "--config", str(ROOT / "deploy/caddy/Caddyfile"), "--adapter", "caddyfile"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        dials = re.findall(r'"dial":"([^"]+)"', done.stdout)
        assert dials == (upstreams.split() if upstreams else ["serve-1:8000", "serve-2:8000"])
        assert '"health_uri":"/health"' in done.stdout or '"uri":"/health"' in done.stdout
