"""Open311 GeoReport v2 (JSON), so existing Open311 clients and hotline bridges can report.

Minor categories are the services. `api_key` is a Gridwatch token (query, form field or bearer
header). Errors follow the spec: a list of {code, description} with the HTTP status as the code.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath, FromQuery

from grid.domain import Domain
from grid.errors import DomainError, NotFound
from grid.incident import TERMINAL_STATES, Incident, IncidentState, Source
from grid.intake import Report
from server.api.deps import RuntimeDep, SessionDep
from server.api.security import township_scope
from server.auth import Principal, Role, TokenRejected, authenticate
from server.db.tables import IncidentRow
from server.incidents.service import IncidentFilter, IncidentService
from server.runtime import Runtime

REPORTERS = (Role.ADMIN, Role.DUTY, Role.WORKER)


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, Open311Error):
        status, description = exc.status, exc.description
    elif isinstance(exc, NotFound):
        status, description = 404, exc.message_en
    elif isinstance(exc, DomainError):
        status, description = 400, exc.message_en
    elif isinstance(exc, HTTPException):
        status, description = exc.status_code, str(exc.detail)
    else:
        status, description = 500, "the server failed; the error was logged"
    return Response([{"code": status, "description": description}], status_code=status)


def _principal(
    request: Request[Any, Any, Any], runtime: Runtime, form: dict[str, Any] | None = None
) -> Principal:
    key = (form or {}).get("api_key") or request.query_params.get("api_key")
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    key = key or (bearer.strip() if scheme.lower() == "bearer" else None)
    if not key:
        raise Open311Error(403, "api_key is required")
    try:
        return authenticate(runtime.engine, str(key), runtime.clock())
    except TokenRejected as exc:
        raise Open311Error(403, f"api_key refused: {exc}") from None


def _number(form: dict[str, Any], name: str) -> float:
    raw = form.get(name)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number")
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
    exception_handlers = {Exception: _error, DomainError: _error, HTTPException: _error}  # noqa: RUF012

    @get("/services.json", sync_to_thread=True)
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

    @get("/services/{code:str}", sync_to_thread=True)
    def service(
        self, code: FromPath[str], request: Request[Any, Any, Any], runtime: RuntimeDep
    ) -> dict[str, Any]:
        _principal(request, runtime)
        code = code.removesuffix(".json")
        try:
            category = runtime.domains().catalog.category(code)
        except DomainError:
            raise Open311Error(404, f"no service {code}") from None
        return {"service_code": category.code, "attributes": []}

    @post("/requests.json", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
        runtime: RuntimeDep,
    ) -> list[dict[str, Any]]:
        principal = _principal(request, runtime, data)
        if principal.role not in REPORTERS:
            raise Open311Error(403, f"role {principal.role.value} may not report")
        code = str(data.get("service_code") or "")
        if not code:
            raise Open311Error(400, "service_code is required")
        if "lat" not in data or "long" not in data:
            raise Open311Error(400, "lat and long are required (address_string alone is not geocoded here)")
        media = str(data.get("media_url") or "")
        report = Report(
            device=f"open311:{principal.actor}",
            client_id=str(data.get("client_id") or uuid.uuid4().hex),
            source=Source.OPEN311,
            category=code,
            lon=_number(data, "long"),
            lat=_number(data, "lat"),
            ts=runtime.clock(),
            text=str(data.get("description") or "")[:4000],
            media=(media,) if media else (),
        )
        outcome = runtime.intake.submit(report, lambda: uuid.uuid4().hex)
        if principal.role is Role.DUTY and not principal.sees_township(outcome.incident.township):
            raise Open311Error(403, "the reported place is outside your township")
        assignment = outcome.incident.assignment
        notice = assignment.explanation.text_zh if assignment else "事件未能定位，等待值班员处理"
        return [{"service_request_id": outcome.incident.id, "service_notice": notice, "account_id": None}]

    @get("/requests.json", sync_to_thread=True)
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
        service = IncidentService(session, runtime.domains, runtime.clock)
        if service_request_id:
            return [self._one(principal, service, runtime, i) for i in service_request_id.split(",")]
        if status not in (None, "open", "closed"):
            raise Open311Error(400, "status is open or closed")
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
        domain = runtime.domains()
        return [_request_out(i, r, domain) for i, r in zip(service.incidents_of(rows), rows, strict=True)]

    @get("/requests/{request_id:str}", sync_to_thread=True)
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
                IncidentService(session, runtime.domains, runtime.clock),
                runtime,
                request_id.removesuffix(".json"),
            )
        ]

    @staticmethod
    def _one(
        principal: Principal, service: IncidentService, runtime: Runtime, incident_id: str
    ) -> dict[str, Any]:
        row = service.row(incident_id)
        visible = (
            principal.sees_township(row.township)
            if principal.role in (Role.ADMIN, Role.DUTY)
            else (principal.role is Role.UNIT and principal.scope_id in service.units(incident_id))
            or row.device == f"open311:{principal.actor}"
        )
        if not visible:
            raise Open311Error(403, f"request {incident_id} is outside your scope")
        [incident] = service.incidents_of([row])
        return _request_out(incident, row, runtime.domains())


def _narrow(where: IncidentFilter, principal: Principal) -> None:
    if principal.role in (Role.ADMIN, Role.DUTY):
        where.townships, where.county = township_scope(principal, None)
    elif principal.role is Role.UNIT:
        where.unit = principal.scope_id
    else:
        where.device = f"open311:{principal.actor}"
