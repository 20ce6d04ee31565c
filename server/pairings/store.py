"""Pairings in the database. Claiming is one conditional UPDATE, so of two phones claiming one code
at the same moment exactly one wins, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from grid.errors import DomainError
from server.db.tables import PairingRow, TokenRow


class PairingRefused(DomainError):
    """A pairing that cannot be made or claimed as asked: a malformed code, an unknown person."""

    code = "pairing_refused"


class PairingExpired(DomainError):
    """The code ran out (or was cancelled) before a phone claimed it."""

    code = "pairing_expired"


def by_digest(session: Session, digest: str) -> PairingRow | None:
    return session.exec(select(PairingRow).where(PairingRow.digest == digest)).first()


def newest_first(session: Session) -> list[PairingRow]:
    return list(session.exec(select(PairingRow).order_by(col(PairingRow.id).desc())).all())


def take(session: Session, pairing_id: int, now: dt.datetime) -> bool:
    """Mark the pairing claimed unless it was claimed or ran out meanwhile; whether this call did.
    Not committed: the token it becomes is written in the same transaction."""
    done = session.exec(
        update(PairingRow)
        .where(
            col(PairingRow.id) == pairing_id,
            col(PairingRow.claimed_at).is_(None),
            col(PairingRow.expires_at) > now,
        )
        .values(claimed_at=now)
    )
    return bool(done.rowcount == 1)


def token_by_digest(session: Session, token_digest: str) -> TokenRow:
    return session.exec(select(TokenRow).where(TokenRow.digest == token_digest)).one()


def tokens(session: Session, ids: Sequence[int]) -> dict[int, TokenRow]:
    rows = session.exec(select(TokenRow).where(col(TokenRow.id).in_(ids))).all() if ids else []
    return {r.id or 0: r for r in rows}
