"""`gridwatch demo` refuses, before it starts anything, when a port it needs is taken; once running
it prints a pairing link for a demo worker and a demo unit officer that a phone can claim."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.commands import ROOT, run_gridwatch
from tests.support.network import free_port
from tests.support.terminal import Terminal

pytestmark = [pytest.mark.process]


@pytest.fixture
def held() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


@pytest.mark.parametrize("which", ["api", "broker", "web"])
def test_demo_refuses_a_taken_port_before_starting_anything(which: str, held: int, tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    ports = {"api": free_port(), "broker": free_port(), "web": free_port(), which: held}
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{database}",
        "GRIDWATCH_EMBEDDED_MQTT_PORT": str(ports["broker"]),
    }
    env.pop("GRIDWATCH_MQTT_URL", None)
    done = run_gridwatch(
        "demo", "--port", str(ports["api"]), "--web", "--web-port", str(ports["web"]),
        "--log", str(tmp_path / "demo.log"), env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"port {held} (" in done.stderr and "already in use" in done.stderr
    assert f"端口 {held}（" in done.stderr and "已被占用" in done.stderr
    # Nothing was started: no schema, no county, no log of children.
    assert not database.exists() or database.stat().st_size == 0
    assert not (tmp_path / "demo.log").exists()


def test_demo_names_every_taken_port(held: int, tmp_path: Path) -> None:
    with socket.socket() as second:
        second.bind(("127.0.0.1", 0))
        second.listen()
        broker = second.getsockname()[1]
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
            "GRIDWATCH_EMBEDDED_MQTT_PORT": str(broker),
        }
        env.pop("GRIDWATCH_MQTT_URL", None)
        done = run_gridwatch("demo", "--port", str(held), env=env, timeout=60)
    assert done.returncode == 1
    assert str(held) in done.stderr and str(broker) in done.stderr


PHONE = re.compile(
    "field app / 现场端 — (grid worker|unit officer) [^\n]*?".encode()
    + rb"\(([\w.]+)\): (http://127\.0\.0\.1:\d+/field/#pair=([A-Z2-9]{8}))  code ([A-Z2-9]{4}-[A-Z2-9]{4})"
)


def test_demo_prints_pairing_links_a_phone_can_claim(tmp_path: Path) -> None:
    api, mqtt = free_port(), free_port()
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "GRIDWATCH_PORT": str(api),
        "GRIDWATCH_EMBEDDED_MQTT_PORT": str(mqtt),
    }
    env.pop("GRIDWATCH_MQTT_URL", None)
    env.pop("GRIDWATCH_PUBLIC_URL", None)
    demo = Terminal(
        [sys.executable, "-m", "server.cli", "demo", "--lang", "en", "--log", str(tmp_path / "demo.log")],
        env,
        ROOT,
    )
    try:
        assert demo.wait_for(rb"unit officer / ", timeout=180) is not None, (
            tmp_path / "demo.log"
        ).read_text()[-2000:]
        phones = {m[1]: m for m in PHONE.finditer(demo.screen)}
        assert set(phones) == {b"grid worker", b"unit officer"}, demo.screen[-3000:]
        worker, unit = phones[b"grid worker"], phones[b"unit officer"]
        assert worker[3].startswith(f"http://127.0.0.1:{api}/".encode())
        assert worker[4] == worker[5].replace(b"-", b"")
        tokens, places = {}, {}
        for kind, phone in phones.items():
            claimed = httpx.post(
                f"http://127.0.0.1:{api}/pairings/claim", json={"code": phone[5].decode(), "device": "test"}
            )
            assert claimed.status_code == 201, claimed.text
            tokens[kind] = claimed.json()["token"]
            me = httpx.get(f"http://127.0.0.1:{api}/me", headers={"Authorization": f"Bearer {tokens[kind]}"})
            assert me.status_code == 200 and me.json()["scope"].split(":", 1)[1] == phone[2].decode()
            places[kind] = me.json()["township"]
        # The unit officer is the enforcement office of the worker's township.
        assert unit[2].endswith(b".office.enforcement")
        assert places[b"unit officer"] == places[b"grid worker"] is not None
        demo.type(b"q")
        assert demo.process.wait(timeout=60) == 0
    finally:
        demo.close()
    # The phones are signed out with the demo, as its units' tokens are; the paired unit had none.
    with sqlite3.connect(tmp_path / "demo.db") as db:
        phones_left = db.execute(
            "SELECT count(*) FROM api_token WHERE label LIKE 'phone:%' AND NOT revoked"
        ).fetchone()
        desk = db.execute(
            "SELECT count(*) FROM api_token WHERE label = 'demo-unit' AND scope = ?",
            (f"unit:{unit[2].decode()}",),
        ).fetchone()
    assert phones_left == (0,) and desk == (0,)
