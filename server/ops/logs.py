"""Logging for the long-running commands: every logger (ours, uvicorn's, alembic's, paho's) through
one handler on stderr, as text for a person or one JSON object per line for a log collector."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from server.settings import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(settings: Settings, process: str) -> None:
    """`process` (serve, ingest …) is stamped on every JSON line, so a collector can tell them apart."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"process": process},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn configures its own loggers unless told not to; let them reach the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
