"""Pairing and `GET /me` bodies. A code goes out once, when it is made; the token once, when claimed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

MINUTES_LOW, MINUTES_HIGH, MINUTES_DEFAULT = 5, 1440, 60
# A worker's or unit's id as the reference data spells them (w33992110120001, 339921.dept.zhzf).
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Label = Annotated[str, msgspec.Meta(max_length=200)]


class PairingIn(msgspec.Struct, forbid_unknown_fields=True):
    """Name a worker or a unit, not both."""

    worker: Ident | None = None
    unit: Ident | None = None
    label: Label = ""
    minutes: Annotated[int, msgspec.Meta(ge=MINUTES_LOW, le=MINUTES_HIGH)] = MINUTES_DEFAULT


class PairingMade(msgspec.Struct):
    id: int
    code: str  # ABCD-EFGH, shown once
    link: str  # {base}/field/#pair=ABCDEFGH
    role: str
    scope: str
    name: str
    expires_at: dt.datetime
    qr_svg: str


class PairingOut(msgspec.Struct):
    id: int
    role: str
    scope: str
    label: str
    created_at: dt.datetime
    created_by: str
    expires_at: dt.datetime
    claimed_at: dt.datetime | None
    token: int | None  # the token the phone was given (see GET /tokens)
    state: str  # waiting / expired / signed_in / signed_out


class ClaimIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=40)]
    device: Label = ""


class Identity(msgspec.Struct):
    """Who a token speaks for."""

    role: str
    scope: str
    actor: str
    name: str
    name_en: str | None  # a unit's English name
    county: str
    township: str | None


class Claimed(Identity):
    token: str


class AppSettings(msgspec.Struct):
    tile_url: str
    max_photos: int
    photo_max_bytes: int
    photo_long_edge: int
    ping_seconds: int


class MeOut(Identity):
    cells: list[str]  # a worker's cells
    app: AppSettings
