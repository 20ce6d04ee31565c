"""Which database errors are an outage (try the work again later) and which refuse the work itself:
the ingest worker refuses a message only for the second kind (sync/ingest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db.engine import is_outage, make_engine
from tests.support.network import free_port


def error_of(action: Callable[[], object]) -> Exception:
    try:
        action()
    except Exception as exc:  # what the database said, whatever its class
        return exc
    pytest.fail(f"{action} raised nothing")


def test_a_database_that_cannot_be_reached_is_an_outage() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gridwatch")
    assert is_outage(error_of(engine.connect))
    engine.dispose()


def test_a_full_pool_is_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1)
    with engine.connect():
        assert is_outage(error_of(engine.connect))
    engine.dispose()


def test_a_statement_the_database_refuses_is_not_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'refused.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE report (id TEXT PRIMARY KEY)"))
        connection.execute(text("INSERT INTO report VALUES ('r1')"))

    def twice() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO report VALUES ('r1')"))

    assert not is_outage(error_of(twice))  # IntegrityError: this work, not the database
    assert not is_outage(RecursionError("maximum recursion depth exceeded"))
    assert not is_outage(ValueError("a bad message"))
    engine.dispose()
