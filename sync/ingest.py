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
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from grid.errors import DomainError
from grid.incident import Source
from grid.intake import Intake, Report
from grid.patrols import Patrols, Ping, PingRefused
from grid.subjects import Device
from sync import owntracks
from sync.broker import BrokerAddress
from sync.codecs import (
    ENCODER,
    Ack,
    AlertMessage,
    PayloadError,
    PingMessage,
    ReportMessage,
    client_id_of,
    decode_alert,
    decode_pings,
    decode_report,
)
from sync.owntracks import PREFIX as OWNTRACKS
from sync.topics import INGEST_FILTERS, TopicError, UpKind, UpTopic, ack_topic, parse_up
from sync.topics import shared as shared_filter

log = logging.getLogger("gridwatch.ingest")
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600
# A batch is what has arrived within BATCH_WAIT_SECONDS of its first message, at most BATCH_MAX.
BATCH_MAX = 200
BATCH_WAIT_SECONDS = 0.02
# How many unacknowledged messages the broker may send at once; a batch needs room to form.
RECEIVE_MAXIMUM = 1000
# After a failed batch, wait this long before reconnecting for redelivery.
RETRY_SECONDS = 1.0
# How many times a message that fails by itself, with the store there, is tried before it is refused.
ATTEMPTS = 3
# MQTT 5's reason when another client logs in with this one's id. Mosquitto 2.0 closes the socket
# without it, so there a takeover shows as a disconnect every second or two.
SESSION_TAKEN_OVER = 142
# Messages waiting this long without a batch done mean the intake is stuck: /health says so.
STALL_SECONDS = 30.0
# What to publish in answer: (topic, payload).
Answer = tuple[str, bytes]


class Roster(Protocol):
    def role_of(self, sender: str) -> str | None:
        """'worker' or 'device' for a registered sender, None for a stranger."""
        ...

    def device(self, device: str) -> Device | None:
        """A registered camera or sensor, with its place."""
        ...

    def cells_of(self, worker: str) -> Sequence[tuple[str, str]]:
        """The worker's cells as (code, name)."""
        ...


class RejectSink(Protocol):
    def keep(self, topic: str, device: str | None, reason: str, raw: bytes, redelivered: bool) -> None:
        """Commit the refused message with its raw bytes; a redelivered one only if it is not kept yet."""
        ...


class IngestMeter(Protocol):
    """What an operator watches (the server counts it for Prometheus)."""

    def taken(self, kinds: Sequence[str], waits: Sequence[float]) -> None:
        """A batch committed and answered: each message's kind and its seconds from arrival to answer."""
        ...

    def failed(self, count: int) -> None:
        """A batch of `count` messages failed and goes back to the broker."""
        ...


class Incoming(NamedTuple):
    topic: str
    raw: bytes
    # The broker's DUP flag: this may be a message a worker took before and died without acking.
    redelivered: bool = False


class Pending(NamedTuple):
    """A message that decoded into a report (or alert) and waits for its batch."""

    position: int
    up: UpTopic
    report: Report


class PendingPings(NamedTuple):
    position: int
    pings: list[Ping]
    # The OwnTracks phone they came from; None for the platform's own ping topic.
    phone: owntracks.OwnTracksTopic | None = None

    @property
    def via(self) -> str:
        return "gridwatch" if self.phone is None else "owntracks"


def _ack(up: UpTopic, ack: Ack) -> Answer:
    return ack_topic(up.county, up.device), ENCODER.encode(ack)


class Ingest:
    """Turns up-messages into answers (acks, OwnTracks commands) or nothing, when there is nobody
    to answer. Reports and alerts of a batch are committed in one transaction, its pings in another."""

    def __init__(
        self,
        intake: Intake,
        patrols: Patrols,
        roster: Roster,
        rejects: RejectSink,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        outage: Callable[[Exception], bool] = lambda exc: False,
    ) -> None:
        self.intake = intake
        self.patrols = patrols
        self.roster = roster
        self.rejects = rejects
        self.new_id = new_id
        # Whether an error says the store is away (try the batch again later) rather than that a
        # message is bad: a good report must never be refused because the database restarted, nor
        # may a message the database keeps refusing while it answers hold the intake forever.
        self.outage = outage
        # OwnTracks phones that were sent their worker's regions by this process.
        self.regions_sent: set[tuple[str, str]] = set()

    def handle(self, topic: str, raw: bytes) -> Answer | None:
        return self.handle_many([(topic, raw)])[0]

    def handle_many(self, batch: Sequence[tuple[str, bytes] | Incoming]) -> list[Answer | None]:
        messages = [m if isinstance(m, Incoming) else Incoming(*m) for m in batch]
        answers: list[Answer | None] = [None] * len(messages)
        reports: list[Pending] = []
        pings: list[PendingPings] = []
        for i, message in enumerate(messages):
            owntracks_topic = message.topic.startswith(OWNTRACKS)
            taken = self._owntracks(i, message) if owntracks_topic else self._field(i, message)
            if isinstance(taken, Pending):
                reports.append(taken)
            elif isinstance(taken, PendingPings):
                pings.append(taken)
            else:
                answers[i] = taken
        self._submit(messages, reports, answers)
        for via in {p.via for p in pings}:
            self.patrols.take([ping for p in pings if p.via == via for ping in p.pings], via)
        for p in pings:
            if p.phone is not None:
                answers[p.position] = self._regions_once(p.phone)
        return answers

    def reject(self, message: Incoming, reason: str) -> Answer | None:
        """Keep a message the platform could not take as a reject and refuse it, so that it cannot
        hold back the messages around it."""
        try:
            up = parse_up(message.topic)
        except TopicError:
            self._keep(message, None, reason)
            return None
        return self._refuse(message, up, reason)

    # -- gw/{c}/up/{d}/… ----------------------------------------------------------------------------

    def _keep(self, message: Incoming, device: str | None, reason: str) -> None:
        self.rejects.keep(message.topic, device, reason, message.raw, message.redelivered)

    def _refuse(self, message: Incoming, up: UpTopic, reason: str) -> Answer:
        self._keep(message, up.device, reason)
        return _ack(up, Ack(id=client_id_of(message.raw), status="rejected", error=reason))

    def _field(self, i: int, message: Incoming) -> Pending | PendingPings | Answer | None:
        """What a gw/… message carries, or the answer that refuses it (None: nobody to answer)."""
        raw = message.raw
        try:
            up = parse_up(message.topic)
        except TopicError as exc:
            self._keep(message, None, str(exc))
            return None
        role = self.roster.role_of(up.device)
        if role is None:
            return self._refuse(message, up, f"unknown device {up.device!r}")
        expected = "device" if up.kind is UpKind.ALERT else "worker"
        if role != expected:
            return self._refuse(message, up, f"{up.kind.value} messages come from a {expected}, not a {role}")
        try:
            if up.kind is UpKind.REPORT:
                return Pending(i, up, self._report(up, decode_report(raw)))
            if up.kind is UpKind.ALERT:
                return Pending(i, up, self._alert(up, decode_alert(raw)))
            return PendingPings(i, self._pings(up.device, decode_pings(raw)))
        except (PayloadError, PingRefused) as exc:
            return self._refuse(message, up, str(exc))

    @staticmethod
    def _same_device(up: UpTopic, named: str) -> None:
        if named != up.device:
            raise PayloadError(f"payload device {named!r} does not match topic device {up.device!r}")

    def _report(self, up: UpTopic, message: ReportMessage) -> Report:
        if message.device is not None:
            self._same_device(up, message.device)
        return Report(
            device=f"worker:{up.device}",
            client_id=message.id,
            source=Source.REPORT,
            category=message.category,
            lon=message.lon,
            lat=message.lat,
            ts=message.ts,
            crs=message.crs,
            accuracy=message.acc,
            text=message.text,
            media=tuple(message.media),
            subject=message.subject_id,
            reporter=up.device,
        )

    def _alert(self, up: UpTopic, message: AlertMessage) -> Report:
        self._same_device(up, message.device)
        device = self.roster.device(up.device)
        if device is None:
            raise PayloadError(f"device {up.device!r} is not in the device registry")
        if not device.raises(message.category):
            raise PayloadError(
                f"device {up.device!r} is registered for {', '.join(device.categories)}, not {message.category}"
            )
        return Report(
            device=f"device:{up.device}",
            client_id=message.id,
            source=Source.ALERT,
            category=message.category,
            lon=device.lon,
            lat=device.lat,
            ts=message.ts,
            media=() if message.snapshot_url is None else (message.snapshot_url,),
            confidence=message.confidence,
        )

    def _pings(self, worker: str, messages: list[PingMessage]) -> list[Ping]:
        pings = [
            Ping(worker=worker, at=m.ts, lon=m.lon, lat=m.lat, accuracy=m.acc, crs=m.crs) for m in messages
        ]
        for ping in pings:
            self.patrols.check(ping)
        return pings

    def _submit(
        self, messages: Sequence[Incoming], reports: list[Pending], answers: list[Answer | None]
    ) -> None:
        if not reports:
            return
        results = self.intake.submit_many([p.report for p in reports], self.new_id)
        for (i, up, report), result in zip(reports, results, strict=True):
            if isinstance(result, DomainError):
                answers[i] = self._refuse(messages[i], up, result.message_en)
                continue
            incident = result.incident
            answers[i] = _ack(
                up,
                Ack(
                    id=report.client_id,
                    status="duplicate" if result.replayed else "accepted",
                    incident=incident.id,
                    cell=incident.cell,
                    responsible=incident.assignment.lead if incident.assignment else None,
                    merged=result.merged,
                ),
            )

    # -- owntracks/{user}/{device}[/event] ----------------------------------------------------------

    def _owntracks(self, i: int, message: Incoming) -> PendingPings | None:
        where = owntracks.parse_topic(message.topic)
        if where is None:
            self._keep(message, None, f"not an OwnTracks topic: {message.topic!r}")
            return None
        if self.roster.role_of(where.user) != "worker":
            self._keep(message, where.user, f"OwnTracks user {where.user!r} is not a worker")
            return None
        try:
            said = owntracks.decode(message.raw)
            if isinstance(said, owntracks.LastWill):
                self.patrols.offline(where.user, "owntracks")
                return None
            if said is None:
                return None
            ping = Ping(
                worker=where.user,
                at=owntracks.moment(said.tst),
                lon=said.lon,
                lat=said.lat,
                accuracy=said.acc,
            )
            self.patrols.check(ping)
        except (PayloadError, PingRefused) as exc:
            self._keep(message, where.user, str(exc))
            return None
        return PendingPings(i, [ping], where)

    def _regions_once(self, where: owntracks.OwnTracksTopic) -> Answer | None:
        if (where.user, where.device) in self.regions_sent:
            return None
        self.regions_sent.add((where.user, where.device))
        index = self.intake.domain().index
        regions = [
            owntracks.Region(code, name, *index.circle(code))
            for code, name in self.roster.cells_of(where.user)
            if code in index.codes
        ]
        return owntracks.cmd_topic(where.user, where.device), owntracks.set_waypoints(
            regions, self.intake.clock()
        )


class _Unavailable(Exception):
    """The store is away (an outage, or not even a reject could be written): not the message at fault."""


def _confirmed(info: mqtt.MQTTMessageInfo) -> bool:
    """An ack the broker has confirmed, or one that can never be (it was published while the
    broker was away; the phone's resend gets the same answer again)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


def kind_of(topic: str) -> str:
    """report, alert or ping for the platform's topics, owntracks for the app's, other for the rest."""
    if topic.startswith(OWNTRACKS):
        return "owntracks"
    kind = topic.rsplit("/", 1)[-1]
    return kind if kind in {k.value for k in UpKind} else "other"


class MqttIngest:
    """The paho side: messages queue up; a handler thread takes them in batches, commits each batch
    once, publishes the acks, then PUBACKs the batch."""

    def __init__(
        self,
        ingest: Ingest,
        broker: BrokerAddress,
        client_id: str,
        *,
        shared: bool = False,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
        meter: IngestMeter | None = None,
    ) -> None:
        self.ingest = ingest
        self.broker = broker
        self.meter = meter
        self.client_id = client_id
        # A plain persistent subscription survives a broker restart with the worker away. Mosquitto
        # 2.0 forgets an offline session's shared subscription on restart (messages published
        # before the restart are kept, later ones are not), so the shared group is for scale-out
        # with workers online.
        self.topic_filters = [shared_filter(f) if shared else f for f in INGEST_FILTERS]
        # The session keeps what an earlier run of this client id subscribed to; a worker switched
        # between plain and shared would otherwise take every message twice.
        self.former_filters = [f if shared else shared_filter(f) for f in INGEST_FILTERS]
        self.handled = 0
        self.failed_batches = 0
        self.progressed = time.monotonic()  # when a batch was last done
        self.connected = threading.Event()
        # Why the broker last refused to let us in (bad credentials, most often); None once in.
        self.refusal: str | None = None
        # Each message with the moment it arrived, for the ack latency.
        self.inbox: queue.Queue[tuple[mqtt.MQTTMessage, float]] = queue.Queue()
        self.stopping = threading.Event()
        self.handler = threading.Thread(target=self._run, name=f"ingest-{client_id}", daemon=True)
        # Acks published but not yet confirmed by the broker; a clean stop waits for them.
        self.unconfirmed: list[mqtt.MQTTMessageInfo] = []
        self.protocol = protocol
        # MQTT 3.1.1 (the embedded amqtt broker) keeps the session with clean_session false.
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            manual_ack=True,
            clean_session=None if protocol == MQTTProtocolVersion.MQTTv5 else False,
        )
        # Back within a second or two of the broker: Mosquitto 2.0 does not restore a shared
        # subscription after its own restart, so until the workers subscribe again what phones
        # publish has no subscriber (docs/deploy.md). paho's default backoff grows to 2 minutes.
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self.refusal = str(reason)
            log.error("broker refused the connection: %s", reason)
            return
        self.refusal = None
        client.unsubscribe(self.former_filters)
        client.subscribe([(f, 1) for f in self.topic_filters])

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected.clear()
        if self.stopping.is_set():
            return
        if getattr(reason, "value", None) == SESSION_TAKEN_OVER:
            log.error(
                "the broker gave this worker's session (client id %s) to another client: %s; two "
                "processes share the id, or something logs in with it on the platform's listener",
                self.client_id,
                reason,
            )
        else:
            log.warning("disconnected from the broker at %s (%s); reconnecting", self.broker, reason)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: Any, reasons: Any, _props: Any
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            self.refusal = f"the broker refused the subscription: {', '.join(refused)}"
            log.error(self.refusal)
            return
        self.connected.set()  # only now does what phones publish reach this worker

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not self.stopping.is_set():
            self.inbox.put((message, time.monotonic()))  # not acknowledged until its batch is committed

    def _next_batch(self) -> list[tuple[mqtt.MQTTMessage, float]]:
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
        # Nothing may end this loop but a stop: a handler thread that died would leave the network
        # loop connected and every message unanswered.
        while not self.stopping.is_set():
            try:
                batch = self._next_batch()
                if batch:
                    self._handle(batch)
            except Exception:
                log.exception("the intake failed outside a batch; it goes on")

    def _handle(self, arrivals: list[tuple[mqtt.MQTTMessage, float]]) -> None:
        try:
            self._take(arrivals)
        except _Unavailable:
            # Not acknowledged. The broker resends unacknowledged messages only when the session
            # resumes, so drop what is queued here, wait, and reconnect to get them all again.
            log.exception("a batch of %d failed (database down?); reconnecting for redelivery", len(arrivals))
            self.failed_batches += 1
            if self.meter is not None:
                self.meter.failed(len(arrivals))
            self._drain()
            self.stopping.wait(RETRY_SECONDS)
            if not self.stopping.is_set():
                self.client.reconnect()

    def _take(self, arrivals: list[tuple[mqtt.MQTTMessage, float]]) -> None:
        """Commit and answer a batch. A batch that fails is split down to the single message; a
        single message that fails ATTEMPTS times is kept as a reject and refused, so one bad message
        never holds back the others. _Unavailable when the store is away, or even a reject cannot be
        written."""
        incoming = [Incoming(m.topic, bytes(m.payload), bool(m.dup)) for m, _ in arrivals]
        try:
            answers = self.ingest.handle_many(incoming)
        except Exception as exc:
            self._unless_outage(exc)
            if len(arrivals) > 1:
                half = len(arrivals) // 2
                self._take(arrivals[:half])
                self._take(arrivals[half:])
                return
            answers = [self._alone(incoming[0], exc)]
        self._answer(arrivals, answers)

    def _alone(self, message: Incoming, failure: Exception) -> Answer | None:
        """The answer to a message that failed by itself with the store there: it is tried again (a
        failure may have been passing), then refused."""
        for _ in range(1, ATTEMPTS):
            try:
                [answer] = self.ingest.handle_many([message])
            except Exception as exc:
                self._unless_outage(exc)
                failure = exc
            else:
                return answer
        return self._poison(message, failure)

    def _unless_outage(self, exc: Exception) -> None:
        if self.ingest.outage(exc):
            raise _Unavailable from exc

    def _poison(self, message: Incoming, exc: Exception) -> Answer | None:
        log.error("message on %s could not be taken; kept as a reject", message.topic, exc_info=exc)
        # The class of what the store raised names the failure without its statement or values.
        cause = type(exc.__cause__ or exc).__name__
        try:
            return self.ingest.reject(message, f"the platform could not store this message ({cause})")
        except Exception as again:
            raise _Unavailable from again

    def _answer(self, arrivals: list[tuple[mqtt.MQTTMessage, float]], answers: list[Answer | None]) -> None:
        """Publish the answers, then acknowledge the messages: their batch is committed."""
        self.unconfirmed = [i for i in self.unconfirmed if not _confirmed(i)]
        for answer in answers:
            if answer is not None:
                topic, payload = answer
                self.unconfirmed.append(self.client.publish(topic, payload, qos=1))
        for message, _ in arrivals:
            self.client.ack(message.mid, message.qos)
        self.handled += len(arrivals)
        self.progressed = time.monotonic()
        if self.meter is not None:
            answered = time.monotonic()
            self.meter.taken(
                [kind_of(message.topic) for message, _ in arrivals], [answered - at for _, at in arrivals]
            )

    def stalled(self) -> str | None:
        """Why the intake is not taking messages, or None while it is."""
        if not self.handler.is_alive():
            return "the intake has stopped"
        waiting = self.inbox.qsize()
        if waiting and time.monotonic() - self.progressed > STALL_SECONDS:
            return f"{waiting} messages waiting, no batch done for {STALL_SECONDS:.0f} s"
        return None

    def _drain(self) -> None:
        while True:
            try:
                self.inbox.get_nowait()
            except queue.Empty:
                return

    def start(self) -> None:
        """Connect and start taking messages; RuntimeError if the broker cannot be reached (nothing
        listens, or its TLS certificate does not check out)."""
        try:
            if self.protocol == MQTTProtocolVersion.MQTTv5:
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
                properties.ReceiveMaximum = RECEIVE_MAXIMUM
                self.broker.connect(self.client, clean_start=False, properties=properties)
            else:
                self.broker.connect(self.client)
        except OSError as exc:  # refused, unreachable, or an ssl.SSLError
            raise RuntimeError(f"cannot reach the MQTT broker at {self.broker}: {exc}") from None
        self.handler.start()
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> None:
        """Return once subscribed; RuntimeError if the broker refuses us or does not answer in time."""
        deadline = time.monotonic() + timeout
        while not self.connected.wait(0.1):
            if self.refusal is not None:
                raise RuntimeError(f"the MQTT broker at {self.broker} refused us: {self.refusal}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not connect to the MQTT broker at {self.broker}")

    def stop(self, wait: float = 10.0) -> None:
        """Finish the batch in hand, take no more, let the acks sent reach the broker, then leave.
        Messages still queued were not acknowledged: the broker delivers them again."""
        self.stopping.set()
        if self.handler.is_alive():
            self.handler.join(timeout=wait + 30)
        for info in list(self.unconfirmed):
            try:
                info.wait_for_publish(timeout=wait)
            except (RuntimeError, ValueError):  # lost with the connection: the phone sends again
                log.warning("an ack was not confirmed by the broker before the stop")
        self.client.disconnect()
        self.client.loop_stop()
