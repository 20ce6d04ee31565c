"""A real server for the console's tests: the API on a copy of the loaded SQLite database, served by
uvicorn on a free port, with incident ids numbered in order so screens are the same on every run."""

from __future__ import annotations

import enum
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.app import GridwatchConsole
from console.i18n import Lang
from console.remote.client import ServerClient
from grid.catalog import Stage
from grid.incident import IncidentState, RouteBasis, Source
from grid.lifecycle import Action
from grid.sweep.plan import Mode
from grid.whistles import WhistleKind, WhistleReason
from tests.support.api import Api, LiveServer, Template, database_for_test, open_api

ROOT = Path(__file__).resolve().parents[2]


def written(pattern: str, *folders: str) -> set[str]:
    """Values the server writes as string literals (flow actions of intake, sweep statuses)."""
    found: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            found.update(re.findall(pattern, path.read_text(encoding="utf-8")))
    return found


def values(kind: Iterable[enum.StrEnum] | Iterable[str]) -> set[str]:
    return {str(v) for v in kind}


# Every code the server can send the console, by the console's text family, read from the server's
# own enums and literals: a value added there and not to console/i18n.py fails tests/console.
SERVER_CODES: dict[str, set[str]] = {
    "source": values(Source),
    "state": values(IncidentState),
    "basis": values(RouteBasis),
    "stage": values(Stage),
    # History rows: the lifecycle's actions, and the records intake writes (report, alert merged).
    "action": values(Action) | written(r'\baction="(\w+)"', "grid", "server"),
    "whistle.kind": values(WhistleKind),
    "whistle.reason": values(WhistleReason),
    "sweep.mode": values(Mode),
    "sweep.status": written(r'\bstatus(?:: str)? = "(\w+)"', "server/db", "server/sweeps"),
}


@dataclass
class Served:
    api: Api
    live: LiveServer

    def console(self, who: str = "admin", lang: Lang = "en") -> GridwatchConsole:
        """A console as `who` would run it, on the server's clock so countdowns are the same every run."""
        return GridwatchConsole(
            ServerClient(self.live.url, self.api.template.tokens[who]), lang, clock=self.api.clock
        )


def serve(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    numbers = itertools.count(1)
    monkeypatch.setattr("server.incidents.controller.new_incident_id", lambda: f"inc{next(numbers):04d}")
    url = database_for_test(template, tmp_path, None)
    api, client = open_api(template, url, media_dir=tmp_path / "media")
    with client, LiveServer(client.app) as live:
        yield Served(api, live)
    api.runtime.engine.dispose()


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0) -> float:
    """Wait (letting the app run) until the condition holds; how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        await pilot.pause(0.02)
    return time.monotonic() - start
