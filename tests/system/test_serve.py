"""`gridwatch serve --demo` as a newcomer runs it: a real process on a real port, with its embedded
MQTT broker taking reports from the field."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import msgspec
import paho.mqtt.client as mqtt
import pytest
import shapely
from paho.mqtt.enums import CallbackAPIVersion

from server.db import migrate
from tests.support.network import free_port, wait_answering

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "GRIDWATCH_PORT": str(port),
        "GRIDWATCH_EMBEDDED_MQTT_PORT": str(free_port()),
        "GRIDWATCH_MQTT_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    token = None
    deadline = time.monotonic() + 120  # serve --demo builds a year of history first
    assert process.stdout is not None
    while time.monotonic() < deadline and token is None:
        line = process.stdout.readline()
        if line.startswith("demo admin token: "):
            token = line.split(": ", 1)[1].strip()
        elif not line and process.poll() is not None:
            break
    assert token, "the server printed no demo token"
    base = f"http://127.0.0.1:{port}"
    wait_answering(f"{base}/health", timeout=max(deadline - time.monotonic(), 1))
    yield base, token, int(env["GRIDWATCH_EMBEDDED_MQTT_PORT"])
    process.terminate()
    process.wait(timeout=20)


def test_serve_demo_answers_over_http(server: tuple[str, str, int]) -> None:
    base, token, _ = server
    headers = {"Authorization": f"Bearer {token}"}
    health = httpx.get(f"{base}/health").json()
    assert health["status"] == "ok"
    assert health["cells"] >= 1000
    assert health["schema_revision"] == migrate.head()
    report = httpx.post(
        f"{base}/incidents",
        json={"client_id": "first", "category": "0501", "lon": 119.601, "lat": 29.102},
        headers=headers,
    )
    assert report.status_code == 201, report.text
    assert report.json()["incident"]["lead"]
    mine = report.json()["incident"]["id"]
    assert httpx.get(f"{base}/incidents/{mine}", headers=headers).status_code == 200
    assert httpx.get(f"{base}/incidents", headers=headers).json()["total"] > 1000  # the demo's history
    assert httpx.get(f"{base}/incidents").status_code == 401
    schema = httpx.get(f"{base}/schema/openapi.json").json()
    assert "/incidents" in schema["paths"]


class FieldPhone:
    """A worker's phone on the embedded broker (MQTT 3.1.1), collecting what comes down."""

    def __init__(self, port: int, worker: str) -> None:
        self.got: list[tuple[str, dict[str, object]]] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"phone-{worker}", protocol=mqtt.MQTTv311
        )
        self.client.on_message = lambda _c, _u, m: self.got.append((m.topic, msgspec.json.decode(m.payload)))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        # The down topics and the events, confirmed before anything is published.
        self.client.subscribe([(f"gw/+/down/{worker}/#", 1), ("gw/+/events/#", 1)])
        assert subscribed.wait(10)

    def wait(self, what: str, timeout: float = 20) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for topic, payload in self.got:
                if what in topic:
                    return payload
            time.sleep(0.05)
        raise AssertionError(f"nothing on {what}: {[t for t, _ in self.got]}")


def test_serve_takes_field_reports_on_its_embedded_broker(server: tuple[str, str, int]) -> None:
    base, token, mqtt_port = server
    headers = {"Authorization": f"Bearer {token}"}
    worker = httpx.get(f"{base}/workers?limit=1", headers=headers).json()["items"][0]
    cell = httpx.get(f"{base}/cells?township={worker['township']}&limit=500", headers=headers).json()
    shape = next(f for f in cell["features"] if f["properties"]["code"] == worker["cells"][0])
    point = shapely.geometry.shape(shape["geometry"]).representative_point()
    phone = FieldPhone(mqtt_port, worker["id"])
    county = worker["township"][:6]
    report = {
        "id": "field-1",
        "ts": "2026-06-16T08:00:00+08:00",
        "lat": point.y,
        "lon": point.x,
        "category": "0501",
    }
    phone.client.publish(f"gw/{county}/up/{worker['id']}/report", msgspec.json.encode(report), qos=1)
    ack = phone.wait("/ack")
    assert ack["status"] == "accepted" and ack["cell"] == worker["cells"][0], ack
    created = phone.wait("/events/")
    assert created["kind"] == "incident.created" and created["incident"] == ack["incident"]
    # The duty officer accepts and dispatches; the cell's worker gets the dispatch as a task.
    for action in ("accept", "dispatch"):
        done = httpx.post(f"{base}/incidents/{ack['incident']}/actions/{action}", json={}, headers=headers)
        assert done.status_code == 200, done.text
    task = phone.wait("/task")
    assert (
        task["type"] == "dispatch"
        and task["incident"] == ack["incident"]
        and task["cell"] == worker["cells"][0]
    )
    phone.client.loop_stop()
    phone.client.disconnect()
