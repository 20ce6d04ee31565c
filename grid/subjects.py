"""Inspected subjects (监管对象) and field devices (cameras and sensors)."""

from __future__ import annotations

import datetime as dt
import enum

import msgspec


class SubjectKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    SHOP = "shop"  # 个体商户
    SITE = "site"  # 工地、采砂点、养殖场
    PLACE = "place"  # 公共场所


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    kind: SubjectKind
    # Business type, e.g. "catering", "construction_site"; decides which departments' matters apply.
    trade: str
    risk: int  # 1 (low) .. 4 (high)
    lon: float
    lat: float
    cell: str
    address: str
    last_inspected: dt.date | None = None
    # 无事不扰: days after a visit during which the subject is left alone unless an incident names it.
    quiet_days: int = 90


class DeviceKind(enum.StrEnum):
    CAMERA = "camera"
    SENSOR = "sensor"


class Device(msgspec.Struct, frozen=True, kw_only=True):
    """A registered remote-enforcement device with a fixed location."""

    id: str
    kind: DeviceKind
    lon: float
    lat: float
    cell: str
    # The categories it may raise; empty means any.
    categories: tuple[str, ...]

    def raises(self, category: str) -> bool:
        return not self.categories or category in self.categories
