"""Backups of the whole database, taken while the platform runs, and their restore.

SQLite: the online backup API, a consistent copy page by page while writers go on. PostgreSQL:
`pg_dump` in its custom format, restored by `pg_restore` in one transaction, so a restore that
fails changes nothing. Uploaded media live in GRIDWATCH_MEDIA_DIR, named by their content hash;
they are files, backed up as files (rsync, snapshots), not by these commands.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from server.db import migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Why a backup or a restore was refused or failed; nothing was changed."""


@dataclass(frozen=True)
class BackupInfo:
    kind: str  # sqlite | postgresql
    revision: str | None
    incidents: int | None = None


def _target(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    return url


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _tool(name: str) -> str:
    if shutil.which(name) is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    return name


def _pg_command(tool: str, url: URL) -> tuple[list[str], dict[str, str]]:
    """The tool with the connection as options, the password in the environment (not in `ps`)."""
    command = [_tool(tool), "--no-password", "--dbname", url.database or "postgres"]
    if url.host:
        command += ["--host", url.host]
    if url.port:
        command += ["--port", str(url.port)]
    if url.username:
        command += ["--username", url.username]
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return command, env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def backup(database_url: str, out: Path) -> BackupInfo:
    """Write a backup of the database to `out` (a new file), consistent as of one moment."""
    url = _target(database_url)
    if out.exists():
        raise BackupError(f"{out} exists; choose a new name (a backup never overwrites)")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} is not a folder")
    partial = out.with_name(out.name + ".partial")
    try:
        if url.get_backend_name() == "sqlite":
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            with sqlite3.connect(source) as live, sqlite3.connect(partial) as copy:
                live.backup(copy)
            copy.close()
        else:
            command, env = _pg_command("pg_dump", url)
            _run([*command, "--format=custom", "--no-owner", "--file", str(partial)], env)
        partial.replace(out)  # a backup file exists whole or not at all
    finally:
        partial.unlink(missing_ok=True)
    return inspect(out)


def inspect(backup_file: Path) -> BackupInfo:
    """What a backup file holds: its kind and schema revision (and incidents, for SQLite)."""
    if not backup_file.is_file():
        raise BackupError(f"no backup file at {backup_file}")
    with backup_file.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        try:
            with sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True) as db:
                if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                    raise BackupError(f"{backup_file} is a damaged SQLite file")
                revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
                incidents = db.execute("SELECT count(*) FROM incident").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup_file} is not a Gridwatch backup: {exc}") from None
        return BackupInfo("sqlite", revision[0] if revision else None, int(incidents[0]))
    if head.startswith(PG_MAGIC):
        listing = _run(
            [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(backup_file)],
            dict(os.environ),
        )
        found = re.search(r"^COPY [^\n]*alembic_version[^\n]*\n([0-9a-z_]+)$", listing, re.MULTILINE)
        return BackupInfo("postgresql", found.group(1) if found else None)
    raise BackupError(f"{backup_file} is not a Gridwatch backup (neither SQLite nor pg_dump's custom format)")


def restore(database_url: str, backup_file: Path) -> BackupInfo:
    """Replace the database's contents with the backup's, all or nothing."""
    url = _target(database_url)
    info = inspect(backup_file)
    if info.kind != url.get_backend_name():
        raise BackupError(f"{backup_file} is a {info.kind} backup; this database is {url.get_backend_name()}")
    if info.revision is None:
        raise BackupError(f"{backup_file} has no schema revision: not a Gridwatch database")
    if info.revision not in migrate.known_revisions():
        raise BackupError(
            f"{backup_file} is at schema {info.revision}, which this release does not know (newer code?)"
        )
    if info.kind == "sqlite":
        target = _sqlite_path(url)
        with sqlite3.connect(backup_file) as copy, sqlite3.connect(target) as live:
            copy.backup(live)  # page by page under one lock: readers see before or after
        live.close()
    else:
        # pg_restore writes the backup as SQL; psql runs it after emptying the schema, all in one
        # transaction: tables the backup does not have go too, and a failure leaves all as it was.
        script = _run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(backup_file)],
            dict(os.environ),
        )
        command, env = _pg_command("psql", url)
        done = subprocess.run(
            [*command, "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1", "--file=-"],
            input="DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + script,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"psql failed, nothing was restored: {done.stderr.strip()}")
    return info
