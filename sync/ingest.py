"""The ingest worker: MQTT up-messages through the one intake pipeline, acks after the commit.

No loss: the broker gets its PUBACK only after the report is committed (or kept as a reject) and
the ack is published, so a worker that dies mid-message gets the message again on restart; the
intake's idempotency turns the redelivery into the same answer. A fixed client id, clean_start
false and a session expiry keep the queue while the worker is away.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from grid.errors import DomainError
from grid.incident import Source
from grid.intake import Intake, Report
from sync.codecs import ENCODER, Ack, PayloadError, client_id_of, decode_report
from sync.topics import SHARED_UP_FILTER, UP_FILTER, TopicError, UpKind, UpTopic, ack_topic, parse_up

log = logging.getLogger("gridwatch.ingest")
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600
# A batch is what has arrived within BATCH_WAIT_SECONDS of its first message, at most BATCH_MAX.
BATCH_MAX = 200
BATCH_WAIT_SECONDS = 0.02
# How many unacknowledged messages the broker may send at once; a batch needs room to form.
RECEIVE_MAXIMUM = 1000
# After a failed batch, wait this long before reconnecting for redelivery.
RETRY_SECONDS = 1.0
# (ack topic, ack)
Answer = tuple[str, Ack]


class Pending(NamedTuple):
    """A message that decoded into a report and waits for its batch."""

    up: UpTopic
    report: Report


class Roster(Protocol):
    def role_of(self, device: str) -> str | None:
        """'worker' or 'device' for a registered sender, None for a stranger."""
        ...


class RejectSink(Protocol):
    def keep(self, topic: str, device: str | None, reason: str, raw: bytes) -> None:
        """Commit the refused message with its raw bytes."""
        ...


class Ingest:
    """Turns up-messages into acks (or nothing, when there is nobody to answer); a batch is
    committed in one transaction."""

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

    def handle(self, topic: str, raw: bytes) -> Answer | None:
        return self.handle_many([(topic, raw)])[0]

    def _refuse(self, topic: str, up: UpTopic, raw: bytes, reason: str) -> Answer:
        self.rejects.keep(topic, up.device, reason, raw)
        return ack_topic(up.county, up.device), Ack(id=client_id_of(raw), status="rejected", error=reason)

    def _report(self, topic: str, raw: bytes) -> Pending | Answer | None:
        """The report a message carries, or the answer that refuses it (None: nobody to answer)."""
        try:
            up = parse_up(topic)
        except TopicError as exc:
            self.rejects.keep(topic, None, str(exc), raw)
            return None
        role = self.roster.role_of(up.device)
        if role is None:
            return self._refuse(topic, up, raw, f"unknown device {up.device!r}")
        if up.kind is not UpKind.REPORT:
            return self._refuse(topic, up, raw, f"{up.kind.value} messages are not taken yet")
        try:
            message = decode_report(raw)
        except PayloadError as exc:
            return self._refuse(topic, up, raw, str(exc))
        if message.device is not None and message.device != up.device:
            return self._refuse(
                topic, up, raw, f"payload device {message.device!r} does not match topic device {up.device!r}"
            )
        return Pending(
            up,
            Report(
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
            ),
        )

    def handle_many(self, messages: Sequence[tuple[str, bytes]]) -> list[Answer | None]:
        answers: list[Answer | None] = [None] * len(messages)
        pending: list[tuple[int, UpTopic, Report]] = []
        for i, (topic, raw) in enumerate(messages):
            prepared = self._report(topic, raw)
            if isinstance(prepared, Pending):
                pending.append((i, prepared.up, prepared.report))
            else:
                answers[i] = prepared
        results = self.intake.submit_many([r for _, _, r in pending], self.new_id) if pending else []
        for (i, up, report), result in zip(pending, results, strict=True):
            topic, raw = messages[i]
            if isinstance(result, DomainError):
                answers[i] = self._refuse(topic, up, raw, result.message_en)
                continue
            incident = result.incident
            answers[i] = (
                ack_topic(up.county, up.device),
                Ack(
                    id=report.client_id,
                    status="duplicate" if result.replayed else "accepted",
                    incident=incident.id,
                    cell=incident.cell,
                    responsible=incident.assignment.lead if incident.assignment else None,
                ),
            )
        return answers


class MqttIngest:
    """The paho side: messages queue up; a handler thread takes them in batches, commits each batch
    once, publishes the acks, then PUBACKs the batch."""

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
        self.failed_batches = 0
        self.connected = threading.Event()
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.stopping = threading.Event()
        self.handler = threading.Thread(target=self._run, name=f"ingest-{client_id}", daemon=True)
        # Acks published but not yet confirmed by the broker; a clean stop waits for them.
        self.unconfirmed: list[mqtt.MQTTMessageInfo] = []
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

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not self.stopping.is_set():
            self.inbox.put(message)  # not acknowledged until its batch is committed

    def _next_batch(self) -> list[mqtt.MQTTMessage]:
        try:
            batch = [self.inbox.get(timeout=0.1)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + BATCH_WAIT_SECONDS
        while len(batch) < BATCH_MAX:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not self.stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._handle(batch)

    def _handle(self, batch: list[mqtt.MQTTMessage]) -> None:
        try:
            answers = self.ingest.handle_many([(m.topic, bytes(m.payload)) for m in batch])
        except Exception:
            # Not acknowledged. The broker resends unacknowledged messages only when the session
            # resumes, so drop what is queued here, wait, and reconnect to get them all again.
            log.exception("a batch of %d failed (database down?); reconnecting for redelivery", len(batch))
            self.failed_batches += 1
            self._drain()
            self.stopping.wait(RETRY_SECONDS)
            if not self.stopping.is_set():
                self.client.reconnect()
            return
        self.unconfirmed = [i for i in self.unconfirmed if not i.is_published()]
        for answer in answers:
            if answer is not None:
                topic, ack = answer
                self.unconfirmed.append(self.client.publish(topic, ENCODER.encode(ack), qos=1))
        for message in batch:
            self.client.ack(message.mid, message.qos)
        self.handled += len(batch)

    def _drain(self) -> None:
        while True:
            try:
                self.inbox.get_nowait()
            except queue.Empty:
                return

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self.handler.start()
        self.client.connect(self.host, self.port, clean_start=False, properties=properties)
        self.client.loop_start()

    def stop(self, wait: float = 10.0) -> None:
        """Finish the batch in hand, take no more, let the acks sent reach the broker, then leave.
        Messages still queued were not acknowledged: the broker delivers them again."""
        self.stopping.set()
        self.handler.join(timeout=wait + 30)
        for info in list(self.unconfirmed):
            info.wait_for_publish(timeout=wait)
        self.client.disconnect()
        self.client.loop_stop()
