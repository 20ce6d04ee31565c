"""The MQTT topic scheme (docs/architecture.md#messaging)."""

from __future__ import annotations

import enum

import msgspec

PREFIX = "gw"
# Every ingest worker subscribes through one shared group, so several share the load (MQTT 5).
SHARED_GROUP = "gridwatch"
UP_FILTER = f"{PREFIX}/+/up/+/+"
# What the ingest takes: the platform's own up topics and the OwnTracks app's.
INGEST_FILTERS = (UP_FILTER, "owntracks/+/+", "owntracks/+/+/event")


def shared(topic_filter: str) -> str:
    return f"$share/{SHARED_GROUP}/{topic_filter}"


# Ids in topics are plain: no wildcards, separators or control characters can hide in them.
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


class UpKind(enum.StrEnum):
    REPORT = "report"
    PING = "ping"
    ALERT = "alert"


class TopicError(ValueError):
    pass


class UpTopic(msgspec.Struct, frozen=True):
    county: str
    device: str
    kind: UpKind


def _plain(part: str, what: str) -> str:
    if not part or len(part) > 64 or not set(part) <= _SAFE:
        raise TopicError(f"{what} {part!r} in the topic is not a plain id")
    return part


def parse_up(topic: str) -> UpTopic:
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != PREFIX or parts[2] != "up":
        raise TopicError(
            f"not an up topic: {topic!r} (expected gw/{{county}}/up/{{device}}/report|ping|alert)"
        )
    try:
        kind = UpKind(parts[4])
    except ValueError:
        raise TopicError(f"unknown message kind {parts[4]!r}; expected report, ping or alert") from None
    county = _plain(parts[1], "county")
    if len(county) != 6 or not county.isdigit():
        raise TopicError(f"county {county!r} in the topic is not a 6-digit code")
    return UpTopic(county=county, device=_plain(parts[3], "device"), kind=kind)


def ack_topic(county: str, device: str) -> str:
    return f"{PREFIX}/{county}/down/{device}/ack"


def task_topic(county: str, device: str) -> str:
    return f"{PREFIX}/{county}/down/{device}/task"
