"""The duty console's live board with 10,000 open incidents, against the same board with 100.

    uv run python -m bench.console                  # 10,000 vs 100 open incidents, 250 live updates
    uv run python -m bench.console --large 2000     # a quick look (run as a module: bench/console.py
                                                    # would shadow the console package)

For each size a fresh SQLite database gets the synthetic county and that many open incidents
(through the real intake), and `gridwatch serve` answers in its own process. The console runs
headless in this process (Textual's test driver renders the same frames a terminal gets):
- load: from the app's start until the board's first page is drawn (names, the snapshot of every
  open incident over HTTP in pages of 500, sorting, filtering, drawing);
- live update: 50 updates a second, each a stream event (a state change, or a new incident one time
  in five) applied to the board, the board redrawn and the frame rendered. Per update: the CPU time
  of taking it and showing it, and how long until it is on screen (this waits for the next frame).
The ratio is large/small: 1.0 means the board does not slow down with size.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.api import prepare, serve_api
from console.app import GridwatchConsole
from console.remote.client import ServerClient
from console.remote.models import EventView
from console.screens.board import BoardScreen
from console.widgets.board.incident_table import IncidentTable
from grid.incident import Source
from grid.intake import Report
from server.runtime import new_incident_id, runtime_from
from server.settings import Settings

RATE = 50.0
SIZE = (160, 45)


def fill(url: str, count: int, points: list[tuple[float, float]], categories: list[str]) -> None:
    runtime = runtime_from(Settings(database_url=url))
    rng = random.Random(count)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    reports = [
        Report(
            device="bench",
            client_id=f"b{n}",
            source=Source.HOTLINE,
            category=rng.choice(categories),
            lon=x,
            lat=y,
            ts=start + dt.timedelta(seconds=n),
            urgent=rng.random() < 0.05,
        )
        for n, (x, y) in enumerate(rng.choice(points) for _ in range(count))
    ]
    for at in range(0, count, 500):
        runtime.intake.submit_many(reports[at : at + 500], new_incident_id)
    runtime.engine.dispose()


def live_event(n: int, app: GridwatchConsole, rng: random.Random) -> EventView:
    """A state change of an open incident, or (one time in five) a new one."""
    template = rng.choice(list(app.board.incidents.values()))
    new = n % 5 == 0
    payload = {
        "state": "reported" if new else rng.choice(["accepted", "dispatched", "signed", "handled"]),
        "category": template.category,
        "cell": template.cell,
        "township": template.township,
        "lead": template.lead,
        "deadline": (app.clock() + dt.timedelta(hours=rng.randint(1, 48))).isoformat(),
        "urgent": False,
        "source": "report",
        "in_review": False,
        "lon": template.lon,
        "lat": template.lat,
    }
    incident = f"live{n}" if new else template.id
    return EventView(
        10**9 + n,
        app.clock(),
        "incident.created" if new else "incident.dispatch",
        incident,
        template.township,
        payload,
    )


async def measure(base: str, token: str, updates: int) -> tuple[float, list[float], list[float]]:
    app = GridwatchConsole(ServerClient(base, token), "zh")
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        while not (isinstance(app.screen, BoardScreen) and app.screen.query_one(IncidentTable).rows):
            await pilot.pause(0.005)
        await pilot.pause()  # the first frame
        load = time.perf_counter() - started
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        rng = random.Random(7)
        latencies: list[float] = []
        cpu: list[float] = []
        next_at = time.perf_counter()
        for n in range(updates):
            next_at += 1 / RATE
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            begin, begin_cpu = time.perf_counter(), time.process_time()
            app.take(live_event(n, app, rng))
            await pilot.pause()  # the frame that shows it
            latencies.append(time.perf_counter() - begin)
            cpu.append(time.process_time() - begin_cpu)
    return load, latencies, cpu


def run(size: int, updates: int, folder: Path) -> tuple[float, list[float], list[float]]:
    url = f"sqlite:///{folder / f'board-{size}.db'}"
    token, points, categories = prepare(url)
    fill(url, size, points, categories)
    server, base = serve_api(url, folder)
    try:
        return asyncio.run(measure(base, token, updates))
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--updates", type=int, default=250)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-bench-console-"))
    print(f"console board, {args.updates} live updates at {RATE:.0f}/s, terminal {SIZE[0]}x{SIZE[1]}")
    results = {}
    for size in (args.small, args.large):
        load, latencies, cpu = run(size, args.updates, folder)
        q = statistics.quantiles(latencies, n=100)
        mean = statistics.fmean(cpu)
        results[size] = (load, mean)
        print(
            f"  {size:>7,} open   load {load:6.2f} s   update: CPU {mean * 1000:5.2f} ms,"
            f" on screen after p50 {q[49] * 1000:5.1f} ms / p99 {q[98] * 1000:5.1f} ms"
        )
    (small_load, small_update), (large_load, large_update) = results[args.small], results[args.large]
    print(
        f"  ratio large/small: load {large_load / small_load:.1f}x   update CPU {large_update / small_update:.2f}x"
    )
    print(f"  {RATE:.0f} updates/s use {large_update * RATE:.0%} of one core with {args.large:,} open")


if __name__ == "__main__":
    main()
