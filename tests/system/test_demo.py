"""`gridwatch demo` refuses, before it starts anything, when a port it needs is taken."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.commands import run_gridwatch
from tests.support.network import free_port

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
