"""End-to-end MQTT ingest (publish → committed → acked) against a bare QoS 1 subscriber, same run.

    uv run python bench/ingest.py                 # 2,000 reports
    uv run python bench/ingest.py --reports 500   # a quick look

A Mosquitto from Debian's packages is started with the shipped configuration. The raw baseline is
how fast a bare paho subscriber receives the same number of QoS 1 messages from the same broker;
ours is how fast reports become committed incidents whose acks reach the publishing phone. Ack
latency is from publish to ack. Zero loss is checked: every report is an incident exactly once.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, func, select

from bench.county import load_county
from server.db.tables import IncidentRow
from server.runtime import runtime_from
from server.settings import Settings
from sync.broker import BrokerAddress
from sync.ingest import MqttIngest
from tests.support.mosquitto import mosquitto


def client(name: str, port: int) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def raw_rate(port: int, count: int, payload: bytes) -> float:
    received = 0
    done = threading.Event()
    subscriber = client("raw-sub", port)

    def on_message(*_: Any) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    subscriber.on_message = on_message
    subscriber.subscribe("bench/raw", qos=1)
    time.sleep(0.3)
    publisher = client("raw-pub", port)
    start = time.perf_counter()
    for _ in range(count):
        publisher.publish("bench/raw", payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - start
    for c in (publisher, subscriber):
        c.loop_stop()
        c.disconnect()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-bench-ingest-"))
    url = f"sqlite:///{folder / 'ingest.db'}"
    county = load_county(url)
    runtime = runtime_from(Settings(database_url=url))
    worker_id = county.workers[0].id
    points = [(p.x, p.y) for p in (s.representative_point() for s in county.cells.shapes)]
    reports = [
        msgspec.json.encode(
            {
                "id": f"b{n}",
                "ts": "2026-06-16T08:55:00+08:00",
                "lon": points[n % len(points)][0],
                "lat": points[n % len(points)][1],
                "category": "0501",
            }
        )
        for n in range(args.reports)
    ]
    with mosquitto() as broker:
        raw = raw_rate(broker.port, args.reports, reports[0])
        worker = MqttIngest(
            runtime.field_ingest(), BrokerAddress("127.0.0.1", broker.port), "gridwatch-ingest-bench"
        )
        worker.start()
        worker.connected.wait(10)
        sent: dict[str, float] = {}
        latencies: list[float] = []
        phone = client("phone", broker.port)

        def on_ack(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
            ack = msgspec.json.decode(message.payload)
            latencies.append(time.perf_counter() - sent[ack["id"]])

        phone.on_message = on_ack
        phone.subscribe(f"gw/339921/down/{worker_id}/ack", qos=1)
        time.sleep(0.3)
        start = time.perf_counter()
        for n, payload in enumerate(reports):
            sent[f"b{n}"] = time.perf_counter()
            phone.publish(f"gw/339921/up/{worker_id}/report", payload, qos=1)
        wait_until(lambda: len(latencies) >= args.reports, 600)
        elapsed = time.perf_counter() - start
        worker.stop()
        phone.loop_stop()
        phone.disconnect()
    with Session(runtime.engine) as session:
        stored = session.exec(select(func.count()).select_from(IncidentRow)).one()
    ours = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(f"{args.reports:,} QoS 1 reports, one ingest worker, SQLite (WAL), Mosquitto {broker.port}")
    print(f"  raw subscriber  {raw:>9,.0f} msg/s")
    print(
        f"  ingest + ack    {ours:>9,.0f} msg/s   ack p50 {q[49] * 1000:7.1f} ms   p99 {q[98] * 1000:7.1f} ms"
    )
    print(
        f"  ratio {ours / raw:.3f}   acked {len(latencies):,} / {args.reports:,}   incidents {stored:,} (loss {args.reports - stored})"
    )


if __name__ == "__main__":
    main()
