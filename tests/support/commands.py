"""Running the `gridwatch` command as a user does: a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from server.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_gridwatch(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    stdin: bytes | None = None,
    text: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[Any]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=None if env is None else dict(env),
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=text,
        timeout=timeout,
    )


def gridwatch(url: str, *args: str) -> Result:
    """`gridwatch ARGS` in this process (click's runner) against the database at `url`."""
    return CliRunner().invoke(main, list(args), env={"GRIDWATCH_DATABASE_URL": url}, catch_exceptions=False)


def start_ingest(*args: str, env: Mapping[str, str], cwd: Path = ROOT) -> subprocess.Popen[str]:
    """`gridwatch ingest ARGS` as a process, returned once it says it is ingesting. Its standard
    error stays a pipe: `communicate()` gives the rest of what it logged."""
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "ingest", *args],
        env=dict(env),
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    assert "ingesting from" in first, first + process.stderr.read()
    return process
