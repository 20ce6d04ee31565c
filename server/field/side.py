"""The field side of a server process: the MQTT ingest worker and the outbox relay, and on one
machine with no broker configured, the embedded amqtt broker on loopback for them to use."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field

from paho.mqtt.enums import MQTTProtocolVersion
from sqlmodel import Session

from grid.places import county_of
from server.events.store import SqlOutbox
from server.field.store import SqlRoster
from server.reference.service import first_county_code
from server.runtime import Runtime
from sync.broker import BrokerAddress
from sync.ingest import MqttIngest
from sync.relay import OutboxEvent, Relay

log = logging.getLogger("gridwatch.field")


class EmbeddedBroker:
    """amqtt in its own thread and event loop, bound to loopback: the one-machine default. It speaks
    MQTT 3.1.1 and keeps sessions in memory; a county's deployment uses Mosquitto (deploy/)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="amqtt", daemon=True)
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from amqtt.broker import Broker  # type: ignore[import-untyped]

        broker = Broker(
            {
                "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
            }
        )
        self._stop = asyncio.Event()
        try:
            await broker.start()
        except BaseException as exc:  # the port is taken, most likely: say so to the caller
            self.failed = exc
            self.ready.set()
            return
        self.ready.set()
        await self._stop.wait()
        await broker.shutdown()

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(30)
        if self.failed is not None:
            raise RuntimeError(
                f"the embedded MQTT broker could not start on 127.0.0.1:{self.port}: {self.failed}"
            )

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)


@dataclass
class FieldSide:
    """Ingest and relay against a broker: the configured one, or the embedded one when there is none."""

    runtime: Runtime
    # None: start the embedded broker on loopback and use it.
    address: BrokerAddress | None
    client_id: str
    shared: bool = False
    broker: EmbeddedBroker | None = None
    ingest: MqttIngest | None = None
    relay: Relay | None = None
    roster: SqlRoster = field(init=False)

    def __post_init__(self) -> None:
        self.roster = SqlRoster(self.runtime.engine)

    def start(self) -> BrokerAddress:
        if self.address is not None:
            address = self.address
            protocol = MQTTProtocolVersion.MQTTv5
        else:
            address = BrokerAddress("127.0.0.1", self.runtime.settings.embedded_mqtt_port)
            self.broker = EmbeddedBroker(address.port)
            self.broker.start()
            protocol = MQTTProtocolVersion.MQTTv311
        with Session(self.runtime.engine) as session:
            try:
                home = first_county_code(session)
            except LookupError:  # nothing loaded yet: only unlocated events need it
                home = "000000"

        def county_for(event: OutboxEvent) -> str:
            return county_of(event.township) if event.township else home

        self.ingest = MqttIngest(
            self.runtime.field_ingest(self.roster),
            address,
            self.client_id,
            shared=self.shared,
            protocol=protocol,
            meter=self.runtime.metrics,
        )
        self.runtime.metrics.watch(self.ingest)
        try:
            self.ingest.start()
            self.ingest.wait_connected(30)
        except RuntimeError:
            self.stop()
            raise
        self.relay = Relay(
            SqlOutbox(self.runtime.engine),
            county_for,
            self.roster.workers_in,
            address,
            f"{self.client_id}-relay",
            protocol=protocol,
        )
        self.relay.start()
        return address

    def stop(self, wait: float = 10.0) -> None:
        """The batch in hand is finished and acknowledged; what is queued stays with the broker.
        The intake stops taking messages first; the relay then publishes what it has read."""
        if self.ingest is not None:
            self.ingest.stop(wait)
        if self.relay is not None:
            self.relay.stop(wait)
        if self.broker is not None:
            self.broker.stop()
