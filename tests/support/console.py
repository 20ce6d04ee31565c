"""A real server for the console's tests: the API on a copy of the loaded SQLite database, served by
uvicorn on a free port, with incident ids numbered in order so screens are the same on every run."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.app import GridwatchConsole
from console.i18n import Lang
from console.remote.client import ServerClient
from tests.support.api import Api, LiveServer, Template, database_for_test, open_api


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
