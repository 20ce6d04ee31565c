"""The shipped deployment: compose.yaml is checked for its services, images, health checks and
start order; the Mosquitto, Caddy and Dockerfile it uses are checked by the programs that read them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from server.settings import Settings
from sync.acl import write_broker_files
from tests.support.api import Template, database_for_test
from tests.support.commands import run_gridwatch, start_ingest
from tests.support.mosquitto import SHIPPED
from tests.support.network import free_port, wait_listening

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
JOBS = {"migrate", "broker-files"}
ON_DEMAND = {"console"}


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
    assert env["GRIDWATCH_MQTT_URL"].startswith("mqtt://gridwatch-ingest:")


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
    port: int
    tls_port: int
    credentials: dict[str, str]
    ca: Path  # the county's own CA, which signed the broker's certificate


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
    """deploy/mosquitto/mosquitto.conf as compose mounts it, its documented TLS listener switched on,
    with its paths in a folder of its own (outside pytest's, which Mosquitto's user may not enter)."""
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-compose-mqtt-"))
    auth, certs = folder / "auth", folder / "certs"
    certs.mkdir()
    make_certificates(certs)
    phones = [w.id for w in sqlite_template.county.workers][:1]
    credentials = write_broker_files(auth, phones, ingest_password="platform-secret")
    port, tls_port = free_port(), free_port()
    text = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    tls_block = re.search(r"^#listener 8883\n(#.*\n)+", text, re.MULTILINE)
    assert tls_block is not None, "the TLS listener is documented in mosquitto.conf"
    text = text.replace(tls_block.group(0), tls_block.group(0).replace("#", ""))
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1")
    text = text.replace("listener 8883", f"listener {tls_port} 127.0.0.1")
    text = text.replace("/mosquitto/auth/", f"{auth}/").replace("/mosquitto/data/", f"{folder}/")
    text = text.replace("/mosquitto/certs/", f"{certs}/").replace("/mosquitto/config/conf.d", str(SHIPPED))
    (folder / "mosquitto.conf").write_text(text)
    if os.geteuid() == 0:
        for path in (folder, auth, certs, *auth.iterdir(), *certs.iterdir()):
            shutil.chown(path, "mosquitto", "mosquitto")
    process = subprocess.Popen(
        ["mosquitto", "-c", str(folder / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        wait_listening(tls_port)
        yield ComposeBroker(port, tls_port, credentials, certs / "ca.crt")
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


def login(port: int, user: str | None, password: str | None) -> str:
    """The broker's answer to a CONNECT: "Success", "Not authorized" …"""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    if user is not None:
        client.username_pw_set(user, password)
    answers: list[str] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        deadline = time.monotonic() + 5
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
        return answers[0] if answers else "no answer"
    finally:
        client.loop_stop()
        client.disconnect()


def test_the_compose_broker_configuration_runs_and_refuses_strangers(compose_broker: ComposeBroker) -> None:
    port, credentials = compose_broker.port, compose_broker.credentials
    phone = next(user for user in credentials if user != "gridwatch-ingest")
    assert credentials["gridwatch-ingest"] == "platform-secret"
    assert login(port, "gridwatch-ingest", "platform-secret") == "Success"
    assert login(port, phone, credentials[phone]) == "Success"
    assert login(port, None, None) == "Not authorized"
    assert login(port, phone, "wrong") == "Not authorized"


def test_the_platform_takes_reports_over_tls(
    compose_broker: ComposeBroker, sqlite_template: Template, tmp_path: Path
) -> None:
    """mqtts:// with the county's CA: a phone reports over TLS and hears back; without the CA the
    platform refuses the broker's certificate and says so."""
    url = database_for_test(sqlite_template, tmp_path, None)
    phone_id = next(user for user in compose_broker.credentials if user != "gridwatch-ingest")
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": url,
        "GRIDWATCH_MQTT_URL": f"mqtts://gridwatch-ingest:platform-secret@127.0.0.1:{compose_broker.tls_port}",
    }
    untrusted = run_gridwatch("ingest", env=env, cwd=tmp_path, timeout=60)
    assert untrusted.returncode == 1
    assert "certificate verify failed" in untrusted.stderr
    assert "platform-secret" not in untrusted.stderr
    env["GRIDWATCH_MQTT_CA_FILE"] = str(compose_broker.ca)
    worker = start_ingest(env=env, cwd=tmp_path)
    acks: list[dict[str, Any]] = []
    phone = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-phone", protocol=mqtt.MQTTv5)
    try:
        phone.username_pw_set(phone_id, compose_broker.credentials[phone_id])
        phone.tls_set(ca_certs=str(compose_broker.ca))
        phone.on_message = lambda _c, _u, m: acks.append(msgspec.json.decode(m.payload))
        phone.connect("127.0.0.1", compose_broker.tls_port)
        phone.loop_start()
        phone.subscribe(f"gw/339921/down/{phone_id}/ack", qos=1)
        time.sleep(0.5)
        cells = sqlite_template.county.cells
        point = cells.shapes[0].representative_point()  # any cell: a worker may report anywhere
        report = {
            "id": "tls-1",
            "ts": "2026-06-16T08:55:00+08:00",
            "lon": point.x,
            "lat": point.y,
            "category": "0501",
        }
        sent = phone.publish(f"gw/339921/up/{phone_id}/report", msgspec.json.encode(report), qos=1)
        sent.wait_for_publish(10)
        deadline = time.monotonic() + 20
        while not acks and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [(a["id"], a["status"], a["cell"]) for a in acks] == [
            ("tls-1", "accepted", cells.records[0].code)
        ]
    finally:
        phone.loop_stop()
        phone.disconnect()
        worker.terminate()
        worker.wait(timeout=30)


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
