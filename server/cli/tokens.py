"""`gridwatch token create | list | revoke`: API tokens."""

from __future__ import annotations

import datetime as dt

import click
from sqlmodel import Session

from grid.errors import NotFound
from server.auth import Role, ScopeError, create_token, list_tokens, revoke_token, token_row
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
            raise click.BadParameter(f"{exc.message_en}\n{exc.message_zh}", param_hint="--scope") from None
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """Every token: id, role, scope, state, expiry and label (never the secret)."""
    runtime = context.runtime()
    now = runtime.clock()
    with Session(runtime.engine) as session:
        for row in list_tokens(session):
            expired = row.expires_at is not None and row.expires_at <= now
            state = "revoked" if row.revoked else "expired" if expired else "active"
            expires = row.expires_at.date().isoformat() if row.expires_at else "-"
            click.echo(f"{row.id}\t{row.role}\t{row.scope}\t{state}\t{expires}\t{row.label}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `token list`): its next request is refused."""
    runtime = context.runtime()
    with Session(runtime.engine) as session:
        try:
            row = token_row(session, token_id)
        except NotFound as exc:
            raise click.ClickException(exc.message_en) from None
        if row.revoked:
            click.echo(f"token {token_id} was already revoked")
            return
        revoke_token(session, row)
    click.echo(f"revoked token {token_id} ({row.role} {row.scope})")
