"""`gridwatch backup` and `gridwatch restore`: the database of GRIDWATCH_DATABASE_URL to a file and back."""

from __future__ import annotations

from pathlib import Path

import click

from server.db import migrate
from server.ops.backups import BackupError
from server.ops.backups import backup as take_backup
from server.ops.backups import inspect as inspect_backup
from server.ops.backups import restore as restore_backup
from server.settings import get_settings


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A new file (SQLite: a database file; PostgreSQL: pg_dump's custom format).",
)
def backup(out: Path) -> None:
    """Back up the database while the platform runs (SQLite's online backup, or pg_dump)."""
    try:
        info = take_backup(get_settings().database_url, out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    held = f", {info.incidents} incidents" if info.incidents is not None else ""
    click.echo(f"wrote {out}: {info.kind} backup at schema {info.revision}{held}")


@click.command()
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's contents.")
def restore(backup_file: Path, yes: bool) -> None:
    """Replace the database's contents with BACKUP_FILE, all or nothing. Stop the servers and
    ingest workers first; run `gridwatch db upgrade` after restoring an older release's backup."""
    url = get_settings().database_url
    if not backup_file.is_file():
        raise click.ClickException(f"no backup file at {backup_file}\n备份文件 {backup_file} 不存在")
    try:
        # What is not a backup is refused before anyone is asked to replace the database with it.
        inspect_backup(backup_file)
        if not yes:
            click.confirm(
                f"Replace everything in the database with {backup_file}? 用该备份替换数据库的全部内容？",
                abort=True,
            )
        info = restore_backup(url, backup_file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    after = (
        "" if info.revision == migrate.head() else f"; run `gridwatch db upgrade` to reach {migrate.head()}"
    )
    click.echo(f"restored {backup_file} ({info.kind}, schema {info.revision}){after}")
