"""The ingest worker: MQTT up-messages through the one intake pipeline, acks after the commit.

No loss: the broker gets its PUBACK only after the report is committed (or kept as a reject) and
the ack is published, so a worker that dies mid-message gets the message again on restart; the
intake's idempotency turns the redelivery into the same answer. A fixed client id, clean_start
false and a session expiry keep the queue while the worker is away.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from grid.errors import DomainError
from grid.incident import Source
from grid.intake import Intake, Report
from sync.codecs import ENCODER, Ack, PayloadError, client_id_of, decode_report
from sync.topics import SHARED_UP_FILTER, UP_FILTER, TopicError, UpKind, ack_topic, parse_up

log = logging.getLogger("gridwatch.ingest")
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600


class Roster(Protocol):
    def role_of(self, device: str) -> str | None:
        """'worker' or 'device' for a registered sender, None for a stranger."""
        ...


class RejectSink(Protocol):
    def keep(self, topic: str, device: str | None, reason: str, raw: bytes) -> None:
        """Commit the refused message with its raw bytes."""
        ...


class Ingest:
    """Turns one up-message into an ack (or nothing, when there is nobody to answer)."""

    def __init__(
        self,
        intake: Intake,
        roster: Roster,
        rejects: RejectSink,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.intake = intake
        self.roster = roster
        self.rejects = rejects
        self.new_id = new_id

    def handle(self, topic: str, raw: bytes) -> tuple[str, Ack] | None:
        try:
            up = parse_up(topic)
        except TopicError as exc:
            self.rejects.keep(topic, None, str(exc), raw)
            return None

        def refuse(reason: str) -> tuple[str, Ack]:
            self.rejects.keep(topic, up.device, reason, raw)
            return ack_topic(up.county, up.device), Ack(id=client_id_of(raw), status="rejected", error=reason)

        role = self.roster.role_of(up.device)
        if role is None:
            return refuse(f"unknown device {up.device!r}")
        if up.kind is not UpKind.REPORT:
            return refuse(f"{up.kind.value} messages are not taken yet")
        try:
            message = decode_report(raw)
        except PayloadError as exc:
            return refuse(str(exc))
        if message.device is not None and message.device != up.device:
            return refuse(f"payload device {message.device!r} does not match topic device {up.device!r}")
        report = Report(
            device=f"{role}:{up.device}",
            client_id=message.id,
            source=Source.REPORT if role == "worker" else Source.ALERT,
            category=message.category,
            lon=message.lon,
            lat=message.lat,
            ts=message.ts,
            crs=message.crs,
            accuracy=message.acc,
            text=message.text,
            media=tuple(message.media),
            subject=message.subject_id,
            reporter=up.device if role == "worker" else None,
        )
        try:
            outcome = self.intake.submit(report, self.new_id)
        except DomainError as exc:
            return refuse(exc.message_en)
        incident = outcome.incident
        return ack_topic(up.county, up.device), Ack(
            id=message.id,
            status="duplicate" if outcome.replayed else "accepted",
            incident=incident.id,
            cell=incident.cell,
            responsible=incident.assignment.lead if incident.assignment else None,
        )


class MqttIngest:
    """The paho side: subscribe, handle, publish the ack, then PUBACK."""

    def __init__(self, ingest: Ingest, host: str, port: int, client_id: str, *, shared: bool = False) -> None:
        self.ingest = ingest
        self.host, self.port = host, port
        self.client_id = client_id
        # A plain persistent subscription survives a broker restart with the worker away. Mosquitto
        # 2.0 forgets an offline session's shared subscription on restart (messages published
        # before the restart are kept, later ones are not), so the shared group is for scale-out
        # with workers online.
        self.topic_filter = SHARED_UP_FILTER if shared else UP_FILTER
        self.handled = 0
        # Acks published but not yet confirmed by the broker; a clean stop waits for them.
        self.unconfirmed: list[mqtt.MQTTMessageInfo] = []
        self.connected = threading.Event()
        # Held while a message is handled, so a stop never cuts one between commit and ack.
        self.busy = threading.Lock()
        self.stopping = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe(self.topic_filter, qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.busy:
            if self.stopping:
                return  # not acknowledged: delivered again to this session after the restart
            self._handle(client, message)

    def _handle(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        try:
            answer = self.ingest.handle(message.topic, bytes(message.payload))
        except Exception:
            # Not acknowledged: the broker delivers it again when this worker reconnects.
            log.exception("message on %s failed; it stays with the broker", message.topic)
            return
        if answer is not None:
            topic, ack = answer
            self.unconfirmed = [i for i in self.unconfirmed if not i.is_published()]
            self.unconfirmed.append(client.publish(topic, ENCODER.encode(ack), qos=1))
        client.ack(message.mid, message.qos)
        self.handled += 1

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        self.client.connect(self.host, self.port, clean_start=False, properties=properties)
        self.client.loop_start()

    def stop(self, wait: float = 10.0) -> None:
        """Finish the message in hand, take no more, let the acks sent reach the broker, then leave."""
        with self.busy:
            self.stopping = True
        for info in list(self.unconfirmed):
            info.wait_for_publish(timeout=wait)
        self.client.disconnect()
        self.client.loop_stop()
