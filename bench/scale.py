"""Scale-out of MQTT ingest on PostgreSQL: one `gridwatch ingest` process, then two on the shared
subscription, against the raw rate of the same Mosquitto in the same run.

    uv run python bench/scale.py                  # 3,000 reports per round
    uv run python bench/scale.py --reports 1000   # a quick look

A private PostgreSQL cluster (Debian's binaries) holds the synthetic county; a Mosquitto from
Debian's packages runs with the shipped configuration. Each round starts its ingest processes
(`gridwatch ingest --shared`, real processes with their own client ids, as compose.yaml runs them),
publishes the reports at QoS 1 from the county's workers as fast as the broker takes them, and
times from the first publish to the last ack back at the phones: end-to-end throughput, publish →
committed → acked. The raw rate is how fast a bare paho subscriber receives the same number of QoS 1
messages from the same broker. Zero loss is checked after each round: every report is one incident.

Printed: each round's rate, the scale-out ratio (two workers / one) and each round's share of the
raw rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from sqlmodel import Session, func, select

from bench.ingest import client, raw_rate, wait_until
from geodata.synth import synthesize
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import IncidentRow
from server.reference.service import load_dataset
from tests.support.mosquitto import mosquitto
from tests.support.network import free_port, wait_answering
from tests.support.postgres import cluster, create_database

ROOT = Path(__file__).resolve().parent.parent


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    health = []
    for n in range(count):
        port = free_port()
        health.append(f"http://127.0.0.1:{port}/health")
        worker_env = env | {
            "GRIDWATCH_INGEST_CLIENT_ID": f"gridwatch-bench-ingest-{n}",
            "GRIDWATCH_METRICS_PORT": str(port),
        }
        with (logs / f"ingest-{count}-{n}.log").open("ab") as out:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "ingest", "--shared"],
                    env=worker_env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=out,
                )
            )

    for url in health:
        wait_answering(url)
    return workers


def round_trip(port: int, reports: list[tuple[str, bytes]]) -> float:
    """Reports per second from the first publish to the last ack."""
    acked: set[str] = set()
    lock = threading.Lock()
    phone = client("scale-phone", port)

    def on_ack(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with lock:
            acked.add(msgspec.json.decode(message.payload)["id"])

    phone.on_message = on_ack
    phone.subscribe("gw/339921/down/+/ack", qos=1)
    time.sleep(0.3)
    start = time.perf_counter()
    for topic, payload in reports:
        phone.publish(topic, payload, qos=1)
    wait_until(lambda: len(acked) >= len(reports), 900)
    elapsed = time.perf_counter() - start
    phone.loop_stop()
    phone.disconnect()
    assert len(acked) == len(reports), f"{len(acked)} of {len(reports)} acked"
    return len(reports) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=3000)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="gridwatch-bench-scale-"))
    county = synthesize(1)
    workers = [w for w in county.workers if w.cells][:50]
    shapes = dict(zip((c.code for c in county.cells.records), county.cells.shapes, strict=True))
    sample = msgspec.json.encode({"id": "x" * 16, "ts": "2026-06-16T08:55:00+08:00", "lon": 0.0, "lat": 0.0})

    def batch(tag: str) -> list[tuple[str, bytes]]:
        out = []
        for n in range(args.reports):
            worker = workers[n % len(workers)]
            point = shapes[worker.cells[n % len(worker.cells)]].representative_point()
            body = {
                "id": f"{tag}-{n}-{uuid.uuid4().hex[:6]}",
                "ts": dt.datetime.now(dt.UTC).isoformat(),
                "lon": point.x,
                "lat": point.y,
                "category": "0501",
            }
            out.append((f"gw/339921/up/{worker.id}/report", msgspec.json.encode(body)))
        return out

    with cluster() as admin, mosquitto() as broker:
        url = create_database(admin, "scale_bench")
        engine = make_engine(url)
        migrate.upgrade(engine)
        with Session(engine) as session:
            load_dataset(session, county)
            session.commit()
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "GRIDWATCH_LOG_FORMAT": "json",
        }
        raw = raw_rate(broker.port, args.reports, sample)
        rates: dict[int, float] = {}
        for count in (1, 2):
            with Session(engine) as session:
                before = session.exec(select(func.count()).select_from(IncidentRow)).one()
            processes = start_workers(count, env, logs)
            try:
                rates[count] = round_trip(broker.port, batch(f"w{count}"))
            finally:
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                for process in processes:
                    process.wait(timeout=60)
            with Session(engine) as session:
                stored = session.exec(select(func.count()).select_from(IncidentRow)).one() - before
            assert stored == args.reports, f"{stored} incidents for {args.reports} reports"
        engine.dispose()

    print(
        f"{args.reports:,} QoS 1 reports per round, PostgreSQL, Mosquitto, `gridwatch ingest --shared` processes"
    )
    print(f"  raw subscriber     {raw:>8,.0f} msg/s")
    for count, rate in rates.items():
        print(
            f"  {count} ingest worker{'s' if count > 1 else ' '}   {rate:>8,.0f} msg/s   share of raw {rate / raw:.3f}"
        )
    print(f"  scale-out ratio (2 / 1)  {rates[2] / rates[1]:.2f}   loss 0   logs in {logs}")


if __name__ == "__main__":
    main()
