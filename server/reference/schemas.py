"""The reference-data API's request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec


class CellProperties(msgspec.Struct):
    code: str
    name: str
    patrol_target: Annotated[int, msgspec.Meta(ge=0, le=100)] = 2


class CellFeature(msgspec.Struct):
    type: Literal["Feature"]
    properties: CellProperties
    geometry: dict[str, Any]


class CellCollection(msgspec.Struct):
    type: Literal["FeatureCollection"]
    features: Annotated[list[CellFeature], msgspec.Meta(min_length=1, max_length=MAX_CELLS_PER_UPLOAD)]


class CellsWritten(msgspec.Struct):
    written: int
    index_version: int


class Written(msgspec.Struct):
    written: int
    data_version: int


MAX_CELLS_PER_UPLOAD = 20_000
