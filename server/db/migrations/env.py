"""Alembic environment: the engine comes from the caller (server.db.migrate) or the settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import server.db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from server.db.engine import make_engine
from server.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
