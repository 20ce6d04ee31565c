"""MQTT ingest against a real Mosquitto: reports become incidents, acks follow commits, nothing is lost."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import event
from sqlmodel import Session, func, select

from grid.intake import IntakeEntry
from server.db.tables import IncidentRow, RejectRow
from server.field.endpoint import serve_ingest_endpoint
from server.incidents.store import SqlIntakeStore
from sync.broker import BrokerAddress
from sync.ingest import MqttIngest
from tests.support.api import CST, Api, Template, database_for_test, open_api
from tests.support.commands import run_gridwatch, start_ingest
from tests.support.mosquitto import Broker, mosquitto
from tests.support.network import free_port, wait_answering

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]

COUNTY = "339921"


@dataclass
class Phone:
    """A field device: publishes reports at QoS 1 and collects its acks."""

    device: str
    port: int
    acks: list[dict[str, Any]] = field(default_factory=list)
    got: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"phone-{self.device}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", self.port)
        self.client.subscribe(f"gw/{COUNTY}/down/{self.device}/ack", qos=1)
        self.client.loop_start()
        assert subscribed.wait(10)  # an ack published before the SUBACK would reach nobody

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.got:
            self.acks.append(msgspec.json.decode(message.payload))
            self.got.notify_all()

    def publish(
        self, payload: bytes | dict[str, Any], kind: str = "report", device: str | None = None
    ) -> None:
        raw = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
        info = self.client.publish(f"gw/{COUNTY}/up/{device or self.device}/{kind}", raw, qos=1)
        info.wait_for_publish(timeout=10)  # the broker's PUBACK: from here on the report must not be lost

    def publish_all(self, payloads: list[bytes]) -> None:
        """Publish at once, without waiting between them, so the worker takes them in one batch."""
        infos = [self.client.publish(f"gw/{COUNTY}/up/{self.device}/report", raw, qos=1) for raw in payloads]
        for info in infos:
            info.wait_for_publish(timeout=10)

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.got:
            while len(self.acks) < count and time.monotonic() < deadline:
                self.got.wait(timeout=0.2)
        assert len(self.acks) >= count, f"{len(self.acks)} acks of {count}"
        return self.acks

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Field:
    api: Api
    broker: Broker
    template: Template
    workers: list[MqttIngest] = field(default_factory=list)

    def start_worker(self, client_id: str = "gridwatch-ingest-test", shared: bool = False) -> MqttIngest:
        runtime = self.api.runtime
        worker = MqttIngest(
            runtime.field_ingest(),
            BrokerAddress("127.0.0.1", self.broker.port),
            client_id,
            shared=shared,
            meter=runtime.metrics,
        )
        worker.start()
        assert worker.connected.wait(10)
        self.workers.append(worker)
        return worker

    def report(self, n: int = 0, **extra: Any) -> dict[str, Any]:
        lon, lat = self.api.point_in(self.template.township_a, n)
        return {
            "id": f"r-{uuid.uuid4().hex[:10]}",
            "ts": "2026-06-16T08:55:00+08:00",
            "lat": lat,
            "lon": lon,
            "category": "0501",
        } | extra

    def take_the_rest(self, worker: subprocess.Popen[str], sent: list[dict[str, Any]]) -> bool:
        """Let a started `gridwatch ingest` take what waits at the broker, stop it, and say whether
        every sent report is stored exactly once."""
        deadline = time.monotonic() + 60
        while self.count(IncidentRow) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
        with Session(self.api.runtime.engine) as session:
            ids = list(session.exec(select(IncidentRow.client_id)).all())
        return sorted(ids) == sorted(r["id"] for r in sent)

    def count(self, table: Any) -> int:
        with Session(self.api.runtime.engine) as session:
            return int(session.exec(select(func.count()).select_from(table)).one())


@contextmanager
def running_field(template: Template, url: str) -> Iterator[Field]:
    """The API's runtime on `url` and a Mosquitto; the workers a test starts are stopped after it."""
    api, client = open_api(template, url)
    with mosquitto() as broker, client:
        setup = Field(api=api, broker=broker, template=template)
        yield setup
        for worker in setup.workers:
            worker.stop()
    api.runtime.engine.dispose()


@pytest.fixture
def field_(sqlite_template: Template, tmp_path: Path) -> Iterator[Field]:
    with running_field(sqlite_template, database_for_test(sqlite_template, tmp_path, None)) as setup:
        yield setup


@pytest.fixture(params=["sqlite", "postgres"])
def field_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Field]:
    """The field with a worker, on SQLite and on PostgreSQL (which refuses what SQLite would keep)."""
    from tests.support.postgres import drop_database

    template = request.getfixturevalue(f"{request.param}_template")
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgres" else None
    url = database_for_test(template, tmp_path, admin)
    with running_field(template, url) as setup:
        yield setup
    if admin is not None:
        drop_database(admin, url.rsplit("/", 1)[1])


def worker_id(template: Template) -> str:
    return next(w.id for w in template.county.workers if w.township == template.township_a)


def test_report_becomes_a_routed_incident_and_is_acked(field_: Field) -> None:
    field_.start_worker()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    report = field_.report(text="摊贩占道")
    phone.publish(report)
    [ack] = phone.wait_for(1)
    assert ack["id"] == report["id"]
    assert ack["status"] == "accepted"
    assert ack["responsible"] == f"{field_.template.township_a}.office.enforcement"
    assert ack["cell"].startswith(field_.template.township_a)
    detail = field_.api.client.get(f"/incidents/{ack['incident']}", headers=field_.api.auth("duty_a")).json()
    assert detail["incident"]["source"] == "report"
    assert detail["incident"]["text"] == "摊贩占道"
    events = field_.api.client.get("/events", headers=field_.api.auth("duty_a")).json()["events"]
    assert [e["incident"] for e in events] == [ack["incident"]]
    # The same report again (a phone that never saw its ack) gets the same incident.
    phone.publish(report)
    acks = phone.wait_for(2)
    assert acks[1]["status"] == "duplicate"
    assert acks[1]["incident"] == ack["incident"]
    assert field_.count(IncidentRow) == 1
    phone.close()


BAD = [
    (b"not json at all", "malformed"),
    (
        b'{"id": "b1", "ts": "2026-06-16T08:55:00+08:00", "lat": "29.1", "lon": 119.6, "category": "0501"}',
        "Expected `float`",
    ),
    (
        b'{"id": "b2", "ts": "2026-06-16T08:55:00+08:00", "lon": 119.6, "category": "0501"}',
        "missing required field `lat`",
    ),
    (
        b'{"id": "b3", "ts": "2026-06-16T08:55:00+08:00", "lat": NaN, "lon": 119.6, "category": "0501"}',
        "malformed",
    ),
    (
        b'{"id": "b4", "ts": "2026-06-16T08:55:00+08:00", "lat": 29.1, "lon": 119.6, "category": "9999"}',
        "unknown category",
    ),
    (
        b'{"id": "b5", "ts": "2026-06-16T08:55:00+08:00", "lat": 30.0, "lon": 100.0, "category": "0501"}',
        "outside the county",
    ),
    (
        b'{"id": "b6", "ts": "2026-06-16T08:55:00", "lat": 29.1, "lon": 119.6, "category": "0501"}',
        "time zone",
    ),
    (
        b'{"id": "b7", "ts": "2026-06-16T08:55:00+08:00", "lat": 29.1, "lon": 119.6, "category": "0501", "photo": "AAAA"}',
        "unknown field",
    ),
    (b'{"id": "' + b"x" * 70_000 + b'"}', "larger than"),
]


def test_bad_payloads_are_kept_and_answered(field_: Field) -> None:
    field_.start_worker()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    for payload, _ in BAD:
        phone.publish(payload)
    acks = phone.wait_for(len(BAD))
    assert all(a["status"] == "rejected" for a in acks)
    for (_, reason), ack in zip(BAD, acks, strict=True):
        assert reason in ack["error"], (reason, ack["error"])
    assert [a["id"] for a in acks[1:8]] == ["b1", "b2", None, "b4", "b5", "b6", "b7"]
    with Session(field_.api.runtime.engine) as session:
        rejects = session.exec(select(RejectRow).order_by(RejectRow.id)).all()  # type: ignore[arg-type]
    assert sorted(r.raw for r in rejects) == sorted(p for p, _ in BAD)  # each kept once
    assert all(r.channel == "mqtt" and r.device == phone.device for r in rejects)
    assert field_.count(IncidentRow) == 0
    phone.close()


class PoisonedStore(SqlIntakeStore):
    """The real store, failing on what no test payload can make it fail on by itself any more: the
    failure a bug or a database refusal would bring, for one report only."""

    def create(self, entries: Sequence[IntakeEntry]) -> None:
        if any(e.client_id.startswith("poison") for e in entries):
            raise ValueError("this report breaks the store")
        super().create(entries)


def test_a_poisonous_report_is_rejected_and_its_batch_taken(field_on: Field) -> None:
    """Bad payloads mixed into a batch of good ones: each bad one is refused with its reason and
    kept, the good ones are stored and acked, and the intake goes on."""
    runtime = field_on.api.runtime
    runtime.intake.store = PoisonedStore(runtime.engine)
    worker = field_on.start_worker()
    phone = Phone(worker_id(field_on.template), field_on.broker.port)
    good = [field_on.report(n=i % 10) for i in range(30)]
    poison = {
        "poison-1": msgspec.json.encode(field_on.report(id="poison-1")),
        "nul": msgspec.json.encode(field_on.report(id="nul", text="摊位\u0000占道")),
        "nested": b'{"id": "nested", "subject_id": ' + b"[" * 50_000,
        "utf8": b'{"id": "utf8", "text": "\xff\xfe"}',
    }
    payloads = [msgspec.json.encode(r) for r in good]
    for n, raw in enumerate(poison.values()):
        payloads.insert(5 + 7 * n, raw)
    started = time.monotonic()
    phone.publish_all(payloads)
    acks = phone.wait_for(len(payloads), timeout=30)
    answered = time.monotonic() - started
    by_id = {a["id"]: a for a in acks}
    assert {r["id"] for r in good} <= {a["id"] for a in acks if a["status"] == "accepted"}
    assert by_id["poison-1"]["status"] == "rejected"
    assert "could not store" in by_id["poison-1"]["error"]
    assert by_id["nul"]["status"] == "rejected" and "NUL" in by_id["nul"]["error"]
    unnamed = [a for a in acks if a["id"] is None]  # the unreadable ones cannot be named
    assert len(unnamed) == 2 and all(a["status"] == "rejected" for a in unnamed)
    assert {"payload is not valid UTF-8", "Expected"} <= {
        a["error"].split(" (")[0].split(" `")[0] for a in unnamed
    }
    assert answered < 15, answered
    with Session(runtime.engine) as session:
        stored = set(session.exec(select(IncidentRow.client_id)).all())
        kept = {bytes(r.raw) for r in session.exec(select(RejectRow)).all()}
    assert stored == {r["id"] for r in good}
    assert set(poison.values()) <= kept  # each bad message kept with its raw bytes
    assert worker.stalled() is None and worker.handler.is_alive()
    # The intake goes on after the poison.
    after = field_on.report(n=3)
    phone.publish(after)
    assert phone.wait_for(len(payloads) + 1)[-1]["status"] == "accepted"
    phone.close()


def refuse_in_the_database(field: Field) -> dict[str, str]:
    """Make the database itself refuse to store a report by its text, with the errors a statement
    of its own raises on a database that answers (an OperationalError, like a lost database's); say
    which error each text meets."""
    engine = field.api.runtime.engine
    if engine.url.get_backend_name() == "sqlite":

        def refuse(text: str) -> None:
            raise ValueError(f"{text} is refused")  # sqlite3.OperationalError for the statement

        event.listen(engine, "connect", lambda connection, _: connection.create_function("refuse", 1, refuse))
        engine.dispose()  # every connection from here on knows the function
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON incident WHEN NEW.text = 'poison' "
                "BEGIN SELECT refuse(NEW.text); END"
            )
        return {"poison": "OperationalError"}
    with engine.begin() as connection:
        connection.exec_driver_sql(
            """
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.text = 'poison' THEN
                    RAISE EXCEPTION 'over a limit' USING ERRCODE = 'program_limit_exceeded';
                END IF;
                IF NEW.text = 'slow' THEN
                    PERFORM pg_sleep(60);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON incident
                FOR EACH ROW EXECUTE FUNCTION refuse_poison();
            DO $$ BEGIN
                EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) || ' SET statement_timeout = 1000';
            END $$;
            """
        )
    engine.dispose()  # new connections get the timeout
    return {"poison": "ProgramLimitExceeded", "slow": "QueryCanceled"}


def test_a_report_the_database_keeps_refusing_is_rejected_not_waited_for(field_on: Field) -> None:
    """The database answers but refuses one report every time (a limit, a statement timeout): the
    error is of the kind a lost database raises, yet the report is refused with its reason and kept
    while the others are taken; the intake neither waits for the database nor stalls."""
    refused = refuse_in_the_database(field_on)
    runtime = field_on.api.runtime
    worker = field_on.start_worker()
    phone = Phone(worker_id(field_on.template), field_on.broker.port)
    good = [field_on.report(n=i % 10) for i in range(30)]
    poison = {text: field_on.report(id=f"refused-{text}", text=text) for text in refused}
    payloads = [msgspec.json.encode(r) for r in good]
    for n, report in enumerate(poison.values()):
        payloads.insert(7 + 11 * n, msgspec.json.encode(report))
    phone.publish_all(payloads)
    by_id = {a["id"]: a for a in phone.wait_for(len(payloads), timeout=90)}
    assert {r["id"] for r in good} <= {i for i, a in by_id.items() if a["status"] == "accepted"}
    for text, cause in refused.items():
        answer = by_id[f"refused-{text}"]
        assert answer["status"] == "rejected", answer
        assert answer["error"] == f"the platform could not store this message ({cause})"
    assert worker.failed_batches == 0  # never taken for an outage: nothing went back to the broker
    with Session(runtime.engine) as session:
        stored = set(session.exec(select(IncidentRow.client_id)).all())
        kept = {bytes(r.raw) for r in session.exec(select(RejectRow)).all()}
    assert stored == {r["id"] for r in good}
    assert {msgspec.json.encode(r) for r in poison.values()} <= kept
    after = field_on.report(n=4)
    phone.publish(after)
    last = phone.wait_for(len(payloads) + 1)[-1]
    assert (last["id"], last["status"]) == (after["id"], "accepted")
    assert worker.stalled() is None
    phone.close()


def test_the_intake_survives_an_ack_lost_with_the_broker(field_: Field) -> None:
    """An ack published while the broker is away cannot be confirmed; the intake neither dies nor
    stops, and /health tells a stopped intake from a running one."""
    worker = field_.start_worker()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    phone.publish(field_.report())
    phone.wait_for(1)
    field_.broker.stop()  # what the worker publishes now cannot reach the broker
    deadline = time.monotonic() + 10
    while worker.connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    lost = worker.client.publish(f"gw/{COUNTY}/down/{phone.device}/ack", b"{}", qos=1)
    assert lost.rc != mqtt.MQTT_ERR_SUCCESS
    worker.unconfirmed.append(lost)  # as a batch answered in that moment leaves it
    field_.broker.start()
    assert worker.connected.wait(20)
    phone.close()
    phone = Phone(worker_id(field_.template), field_.broker.port)  # a phone of the broker's new life
    phone.publish(field_.report(n=1))
    assert phone.wait_for(1)[-1]["status"] == "accepted"  # a batch after the lost ack is answered
    assert worker.handler.is_alive() and worker.stalled() is None
    worker.stop()  # waits for the acks in flight; the lost one does not make it raise
    assert worker.stalled() == "the intake has stopped"
    field_.workers.remove(worker)
    phone.close()


def test_identity_is_checked(field_: Field) -> None:
    field_.start_worker()
    me = worker_id(field_.template)
    phone = Phone(me, field_.broker.port)
    phone.publish(field_.report(device="w-somebody-else"))
    [mismatch] = phone.wait_for(1)
    assert mismatch["status"] == "rejected"
    assert "does not match topic device" in mismatch["error"]
    stranger = Phone("w-unknown", field_.broker.port)
    stranger.publish(field_.report())
    [unknown] = stranger.wait_for(1)
    assert "unknown device" in unknown["error"]
    assert field_.count(IncidentRow) == 0
    assert field_.count(RejectRow) == 2
    phone.close()
    stranger.close()


def test_nothing_is_lost_while_the_worker_is_away_or_the_broker_restarts(field_: Field) -> None:
    worker = field_.start_worker()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    worker.stop()  # the persistent session keeps its queue at the broker
    sent = [field_.report(n=i % 10) for i in range(30)]
    for report in sent[:15]:
        phone.publish(report)
    field_.broker.restart()  # persistence on: the queue survives
    phone.close()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    for report in sent[15:]:
        phone.publish(report)
    field_.start_worker()  # same client id: it picks up its session
    deadline = time.monotonic() + 30
    while field_.count(IncidentRow) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert field_.count(IncidentRow) == len(sent)  # every PUBACKed report, exactly once
    with Session(field_.api.runtime.engine) as session:
        ids = set(session.exec(select(IncidentRow.client_id)).all())
    assert ids == {r["id"] for r in sent}
    phone.close()


def test_clock_of_the_report_is_its_timestamp(field_: Field) -> None:
    field_.start_worker()
    phone = Phone(worker_id(field_.template), field_.broker.port)
    phone.publish(field_.report())
    [ack] = phone.wait_for(1)
    detail = field_.api.client.get(f"/incidents/{ack['incident']}", headers=field_.api.auth("duty_a")).json()
    assert dt.datetime.fromisoformat(detail["incident"]["reported_at"]) == dt.datetime(
        2026, 6, 16, 8, 55, tzinfo=CST
    )
    phone.close()


def test_a_killed_ingest_process_loses_nothing(field_: Field, tmp_path: Path) -> None:
    """`gridwatch ingest` as a process, killed without warning mid-stream and started again."""
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": str(field_.api.runtime.engine.url),
        "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{field_.broker.port}",
        "GRIDWATCH_INGEST_CLIENT_ID": "gridwatch-ingest-killed",
    }

    phone = Phone(worker_id(field_.template), field_.broker.port)
    sent = [field_.report(n=i % 10) for i in range(60)]
    worker = start_ingest(env=env, cwd=tmp_path)
    for report in sent[:30]:
        phone.publish(report)
    phone.wait_for(5)
    worker.send_signal(signal.SIGKILL)  # mid-stream: some reports handled, some not yet
    worker.wait(timeout=10)
    for report in sent[30:]:
        phone.publish(report)
    assert field_.take_the_rest(start_ingest(env=env, cwd=tmp_path), sent)  # each PUBACKed report once
    acked = {a["id"] for a in phone.wait_for(len(sent)) if a["status"] in ("accepted", "duplicate")}
    assert acked == {r["id"] for r in sent}  # and every phone heard back
    phone.close()


def test_two_workers_share_the_load_without_duplicates(field_: Field) -> None:
    first = field_.start_worker("gridwatch-ingest-a", shared=True)
    second = field_.start_worker("gridwatch-ingest-b", shared=True)
    phone = Phone(worker_id(field_.template), field_.broker.port)
    sent = [field_.report(n=i % 10) for i in range(80)]
    for report in sent:
        phone.publish(report)
    acks = phone.wait_for(len(sent), timeout=60)
    assert {a["id"] for a in acks} == {r["id"] for r in sent}
    assert all(a["status"] == "accepted" for a in acks)  # each delivered to one worker only
    assert field_.count(IncidentRow) == len(sent)
    assert first.handled > 0
    assert second.handled > 0
    assert first.handled + second.handled == len(sent)
    phone.close()


def test_a_worker_switched_to_the_shared_group_takes_each_report_once(field_: Field) -> None:
    """The same client id, first plain, then in the shared group: the old subscription goes."""
    plain = field_.start_worker("gridwatch-ingest-switch")
    plain.stop()
    field_.workers.remove(plain)
    shared = field_.start_worker("gridwatch-ingest-switch", shared=True)
    phone = Phone(worker_id(field_.template), field_.broker.port)
    sent = [field_.report(n=i % 10) for i in range(10)]
    for report in sent:
        phone.publish(report)
    acks = phone.wait_for(len(sent))
    time.sleep(1)  # a second delivery of each would be answered by now
    assert len(phone.acks) == len(sent) and all(a["status"] == "accepted" for a in acks)
    assert shared.handled == len(sent)
    phone.close()


@pytest.mark.parametrize("fault", ["stop", "kill"])
def test_a_database_restart_mid_stream_loses_nothing(
    postgres_template: Template, postgres_admin_url: str, tmp_path: Path, fault: str
) -> None:
    """PostgreSQL stops (or is killed -9, its pool's connections left dead) while reports arrive;
    the worker keeps them unacknowledged and gets them again once the database is back."""
    from tests.support.postgres import control

    url = database_for_test(postgres_template, tmp_path, postgres_admin_url)
    api, client = open_api(postgres_template, url)
    with mosquitto() as broker, client:
        setup = Field(api=api, broker=broker, template=postgres_template)
        setup.start_worker()
        phone = Phone(worker_id(postgres_template), broker.port)
        sent = [setup.report(n=i % 10) for i in range(40)]
        for report in sent[:10]:
            phone.publish(report)
        phone.wait_for(10)
        if fault == "stop":
            api.runtime.engine.dispose()
        control(postgres_admin_url, fault)
        try:
            for report in sent[10:]:
                phone.publish(report)  # PUBACKed by the broker while the database is down
            time.sleep(2)
        finally:
            control(postgres_admin_url, "start")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if setup.count(IncidentRow) >= len(sent):
                    break
            except Exception:  # the pool reconnects to the restarted database
                pass
            time.sleep(0.5)
        with Session(api.runtime.engine) as session:
            ids = list(session.exec(select(IncidentRow.client_id)).all())
        assert sorted(ids) == sorted(r["id"] for r in sent)
        acks = phone.wait_for(len(sent), timeout=60)
        # A report that met the outage is taken again afterwards, never refused for it.
        assert {a["status"] for a in acks} <= {"accepted", "duplicate"}, acks
        assert {a["id"] for a in acks} == {r["id"] for r in sent}
        assert setup.workers[0].failed_batches > 0  # the outage was met, not waited out
        for worker in setup.workers:
            worker.stop()
        phone.close()
    api.runtime.engine.dispose()


def test_the_workers_health_and_metrics_endpoint(field_: Field) -> None:
    """What `gridwatch ingest` serves on GRIDWATCH_METRICS_PORT: health for the orchestrator (503
    while the broker is away), metrics for an admin only, and nothing else."""
    runtime = field_.api.runtime
    worker = field_.start_worker()
    runtime.metrics.watch(worker)
    port = free_port()
    endpoint = serve_ingest_endpoint(runtime, worker, "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    tokens = field_.template.tokens
    try:
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200
        assert health.json() == {
            "status": "ok",
            "broker": "connected",
            "intake": "taking messages",
            "handled": 0,
        }
        phone = Phone(worker_id(field_.template), field_.broker.port)
        for n in range(3):
            phone.publish(field_.report(n=n))
        phone.publish(b"not json")
        phone.wait_for(4)
        scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert scraped.status_code == 200
        lines = dict(line.rsplit(" ", 1) for line in scraped.text.splitlines() if not line.startswith("#"))
        assert float(lines['gridwatch_field_messages_total{kind="report"}']) == 4.0
        assert float(lines["gridwatch_ack_latency_seconds_count"]) == 4.0
        assert float(lines["gridwatch_ingest_queue_depth"]) == 0.0
        assert float(lines["gridwatch_ingest_failed_batches_total"]) == 0.0
        assert float(lines[f'gridwatch_open_incidents{{township="{field_.template.township_a}"}}']) == 3.0
        for headers, status in [
            ({}, 401),
            ({"Authorization": "Basic abc"}, 401),
            ({"Authorization": f"Bearer {tokens['expired']}"}, 401),
            ({"Authorization": "Bearer gw_forged"}, 401),
            ({"Authorization": f"Bearer {tokens['duty_county']}"}, 403),
            ({"Authorization": f"Bearer {tokens['device']}"}, 403),
        ]:
            refused = httpx.get(f"{base}/metrics", headers=headers)
            assert refused.status_code == status, headers
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["detail_zh"]
        missing = httpx.get(f"{base}/admin")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "no such path: /admin"
        # The broker goes away: the worker is not healthy until it is back and subscribed again.
        field_.broker.stop()
        wait_answering(f"{base}/health", 503, timeout=20)
        assert httpx.get(f"{base}/health").json()["broker"] == "disconnected"
        field_.broker.start()
        wait_answering(f"{base}/health", timeout=30)
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        phone.close()
    finally:
        endpoint.shutdown()


def test_a_stopped_ingest_process_finishes_its_batch(field_: Field, tmp_path: Path) -> None:
    """SIGTERM mid-stream: the worker commits and acks the batch in hand and takes no more, so at
    its exit every stored report has had its ack and every ack names a stored report; the rest
    waits at the broker for the next start."""
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": str(field_.api.runtime.engine.url),
        "GRIDWATCH_MQTT_URL": f"mqtt://127.0.0.1:{field_.broker.port}",
        "GRIDWATCH_INGEST_CLIENT_ID": "gridwatch-ingest-stopped",
        "GRIDWATCH_LOG_FORMAT": "json",
    }

    phone = Phone(worker_id(field_.template), field_.broker.port)
    sent = [field_.report(n=i % 10) for i in range(400)]
    worker = start_ingest(env=env, cwd=tmp_path)

    def publish_steadily() -> None:
        for report in sent:  # about two seconds of reports, so the stop falls in the middle
            phone.publish(report)
            time.sleep(0.005)

    publisher = threading.Thread(target=publish_steadily)
    publisher.start()
    phone.wait_for(20, timeout=30)
    worker.send_signal(signal.SIGTERM)  # while reports still arrive
    _, logged = worker.communicate(timeout=60)
    assert worker.returncode == 0
    messages = [msgspec.json.decode(line)["message"] for line in logged.splitlines() if line.strip()]
    assert "stopping: finishing the batch in hand" in messages
    publisher.join(timeout=60)
    time.sleep(1)  # acks already confirmed by the broker reach the phone
    with Session(field_.api.runtime.engine) as session:
        stored = set(session.exec(select(IncidentRow.client_id)).all())
    with phone.got:
        heard = {a["id"] for a in phone.acks}
    assert 0 < len(stored) < len(sent)  # stopped mid-stream
    assert heard == stored  # nothing committed without its ack, no ack without its commit
    assert field_.take_the_rest(start_ingest(env=env, cwd=tmp_path), sent)  # on the next start
    phone.close()


def test_ingest_says_why_it_cannot_start(sqlite_template: Template, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": database_for_test(sqlite_template, tmp_path, None)}
    nobody = free_port()
    for args, status, said in [
        (["--url", f"mqtt://127.0.0.1:{nobody}"], 1, f"cannot reach the MQTT broker at 127.0.0.1:{nobody}"),
        (["--url", "http://127.0.0.1"], 2, "expected mqtt://"),
        (["--url", "mqtts://gw:secret@127.0.0.1:0"], 2, "not a number from 1 to 65535"),
    ]:
        done = run_gridwatch("ingest", *args, env=env, cwd=tmp_path, timeout=60)
        assert done.returncode == status, (args, done.stderr)
        assert said in done.stderr
        assert "Traceback" not in done.stderr
        assert "secret" not in done.stderr
