"""Mosquitto with the generated password and ACL files: a worker cannot act as another."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from sync.acl import INGEST_USER, password_line, platform_client_id, write_broker_files
from tests.support.mosquitto import Broker, mosquitto

pytestmark = pytest.mark.mosquitto

NOT_AUTHORIZED = 135


class Session:
    def __init__(
        self, port: int, user: str | None, password: str | None, client_id: str | None = None
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"{user}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,  # a session the broker drops stays dropped
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        self.connack: Any = None
        self.published: dict[int, int] = {}
        self.subscribed: dict[int, list[int]] = {}
        self.messages: list[str] = []
        # Why the broker dropped this session, if it did.
        self.dropped: list[str] = []
        self.event = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda _c, _u, _f, reason, _p: self.dropped.append(str(reason))
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
def secured(tmp_path: Path) -> Iterator[tuple[Broker, dict[str, str]]]:
    """The shipped mosquitto.conf with the files `gridwatch mqtt-acl` writes."""
    credentials = write_broker_files(tmp_path / "broker", ["w1", "w2", "cam-1"])
    with mosquitto(auth=tmp_path / "broker") as broker:
        yield broker, credentials


def test_workers_are_confined_to_their_own_topics(secured: tuple[Broker, dict[str, str]]) -> None:
    broker, credentials = secured
    port = broker.port
    ingest = Session(broker.platform_port, INGEST_USER, credentials[INGEST_USER])
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
    secured: tuple[Broker, dict[str, str]], user: str | None, password: str | None
) -> None:
    broker, _ = secured
    for port in (broker.port, broker.platform_port):
        session = Session(port, user, password)
        assert session.connack in (134, 135)  # bad user name or password / not authorized
        session.close()


def test_a_phone_is_only_ever_itself(secured: tuple[Broker, dict[str, str]]) -> None:
    """Another client's id is no way into its session: on the phones' listener a client's id is its
    user name, and a phone's login does not open the platform's listener."""
    broker, credentials = secured
    platform = Session(broker.platform_port, INGEST_USER, credentials[INGEST_USER], "gridwatch-ingest-1")
    w2 = Session(broker.port, "w2", credentials["w2"])
    assert platform.subscribe("gw/+/up/+/+") == [1]
    impostors = [
        Session(broker.port, "w1", credentials["w1"], client_id)
        for client_id in ("gridwatch-ingest-1", "gridwatch-ingest-1-relay", "w2")
    ]
    assert [i.connack for i in impostors] == [0, 0, 0]  # let in, as w1
    assert impostors[-1].publish("gw/339921/up/w1/report") == 0
    w2_phone = Session(broker.platform_port, "w2", credentials["w2"], "gridwatch-ingest-1")
    assert w2_phone.connack == 135
    threading.Event().wait(0.5)
    assert platform.dropped == [] and w2.dropped == []
    assert platform.messages == ["gw/339921/up/w1/report"]
    # The same login twice is one session: the newer connection replaces the older.
    assert [bool(i.dropped) for i in impostors] == [True, True, False]
    for session in (platform, w2, w2_phone, *impostors):
        session.close()


def test_password_lines_are_salted() -> None:
    assert password_line("a", "same") != password_line("a", "same")
    assert password_line("a", "same", b"0" * 12) == password_line("a", "same", b"0" * 12)


def test_mqtt_acl_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, county: Any) -> None:
    from sqlmodel import Session as DbSession

    from server.cli import main
    from server.db import migrate
    from server.db.engine import make_engine
    from server.db.tables import WorkerRow
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
    phones = len(county.workers) + len(county.devices)
    assert f"for {phones + 1} accounts" in done.output
    assert len((tmp_path / "broker" / "passwords").read_text().splitlines()) == phones
    [platform] = (tmp_path / "broker" / "platform-passwords").read_text().splitlines()
    assert platform.startswith(f"{INGEST_USER}:$7$")
    assert (tmp_path / "broker" / "credentials.csv").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "broker" / "acl").stat().st_mode & 0o777 == 0o600
    # A worker named like the platform would be a phone with the platform's client id.
    with DbSession(engine) as session:
        session.add(WorkerRow(id="gridwatch-ingest-1", name="冒名", township=county.workers[0].township))
        session.commit()
    engine.dispose()
    refused = CliRunner().invoke(main, ["mqtt-acl", "--out", str(tmp_path / "again")])
    assert refused.exit_code == 1
    assert "nothing written: gridwatch-ingest-1: ids starting with 'gridwatch-'" in refused.output
    assert not (tmp_path / "again").exists()


@pytest.mark.parametrize("sender", ["gridwatch-serve-1", "gridwatch-x", INGEST_USER, "platform"])
def test_no_sender_may_have_a_platform_id(tmp_path: Path, sender: str) -> None:
    with pytest.raises(ValueError, match=f"^{sender}: ids starting with"):
        write_broker_files(tmp_path, ["w1", sender], ingest_user="platform")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["gridwatch-ingest-2", "gridwatch-serve-a.b_c"])
def test_platform_client_ids(value: str) -> None:
    assert platform_client_id(value) == value


@pytest.mark.parametrize("value", ["w1", "ingest-1", "gridwatch-", "gridwatch-a b", "gridwatch-#", ""])
def test_platform_client_ids_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must start with 'gridwatch-'"):
        platform_client_id(value)
