"""Every setting of the server in one place, read from GRIDWATCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GRIDWATCH_{name}", default)


@dataclass(frozen=True)
class Settings:
    # SQLite (WAL) in the working folder by default; postgresql+psycopg://user:pass@host/db in production.
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite:///gridwatch.db"))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "8000")))
    # The MQTT broker the ingest worker reads from (mqtt://host:port).
    # mqtt://host:port of the county's broker; empty: `serve` starts the embedded broker on loopback.
    mqtt_url: str = field(default_factory=lambda: _env("MQTT_URL", ""))
    embedded_mqtt_port: int = field(default_factory=lambda: int(_env("EMBEDDED_MQTT_PORT", "1883")))
    # Fixed, so a restarted worker picks up its persistent session and nothing queued is lost.
    ingest_client_id: str = field(default_factory=lambda: _env("INGEST_CLIENT_ID", "gridwatch-ingest-1"))
    media_dir: Path = field(default_factory=lambda: Path(_env("MEDIA_DIR", "media")))
    # Largest request body accepted, in bytes (media uploads have their own limit).
    max_body_bytes: int = field(default_factory=lambda: int(_env("MAX_BODY_BYTES", str(1024 * 1024))))
    # Largest photo or short video accepted by POST /media.
    media_max_bytes: int = field(default_factory=lambda: int(_env("MEDIA_MAX_BYTES", str(20 * 1024 * 1024))))


def get_settings() -> Settings:
    return Settings()
