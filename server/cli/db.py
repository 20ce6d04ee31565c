"""`gridwatch db upgrade|downgrade|current`: the database schema's migrations."""

from __future__ import annotations

import click

from server.cli import context
from server.db import migrate as db_migrate


@click.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to the newest revision)."""
    runtime = context.runtime()
    db_migrate.upgrade(runtime.engine, revision)
    click.echo(f"schema at {db_migrate.current(runtime.engine)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    runtime = context.runtime()
    db_migrate.downgrade(runtime.engine, revision)
    click.echo(f"schema at {db_migrate.current(runtime.engine) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one this code knows."""
    runtime = context.runtime()
    click.echo(f"database {db_migrate.current(runtime.engine) or 'empty'}, code {db_migrate.head()}")
