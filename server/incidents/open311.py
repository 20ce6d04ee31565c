"""Open311 GeoReport v2 (JSON), so existing Open311 clients and hotline bridges can report.

Minor categories are the services. `api_key` is a Gridwatch token (query, form field or bearer
header). Errors follow the spec: a list of {code, description} with the HTTP status as the code,
and the description in Chinese beside it (`description_zh`).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, RawBody

from grid.domain import Domain
from grid.errors import DomainError, NotFound
from grid.incident import TERMINAL_STATES, Incident, IncidentState, Source
from grid.intake import Report
from server.api.deps import RuntimeDep, SessionDep
from server.api.problems import in_chinese, log_unexpected
from server.api.security import township_scope
from server.auth import Principal, Role, TokenRejected, authenticate
from server.db.tables import IncidentRow
from server.incidents.scope import check_report_place
from server.incidents.service import IncidentFilter, IncidentService
from server.runtime import Runtime

REPORTERS = (Role.ADMIN, Role.DUTY, Role.WORKER)
OPEN311_MEANINGS = {
    400: ("the request is malformed or refused", "请求有误或被拒绝"),
    403: (
        "api_key is missing or refused, or your role or scope does not allow this",
        "缺少 api_key、api_key 无效，或无权执行",
    ),
    404: ("not found", "未找到"),
}


class Open311Problem(msgspec.Struct):
    """One error of an answer, as the spec has it, with the Chinese beside it."""

    code: int
    description: str
    description_zh: str


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers of a handler for the OpenAPI document: a list of Open311Problem."""
    return {
        status: ResponseSpec(
            list[Open311Problem],
            description=" / ".join(OPEN311_MEANINGS[status]),
            generate_examples=False,
        )
        for status in sorted({400, 403, *statuses})
    }


class Open311Error(Exception):
    def __init__(self, status: int, description: str, description_zh: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.description_zh = description_zh


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, Open311Error):
        status, en, zh = exc.status, exc.description, exc.description_zh
    elif isinstance(exc, NotFound):
        status, en, zh = 404, exc.message_en, exc.message_zh
    elif isinstance(exc, DomainError):
        status, en, zh = 400, exc.message_en, exc.message_zh
    elif isinstance(exc, HTTPException):
        status, en = exc.status_code, str(exc.detail)
        zh = in_chinese(status, en)
    else:
        log_unexpected(request)
        status, en, zh = 500, "the server failed; the error was logged", "服务器出错，错误已记录"
    return Response([Open311Problem(code=status, description=en, description_zh=zh)], status_code=status)


def _principal(
    request: Request[Any, Any, Any], runtime: Runtime, form: dict[str, Any] | None = None
) -> Principal:
    key = (form or {}).get("api_key") or request.query_params.get("api_key")
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    key = key or (bearer.strip() if scheme.lower() == "bearer" else None)
    if not key:
        raise Open311Error(403, "api_key is required", "缺少 api_key")
    try:
        return authenticate(runtime.engine, str(key), runtime.clock())
    except TokenRejected as exc:
        raise Open311Error(403, f"api_key refused: {exc}", "api_key 无效、已过期或已吊销") from None


def _form(body: bytes) -> dict[str, str]:
    """The form, decoded strictly: Litestar's own parse turns bad UTF-8 into U+FFFD silently."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Open311Error(400, "the form is not valid UTF-8", "表单不是有效的 UTF-8 编码") from None
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        # PostgreSQL cannot store a NUL in text.
        raise Open311Error(400, "the form holds a NUL character", "表单含有空字符（NUL）")
    return dict(pairs)


def _number(form: dict[str, str], name: str) -> float:
    raw = form.get(name)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number", f"{name} 必须是数值") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number", f"{name} 必须是有限数值")
    return value


def _request_out(incident: Incident, row: IncidentRow, domain: Domain) -> dict[str, Any]:
    category = domain.catalog.category(incident.category)
    assignment = incident.assignment
    # When the citizen can expect it done: the current stage's deadline (the handle deadline once
    # the responsible unit has signed).
    expected = incident.clock.deadline.isoformat() if incident.clock else None
    return {
        "service_request_id": incident.id,
        "status": "closed" if incident.state in TERMINAL_STATES else "open",
        "status_notes": incident.state.value,
        "service_name": category.name_zh,
        "service_code": category.code,
        "description": incident.text,
        "agency_responsible": domain.router.units[assignment.lead].name_zh if assignment else None,
        "service_notice": assignment.explanation.text_zh if assignment else "事件未能定位，等待值班员处理",
        "requested_datetime": incident.reported_at.isoformat(),
        "updated_datetime": row.updated_at.isoformat(),
        "expected_datetime": expected,
        "address": None,
        "lat": incident.lat,
        "long": incident.lon,
        "media_url": incident.media[0] if incident.media else None,
    }


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ("open311",)
    # Every kind the app maps to a problem document is mapped here to the spec's shape instead.
    exception_handlers = {  # noqa: RUF012
        Exception: _error,
        DomainError: _error,
        HTTPException: _error,
        ValidationException: _error,
    }

    @get("/services.json", responses=errors(), sync_to_thread=True)
    def services(self, request: Request[Any, Any, Any], runtime: RuntimeDep) -> list[dict[str, Any]]:
        _principal(request, runtime)
        domain = runtime.domains()
        majors = {m.code: m.name_zh for m in domain.catalog.majors}
        return [
            {
                "service_code": c.code,
                "service_name": c.name_zh,
                "description": f"{c.name_zh} / {c.name_en}",
                "metadata": False,
                "type": "realtime",
                "keywords": c.name_en,
                "group": majors[c.major],
            }
            for c in domain.catalog.categories
        ]

    @get("/services/{code:str}", responses=errors(404), sync_to_thread=True)
    def service(
        self, code: FromPath[str], request: Request[Any, Any, Any], runtime: RuntimeDep
    ) -> dict[str, Any]:
        _principal(request, runtime)
        code = code.removesuffix(".json")
        try:
            category = runtime.domains().catalog.category(code)
        except DomainError:
            raise Open311Error(404, f"no service {code}", f"没有服务 {code}") from None
        return {"service_code": category.code, "attributes": []}

    @post("/requests.json", responses=errors(404), sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        # Declared for the schema; the handler reads the raw body (see _form).
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
        body: RawBody,
        runtime: RuntimeDep,
    ) -> list[dict[str, Any]]:
        form = _form(body)
        principal = _principal(request, runtime, form)
        if principal.role not in REPORTERS:
            raise Open311Error(
                403, f"role {principal.role.value} may not report", f"角色 {principal.role.value} 不能上报"
            )
        code = form.get("service_code") or ""
        if not code:
            raise Open311Error(400, "service_code is required", "缺少 service_code")
        if "lat" not in form or "long" not in form:
            raise Open311Error(
                400,
                "lat and long are required (address_string alone is not geocoded here)",
                "须提供 lat 和 long（此处不对 address_string 做地理编码）",
            )
        media = form.get("media_url") or ""
        report = Report(
            device=f"open311:{principal.actor}",
            client_id=form.get("client_id") or uuid.uuid4().hex,
            source=Source.OPEN311,
            category=code,
            lon=_number(form, "long"),
            lat=_number(form, "lat"),
            ts=runtime.clock(),
            text=(form.get("description") or "")[:4000],
            media=(media,) if media else (),
        )
        check_report_place(principal, report, runtime.intake)
        outcome = runtime.intake.submit(report, lambda: uuid.uuid4().hex)
        assignment = outcome.incident.assignment
        notice = assignment.explanation.text_zh if assignment else "事件未能定位，等待值班员处理"
        return [{"service_request_id": outcome.incident.id, "service_notice": notice, "account_id": None}]

    @get("/requests.json", responses=errors(404), sync_to_thread=True)
    def search(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDep,
        session: SessionDep,
        service_request_id: FromQuery[str | None] = None,
        service_code: FromQuery[str | None] = None,
        start_date: FromQuery[dt.datetime | None] = None,
        end_date: FromQuery[dt.datetime | None] = None,
        status: FromQuery[str | None] = None,
    ) -> list[dict[str, Any]]:
        principal = _principal(request, runtime)
        service = IncidentService(session, runtime.domains.on(session), runtime.clock)
        if service_request_id:
            return [self._one(principal, service, i) for i in service_request_id.split(",")]
        if status not in (None, "open", "closed"):
            raise Open311Error(400, "status is open or closed", "status 只能是 open 或 closed")
        closed = [s.value for s in TERMINAL_STATES]
        states = (
            None
            if status is None
            else closed
            if status == "closed"
            else [s.value for s in IncidentState if s.value not in closed]
        )
        where = IncidentFilter(category=service_code, since=start_date, until=end_date, states=states)
        _narrow(where, principal)
        rows, _ = service.search(where, 1000, 0)
        domain = service.domain()
        return [_request_out(i, r, domain) for i, r in zip(service.incidents_of(rows), rows, strict=True)]

    @get("/requests/{request_id:str}", responses=errors(404), sync_to_thread=True)
    def read(
        self,
        request_id: FromPath[str],
        request: Request[Any, Any, Any],
        runtime: RuntimeDep,
        session: SessionDep,
    ) -> list[dict[str, Any]]:
        principal = _principal(request, runtime)
        return [
            self._one(
                principal,
                IncidentService(session, runtime.domains.on(session), runtime.clock),
                request_id.removesuffix(".json"),
            )
        ]

    @staticmethod
    def _one(principal: Principal, service: IncidentService, incident_id: str) -> dict[str, Any]:
        row = service.row(incident_id)
        visible = (
            principal.sees_township(row.township)
            if principal.role in (Role.ADMIN, Role.DUTY)
            else (principal.role is Role.UNIT and principal.scope_id in service.units(incident_id))
            or row.device == f"open311:{principal.actor}"
        )
        if not visible:
            raise Open311Error(
                403, f"request {incident_id} is outside your scope", f"请求 {incident_id} 不在您的范围内"
            )
        [incident] = service.incidents_of([row])
        return _request_out(incident, row, service.domain())


def _narrow(where: IncidentFilter, principal: Principal) -> None:
    if principal.role in (Role.ADMIN, Role.DUTY):
        where.townships, where.county = township_scope(principal, None)
    elif principal.role is Role.UNIT:
        where.unit = principal.scope_id
    else:
        where.device = f"open311:{principal.actor}"
