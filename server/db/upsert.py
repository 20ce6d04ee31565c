"""INSERT … ON CONFLICT DO UPDATE for the two databases we run on (both speak it; SQLAlchemy
spells it per dialect)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def upsert(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    updates: Callable[[Any], dict[str, Any]],
    where: Callable[[Any], ColumnElement[bool]] | None = None,
) -> None:
    """Insert `rows`; where a row with the same `keys` exists, set `updates(excluded)` instead
    (only where `where(excluded)` holds, when given)."""
    if not rows:
        return
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table.__table__)  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_=updates(statement.excluded),
        where=None if where is None else where(statement.excluded),
    )
    # Rows as executemany parameters: the statement is compiled once, however many rows there are.
    session.exec(statement, params=list(rows))
