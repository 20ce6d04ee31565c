"""`gridwatch serve` as a real process for the field app's browser tests and its benchmark: killed
(-9) and started again on the same port and database mid-test, as a phone sees a server go away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import shapely

from geodata.dataset import Dataset
from grid.organisation import Worker
from tests.support.api import Template
from tests.support.browser import Fix
from tests.support.network import free_port, wait_answering


class FieldServer:
    """The API alone (no embedded broker: the app speaks HTTP only) on `database_url`, its photos
    in `folder/media`, its log in `folder/serve.log`."""

    def __init__(self, database_url: str, folder: Path, **settings: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.media_dir = folder / "media"
        self.log = folder / "serve.log"
        self.env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": database_url,
            "GRIDWATCH_PORT": str(self.port),
            "GRIDWATCH_MEDIA_DIR": str(self.media_dir),
            "GRIDWATCH_MQTT_URL": "",
            **{f"GRIDWATCH_{k.upper()}": v for k, v in settings.items()},
        }
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--no-field"],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_answering(f"{self.url}/health", timeout=60)
        except RuntimeError:
            self.kill()
            raise RuntimeError(f"gridwatch serve did not come up:\n{self.tail()}") from None

    def kill(self) -> None:
        """kill -9: open requests are cut, nothing is finished gracefully."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def pair(self, token: str, **who: str) -> dict[str, Any]:
        """A pairing code for `worker=ID` or `unit=ID`, made as an admin or duty officer would."""
        made = self.call("POST", "/pairings", token, json=who)
        assert made.status_code == 201, made.text
        answer: dict[str, Any] = made.json()
        return answer

    def __enter__(self) -> FieldServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        self.http.close()


@dataclass
class Live:
    """The running server and what the test knows of the county it serves."""

    server: FieldServer
    template: Template

    @property
    def county(self) -> Dataset:
        return self.template.county

    def token(self, who: str) -> str:
        return self.template.tokens[who]

    def worker(self, n: int = 0, township: str | None = None) -> Worker:
        """The n-th worker of township A (the one the template's worker tokens are for)."""
        township = township or self.template.township_a
        return [w for w in self.county.workers if w.township == township][n]

    def fix_in(self, cell: str, acc: float = 5.0) -> Fix:
        """A GPS fix well inside a cell."""
        shapes = dict(zip((c.code for c in self.county.cells.records), self.county.cells.shapes, strict=True))
        point = shapely.get_coordinates(shapes[cell].representative_point())[0]
        return Fix(float(point[0]), float(point[1]), acc)

    def link(self, **who: str) -> str:
        """A pairing link for `worker=ID` or `unit=ID`, made by the admin over HTTP."""
        return str(self.server.pair(self.token("admin"), **who)["link"])
