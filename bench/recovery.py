"""Recovery of the MQTT intake after a crash, against bare paho clients in the same run.

    uv run python bench/recovery.py                     # 5 broker restarts, 2 backlogs of 2,000
    uv run python bench/recovery.py --backlog 500 --restarts 3 --backlogs 1   # a quick look

A Mosquitto from Debian's packages runs with the shipped configuration; a SQLite database (WAL)
holds the synthetic county; `gridwatch ingest` runs as a process with a client id of its own.

(a) Broker crash. With the worker running, the broker is killed (-9) and started again. From the
moment it listens again, a phone publishes a new report every 50 ms (paho keeps them until it is
connected again); the time runs until the phone gets the platform's ack for one of them. Baseline:
a bare paho subscriber with a persistent session on the same report topic, reconnecting after the
same restart: until it receives its first of those reports. All three clients (phone, subscriber,
worker) reconnect with paho's backoff set to 1–2 s, as the worker and the simulator do.

(b) Worker crash. The worker is killed (-9); the phone publishes N reports at QoS 1, which wait in
the worker's persistent session. The time runs from starting `gridwatch ingest` again until the
phone holds all N acks. Baseline: a bare paho subscriber with a persistent session, while away,
gets N QoS 1 messages queued; the time runs from its connect until it has all N. Our figure
includes the worker's process start (imports, database, subscription), printed on its own too.

Zero loss is checked: every report is one incident.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlmodel import Session, func, select

from bench.county import load_county
from bench.ingest import wait_until
from server.db.engine import make_engine
from server.db.tables import IncidentRow
from tests.support.commands import start_ingest
from tests.support.mosquitto import Broker, mosquitto

COUNTY = "339921"
CLIENT_ID = "gridwatch-bench-recovery"
# Mosquitto saves when more than autosave_interval (1) whole seconds have passed since the last save,
# so up to 3 s apart: a subscription younger than that is lost with a kill -9 (and so is what the
# broker then accepts for it until its subscriber is back). Each restart waits this long first.
SAVED_SECONDS = 3.5


class Listener:
    """A paho client that notes when each id first reaches it: the phone (acks) or a bare
    subscriber. Persistent: its session and subscription survive its absence and a broker restart."""

    def __init__(self, port: int, topic: str, name: str | None = None) -> None:
        self.port = port
        self.topic = topic
        self.name = name or f"bench-{uuid.uuid4().hex[:8]}"
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()
        self.client = self._connect()

    def _connect(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.name, protocol=mqtt.MQTTv5)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.max_inflight_messages_set(1000)
        client.on_connect = lambda c, _u, _f, _r, properties: (
            None if _f.session_present else c.subscribe(self.topic, qos=1)
        )
        client.on_message = self._on_message
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        client.connect("127.0.0.1", self.port, clean_start=False, properties=properties)
        client.loop_start()
        return client

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        key = str(msgspec.json.decode(message.payload)["id"])
        with self.lock:
            self.first.setdefault(key, time.perf_counter())

    def away(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def back(self) -> float:
        """Connect again with the same session; the moment of the connect."""
        start = time.perf_counter()
        self.client = self._connect()
        return start

    def count(self) -> int:
        return len(self.first)

    def got(self, ids: set[str]) -> list[float]:
        with self.lock:
            return sorted(self.first[i] for i in ids if i in self.first)


def subscribed(listener: Listener, timeout: float = 10) -> None:
    """Wait until the broker delivers to `listener` (its subscription is in place)."""
    probe = f"probe-{uuid.uuid4().hex[:8]}"
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", listener.port)
    publisher.loop_start()
    deadline = time.monotonic() + timeout
    while not listener.got({probe}) and time.monotonic() < deadline:
        publisher.publish(listener.topic.replace("+", "probe"), msgspec.json.encode({"id": probe}), qos=1)
        time.sleep(0.2)
    publisher.loop_stop()
    publisher.disconnect()
    assert listener.got({probe}), f"{listener.name} is not subscribed"


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> float:
        """Start `gridwatch ingest`; seconds until it says it is ingesting."""
        start = time.perf_counter()
        self.process = start_ingest("--client-id", CLIENT_ID, env=self.env)
        ready = time.perf_counter() - start
        threading.Thread(target=self._log, args=(self.process,), daemon=True).start()
        return ready

    def _log(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        with self.log.open("a", encoding="utf-8") as out:
            for line in process.stderr:
                out.write(line)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=60)


def broker_restart(
    broker: Broker, phone: Listener, bare: Listener, report: Callable[[str], tuple[str, bytes]], tag: str
) -> tuple[float, float, int]:
    """kill -9 and start the broker; seconds from its start to the first ack of a report sent after
    it (ours) and to the bare subscriber's first such report (baseline), and how many were sent."""
    broker.kill()
    time.sleep(0.5)
    broker.start()
    restarted = time.perf_counter()
    sent: set[str] = set()
    stop = threading.Event()

    def publish() -> None:
        n = 0
        while not stop.is_set():
            key = f"{tag}-{n}"
            sent.add(key)
            phone.client.publish(*report(key), qos=1)
            n += 1
            stop.wait(0.05)

    publisher = threading.Thread(target=publish)
    publisher.start()
    wait_until(lambda: bool(phone.got(set(sent))) and bool(bare.got(set(sent))), 120)
    stop.set()
    publisher.join()
    ours, raw = phone.got(set(sent)), bare.got(set(sent))
    assert ours and raw, f"no ack ({len(ours)}) or no message ({len(raw)}) within 120 s of the restart"
    wait_until(lambda: len(phone.got(sent)) == len(sent), 120)  # the next round starts quiet
    assert len(phone.got(sent)) == len(sent), f"{len(phone.got(sent))} of {len(sent)} acked"
    return ours[0] - restarted, raw[0] - restarted, len(sent)


def drain_bare(port: int, count: int, tag: str) -> tuple[float, float]:
    """A bare persistent subscriber, away while `count` messages queue: seconds from its connect to
    the first and to the last."""
    topic = f"bench/{tag}"
    bare = Listener(port, topic)
    subscribed(bare)
    bare.away()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(1000)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    infos = [publisher.publish(topic, msgspec.json.encode({"id": f"{tag}-{n}"}), qos=1) for n in range(count)]
    for info in infos:
        info.wait_for_publish(timeout=60)
    publisher.loop_stop()
    publisher.disconnect()
    ids = {f"{tag}-{n}" for n in range(count)}
    start = bare.back()
    wait_until(lambda: bare.count() >= count, 300)
    times = bare.got(ids)
    bare.away()
    assert len(times) == count, f"{len(times)} of {count} queued messages"
    return times[0] - start, times[-1] - start


def drain_ours(
    worker: Worker, phone: Listener, report: Callable[[str], tuple[str, bytes]], count: int, tag: str
) -> tuple[float, float, float]:
    """Kill the worker, queue `count` reports, start it again: seconds to its start, to the first
    ack and to the last."""
    worker.kill()
    target = phone.count() + count
    infos = [phone.client.publish(*report(f"{tag}-{n}"), qos=1) for n in range(count)]
    for info in infos:
        info.wait_for_publish(timeout=60)
    ids = {f"{tag}-{n}" for n in range(count)}
    start = time.perf_counter()
    ready = worker.start()
    wait_until(lambda: phone.count() >= target, 600)
    times = phone.got(ids)
    assert len(times) == count, f"{len(times)} of {count} queued reports acked"
    return ready, times[0] - start, times[-1] - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--backlogs", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-bench-recovery-"))
    url = f"sqlite:///{folder / 'recovery.db'}"
    county = load_county(url)
    worker_id = county.workers[0].id
    points = [(p.x, p.y) for p in (s.representative_point() for s in county.cells.shapes)]

    def report(key: str) -> tuple[str, bytes]:
        lon, lat = points[zlib.crc32(key.encode()) % len(points)]
        body = {"id": key, "ts": "2026-06-16T08:55:00+08:00", "lon": lon, "lat": lat, "category": "0501"}
        return f"gw/{COUNTY}/up/{worker_id}/report", msgspec.json.encode(body)

    restarts: list[tuple[float, float, int]] = []
    drains: list[tuple[float, float, float, float, float]] = []
    with mosquitto() as broker:
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "GRIDWATCH_METRICS_PORT": "0",
        }
        phone = Listener(broker.port, f"gw/{COUNTY}/down/{worker_id}/ack")
        bare = Listener(broker.port, f"gw/{COUNTY}/up/{worker_id}/report")
        subscribed(phone)
        subscribed(bare)  # before the worker subscribes: it gets no probe
        worker = Worker(env, folder / "ingest.log")
        worker.start()
        try:
            for n in range(args.restarts):
                time.sleep(SAVED_SECONDS)  # what a kill -9 loses is not measured here
                restarts.append(broker_restart(broker, phone, bare, report, f"a{n}"))
            bare.client.unsubscribe(bare.topic)  # it would queue the backlogs too
            time.sleep(0.2)
            bare.away()
            for n in range(args.backlogs):
                first_raw, last_raw = drain_bare(broker.port, args.backlog, f"raw{n}")
                ready, first, last = drain_ours(worker, phone, report, args.backlog, f"b{n}")
                drains.append((ready, first, last, first_raw, last_raw))
        finally:
            worker.stop()
            phone.away()
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(IncidentRow)).one()
    expected = sum(r[2] for r in restarts) + args.backlog * args.backlogs
    engine.dispose()

    print("Recovery of `gridwatch ingest` (one process, SQLite WAL) behind Mosquitto, shipped configuration")
    ours_a = statistics.median(r[0] for r in restarts)
    raw_a = statistics.median(r[1] for r in restarts)
    print(f"(a) kill -9 of the broker, {args.restarts} restarts: listening again → first ack (median)")
    print("    " + "  ".join(f"{o:.2f}/{r:.2f}" for o, r, _ in restarts) + "   (ours/bare, s)")
    print(f"    bare subscriber {raw_a:6.2f} s   ours {ours_a:6.2f} s   ratio ours/bare {ours_a / raw_a:.2f}")
    print(f"(b) kill -9 of the worker, backlog of {args.backlog:,} queued reports")
    for ready, first, last, first_raw, last_raw in drains:
        print(
            f"    ours: start → ingesting {ready:5.2f} s, first ack {first:5.2f} s, all acked {last:6.2f} s"
            f"   bare: first {first_raw:5.2f} s, all {last_raw:5.2f} s"
            f"   ratio all/all {last / last_raw:5.1f}   drain only (first → last) "
            f"{(last - first) / (last_raw - first_raw):5.1f}"
        )
    print(
        f"    reports sent {expected:,}   incidents {stored:,}   (loss {expected - stored})   logs in {folder}"
    )


if __name__ == "__main__":
    main()
