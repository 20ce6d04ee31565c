"""The outbox relay: committed changes out to the broker, at least once.

Every change is written to the outbox in its own transaction; the relay reads the outbox after its
cursor, publishes each event on gw/{c}/events/{township}/{kind} and the tasks it implies on
gw/{c}/down/{d}/task (a dispatch and a verification to the cell's workers, a whistle to each unit
called), waits for the broker's PUBACKs, and only then moves the cursor. A relay that dies
mid-batch publishes the batch again: consumers key on the event id. Two relays are safe: the
cursor moves by compare-and-set, so one of them wins each batch; and only one of them, the one that
leads, publishes at a time, so the broker does not carry every event twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from sync.broker import BrokerAddress
from sync.codecs import ENCODER, Task
from sync.topics import PREFIX, task_topic

log = logging.getLogger("gridwatch.relay")
BATCH = 500
POLL_SECONDS = 0.25
# Outbox ids come from a sequence: on PostgreSQL a later id can commit before an earlier one, and a
# rolled-back transaction leaves a hole for good. A hole is waited for this long, then passed.
GAP_WAIT_SECONDS = 5.0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutboxEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: dt.datetime
    kind: str
    incident: str | None
    township: str | None
    units: list[str]
    payload: dict[str, Any]


class Outbox(Protocol):
    def cursor(self) -> int: ...

    def after(self, cursor: int, limit: int) -> Sequence[OutboxEvent]: ...

    def advance(self, seen: int, to: int) -> bool:
        """Move the cursor from `seen` to `to`; False if another relay moved it first."""
        ...

    def lead(self) -> bool:
        """True while this relay is the one that publishes (taking the lead if nobody holds it)."""
        ...

    def release(self) -> None:
        """Give up the lead, so another relay takes over at once."""
        ...


def readable(ids: Sequence[int], times: Sequence[dt.datetime], cursor: int, now: dt.datetime) -> int:
    """How many of the outbox rows after `cursor` (ids ascending, with their commit times) may be
    read now: up to the first hole that may still fill. A hole is given up on when the row after it
    is older than GAP_WAIT_SECONDS (that transaction rolled back). Shared by the relay and the
    HTTP live stream, so neither skips an event that commits late."""
    expected = cursor + 1
    for n, (id_, at) in enumerate(zip(ids, times, strict=True)):
        if id_ != expected and (now - at).total_seconds() < GAP_WAIT_SECONDS:
            return n
        expected = id_ + 1
    return len(ids)


def event_topic(county: str, event: OutboxEvent) -> str:
    return f"{PREFIX}/{county}/events/{event.township or 'unlocated'}/{event.kind}"


def messages_for(
    event: OutboxEvent, county: str, workers_in: Callable[[str], Sequence[str]]
) -> list[tuple[str, bytes]]:
    """The event itself, and the tasks it implies."""
    out = [(event_topic(county, event), ENCODER.encode(event))]
    p = event.payload
    kind = {"incident.dispatch": "dispatch", "incident.handle": "verify"}.get(event.kind)
    if kind is not None and p.get("cell"):
        task = Task(
            id=event.id,
            type=kind,  # type: ignore[arg-type]
            incident=event.incident,
            at=event.at,
            category=p.get("category"),
            cell=p["cell"],
            lon=p.get("lon"),
            lat=p.get("lat"),
            lead=p.get("lead"),
            due=p.get("deadline"),
        )
        out += [(task_topic(county, w), ENCODER.encode(task)) for w in workers_in(p["cell"])]
    if event.kind == "whistle.opened":
        task = Task(
            id=event.id,
            type="whistle",
            incident=event.incident,
            at=event.at,
            whistle=p.get("whistle"),
            due=p.get("due"),
        )
        out += [(task_topic(county, unit), ENCODER.encode(task)) for unit in event.units]
    return out


class Relay:
    """The paho side: a thread that drains the outbox into the broker."""

    def __init__(
        self,
        outbox: Outbox,
        county_of: Callable[[OutboxEvent], str],
        workers_in: Callable[[str], Sequence[str]],
        broker: BrokerAddress,
        client_id: str,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    ) -> None:
        self.outbox = outbox
        self.county_of = county_of
        self.workers_in = workers_in
        self.broker = broker
        self.published = 0
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"relay-{client_id}", daemon=True)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
        self.client.on_connect = lambda *_: self.connected.set()
        self.client.on_disconnect = lambda *_: self.connected.clear()

    def start(self) -> None:
        self.outbox.cursor()  # a first start fixes its starting point now, not whenever the thread runs
        self.broker.login(self.client)
        self.client.connect_async(self.broker.host, self.broker.port)
        self.client.loop_start()
        self.thread.start()

    def stop(self, wait: float = 10.0) -> None:
        self.stopping.set()
        self.thread.join(timeout=wait)
        self.outbox.release()
        self.client.disconnect()
        self.client.loop_stop()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                moved = self.connected.is_set() and self.outbox.lead() and self.drain_once()
            except Exception:
                log.exception("relay batch failed; retrying")
                moved = False
            if not moved:
                self.stopping.wait(POLL_SECONDS)

    def drain_once(self) -> bool:
        """Publish one batch and move the cursor; True if there was anything."""
        cursor = self.outbox.cursor()
        events = list(self.outbox.after(cursor, BATCH))
        events = events[: readable([e.id for e in events], [e.at for e in events], cursor, utc_now())]
        if not events:
            return False
        infos = [
            self.client.publish(topic, payload, qos=1)
            for event in events
            for topic, payload in messages_for(event, self.county_of(event), self.workers_in)
        ]
        for info in infos:
            info.wait_for_publish(timeout=30)
        if all(info.is_published() for info in infos):
            self.outbox.advance(cursor, events[-1].id)
            self.published += len(infos)
        return True
