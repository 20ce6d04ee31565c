"""`gridwatch token create | list | revoke | pair`: API tokens, and pairing codes for phones."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import click
import segno
from sqlmodel import Session

from grid.errors import NotFound
from server.auth import Role, ScopeError, create_token, list_tokens, revoke_token, token_row
from server.cli import context
from server.pairings.schemas import MINUTES_DEFAULT, MINUTES_HIGH, MINUTES_LOW
from server.pairings.service import PairingService, link, shown
from server.pairings.store import PairingRefused


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


@token.command("pair")
@click.option("--worker", "worker", default=None, help="The grid worker (网格员) whose phone is paired.")
@click.option("--unit", "unit", default=None, help="The unit whose officer's phone is paired.")
@click.option(
    "--minutes",
    type=click.IntRange(MINUTES_LOW, MINUTES_HIGH),
    default=MINUTES_DEFAULT,
    show_default=True,
    help="How long the code may be claimed.",
)
@click.option("--label", default="", help="Whose phone, for the pairings list.")
@click.option(
    "--base-url",
    default=None,
    help="The address phones reach the server at. Default: GRIDWATCH_PUBLIC_URL, else GRIDWATCH_HOST:GRIDWATCH_PORT.",
)
@click.option(
    "--svg",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the QR code here.",
)
def token_pair(
    worker: str | None, unit: str | None, minutes: int, label: str, base_url: str | None, svg: Path | None
) -> None:
    """A one-time pairing code for a worker's or unit officer's phone: the code, the link and its QR
    code. The phone that opens the link (or types the code) gets a token of its own."""
    if (worker is None) == (unit is None):
        raise click.UsageError("name --worker ID or --unit ID, one of them\n请指定 --worker 或 --unit 之一")
    runtime = context.runtime()
    settings = runtime.settings
    base = (base_url or settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{base_url!r} is not an http(s) address like https://grid.example.cn\n"
            f"{base_url!r} 不是 http(s) 地址，应形如 https://grid.example.cn",
            param_hint="--base-url",
        )
    role, ident, hint = (
        (Role.WORKER, worker, "--worker") if worker is not None else (Role.UNIT, unit, "--unit")
    )
    with Session(runtime.engine) as session:
        service = PairingService(session, runtime.clock)
        try:
            target = service.target(role, ident or "")
        except PairingRefused as exc:
            raise click.BadParameter(f"{exc.message_en}\n{exc.message_zh}", param_hint=hint) from None
        row, code = service.make(target, label, minutes, "cli")
    made = link(base, code)
    qr = segno.make(made, error="m")
    if svg is not None:
        qr.save(str(svg), kind="svg", scale=4)
    drawn = io.StringIO()
    qr.terminal(out=drawn, compact=True, border=2)
    click.echo(drawn.getvalue(), nl=False)
    click.echo(f"code / 配对码: {shown(code)}")
    click.echo(f"link / 链接:   {made}")
    click.echo(f"expires / 有效期至: {row.expires_at.isoformat(timespec='minutes')} ({role.value} {ident})")
