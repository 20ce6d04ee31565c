"""The operations API's response bodies."""

from __future__ import annotations

import msgspec


class Health(msgspec.Struct):
    status: str
    database: str
    index_version: int
    cells: int
    schema_revision: str | None
