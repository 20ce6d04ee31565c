"""The media API's response bodies."""

from __future__ import annotations

import msgspec


class MediaOut(msgspec.Struct):
    url: str
    name: str
    content_type: str
    size: int
