"""The AsyncAPI document says what the codecs do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml  # type: ignore[import-untyped]

from sync.codecs import Ack, AlertMessage, PingMessage, ReportMessage, Task
from sync.relay import OutboxEvent
from sync.topics import ack_topic

DOC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("payload", "codec"),
    [
        (DOC["components"]["messages"]["report"]["payload"], ReportMessage),
        (DOC["components"]["messages"]["alert"]["payload"], AlertMessage),
        (DOC["components"]["schemas"]["ping"], PingMessage),
        (DOC["components"]["messages"]["task"]["payload"], Task),
        (DOC["components"]["messages"]["event"]["payload"], OutboxEvent),
    ],
    ids=["report", "alert", "ping", "task", "event"],
)
def test_payload_fields_match_the_codec(payload: dict[str, Any], codec: type[msgspec.Struct]) -> None:
    assert set(payload["properties"]) == set(codec.__struct_fields__)
    info = msgspec.inspect.type_info(codec)
    required = {f.name for f in info.fields if f.required}  # type: ignore[attr-defined]
    assert set(payload["required"]) == required


def test_ack_fields_and_topic() -> None:
    payload = DOC["components"]["messages"]["ack"]["payload"]
    assert set(payload["properties"]) == set(Ack.__struct_fields__)
    assert DOC["channels"]["ack"]["address"].replace("{county}", "339921").replace(
        "{device}", "w1"
    ) == ack_topic("339921", "w1")
