"""The database engine: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

# PostgreSQL error classes (SQLSTATE prefixes) that tell of the database's state, whatever the
# statement: connection lost, resources exhausted (disk, memory, connections), shut down or
# starting, system I/O, and contention (deadlock, serialization, a lock not granted), which passes.
DATABASE_STATES = ("08", "53", "57P", "58", "40", "55P03")
# The same for SQLite (the primary result codes; an extended one such as SQLITE_IOERR_SHORT_READ
# starts with its primary's name).
SQLITE_STATES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
    "SQLITE_READONLY",
)
# How long the probe may take to connect and answer before the database counts as away.
PROBE_SECONDS = 2


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            # WAL lets readers go on while one writer commits; synchronous=NORMAL is durable in WAL.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_outage(exc: BaseException) -> bool:
    """An error of the kind an absent database raises (a restart, a crash, a lock held too long, a
    full pool), unlike a statement it refused. Of this kind too are a statement's own timeout or
    limit: OutageCheck tells those apart by asking the database."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout))


def states_the_database(exc: BaseException) -> bool:
    """Whether the database's error code speaks of its own state (see DATABASE_STATES) rather than
    of the statement."""
    if isinstance(exc, PoolTimeout):
        return True  # every connection of this process is busy
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(DATABASE_STATES)
    name = getattr(orig, "sqlite_errorname", None)
    return isinstance(name, str) and any(name == s or name.startswith(f"{s}_") for s in SQLITE_STATES)


class OutageCheck:
    """Whether an error means the database is away (the work is sound: try it again later) or that
    the work itself failed. An error of an outage's kind whose code does not name the database's
    state is an outage only while the database does not answer a probe on a fresh connection: a
    statement that keeps hitting its timeout or a limit on a database that answers is the work's
    failure, and must not hold everything behind it forever."""

    def __init__(self, engine: Engine) -> None:
        sqlite = engine.url.get_backend_name() == "sqlite"
        options = (
            {"timeout": PROBE_SECONDS}
            if sqlite
            else {
                "connect_timeout": PROBE_SECONDS,
                "options": f"-c statement_timeout={PROBE_SECONDS * 1000}",
            }
        )
        # Its own connections, outside the pool: a full or stale pool says nothing of the database.
        self.probe = create_engine(engine.url, poolclass=NullPool, connect_args=options)

    def __call__(self, exc: BaseException) -> bool:
        if not is_outage(exc):
            return False
        return states_the_database(exc) or not self.answers()

    def answers(self) -> bool:
        """Whether the database answers `SELECT 1` now."""
        try:
            with self.probe.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # whatever stops the probe, the database did not answer it
            return False
        return True
