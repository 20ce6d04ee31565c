"""A field simulator: the county's workers and cameras on the broker, as the platform would see them.

Workers patrol their own cells (pings, often batched) and report what they find; cameras raise
alerts (some repeats within the merge window, some below the confidence threshold); a share of the
messages is garbage, as phones in the field do send. Every message is published at QoS 1 and the
acks coming back are counted, so the run ends with what was acknowledged and how fast.

The simulated phones keep the end-to-end rule (docs/asyncapi.yaml): a report or alert is safe once
the platform's ack arrives, sent after its commit, never on the broker's PUBACK, which a broker
crash can undo. Each is kept until its ack and sent again, with the same id, until it comes; the
platform answers a repeated id with the first answer (`duplicate`).
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
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from shapely.geometry.base import BaseGeometry

from grid.subjects import Device
from sync.broker import BrokerAddress
from sync.topics import PREFIX

# With no ack this long after it was sent, a report or alert is sent again.
RESEND_SECONDS = 10.0
# A PUBACK saying the broker passed the message to nobody (16, as after a broker restart before the
# ingest workers are back) or refused it (128 and up): the report is sent again this soon.
REFUSED_RESEND_SECONDS = 1.0
NO_MATCHING_SUBSCRIBERS = 16
# Ids answered lately, to tell a second answer to a report sent twice from an answer to garbage.
ANSWERED_KEPT = 100_000

# What grid workers report (minor categories of the bundled catalog, the everyday ones most) and
# what they write for each: the text always fits its category.
FIELD_TEXTS: dict[str, tuple[str, ...]] = {
    "0501": ("菜市场门口摊贩占道经营", "水果摊占用人行道经营", "早餐摊点占道设摊"),
    "0503": ("流动摊贩沿街叫卖", "三轮车游商在路口售卖"),
    "0502": ("夜市路边露天烧烤，油烟较大", "小区门口露天烧烤摊"),
    "0102": ("垃圾桶满溢未及时清运", "路边暴露垃圾堆积", "绿化带内积存生活垃圾"),
    "0103": ("空地上有人偷倒建筑垃圾", "路边倾倒装修垃圾"),
    "0101": ("屋顶私自搭建彩钢棚", "沿街店铺私搭雨棚"),
    "0106": ("墙面乱涂乱画", "电线杆上喷涂办证广告"),
    "0107": ("绿化带被毁改种蔬菜", "车辆碾压绿化带"),
    "0108": ("餐饮店油烟直排扰民", "饭店排油烟管道朝向住宅"),
    "0104": ("田间露天焚烧秸秆", "农田边焚烧秸秆冒浓烟"),
    "0114": ("河道内漂浮垃圾", "有人向河道倾倒生活垃圾"),
    "0115": ("店铺门前三包未落实，门口脏乱", "商户门前堆放杂物"),
    "0201": ("楼顶违规设置大型广告牌", "店招广告牌破损有坠落风险"),
    "0202": ("小区楼道张贴小广告", "公交站牌粘贴小广告"),
    "0301": ("工地未覆盖裸土，扬尘严重", "施工现场未洒水降尘"),
    "0302": ("渣土车沿路撒漏", "渣土车未密闭运输，路面污染"),
    "0303": ("工地夜间施工噪声扰民", "深夜混凝土浇筑噪声大"),
    "0305": ("农户未批先建新房", "违法加盖一层"),
    "0306": ("工地脚手架无防护网", "基坑边缘无围挡"),
    "0504": ("火车站附近黑车揽客", "无证面包车载客营运"),
    "0505": ("货车超限超载通行", "超高货车驶入村道"),
    "0601": ("河道内夜间非法采砂", "采砂船无证作业"),
    "0603": ("无证小作坊加工熟食", "流动摊点售卖无证食品"),
    "0606": ("有人在河里电鱼", "水库边电鱼作业"),
    "0401": ("餐馆燃气管道有泄漏气味", "小区燃气表处闻到煤气味"),
    "0404": ("路边发现倾倒的危险废物桶", "废机油倒入排水沟"),
    "0405": ("厂房消防通道被堵，安全隐患重大", "老旧民房墙体开裂有倒塌危险"),
    "0406": ("河道内堆放杂物妨碍行洪", "河道违建阻水"),
}
# Urgent categories (their clocks run day and night): a share of the reports.
URGENT = ["0401", "0404", "0405", "0406"]
EVERYDAY = [c for c in FIELD_TEXTS if c not in URGENT]
URGENT_SHARE = 0.05
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
class Unanswered:
    """A report or alert kept until the platform answers it."""

    topic: str
    payload: bytes
    first_sent: float
    # When to send it again.
    due: float
    # The latest copy handed to paho: no other is queued behind it before the broker has it.
    sent: mqtt.MQTTMessageInfo | None = None

    def in_flight(self) -> bool:
        if self.sent is None:
            return False
        try:
            return not self.sent.is_published()
        except (RuntimeError, ValueError):  # refused, or made while disconnected: paho cannot say
            return False


@dataclass
class Tally:
    # Messages by kind, each counted once however often it was sent.
    published: Counter[str] = field(default_factory=Counter)
    # The first answer to each report and alert, and every answer to a bad message.
    acks: Counter[str] = field(default_factory=Counter)
    # PUBACKs that said the broker passed a message to nobody or refused it, by reason.
    refused: Counter[str] = field(default_factory=Counter)
    resent: int = 0
    # From a report's first sending to its first answer.
    latencies: list[float] = field(default_factory=list)
    unanswered: dict[str, Unanswered] = field(default_factory=dict)
    # In the order answered (a dict keeps it), the oldest dropped past ANSWERED_KEPT.
    answered: dict[str, None] = field(default_factory=dict)
    bad_answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def owed(self) -> int:
        """Acks still to come: those of the reports and alerts kept, and of bad messages (sent once;
        their acks carry no id of ours). Good pings are answered by PUBACK alone."""
        return len(self.unanswered) + max(0, self.published["bad"] - self.bad_answered)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "published": dict(self.published),
            "acks": dict(self.acks),
            "awaiting_ack": self.owed,
            "resent": self.resent,
            "refused": dict(self.refused),
            "ack_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
            "ack_ms_p99": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
        }


def point_in(cell: BaseGeometry, rng: np.random.Generator) -> tuple[float, float]:
    """A random point inside a cell, drawn a few at a time; its representative point if the cell is
    a sliver that random draws keep missing."""
    minx, miny, maxx, maxy = cell.bounds
    for _ in range(50):
        xs, ys = rng.uniform(minx, maxx, 8), rng.uniform(miny, maxy, 8)
        inside = shapely.contains_xy(cell, xs, ys)
        if inside.any():
            i = int(np.argmax(inside))
            return float(xs[i]), float(ys[i])
    point = cell.representative_point()
    return point.x, point.y


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
        urgent_share: float = URGENT_SHARE,
        clock: Any = None,
        resend_seconds: float = RESEND_SECONDS,
        # MQTT 5 says in each PUBACK whether the broker passed the message on; the embedded broker
        # speaks 3.1.1 only.
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    ) -> None:
        if not workers:
            raise ValueError("no workers with cells to simulate")
        self.county = county
        self.workers = list(workers)
        self.cameras = list(cameras)
        self.bad_share = bad_share
        self.urgent_share = urgent_share
        self.resend_seconds = resend_seconds
        self.rng = np.random.default_rng(seed)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.tally = Tally()
        # Which report each PUBACK answers, and the PUBACKs that came back refused (under the lock).
        self.sending: dict[int, str] = {}
        self.refused_mids: list[int] = []
        self.refusal: str | None = None
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"field-simulator-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_ack
        self.client.on_publish = self._on_publish
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)  # back soon after a broker restart
        broker.connect(self.client)
        self.client.loop_start()
        if not self.subscribed.wait(10):  # acks to reports sent before the SUBACK would go uncounted
            self.close()
            if self.refusal is not None:
                raise ConnectionError(f"the broker at {broker} refused the simulator: {self.refusal}")
            raise ConnectionError(f"the broker at {broker} did not confirm the subscription to the acks")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.refusal = str(reason)
            return
        # On every connection: after a broker restart the session, and its subscription, may be gone.
        client.subscribe(f"{PREFIX}/{self.county}/down/+/ack", qos=1)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, reasons: Any, _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            self.refusal = f"the subscription to the acks: {', '.join(str(r) for r in reasons)}"
            return
        self.subscribed.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        # paho holds its own lock here: never publish while holding the tally's.
        refused = reason.value == NO_MATCHING_SUBSCRIBERS or reason.is_failure
        with self.tally.lock:
            if refused:
                self.tally.refused[str(reason)] += 1
                self.refused_mids.append(mid)
            else:
                self.sending.pop(mid, None)

    def _on_ack(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            ack = msgspec.json.decode(message.payload)
        except msgspec.DecodeError:
            return
        key = str(ack.get("id"))
        with self.tally.lock:
            if key in self.tally.answered:
                return  # a report sent again got its answer twice
            self.tally.acks[str(ack.get("status"))] += 1
            kept = self.tally.unanswered.pop(key, None)
            if kept is None:
                self.tally.bad_answered += 1
            else:
                self.tally.answered[key] = None
                if len(self.tally.answered) > ANSWERED_KEPT:
                    del self.tally.answered[next(iter(self.tally.answered))]
                self.tally.latencies.append(time.monotonic() - kept.first_sent)

    def _point(self, cell: BaseGeometry) -> tuple[float, float]:
        return point_in(cell, self.rng)

    def _category(self) -> str:
        pool = URGENT if self.rng.random() < self.urgent_share else EVERYDAY
        return pool[int(self.rng.integers(len(pool)))]

    def _publish(self, topic: str, payload: bytes, kind: str, client_id: str | None) -> None:
        with self.tally.lock:
            self.tally.published[kind] += 1
            if client_id is not None:
                now = time.monotonic()
                self.tally.unanswered[client_id] = Unanswered(topic, payload, now, now + self.resend_seconds)
        self._send(topic, payload, client_id)

    def _send(self, topic: str, payload: bytes, client_id: str | None) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if client_id is not None:
            with self.tally.lock:
                self.sending[info.mid] = client_id
                kept = self.tally.unanswered.get(client_id)
                if kept is not None:
                    kept.sent = info

    def resend(self) -> None:
        """Send again what is due: unanswered for `resend_seconds`, or refused by the broker. Not
        while disconnected, nor while the broker has not taken the last copy: paho sends what it
        holds once the connection is back, and copies queued behind it would only pile up."""
        now = time.monotonic()
        with self.tally.lock:
            for mid in self.refused_mids:
                kept = self.tally.unanswered.get(self.sending.pop(mid, ""))
                if kept is not None:
                    kept.due = min(kept.due, now + REFUSED_RESEND_SECONDS)
            self.refused_mids.clear()
            if not self.client.is_connected():
                return
            due = [(k, u) for k, u in self.tally.unanswered.items() if u.due <= now and not u.in_flight()]
            for _, kept in due:
                kept.due = now + self.resend_seconds
            self.tally.resent += len(due)
        for client_id, kept in due:
            self._send(kept.topic, kept.payload, client_id)

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
            category = self._category()
            texts = FIELD_TEXTS[category]
            client_id = uuid.uuid4().hex
            report = {
                "id": client_id,
                "ts": now.isoformat(),
                "lat": lat,
                "lon": lon,
                "acc": 8.0,
                "category": category,
                "text": texts[int(self.rng.integers(len(texts)))],
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
            self.resend()
            stop.wait(max(0.0, min(0.1, (sent / rate) - (time.monotonic() - start))))

    def settle(self, timeout: float) -> None:
        """Wait for the acks still owed, sending again what is due."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.tally.lock:
                if not self.tally.owed:
                    return
            self.resend()
            time.sleep(0.1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
