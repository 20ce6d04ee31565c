"""Incident creation throughput over HTTP on loopback, against the same server answering /health.

    uv run python bench/api.py                    # 2,000 requests each, 16 concurrent
    uv run python bench/api.py --requests 500     # a quick look

The server (`gridwatch serve`, SQLite in WAL mode, one uvicorn worker) runs in its own process on a
fresh database with the synthetic county; this process drives the load. Each report is a real
intake: validate, locate, route, start the clock, duplicate check, commit with its history and
event. /health (one database round trip) is the baseline measured in the same run; the ratio is
reports per second / health checks per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from bench.county import load_county
from server.auth import Role, create_token
from server.db.engine import make_engine
from tests.support.network import free_port, wait_answering

# (method, path, JSON body or None)
Call = tuple[str, str, dict[str, Any] | None]


def prepare(url: str) -> tuple[str, list[tuple[float, float]], list[str]]:
    county = load_county(url)
    engine = make_engine(url)
    with Session(engine) as session:
        token = create_token(session, Role.DUTY, f"county:{county.counties.records[0].code}", label="bench")
    engine.dispose()
    points = [(p.x, p.y) for p in (s.representative_point() for s in county.cells.shapes)]
    categories = [c.code for c in county.catalog.categories]
    return token, points, categories


def serve_api(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`gridwatch serve` on the database at `url`, in its own process, once it answers /health.
    The API alone: no embedded broker, ingest or relay sharing its process (see BENCHMARKS.md)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--no-migrate", "--no-field", "--port", str(port)],
        env={**os.environ, "GRIDWATCH_DATABASE_URL": url},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answering(f"{base}/health")
    except RuntimeError:
        server.terminate()
        raise
    return server, base


async def drive(
    base: str, requests: Sequence[Call], headers: dict[str, str], concurrency: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while queue:
                method, path, body = queue.pop()
                start = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


def describe(name: str, count: int, elapsed: float, latencies: list[float], errors: int) -> float:
    rate = count / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(
        f"  {name:<8} {rate:>8,.0f} req/s   p50 {q[49] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   errors {errors}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    token, points, categories = prepare(url)
    server, base = serve_api(url, folder)
    try:
        rng = random.Random(3)
        headers = {"Authorization": f"Bearer {token}"}
        health: list[Call] = [("GET", "/health", None)] * args.requests
        reports: list[Call] = [
            (
                "POST",
                "/incidents",
                {"client_id": f"bench-{n}", "category": rng.choice(categories), "lon": x, "lat": y},
            )
            for n, (x, y) in enumerate(rng.choice(points) for _ in range(args.requests))
        ]
        asyncio.run(drive(base, health[:100], headers, args.concurrency))  # warm up
        print(
            f"{args.requests:,} requests each, {args.concurrency} concurrent, SQLite (WAL), one uvicorn worker"
        )
        baseline = describe(
            "health", args.requests, *asyncio.run(drive(base, health, headers, args.concurrency))
        )
        created = describe(
            "report", args.requests, *asyncio.run(drive(base, reports, headers, args.concurrency))
        )
        print(f"  ratio report/health {created / baseline:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
