"""Request and response bodies (msgspec); Litestar validates them and documents them at /schema."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

T = TypeVar("T")

# Bounded so that no request can ask the database for a number it cannot hold (SQLite: 64-bit).
MAX_OFFSET = 10_000_000
MAX_CURSOR = 2**62
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Cursor = Annotated[int, QueryParameter(ge=0, le=MAX_CURSOR)]

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
CategoryCode = Annotated[str, msgspec.Meta(min_length=4, max_length=4, pattern=r"^[0-9]{4}$")]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def strict(body: bytes, kind: type[T]) -> T:
    """Decode a JSON body strictly ("119.6" is not a number). Handlers also declare `data` so the
    schema is documented, but Litestar converts that one leniently."""
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ValidationException(f"malformed JSON: {exc}") from None
