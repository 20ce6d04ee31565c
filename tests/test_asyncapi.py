"""The AsyncAPI document says what the codecs do."""

from __future__ import annotations

from pathlib import Path

import msgspec
import yaml  # type: ignore[import-untyped]

from sync.codecs import Ack, ReportMessage
from sync.topics import ack_topic

DOC = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
)


def test_report_fields_match_the_codec() -> None:
    payload = DOC["components"]["messages"]["report"]["payload"]
    assert set(payload["properties"]) == set(ReportMessage.__struct_fields__)
    info = msgspec.inspect.type_info(ReportMessage)
    required = {f.name for f in info.fields if f.required}  # type: ignore[attr-defined]
    assert set(payload["required"]) == required


def test_ack_fields_and_topic() -> None:
    payload = DOC["components"]["messages"]["ack"]["payload"]
    assert set(payload["properties"]) == set(Ack.__struct_fields__)
    assert DOC["channels"]["ack"]["address"].replace("{county}", "339921").replace(
        "{device}", "w1"
    ) == ack_topic("339921", "w1")
