"""The field side of a server process: the MQTT ingest worker and the outbox relay, and on one
machine with no broker configured, the embedded amqtt broker on loopback for them to use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from paho.mqtt.enums import MQTTProtocolVersion
from sqlmodel import Session

from grid.places import county_of
from server.events.store import SqlOutbox
from server.field.store import SqlRoster
from server.reference.service import first_county_code
from server.runtime import Runtime
from sync.broker import BrokerAddress
from sync.embedded_broker import EmbeddedBroker
from sync.ingest import MqttIngest
from sync.relay import OutboxEvent, Relay

log = logging.getLogger("gridwatch.field")


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
