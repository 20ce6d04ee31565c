"""Errors as RFC 9457 problem details, in English with the Chinese message beside it; never a trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from grid.errors import (
    CalendarError,
    CatalogError,
    DomainError,
    DutyAdmissionRefused,
    EvaluationRefused,
    InvalidCode,
    NotFound,
    RoutingError,
    StateConflict,
    TransitionRefused,
    UnknownCategory,
)
from grid.intake import IntakeRefused
from grid.sweep.plan import SweepRefused
from server.media.store import MediaRefused
from server.pairings.store import PairingExpired, PairingRefused

PROBLEM = "application/problem+json"
# What the HTTP layer's own refusals mean, in Chinese; their English detail (which names the field,
# the township or the token's fault) follows it.
STATUS_ZH = {
    400: "请求格式有误",
    401: "未认证（缺少令牌，或令牌无效、已过期、已吊销）",
    403: "无权执行此操作，或超出您的范围",
    404: "未找到",
    405: "不支持该请求方法",
    413: "请求体过大",
}
log = logging.getLogger("gridwatch.api")


class Problem(msgspec.Struct):
    """An error answer (RFC 9457 problem details), in English with the Chinese beside it. A domain
    refusal adds the facts of the rule it broke as further members."""

    type: str
    title: str
    status: int
    detail: str
    detail_zh: str
    instance: str
    code: str
    # An invalid request: what was wrong, and where.
    errors: list[Any] | None = None


# What each refusal means, for the OpenAPI document.
MEANINGS = {
    400: "the request is malformed: a parameter or the body does not fit this document",
    401: "no bearer token, or the token is invalid, expired or revoked",
    403: "your role or scope does not allow this",
    404: "not found (or not in this county)",
    409: "the current state does not allow this (the incident's, the sweep's or the officer's)",
    410: "gone: what was asked for has expired (a pairing code)",
    413: "the body is too large",
    422: "well-formed, but refused by a rule (an unknown code, a place outside the county, …)",
}
MEANINGS_ZH = {
    **STATUS_ZH,
    409: "当前状态不允许此操作",
    410: "已失效：所请求的内容已过期（如配对码）",
    422: "格式正确，但不符合业务规则（代码不存在、地点不在本县等）",
}


def refusals(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers of an authenticated handler, for the OpenAPI document: any request may be
    malformed (400), any token refused (401), any role refused (403); and these."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM,
            description=f"{MEANINGS[status]} / {MEANINGS_ZH[status]}",
            generate_examples=False,
        )
        for status in sorted({400, 401, 403, *statuses})
    }


def in_chinese(status: int, detail: str) -> str:
    lead = STATUS_ZH.get(status)
    return f"{lead}：{detail}" if lead else detail


class BadRequest(ValidationException):
    """A malformed request (400) whose reason we can say in Chinese as well."""

    def __init__(self, detail: str, detail_zh: str) -> None:
        super().__init__(detail)
        self.detail_zh = detail_zh


DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    StateConflict: 409,
    TransitionRefused: 409,
    EvaluationRefused: 400,
    SweepRefused: 409,
    DutyAdmissionRefused: 409,
    IntakeRefused: 422,
    MediaRefused: 422,
    PairingRefused: 422,
    PairingExpired: 410,
    UnknownCategory: 422,
    RoutingError: 422,
    InvalidCode: 422,
    CatalogError: 422,
    CalendarError: 422,
}


def problem(
    request: Request[Any, Any, Any], status: int, code: str, title: str, detail: str, **extra: Any
) -> Response[Any]:
    body = {
        "type": f"https://gridwatch.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = next((s for kind, s in DOMAIN_STATUS.items() if isinstance(exc, kind)), 422)
    facts = {k: v for k, v in exc.detail.items() if isinstance(v, str | int | float | bool | list | None)}
    return problem(
        request,
        status,
        exc.code,
        exc.code.replace("_", " "),
        exc.message_en,
        detail_zh=exc.message_zh,
        **facts,
    )


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    detail = str(exc.detail)
    zh = exc.detail_zh if isinstance(exc, BadRequest) else in_chinese(400, detail)
    return problem(request, 400, "invalid_request", "invalid request", detail, detail_zh=zh, errors=errors)


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    title = HTTPStatus(status).phrase.lower()
    # Every 400 is a malformed request, whichever layer noticed it.
    code = "invalid_request" if status == 400 else title.replace(" ", "_")
    detail = str(exc.detail)
    return problem(request, status, code, title, detail, detail_zh=in_chinese(status, detail))


def log_unexpected(request: Request[Any, Any, Any]) -> None:
    """Log the exception being handled, with the method and path only: the query may hold an api_key."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log_unexpected(request)
    return problem(
        request,
        500,
        "internal",
        "internal error",
        "the server failed; the error was logged",
        detail_zh="服务器出错，错误已记录",
    )


HANDLERS = {
    DomainError: on_domain_error,
    ValidationException: on_validation,
    HTTPException: on_http,
    Exception: on_unexpected,
}
