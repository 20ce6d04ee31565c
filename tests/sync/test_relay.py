"""The outbox relay against a real Mosquitto: committed changes reach the broker as events, the
tasks they imply reach the workers and units, and a restarted relay neither skips nor repeats."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, select

from server.db.tables import WorkerRow
from server.events.store import SqlOutbox
from server.field.store import SqlRoster
from sync.broker import BrokerAddress
from sync.relay import Relay
from tests.support.api import Api
from tests.support.mosquitto import Broker, mosquitto

pytestmark = pytest.mark.mosquitto

ZHZF, ZRZY = "339921.dept.zhzf", "339921.dept.zrzy"


class Listener:
    def __init__(self, port: int) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="listener", protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([("gw/+/events/#", 1), ("gw/+/down/+/task", 1)])
        assert subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((message.topic, msgspec.json.decode(message.payload)))

    def until(self, count: int, what: str, timeout: float = 20) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [(t, p) for t, p in self.got if what in t]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(found)} of {count} on {what}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def start_relay(api: Api, broker: Broker, name: str = "relay") -> Relay:
    relay = Relay(
        SqlOutbox(api.runtime.engine),
        lambda e: "339921",
        SqlRoster(api.runtime.engine).workers_in,
        BrokerAddress("127.0.0.1", broker.port),
        name,
    )
    relay.start()
    return relay


def test_events_and_tasks_reach_the_broker_once(api: Api, broker: Broker) -> None:
    before = api.report().json()["incident"]["id"]  # committed before any relay ran: not published
    listener = Listener(broker.port)
    relay = start_relay(api, broker)
    incident = api.report(n=1).json()["incident"]
    created = listener.until(1, "/events/")
    assert [p["incident"] for _, p in created] == [incident["id"]]
    assert created[0][0] == f"gw/339921/events/{incident['township']}/incident.created"
    for action, who in (
        ("accept", "duty_a"),
        ("dispatch", "duty_a"),
        ("sign", "unit_a"),
        ("handle", "unit_a"),
    ):
        assert api.act(incident["id"], action, who=who).status_code == 200
    with Session(api.runtime.engine) as session:
        holders = sorted(w.id for w in session.exec(select(WorkerRow)).all() if incident["cell"] in w.cells)
    assert holders, "the synthetic county gives every cell a worker"
    tasks = listener.until(2 * len(holders), "/task")
    assert sorted((p["type"], t.split("/")[3]) for t, p in tasks) == sorted(
        (kind, w) for kind in ("dispatch", "verify") for w in holders
    )
    assert all(p["incident"] == incident["id"] and p["cell"] == incident["cell"] for _, p in tasks)
    opened = api.client.post(
        f"/incidents/{incident['id']}/whistles",
        json={"kind": "routine", "reason": "no_power", "units": [ZHZF, ZRZY]},
        headers=api.auth("duty_a"),
    )
    assert opened.status_code == 201, opened.text
    called = [t for t, p in listener.until(2 * len(holders) + 2, "/task") if "dept" in t]
    assert sorted(called) == [f"gw/339921/down/{ZHZF}/task", f"gw/339921/down/{ZRZY}/task"]
    events = listener.until(6, "/events/")
    relay.stop()
    # A new relay takes up at the stored cursor: the next change only, nothing again.
    assert api.act(incident["id"], "verify").status_code == 200
    again = start_relay(api, broker, "relay-2")
    listener.until(len(events) + 1, "/events/")
    time.sleep(0.5)
    kinds = [p["kind"] for t, p in listener.got if "/events/" in t]
    assert kinds == [
        "incident.created",
        "incident.accept",
        "incident.dispatch",
        "incident.sign",
        "incident.handle",
        "whistle.opened",
        "incident.verify",
    ]
    assert before not in {p["incident"] for _, p in listener.got}
    assert len({p["id"] for t, p in listener.got if "/events/" in t}) == len(kinds)
    again.stop()
    listener.close()


def test_two_relays_publish_every_event(api: Api, broker: Broker) -> None:
    listener = Listener(broker.port)
    relays = [start_relay(api, broker, f"relay-{n}") for n in range(2)]
    made = {api.report(n=n).json()["incident"]["id"] for n in range(20)}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and {p["incident"] for _, p in listener.until(1, "/events/")} != made:
        time.sleep(0.1)
    # At least once: every event arrives; a repeat (both relays took the same batch) keeps its id.
    got = listener.until(20, "/events/")
    assert {p["incident"] for _, p in got} == made
    assert len({p["id"] for _, p in got}) == 20
    if api.template.backend == "postgres":
        # One relay leads and publishes; the other waits. When the leader stops, the other takes over.
        time.sleep(0.5)
        assert len(listener.until(20, "/events/")) == 20  # each event once
        outboxes = [r.outbox for r in relays]
        assert all(isinstance(o, SqlOutbox) for o in outboxes)
        leader = next(r for r in relays if r.outbox.leading)  # type: ignore[attr-defined]
        leader.stop()
        later = {api.report(n=n).json()["incident"]["id"] for n in range(20, 25)}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not later <= {p["incident"] for _, p in listener.got}:
            time.sleep(0.1)
        assert later <= {p["incident"] for _, p in listener.until(25, "/events/")}
        assert len(listener.until(25, "/events/")) == 25
    for relay in relays:
        relay.stop()
    listener.close()


def test_a_hole_in_the_outbox_is_waited_for_then_passed() -> None:
    import datetime as dt

    from sync.relay import GAP_WAIT_SECONDS, readable

    now = dt.datetime(2026, 6, 16, 9, tzinfo=dt.UTC)
    fresh, old = now, now - dt.timedelta(seconds=GAP_WAIT_SECONDS + 1)
    assert readable([4, 5, 6], [fresh] * 3, 3, now) == 3
    assert readable([4, 6, 7], [fresh] * 3, 3, now) == 1  # 5 may still commit
    assert readable([5, 6], [fresh] * 2, 3, now) == 0
    assert readable([5, 6], [old, fresh], 3, now) == 2  # 4 rolled back long ago: passed
    assert readable([5, 7], [old, fresh], 3, now) == 1  # but 6 may still commit
