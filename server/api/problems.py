"""Errors as RFC 9457 problem details, in English with the Chinese message beside it; never a trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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

PROBLEM = "application/problem+json"
log = logging.getLogger("gridwatch.api")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    StateConflict: 409,
    TransitionRefused: 409,
    EvaluationRefused: 400,
    SweepRefused: 409,
    DutyAdmissionRefused: 409,
    IntakeRefused: 422,
    MediaRefused: 422,
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
    return problem(request, 400, "invalid_request", "invalid request", str(exc.detail), errors=errors)


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    title = HTTPStatus(exc.status_code).phrase.lower()
    # Every 400 is a malformed request, whichever layer noticed it.
    code = "invalid_request" if exc.status_code == 400 else title.replace(" ", "_")
    return problem(request, exc.status_code, code, title, str(exc.detail))


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal", "internal error", "the server failed; the error was logged")


HANDLERS = {
    DomainError: on_domain_error,
    ValidationException: on_validation,
    HTTPException: on_http,
    Exception: on_unexpected,
}
