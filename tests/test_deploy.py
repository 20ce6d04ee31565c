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
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from server.settings import Settings
from sync.acl import write_broker_files
from tests.mqtt_broker import SHIPPED
from tests.network import free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture
def compose_broker() -> Iterator[tuple[int, dict[str, str]]]:
    """deploy/mosquitto/mosquitto.conf as compose mounts it, with its paths in a folder of its own
    (outside pytest's, which Mosquitto's user may not enter)."""
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-compose-mqtt-"))
    auth = folder / "auth"
    credentials = write_broker_files(auth, ["w1"], ingest_password="platform-secret")
    port = free_port()
    text = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1")
    text = text.replace("/mosquitto/auth/", f"{auth}/").replace("/mosquitto/data/", f"{folder}/")
    text = text.replace("/mosquitto/config/conf.d", str(SHIPPED))
    (folder / "mosquitto.conf").write_text(text)
    if os.geteuid() == 0:
        for path in (folder, auth, *auth.iterdir()):
            shutil.chown(path, "mosquitto", "mosquitto")
    process = subprocess.Popen(
        ["mosquitto", "-c", str(folder / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield port, credentials
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


def test_the_compose_broker_configuration_runs_and_refuses_strangers(
    compose_broker: tuple[int, dict[str, str]],
) -> None:
    port, credentials = compose_broker
    assert credentials["gridwatch-ingest"] == "platform-secret"
    assert login(port, "gridwatch-ingest", "platform-secret") == "Success"
    assert login(port, "w1", credentials["w1"]) == "Success"
    assert login(port, None, None) == "Not authorized"
    assert login(port, "w1", "wrong") == "Not authorized"


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
