"""The first `gridwatch demo` on an empty folder, until the board shows incidents, against the
second start on the database the first one built (same run, same machine).

    uv run python bench/demo.py             # 3 rounds
    uv run python bench/demo.py --rounds 1

Each round makes an empty folder and runs `gridwatch demo` in a real pseudo-terminal, as README's
first command does: the first start migrates, loads the synthetic county and builds its fourteen
months of history once, while the server starts; the console's board then reports how many open
incidents it holds. The baseline is the same command started again on that database (migrated,
loaded, with its history): what any start costs. Issue 20's target: the first start shows the
board within 30 s on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.support.commands import ROOT
from tests.support.network import free_port
from tests.support.terminal import Terminal

BOARD = rb"(\d+) shown of ([1-9]\d*) open"
TARGET_SECONDS = 30.0


def start_to_board(folder: Path) -> float:
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{folder / 'gridwatch.db'}",
        "GRIDWATCH_PORT": str(free_port()),
        "GRIDWATCH_EMBEDDED_MQTT_PORT": str(free_port()),
    }
    command = [sys.executable, "-m", "server.cli", "demo", "--lang", "en", "--log", str(folder / "demo.log")]
    started = time.perf_counter()
    demo = Terminal(command, env, ROOT)
    try:
        if demo.wait_for(BOARD, timeout=300) is None:
            raise SystemExit(f"no board within 300 s; see {folder / 'demo.log'}")
        elapsed = time.perf_counter() - started
        demo.type(b"q")
        demo.process.wait(timeout=60)
    finally:
        demo.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    first: list[float] = []
    again: list[float] = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="gridwatch-bench-demo-") as name:
            folder = Path(name)
            first.append(start_to_board(folder))
            again.append(start_to_board(folder))
    ours, bare = statistics.median(first), statistics.median(again)
    print(f"gridwatch demo to a board with incidents, {args.rounds} rounds (median)")
    print(f"  first start (county + history)  {ours:6.1f} s   {', '.join(f'{s:.1f}' for s in first)}")
    print(f"  second start (baseline)         {bare:6.1f} s   {', '.join(f'{s:.1f}' for s in again)}")
    print(
        f"  ratio {ours / bare:.2f}   target: first start within {TARGET_SECONDS:.0f} s: {'met' if ours <= TARGET_SECONDS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
