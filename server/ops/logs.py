"""Logging for the long-running commands: every logger (ours, uvicorn's, alembic's, paho's) through
one handler on stderr, as text for a person or one JSON object per line for a log collector."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from server.settings import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# An Open311 api_key in a query string or form, a bearer header, or a token standing alone.
SECRET = re.compile(r"(?i)(api(?:_|%5f)key=)[^&\s\"']*|(bearer\s+)\S+|gw_[A-Za-z0-9_-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return SECRET.sub(lambda m: (m.group(1) or m.group(2) or "gw_") + REDACTED, text)


class RedactSecrets(logging.Filter):
    """Keep tokens out of every line: Open311 clients send theirs as `api_key` in the query string,
    which uvicorn's access log writes as it came."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True  # a record that cannot be formatted is the handler's to report, as ever
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


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
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn configures its own loggers unless told not to; let them reach the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
