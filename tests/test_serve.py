"""`gridwatch serve --demo` as a newcomer runs it: a real process on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "GRIDWATCH_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    token = None
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline and token is None:
        line = process.stdout.readline()
        if line.startswith("demo admin token: "):
            token = line.split(": ", 1)[1].strip()
        elif not line and process.poll() is not None:
            break
    assert token, "the server printed no demo token"
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base, token
    process.terminate()
    process.wait(timeout=20)


def test_serve_demo_answers_over_http(server: tuple[str, str]) -> None:
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    health = httpx.get(f"{base}/health").json()
    assert health["status"] == "ok"
    assert health["cells"] >= 1000
    assert health["schema_revision"] == "0001"
    report = httpx.post(
        f"{base}/incidents",
        json={"client_id": "first", "category": "0501", "lon": 119.601, "lat": 29.102},
        headers=headers,
    )
    assert report.status_code == 201, report.text
    assert report.json()["incident"]["lead"]
    assert httpx.get(f"{base}/incidents", headers=headers).json()["total"] == 1
    assert httpx.get(f"{base}/incidents").status_code == 401
    schema = httpx.get(f"{base}/schema/openapi.json").json()
    assert "/incidents" in schema["paths"]
