"""A field simulator: the county's workers and cameras on the broker, as the platform would see them.

Workers patrol their own cells (pings, often batched) and report what they find; cameras raise
alerts (some repeats within the merge window, some below the confidence threshold); a share of the
messages is garbage, as phones in the field do send. Every message is published at QoS 1 and the
acks coming back are counted, so the run ends with what was acknowledged and how fast.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import paho.mqtt.client as mqtt
import shapely
from paho.mqtt.enums import CallbackAPIVersion
from shapely.geometry.base import BaseGeometry

from grid.subjects import Device
from sync.broker import BrokerAddress
from sync.topics import PREFIX

# What grid workers report most (minor categories of the bundled catalog) and what they write.
REPORTED = ["0501", "0502", "0101", "0102", "0104", "0302", "0202"]
TEXTS = ["占道经营", "乱堆物料", "垃圾未清运", "违规广告牌", "车辆乱停放", "绿化带损毁", "路面破损"]
BAD = [
    b"not json",
    b'{"id": "bad-1", "ts": "2026-01-01T00:00:00+08:00", "lat": "north", "lon": 120, "category": "0501"}',
    b'{"id": "bad-2", "category": "9999"}',
    b'{"id": "bad-3", "ts": "yesterday", "lat": 29, "lon": 120, "category": "0501"}',
]


@dataclass(frozen=True)
class FieldWorker:
    id: str
    cells: Sequence[BaseGeometry]


@dataclass
class Tally:
    published: Counter[str] = field(default_factory=Counter)
    acks: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def owed(self) -> int:
        """Acks still to come: those of tracked ids, and of bad messages, whose ack carries no id we
        sent (every report, alert and bad message is answered; pings by PUBACK alone)."""
        answered = self.published["report"] + self.published["alert"] + self.published["bad"]
        return max(len(self.sent_at), answered - sum(self.acks.values()))

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "published": dict(self.published),
            "acks": dict(self.acks),
            "awaiting_ack": self.owed,
            "ack_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
            "ack_ms_p99": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
        }


class FieldSimulator:
    def __init__(
        self,
        county: str,
        workers: Sequence[FieldWorker],
        cameras: Sequence[Device],
        broker: BrokerAddress,
        *,
        seed: int = 1,
        bad_share: float = 0.03,
        clock: Any = None,
    ) -> None:
        if not workers:
            raise ValueError("no workers with cells to simulate")
        self.county = county
        self.workers = list(workers)
        self.cameras = list(cameras)
        self.bad_share = bad_share
        self.rng = np.random.default_rng(seed)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.tally = Tally()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"gridwatch-simulator-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self.client.on_message = self._on_ack
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        broker.connect(self.client)
        self.client.loop_start()
        self.client.subscribe(f"{PREFIX}/{county}/down/+/ack", qos=1)
        if not subscribed.wait(10):  # acks to reports sent before the SUBACK would go uncounted
            self.close()
            raise ConnectionError(f"the broker at {broker} did not confirm the subscription to the acks")

    def _on_ack(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            ack = msgspec.json.decode(message.payload)
        except msgspec.DecodeError:
            return
        with self.tally.lock:
            self.tally.acks[str(ack.get("status"))] += 1
            sent = self.tally.sent_at.pop(str(ack.get("id")), None)
            if sent is not None:
                self.tally.latencies.append(time.monotonic() - sent)

    def _point(self, cell: BaseGeometry) -> tuple[float, float]:
        minx, miny, maxx, maxy = cell.bounds
        while True:
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if cell.contains(shapely.Point(x, y)):
                return float(x), float(y)

    def _publish(self, topic: str, payload: bytes, kind: str, client_id: str | None) -> None:
        with self.tally.lock:
            self.tally.published[kind] += 1
            if client_id is not None:
                self.tally.sent_at[client_id] = time.monotonic()
        self.client.publish(topic, payload, qos=1)

    def one(self) -> None:
        """Publish one message of a random kind."""
        roll = self.rng.random()
        worker = self.workers[int(self.rng.integers(len(self.workers)))]
        up = f"{PREFIX}/{self.county}/up/{worker.id}"
        now = self.clock()
        if roll < self.bad_share:
            raw = BAD[int(self.rng.integers(len(BAD)))]
            self._publish(f"{up}/report", raw, "bad", None)
        elif roll < 0.55:
            cell = worker.cells[int(self.rng.integers(len(worker.cells)))]
            pings = []
            for k in range(int(self.rng.integers(1, 6))):
                lon, lat = self._point(cell)
                at = now - dt.timedelta(seconds=30 * k)
                pings.append({"ts": at.isoformat(), "lat": lat, "lon": lon, "acc": 10.0})
            self._publish(f"{up}/ping", msgspec.json.encode(pings), "ping", None)
        elif roll < 0.9 or not self.cameras:
            cell = worker.cells[int(self.rng.integers(len(worker.cells)))]
            lon, lat = self._point(cell)
            pick = int(self.rng.integers(len(REPORTED)))
            client_id = uuid.uuid4().hex
            report = {
                "id": client_id,
                "ts": now.isoformat(),
                "lat": lat,
                "lon": lon,
                "acc": 8.0,
                "category": REPORTED[pick],
                "text": TEXTS[pick],
            }
            self._publish(f"{up}/report", msgspec.json.encode(report), "report", client_id)
        else:
            camera = self.cameras[int(self.rng.integers(len(self.cameras)))]
            client_id = uuid.uuid4().hex
            alert = {
                "id": client_id,
                "ts": now.isoformat(),
                "device": camera.id,
                "category": camera.categories[int(self.rng.integers(len(camera.categories)))],
                "confidence": round(float(self.rng.uniform(0.5, 1.0)), 2),
            }
            topic = f"{PREFIX}/{self.county}/up/{camera.id}/alert"
            self._publish(topic, msgspec.json.encode(alert), "alert", client_id)

    def run(self, rate: float, duration: float, stop: threading.Event | None = None) -> None:
        """Publish `rate` messages a second for `duration` seconds (or until `stop`)."""
        stop = stop or threading.Event()
        start = time.monotonic()
        sent = 0
        while not stop.is_set():
            elapsed = time.monotonic() - start
            if elapsed >= duration:
                break
            due = int(elapsed * rate) + 1
            while sent < due:
                self.one()
                sent += 1
            stop.wait(max(0.0, (sent / rate) - (time.monotonic() - start)))

    def settle(self, timeout: float) -> None:
        """Wait for the acks still owed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.tally.lock:
                if not self.tally.owed:
                    return
            time.sleep(0.1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
