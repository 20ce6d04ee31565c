"""Every setting of the server in one place, read from GRIDWATCH_* environment variables.

The README's settings table lists each variable with its default; a test keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sync.acl import platform_client_id
from sync.broker import BrokerAddress

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A GRIDWATCH_* variable that cannot be used, named with what it should be."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GRIDWATCH_{name}", default)


def _number(name: str, default: int, low: int = 0, high: int | None = None) -> int:
    raw = _env(name, str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"GRIDWATCH_{name}={raw!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise SettingsError(f"GRIDWATCH_{name}={value} is out of range: it must be {bounds}")
    return value


def _client_id(name: str, default: str) -> str:
    raw = _env(name, default).strip()
    try:
        return platform_client_id(raw)
    except ValueError as exc:
        raise SettingsError(f"GRIDWATCH_{name}: {exc}") from None


def _choice(name: str, default: str, choices: tuple[str, ...], upper: bool = False) -> str:
    raw = _env(name, default).strip()
    value = raw.upper() if upper else raw.lower()
    if value not in choices:
        raise SettingsError(f"GRIDWATCH_{name}={raw!r} is not one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Settings:
    # SQLite (WAL) in the working folder by default; postgresql+psycopg://user:pass@host/db in production.
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite:///gridwatch.db"))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _number("PORT", 8000, 1, 65535))
    # mqtt://[user:password@]host[:port] (or mqtts://) of the county's broker; empty: `serve` starts
    # the embedded broker on loopback.
    mqtt_url: str = field(default_factory=lambda: _env("MQTT_URL", ""))
    # For mqtts://: the CA that signed the broker's certificate (a county's own); empty: the system's.
    mqtt_ca_file: str = field(default_factory=lambda: _env("MQTT_CA_FILE", ""))
    embedded_mqtt_port: int = field(default_factory=lambda: _number("EMBEDDED_MQTT_PORT", 1883, 1, 65535))
    # Fixed, so a restarted process picks up its persistent session and nothing queued is lost; one
    # per process, for the broker ends a session when another client connects with its id.
    ingest_client_id: str = field(
        default_factory=lambda: _client_id("INGEST_CLIENT_ID", "gridwatch-ingest-1")
    )
    serve_client_id: str = field(default_factory=lambda: _client_id("SERVE_CLIENT_ID", "gridwatch-serve-1"))
    # Where `gridwatch ingest` serves its Prometheus metrics (on GRIDWATCH_HOST); 0 turns it off.
    metrics_port: int = field(default_factory=lambda: _number("METRICS_PORT", 9100, 0, 65535))
    media_dir: Path = field(default_factory=lambda: Path(_env("MEDIA_DIR", "media")))
    # Largest request body accepted, in bytes (media uploads have their own limit).
    max_body_bytes: int = field(default_factory=lambda: _number("MAX_BODY_BYTES", 1024 * 1024, 1))
    # Largest photo or short video accepted by POST /media.
    media_max_bytes: int = field(default_factory=lambda: _number("MEDIA_MAX_BYTES", 20 * 1024 * 1024, 1))
    # json: one JSON object per line (for a log collector); text: for a person at a terminal.
    log_format: str = field(default_factory=lambda: _choice("LOG_FORMAT", "text", LOG_FORMATS))
    log_level: str = field(default_factory=lambda: _choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True))
    # The address phones reach this server at, for pairing links and QR codes (https://grid.example.cn);
    # empty: the address the request that made the pairing came to.
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL", "").strip().rstrip("/"))
    # The field app's map background: a county's own tile server ({z}/{x}/{y}, e.g. 天地图 with its
    # key); empty: cells drawn as vectors on a plain background, nothing fetched from outside.
    tile_url: str = field(default_factory=lambda: _env("TILE_URL", "").strip())
    # How long a stopping process may take to finish its batch and its open requests.
    shutdown_seconds: int = field(default_factory=lambda: _number("SHUTDOWN_SECONDS", 10, 1))

    def broker(self) -> BrokerAddress | None:
        """The configured broker, or None for the embedded one."""
        if self.mqtt_ca_file and not Path(self.mqtt_ca_file).is_file():
            raise SettingsError(f"GRIDWATCH_MQTT_CA_FILE: no file at {self.mqtt_ca_file}")
        if not self.mqtt_url:
            return None
        try:
            return BrokerAddress.parse(self.mqtt_url, self.mqtt_ca_file)
        except ValueError as exc:
            raise SettingsError(f"GRIDWATCH_MQTT_URL: {exc}") from None


def get_settings() -> Settings:
    return Settings()
