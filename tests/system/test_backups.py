"""`gridwatch backup` and `gridwatch restore` on SQLite and PostgreSQL: a restore yields the same
incidents, with their histories; a bad backup file is refused and changes nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.db import migrate
from tests.support.api import Api
from tests.support.commands import run_gridwatch

pytestmark = pytest.mark.process


def env_for(api: Api) -> dict[str, str]:
    url = api.runtime.engine.url.render_as_string(hide_password=False)
    return {**os.environ, "GRIDWATCH_DATABASE_URL": url}


def gridwatch(api: Api, *args: str, cwd: Path) -> Any:
    return run_gridwatch(*args, env=env_for(api), cwd=cwd)


def everything(api: Api) -> dict[str, Any]:
    """Every incident as the API gives it, with its history: what a restore must bring back."""
    page = api.client.get("/incidents?limit=500", headers=api.auth("admin")).json()
    return {
        item["id"]: api.client.get(f"/incidents/{item['id']}", headers=api.auth("admin")).json()
        for item in page["items"]
    }


def test_a_restore_yields_the_same_incidents(api: Api, tmp_path: Path) -> None:
    first = [api.report(n=n).json()["incident"]["id"] for n in range(4)]
    assert api.act(first[0], "accept").status_code == 200
    assert api.act(first[1], "reject", reason="不属实").status_code == 200
    before = everything(api)
    assert len(before) == 4
    assert len(before[first[0]]["history"]) > len(before[first[2]]["history"])

    taken = gridwatch(api, "backup", "--out", str(tmp_path / "gw.backup"), cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    assert f"at schema {migrate.head()}" in taken.stdout

    # Life goes on after the backup: a new incident, an old one moved on.
    later = api.report(n=5).json()["incident"]["id"]
    assert api.act(first[2], "accept").status_code == 200
    assert everything(api) != before

    api.runtime.engine.dispose()
    done = gridwatch(api, "restore", str(tmp_path / "gw.backup"), "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout
    after = everything(api)
    assert after == before
    assert later not in after
    # The restored database takes new work as before.
    assert api.report(n=6).status_code == 201


def test_restore_refuses_what_is_not_a_backup(api: Api, tmp_path: Path) -> None:
    api.report(n=0)
    before = everything(api)
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"\x00\x01 not a backup at all" * 100)
    empty_sqlite = tmp_path / "empty.db"
    sqlite3.connect(empty_sqlite).execute("CREATE TABLE t (x)").connection.commit()
    future = tmp_path / "future.db"  # a later release's SQLite backup
    with sqlite3.connect(future) as db:
        db.executescript(
            "CREATE TABLE alembic_version (version_num); INSERT INTO alembic_version VALUES ('9999');"
            "CREATE TABLE incident (id);"
        )
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    api.runtime.engine.dispose()
    for path, said in [
        (tmp_path / "missing.backup", "no backup file"),
        (garbage, "not a Gridwatch backup"),
        (truncated, "not a Gridwatch backup"),
        (empty_sqlite, "not a Gridwatch backup"),
        (future, "is a sqlite backup" if api.template.backend == "postgres" else "schema 9999"),
    ]:
        refused = gridwatch(api, "restore", str(path), "--yes", cwd=tmp_path)
        assert refused.returncode == 1, (path, refused.stdout)
        assert said in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert everything(api) == before


def test_backup_refuses_to_overwrite_and_says_why(api: Api, tmp_path: Path) -> None:
    existing = tmp_path / "old.backup"
    existing.write_bytes(b"keep me")
    refused = gridwatch(api, "backup", "--out", str(existing), cwd=tmp_path)
    assert refused.returncode == 1
    assert "exists" in refused.stderr
    assert existing.read_bytes() == b"keep me"
    nowhere = gridwatch(api, "backup", "--out", str(tmp_path / "no" / "such" / "x.backup"), cwd=tmp_path)
    assert nowhere.returncode == 1
    assert "not a folder" in nowhere.stderr
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_restore_asks_first(api: Api, tmp_path: Path, answer: str) -> None:
    taken = gridwatch(api, "backup", "--out", str(tmp_path / "gw.backup"), cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    added = api.report(n=3).json()["incident"]["id"]
    asked = subprocess.run(
        [sys.executable, "-m", "server.cli", "restore", str(tmp_path / "gw.backup")],
        input=answer,
        env=env_for(api),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert asked.returncode == 1
    assert "Aborted" in asked.stderr
    assert added in everything(api)  # nothing was replaced


def test_restore_refuses_a_missing_or_bad_file_before_asking(api: Api, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"\xff\xfe garbage " * 50)
    for path, code, said in [
        (tmp_path / "nosuch.backup", 1, "no backup file at"),
        (garbage, 1, "not a Gridwatch backup"),
        (tmp_path, 2, "is a directory"),
    ]:
        asked = subprocess.run(
            [sys.executable, "-m", "server.cli", "restore", str(path)],
            input="y\n",
            env=env_for(api),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert asked.returncode == code, asked.stdout
        assert said in asked.stderr
        assert "Replace everything" not in asked.stdout  # refused before the question
        assert "Traceback" not in asked.stderr
    missing = gridwatch(api, "restore", str(tmp_path / "nosuch.backup"), cwd=tmp_path)
    assert "备份文件" in missing.stderr and "不存在" in missing.stderr
