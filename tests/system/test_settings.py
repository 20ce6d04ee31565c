"""Settings: every variable documented with its default, bad values refused by name, logs as JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import MISSING, fields
from pathlib import Path

import httpx
import pytest

from server.settings import Settings, SettingsError
from tests.support.commands import ROOT, run_gridwatch
from tests.support.network import free_port, wait_answering

pytestmark = pytest.mark.process

README = (ROOT / "README.md").read_text(encoding="utf-8")


def documented() -> dict[str, str]:
    """The README's settings table: variable → default as written."""
    rows = re.findall(r"^\| `(GRIDWATCH_[A-Z_]+)` \| ([^|]+) \|", README, re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def test_the_readme_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GRIDWATCH_"):
            monkeypatch.delenv(name)
    table = documented()
    defaults = Settings()
    for field in fields(Settings):
        variable = f"GRIDWATCH_{field.name.upper()}"
        assert variable in table, f"{variable} is not in the README's settings table"
        value = str(getattr(defaults, field.name))
        assert table[variable] == (f"`{value}`" if value else "empty"), variable
        assert field.default is MISSING  # read from the environment, never a constant
    assert set(table) - {f"GRIDWATCH_{f.name.upper()}" for f in fields(Settings)} == {"GRIDWATCH_TOKEN"}


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("GRIDWATCH_PORT", "eighty", "GRIDWATCH_PORT='eighty' is not a whole number"),
        ("GRIDWATCH_PORT", "70000", "GRIDWATCH_PORT=70000 is out of range: it must be from 1 to 65535"),
        ("GRIDWATCH_MAX_BODY_BYTES", "0", "GRIDWATCH_MAX_BODY_BYTES=0 is out of range"),
        ("GRIDWATCH_LOG_FORMAT", "xml", "GRIDWATCH_LOG_FORMAT='xml' is not one of text, json"),
        ("GRIDWATCH_LOG_LEVEL", "loud", "is not one of DEBUG, INFO, WARNING, ERROR"),
        ("GRIDWATCH_SHUTDOWN_SECONDS", "-1", "GRIDWATCH_SHUTDOWN_SECONDS=-1 is out of range"),
        ("GRIDWATCH_MQTT_URL", "http://broker", "GRIDWATCH_MQTT_URL: expected mqtt://"),
        ("GRIDWATCH_MQTT_URL", "mqtt://u:secret@broker:x", "is not a number"),
        ("GRIDWATCH_MQTT_CA_FILE", "/no/such/ca.crt", "GRIDWATCH_MQTT_CA_FILE: no file at /no/such/ca.crt"),
        ("GRIDWATCH_INGEST_CLIENT_ID", "w1", "GRIDWATCH_INGEST_CLIENT_ID: 'w1' is not a platform client id"),
        ("GRIDWATCH_SERVE_CLIENT_ID", "gridwatch-a/b", "must start with 'gridwatch-' and hold only"),
    ],
)
def test_a_bad_setting_stops_the_command_by_name(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}", variable: value}
    done = run_gridwatch("db", "current", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr  # a password in a URL is never echoed


@pytest.mark.parametrize(
    "command",
    [
        ["report", "monthly", "--out", "r.xlsx"],
        ["sweep", "plan"],
        ["import", "cell", "cells.geojson"],
        ["backup", "--out", "b.backup"],
        ["ingest"],
    ],
)
def test_every_command_refuses_a_bad_setting_alike(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}", "GRIDWATCH_PORT": "x"}
    done = run_gridwatch(*command, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "Error: GRIDWATCH_PORT='x' is not a whole number\n"


def test_serve_and_ingest_have_client_ids_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes under one client id take the broker's session from each other in turn."""
    for name in list(os.environ):
        if name.startswith("GRIDWATCH_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.serve_client_id != settings.ingest_client_id
    done = run_gridwatch("ingest", "--client-id", "phone-7")
    assert done.returncode == 2
    assert "Invalid value for '--client-id': 'phone-7' is not a platform client id" in done.stderr


def test_settings_refuse_in_code_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_METRICS_PORT", "nine")
    with pytest.raises(SettingsError, match="GRIDWATCH_METRICS_PORT"):
        Settings()


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    """`gridwatch serve` with GRIDWATCH_LOG_FORMAT=json, asked something and stopped: every line it
    logged (ours, uvicorn's, alembic's) parses, and the stop is logged."""
    port = free_port()
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "GRIDWATCH_LOG_FORMAT": "json",
        "GRIDWATCH_PORT": str(port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--no-field"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_answering(f"http://127.0.0.1:{port}/health")
        assert httpx.get(f"http://127.0.0.1:{port}/no-such-thing").status_code == 404
    finally:
        server.send_signal(signal.SIGTERM)
        _, logged = server.communicate(timeout=60)
    assert server.returncode == 0
    records = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message", "process"} <= set(r) for r in records)
    assert {r["process"] for r in records} == {"serve"}
    assert any(r["logger"] == "uvicorn.access" and "/no-such-thing" in r["message"] for r in records)
    assert records[-1]["message"] == "stopped"
