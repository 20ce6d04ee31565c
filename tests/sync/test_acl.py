"""Mosquitto with the generated password and ACL files: a worker cannot act as another."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from sync.acl import INGEST_USER, password_line, write_broker_files
from tests.support.mosquitto import mosquitto

pytestmark = pytest.mark.mosquitto

NOT_AUTHORIZED = 135


class Session:
    def __init__(self, port: int, user: str | None, password: str | None) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{user}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        self.connack: Any = None
        self.published: dict[int, int] = {}
        self.subscribed: dict[int, list[int]] = {}
        self.messages: list[str] = []
        self.event = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_publish = lambda _c, _u, mid, reason, _p: self._done(self.published, mid, reason.value)
        self.client.on_subscribe = lambda _c, _u, mid, reasons, _p: self._done(
            self.subscribed, mid, [r.value for r in reasons]
        )
        self.client.on_message = lambda _c, _u, m: self.messages.append(m.topic)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.event.wait(10)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connack = reason.value
        self.event.set()

    def _done(self, table: dict[int, Any], mid: int, value: Any) -> None:
        table[mid] = value

    def publish(self, topic: str) -> int:
        info = self.client.publish(topic, b"{}", qos=1)
        info.wait_for_publish(timeout=10)
        return self.published[info.mid]

    def subscribe(self, topic: str) -> list[int]:
        _, mid = self.client.subscribe(topic, qos=1)
        for _ in range(100):
            if mid in self.subscribed:
                break
            threading.Event().wait(0.05)
        return self.subscribed[mid]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def secured(tmp_path: Path) -> Any:
    credentials = write_broker_files(tmp_path / "broker", ["w1", "w2", "cam-1"])
    with mosquitto(auth=tmp_path / "broker") as broker:
        yield broker.port, credentials


def test_workers_are_confined_to_their_own_topics(secured: tuple[int, dict[str, str]]) -> None:
    port, credentials = secured
    ingest = Session(port, INGEST_USER, credentials[INGEST_USER])
    assert ingest.subscribe("$share/gridwatch/gw/+/up/+/+") == [1]
    assert ingest.subscribe("owntracks/+/+") == [1]

    def as_w1() -> Session:
        session = Session(port, "w1", credentials["w1"])
        assert session.connack == 0
        return session

    allowed = as_w1()
    assert allowed.publish("gw/339921/up/w1/report") == 0
    assert allowed.subscribe("gw/339921/down/w1/ack") == [1]
    allowed.close()
    # Each refusal on a fresh connection: Mosquitto may also drop a client after a refused publish.
    phone = as_w1()
    assert phone.publish("owntracks/w1/phone") == 0
    phone.close()
    for forged in (
        "gw/339921/up/w2/report",
        "gw/339921/down/w2/ack",
        "owntracks/w2/phone",
        "owntracks/w1/phone/cmd",
    ):  # as somebody else; the platform's answer
        session = as_w1()
        assert session.publish(forged) == NOT_AUTHORIZED
        session.close()
    # Reading: whatever the SUBACK says (Mosquitto may grant a filter and check each message), w1
    # never receives w2's acks or anybody else's reports.
    snoop = as_w1()
    for foreign in ("gw/339921/down/w2/ack", "gw/339921/up/+/report", "gw/#"):
        snoop.subscribe(foreign)
    w2 = Session(port, "w2", credentials["w2"])
    assert w2.publish("gw/339921/up/w2/report") == 0
    assert ingest.publish("gw/339921/down/w2/ack") == 0
    threading.Event().wait(0.5)
    assert snoop.messages == []
    # Nothing forged: w1's own report and OwnTracks location, w2's report.
    assert sorted(ingest.messages) == [
        "gw/339921/up/w1/report",
        "gw/339921/up/w2/report",
        "owntracks/w1/phone",
    ]
    for session in (snoop, w2, ingest):
        session.close()


@pytest.mark.parametrize(("user", "password"), [("w1", "wrong"), ("nobody", "x"), (None, None)])
def test_strangers_are_refused(
    secured: tuple[int, dict[str, str]], user: str | None, password: str | None
) -> None:
    port, _ = secured
    session = Session(port, user, password)
    assert session.connack in (134, 135)  # bad user name or password / not authorized
    session.close()


def test_password_lines_are_salted() -> None:
    assert password_line("a", "same") != password_line("a", "same")
    assert password_line("a", "same", b"0" * 12) == password_line("a", "same", b"0" * 12)


def test_mqtt_acl_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, county: Any) -> None:
    from sqlmodel import Session as DbSession

    from server.cli import main
    from server.db import migrate
    from server.db.engine import make_engine
    from server.reference.service import load_dataset

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with DbSession(engine) as session:
        load_dataset(session, county)
        session.commit()
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", url)
    done = CliRunner().invoke(main, ["mqtt-acl", "--out", str(tmp_path / "broker")])
    assert done.exit_code == 0, done.output
    accounts = len(county.workers) + len(county.devices) + 1
    assert f"for {accounts} accounts" in done.output
    assert len((tmp_path / "broker" / "passwords").read_text().splitlines()) == accounts
    assert (tmp_path / "broker" / "credentials.csv").stat().st_mode & 0o777 == 0o600
