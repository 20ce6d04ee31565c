"""A running API on a copy of a migrated, loaded SQLite database, with a token for every role."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from litestar.testing import TestClient
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, SQLModel

from geodata.dataset import Dataset
from server.api.app import create_app
from server.auth import Role, create_token
from server.db import migrate
from server.db.engine import make_engine
from server.reference.service import load_dataset
from server.runtime import Runtime
from server.settings import Settings
from tests.support.clock import CST
from tests.support.network import free_port
from tests.support.postgres import create_database

START = dt.datetime(2026, 6, 16, 9, 0, tzinfo=CST)  # a Tuesday morning
# Every caller the role × route matrices try: no token, then one token of each kind `prepare` makes.
CALLERS = [
    "anon",
    "admin",
    "duty_county",
    "duty_a",
    "duty_b",
    "unit_a",
    "unit_dept",
    "worker_a1",
    "worker_a2",
    "device",
]


@dataclass
class Clock:
    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Template:
    """A migrated database with the county loaded and a token per role, to copy for each test."""

    backend: str  # sqlite / postgres
    location: str  # the SQLite file, or the template database's name
    county: Dataset
    tokens: dict[str, str]
    township_a: str
    township_b: str


def prepare(url: str, county: Dataset) -> tuple[dict[str, str], str, str]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    a, b = county.townships.records[0].code, county.townships.records[1].code
    worker_a1, worker_a2 = [w.id for w in county.workers if w.township == a][:2]
    tokens: dict[str, str] = {}
    with Session(engine) as session:
        load_dataset(session, county)
        session.commit()
        for name, role, scope in [
            ("admin", Role.ADMIN, "county:339921"),
            ("duty_county", Role.DUTY, "county:339921"),
            ("duty_a", Role.DUTY, f"township:{a}"),
            ("duty_b", Role.DUTY, f"township:{b}"),
            ("unit_a", Role.UNIT, f"unit:{a}.office.enforcement"),
            ("unit_dept", Role.UNIT, "unit:339921.dept.zhzf"),
            ("worker_a1", Role.WORKER, f"worker:{worker_a1}"),
            ("worker_a2", Role.WORKER, f"worker:{worker_a2}"),
            ("device", Role.DEVICE, f"device:{county.devices[0].id}"),
        ]:
            tokens[name] = create_token(session, role, scope, label=name, now=START - dt.timedelta(days=1))
        tokens["expired"] = create_token(
            session,
            Role.ADMIN,
            "county:339921",
            expires=START - dt.timedelta(hours=1),
            now=START - dt.timedelta(days=2),
        )
    engine.dispose()
    return tokens, a, b


def sqlite_template(folder: Path, county: Dataset) -> Template:
    path = folder / "template.db"
    tokens, a, b = prepare(f"sqlite:///{path}", county)
    return Template("sqlite", str(path), county, tokens, a, b)


def postgres_template(admin_url: str, county: Dataset) -> Template:
    url = create_database(admin_url, "gw_template")
    tokens, a, b = prepare(url, county)
    return Template("postgres", "gw_template", county, tokens, a, b)


@dataclass
class Api:
    client: TestClient[Any]
    runtime: Runtime
    clock: Clock
    template: Template
    shapes: dict[str, BaseGeometry] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=itertools.count)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.template.tokens[who]}"} if who != "anon" else {}

    def point_in(self, township: str, n: int = 0) -> tuple[float, float]:
        """A point well inside the n-th cell of a township."""
        codes = sorted(c for c in self.shapes if c.startswith(township))
        point = self.shapes[codes[n]].representative_point()
        return point.x, point.y

    def report(self, who: str = "worker_a1", township: str | None = None, n: int = 0, **body: Any) -> Any:
        lon, lat = self.point_in(township or self.template.township_a, n)
        payload = {"client_id": f"c{next(self.serial)}", "category": "0501", "lon": lon, "lat": lat, **body}
        return self.client.post("/incidents", json=payload, headers=self.auth(who))

    def act(self, incident: str, action: str, who: str = "duty_a", **body: Any) -> Any:
        return self.client.post(f"/incidents/{incident}/actions/{action}", json=body, headers=self.auth(who))


def stored(api: Api) -> tuple[dict[str, list[str]], list[str]]:
    """Every row of every table, and every media file: equal before and after a request only if it
    wrote nothing."""
    with api.runtime.engine.connect() as connection:
        rows = {
            table.name: sorted(repr(tuple(r)) for r in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }
    media = api.runtime.settings.media_dir
    return rows, sorted(str(p) for p in media.rglob("*")) if media.exists() else []


def database_for_test(template: Template, folder: Path, admin_url: str | None) -> str:
    """A fresh copy of the template: a file copy for SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL."""
    if template.backend == "sqlite":
        path = folder / "api.db"
        shutil.copy(template.location, path)
        return f"sqlite:///{path}"
    assert admin_url is not None
    return create_database(
        admin_url, f"gw_{folder.name.replace('-', '_').lower()}"[:60], template=template.location
    )


def open_api(
    template: Template, url: str, engine_options: dict[str, Any] | None = None, **settings: Any
) -> tuple[Api, TestClient[Any]]:
    clock = Clock()
    engine = make_engine(url, **(engine_options or {}))
    runtime = Runtime(settings=Settings(database_url=url, **settings), engine=engine, clock=clock)
    client = TestClient(create_app(runtime))
    shapes = dict(
        zip((c.code for c in template.county.cells.records), template.county.cells.shapes, strict=True)
    )
    return Api(client=client, runtime=runtime, clock=clock, template=template, shapes=shapes), client


class LiveServer:
    """An app served by uvicorn on a free port in a thread; `stop()` and `start()` again on the same
    port make a real dropped connection."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self._server.started

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._server.force_exit = True  # open live streams would hold a graceful shutdown
        self._thread.join(timeout=20)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
