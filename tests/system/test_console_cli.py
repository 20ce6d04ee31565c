"""`gridwatch console` and `gridwatch demo` as a user runs them."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.commands import ROOT, run_gridwatch
from tests.support.network import free_port
from tests.support.terminal import Terminal

pytestmark = pytest.mark.process


def test_console_needs_a_token_and_a_known_language() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRIDWATCH_TOKEN"}
    missing = run_gridwatch("console", env=env)
    assert missing.returncode == 2 and "--token" in missing.stderr
    assert "GRIDWATCH_TOKEN" in run_gridwatch("console", "--help", env=env).stdout
    wrong = run_gridwatch("console", "--token", "t", "--lang", "fr", env=env)
    assert wrong.returncode == 2 and "'fr' is not one of 'zh', 'en'" in wrong.stderr
    bad_port = run_gridwatch("console", "--token", "t", "--web", "--web-port", "many", env=env)
    assert bad_port.returncode == 2 and "many" in bad_port.stderr


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_runs_server_simulator_and_console_and_quitting_stops_them(tmp_path: Path) -> None:
    """The README's first command in a real terminal: the board fills from the simulated field,
    and `q` stops the console, the server, its embedded broker and the simulator."""
    api, mqtt = free_port(), free_port()
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "GRIDWATCH_PORT": str(api),
        "GRIDWATCH_EMBEDDED_MQTT_PORT": str(mqtt),
    }
    demo = Terminal(
        [
            sys.executable,
            "-m",
            "server.cli",
            "demo",
            "--lang",
            "en",
            "--rate",
            "20",
            "--log",
            str(tmp_path / "demo.log"),
        ],
        env,
        ROOT,
    )
    try:
        board = demo.wait_for(rb"(\d+) shown of ([1-9]\d*) open", timeout=120)
        assert board is not None, (tmp_path / "demo.log").read_text()[-2000:]
        assert listening(api) and listening(mqtt)
        demo.type(b"q")
        assert demo.process.wait(timeout=60) == 0
    finally:
        demo.close()
    assert not listening(api) and not listening(mqtt)
    log = (tmp_path / "demo.log").read_text()
    assert "taking MQTT reports from the embedded broker" in log
    # The simulated units' tokens end with the demo: none is left valid behind it.
    with sqlite3.connect(tmp_path / "demo.db") as db:
        units = db.execute(
            "SELECT count(*), sum(revoked) FROM api_token WHERE label = 'demo-unit'"
        ).fetchone()
    assert units[0] > 0 and units[1] == units[0]


def test_console_web_serves_the_console_to_a_browser() -> None:
    import httpx

    port = free_port()
    env = {**os.environ, "GRIDWATCH_TOKEN": "gw_for_the_browser"}
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "console",
            "--web",
            "--web-port",
            str(port),
            "--url",
            "http://127.0.0.1:9",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        assert "Gridwatch" in page.text and "textual" in page.text.lower()
    finally:
        web.terminate()
        web.wait(timeout=20)
