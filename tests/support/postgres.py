"""A throwaway PostgreSQL cluster for the tests, from Debian's packages (.ci/run installs them)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.support.network import free_port


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; Debian's package made a postgres user for this.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def control(admin_url: str, action: str) -> None:
    """Stop, kill or start the running test cluster behind `admin_url` (a database restart
    mid-stream). `kill` is a crash: kill -9 of the postmaster and of every process it started, so
    the next start runs crash recovery."""
    binaries = server_binaries()
    assert binaries is not None
    data = _DATA[admin_url]
    if action == "kill":
        _crash(data)
        return
    command = [str(binaries / "pg_ctl"), "-D", str(data), "-w", action]
    if action == "start":
        command[-1:] = ["-o", _OPTIONS[admin_url], "-l", str(data / "log"), "start"]
    else:
        command += ["-m", "fast"]
    subprocess.run(_as_postgres(command), check=True, capture_output=True)


def _crash(data: Path) -> None:
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGSTOP)  # frozen, it starts no backend between the listing and the kill
    victims = [postmaster, *_children(postmaster)]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # The next start refuses to run while the postmaster or a backend still exists, even as a
    # zombie; init reaps them within a second or two.
    deadline = time.monotonic() + 10
    while any(_stat(pid) is not None for pid in victims):
        if time.monotonic() > deadline:
            zombies = all((_stat(pid) or ["Z"])[0] == "Z" for pid in victims)
            assert zombies, f"PostgreSQL outlived kill -9: {victims}"
            (data / "postmaster.pid").unlink()  # nobody reaps here; dead is dead
            return
        time.sleep(0.05)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, …); None once reaped."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


_DATA: dict[str, Path] = {}
_OPTIONS: dict[str, str] = {}


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster on a free loopback port; yields the admin URL (database `postgres`)."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    data = Path(tempfile.mkdtemp(prefix="gridwatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres(
            [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    _DATA[url], _OPTIONS[url] = data, options
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        clause = f" TEMPLATE {template}" if template else ""
        connection.execute(f'CREATE DATABASE "{name}"{clause}')
    return admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
