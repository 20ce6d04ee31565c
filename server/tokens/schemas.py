"""The token API's response bodies: what a token is for, never its secret or digest."""

from __future__ import annotations

import datetime as dt

import msgspec


class TokenOut(msgspec.Struct):
    id: int
    role: str
    scope: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool
