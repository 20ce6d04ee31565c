"""A worker's phone on the broker's phones' listener, and the broker's answer to a login: the
deployment tests and the README's MQTT recipe both speak to Mosquitto as a phone would."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


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


@dataclass
class Phone:
    """A worker's phone on the phones' listener: reports at QoS 1 and collects its acks by id."""

    worker: str
    password: str
    port: int
    ca: Path | None = None
    acks: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(self.worker, self.password)
        if self.ca is not None:
            self.client.tls_set(ca_certs=str(self.ca))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_ack
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        self.client.subscribe(f"gw/339921/down/{self.worker}/ack", qos=1)
        assert subscribed.wait(10)

    def _on_ack(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        ack = msgspec.json.decode(message.payload)
        self.acks.setdefault(ack["id"], []).append(f"{ack['status']} {ack['cell']}")

    def report(self, report_id: str, point: Any) -> None:
        """Publish a report; return on the broker's PUBACK."""
        body = {"id": report_id, "ts": "2026-06-16T08:55:00+08:00", "lon": point.x, "lat": point.y}
        raw = msgspec.json.encode(body | {"category": "0501"})
        info = self.client.publish(f"gw/339921/up/{self.worker}/report", raw, qos=1)
        info.wait_for_publish(10)

    def wait_for(self, ids: list[str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not set(ids) <= set(self.acks) and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
