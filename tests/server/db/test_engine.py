"""Which database errors are an outage (try the work again later) and which refuse the work itself:
the ingest worker refuses a message only for the second kind (sync/ingest.py). An error of an
outage's kind on a database that answers is the work's own (a statement's timeout or limit), unless
its code speaks of the database's state (contention, resources)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from server.db.engine import OutageCheck, is_outage, make_engine
from tests.support.network import free_port
from tests.support.postgres import create_database, drop_database


def error_of(action: Callable[[], object]) -> Exception:
    try:
        action()
    except Exception as exc:  # what the database said, whatever its class
        return exc
    pytest.fail(f"{action} raised nothing")


def test_a_database_that_cannot_be_reached_is_an_outage() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gridwatch")
    error = error_of(engine.connect)
    assert is_outage(error)
    check = OutageCheck(engine)
    assert not check.answers()
    assert check(error)
    engine.dispose()


def test_a_full_pool_is_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1)
    with engine.connect():
        error = error_of(engine.connect)
        assert is_outage(error)
        check = OutageCheck(engine)
        assert check.answers()  # the probe has its own connection: the database is there ...
        assert check(error)  # ... but this process cannot reach it now, whatever the work
    engine.dispose()


def statement(engine: Engine, sql: str) -> Callable[[], None]:
    def run() -> None:
        with engine.begin() as connection:
            connection.execute(text(sql))

    return run


@pytest.fixture
def postgres_engine(postgres_admin_url: str, tmp_path: Path) -> Iterator[Engine]:
    name = f"gw_engine_{tmp_path.name.replace('-', '_').lower()}"[:60]
    engine = make_engine(create_database(postgres_admin_url, name))
    yield engine
    engine.dispose()
    drop_database(postgres_admin_url, name)


def test_a_statement_postgresql_refuses_while_it_answers_is_not_an_outage(postgres_engine: Engine) -> None:
    """A statement past its timeout or a limit raises what a lost database raises (an
    OperationalError): the probe tells them apart, or such a message would be retried forever."""
    check = OutageCheck(postgres_engine)
    over_a_limit = error_of(
        statement(postgres_engine, "DO $$ BEGIN RAISE EXCEPTION 'too big' USING ERRCODE = '54000'; END $$")
    )
    timed_out = error_of(statement(postgres_engine, "SET LOCAL statement_timeout = 50; SELECT pg_sleep(5)"))
    for error, name in [(over_a_limit, "ProgramLimitExceeded"), (timed_out, "QueryCanceled")]:
        assert is_outage(error)  # the kind of error an outage raises ...
        assert type(error.__cause__).__name__ == name  # (what the ingest names in its refusal)
        assert not check(error)  # ... but the database answers: the statement failed


def test_postgresql_contention_and_shutdown_are_waited_out_while_it_answers(postgres_engine: Engine) -> None:
    """Codes that speak of the database's state, not of the statement: a deadlock or a
    serialization failure passes, a full disk or a shutdown is the database's; none refuses the work."""
    check = OutageCheck(postgres_engine)
    assert check.answers()
    for sqlstate in ["40P01", "40001", "55P03", "53100", "57P01"]:
        raise_it = f"DO $$ BEGIN RAISE EXCEPTION 'state' USING ERRCODE = '{sqlstate}'; END $$"
        error = error_of(statement(postgres_engine, raise_it))
        assert check(error), sqlstate
    refused = error_of(statement(postgres_engine, "SELECT 1/0"))  # DataError: never an outage
    assert not is_outage(refused) and not check(refused)


def test_a_statement_sqlite_refuses_is_not_an_outage_but_a_lock_is(tmp_path: Path) -> None:
    path = tmp_path / "refused.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    statement(engine, "CREATE TABLE report (id TEXT PRIMARY KEY)")()
    check = OutageCheck(engine)
    no_such_table = error_of(statement(engine, "INSERT INTO missing VALUES (1)"))
    assert is_outage(no_such_table) and not check(no_such_table)
    with engine.connect() as holder:
        holder.exec_driver_sql("BEGIN IMMEDIATE")  # another writer holds the database
        locked = error_of(statement(engine, "INSERT INTO report VALUES ('r1')"))
        assert "database is locked" in str(locked)
        assert check.answers()  # readers go on in WAL mode or not ...
        assert check(locked)  # ... but the lock is the database's state, not the statement's
        holder.rollback()
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
