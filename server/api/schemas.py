"""Request and response bodies (msgspec); Litestar validates them and documents them at /schema."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException
from litestar.params import QueryParameter

from server.api.problems import BadRequest

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


def unreadable(exc: Exception) -> BadRequest:
    """Why a JSON body cannot be read at all, in both languages."""
    if isinstance(exc, RecursionError):
        return BadRequest("the JSON body is nested too deeply", "JSON 请求体嵌套层数过多")
    if isinstance(exc, UnicodeDecodeError):
        return BadRequest(
            f"the JSON body is not valid UTF-8 (byte {exc.start})",
            f"JSON 请求体不是有效的 UTF-8 编码（第 {exc.start} 字节）",
        )
    return BadRequest(f"malformed JSON: {exc}", "请求体不是有效的 JSON")


def nul_at(document: Any) -> str | None:
    """Where a decoded JSON document holds a NUL character (PostgreSQL cannot store one in text)."""
    pending: list[tuple[str, Any]] = [("$", document)]
    while pending:  # a loop, not recursion: the document may be as deep as the decoder allows
        at, value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return at
        if isinstance(value, dict):
            pending.extend((f"{at}.{k}", k) for k in value)
            pending.extend((f"{at}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((f"{at}[{i}]", v) for i, v in enumerate(value))
    return None


def strict(body: bytes, kind: type[T]) -> T:
    """Decode a JSON body strictly ("119.6" is not a number). Handlers also declare `data` so the
    schema is documented, but Litestar converts that one leniently."""
    try:
        decoded = msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise unreadable(exc) from None
    # In JSON a NUL can only be written as this escape.
    if b"\\u0000" in body and (at := nul_at(msgspec.json.decode(body))) is not None:
        raise BadRequest(f"{at} holds a NUL character", f"{at} 含有空字符（NUL），无法保存")
    return decoded


class JsonRequest(Request[Any, Any, Any]):
    """Litestar's request, refusing a JSON body it cannot read with the reason (400), not a 500."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (SerializationException, RecursionError, UnicodeDecodeError) as exc:
            raise unreadable(exc) from None
