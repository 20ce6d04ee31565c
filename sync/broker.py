"""Where the MQTT broker is and how to log in: one URL, mqtt://[user:password@]host[:port], or
mqtts:// for TLS (port 8883 by default; the broker's certificate is checked against the system's
certificate authorities, or against the county's own CA file when one is given)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None

    @classmethod
    def parse(cls, url: str, ca_file: str | None = None) -> BrokerAddress:
        target = urlsplit(url)
        if target.scheme not in DEFAULT_PORTS or not target.hostname:
            raise ValueError(
                f"expected mqtt://[user:password@]host[:port] or mqtts://…, got {_hidden(url)!r}"
            )
        try:
            port = DEFAULT_PORTS[target.scheme] if target.port is None else target.port
        except ValueError:  # urllib's own: not a number, or out of range
            port = 0
        if not 1 <= port <= 65535:
            raise ValueError(f"the port in {_hidden(url)!r} is not a number from 1 to 65535")
        return cls(
            host=target.hostname,
            port=port,
            username=unquote(target.username) if target.username else None,
            password=unquote(target.password) if target.password is not None else None,
            tls=target.scheme == "mqtts",
            ca_file=ca_file or None,
        )

    def login(self, client: mqtt.Client) -> None:
        """Give `client` the credentials and TLS set-up it connects with."""
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set(ca_certs=self.ca_file)

    def connect(self, client: mqtt.Client, **options: Any) -> None:
        """Log `client` in and connect it; the caller starts its network loop."""
        self.login(client)
        client.connect(self.host, self.port, **options)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _hidden(url: str) -> str:
    """The URL without its password, for messages and logs."""
    target = urlsplit(url)
    if target.password is None:
        return url
    return url.replace(f":{target.password}@", ":***@", 1)
