"""No token in any log line: `gridwatch serve` logs every request (uvicorn's access log), and
Open311 clients send their token as `api_key` in the query string."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.api import Template, database_for_test
from tests.support.commands import ROOT
from tests.support.network import free_port, wait_answering

pytestmark = pytest.mark.process


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_access_log_keeps_no_token(tmp_path: Path, sqlite_template: Template, log_format: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": database_for_test(sqlite_template, tmp_path, None),
        "GRIDWATCH_PORT": str(port),
        "GRIDWATCH_LOG_FORMAT": log_format,
    }
    worker, duty = sqlite_template.tokens["worker_a1"], sqlite_template.tokens["duty_a"]
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--no-field"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_answering(f"{base}/health")
        assert httpx.get(f"{base}/open311/v2/services.json?api_key={worker}").status_code == 200
        assert httpx.get(f"{base}/open311/v2/requests.json?status=open&api_key={duty}").status_code == 200
        assert httpx.get(f"{base}/incidents", headers={"Authorization": f"Bearer {duty}"}).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, logged = server.communicate(timeout=60)
    assert server.returncode == 0, logged
    assert "GET /open311/v2/services.json?api_key=[redacted]" in logged
    assert "GET /open311/v2/requests.json?status=open&api_key=[redacted]" in logged
    assert worker not in logged
    assert duty not in logged
