"""`gridwatch token create`: API tokens."""

from __future__ import annotations

import datetime as dt

import click
from sqlmodel import Session

from server.auth import Role, ScopeError, create_token
from server.cli import context


@click.group()
def token() -> None:
    """API tokens (bearer); only a digest is stored, so the token is shown once."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--scope", required=True, help="county:CODE, township:CODE, unit:ID, worker:ID or device:ID.")
@click.option("--label", default="", help="Who or what the token is for.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Expire after this many days.")
def token_create(role: str, scope: str, label: str, days: int | None) -> None:
    """Create a token and print it."""
    runtime = context.runtime()
    now = runtime.clock()
    expires = now + dt.timedelta(days=days) if days else None
    with Session(runtime.engine) as session:
        try:
            secret = create_token(session, Role(role), scope, label=label, expires=expires, now=now)
        except ScopeError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
    click.echo(secret)
