"""Incidents: report, list, read with explanation and history, move through the loop, re-route."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from grid.catalog import Catalog
from grid.clocks import is_overdue
from grid.incident import GpsFix, Incident, IncidentState, Source
from grid.intake import Report
from grid.lifecycle import Action
from server.api.deps import IncidentsDep, PrincipalDep, RuntimeDep
from server.api.listings import parse_bbox
from server.api.problems import refusals
from server.api.schemas import Offset, Page, strict
from server.api.security import READERS, STAFF, allow, deny
from server.auth import Role
from server.db.tables import IncidentRow
from server.incidents.schemas import (
    Ack,
    ActionIn,
    AssignmentOut,
    FlowOut,
    GpsFixBody,
    IncidentDetail,
    IncidentOut,
    ReportIn,
    RerouteIn,
)
from server.incidents.scope import check_report_place, check_scope, limit_to_scope
from server.incidents.service import IncidentFilter, uploaded_media
from server.runtime import new_incident_id

# A report sent again with the same client id answers 200 with the incident it made.
REPORT_ANSWERS = {
    HTTP_200_OK: ResponseSpec(
        Ack,
        description="the same client id again: the incident it made / 重复上报（同一 client_id），返回已建事件",
    ),
    **refusals(422),
}

# Who may take each step: the duty officers run the loop, the lead unit signs, returns and handles.
UNIT_ACTIONS = {Action.SIGN, Action.RETURN, Action.HANDLE}
SOURCE_OF_ROLE = {
    Role.WORKER: Source.REPORT,
    Role.DEVICE: Source.ALERT,
    Role.DUTY: Source.HOTLINE,
    Role.ADMIN: Source.HOTLINE,
}


def incident_out(
    incident: Incident, row: IncidentRow | None, catalog: Catalog, now: dt.datetime
) -> IncidentOut:
    """The API's view of an incident; a listing reads the catalog and the time once for its page."""
    category = catalog.category(incident.category)
    assignment = incident.assignment
    return IncidentOut(
        id=incident.id,
        source=incident.source.value,
        state=incident.state.value,
        category=incident.category,
        category_name_zh=category.name_zh,
        category_name_en=category.name_en,
        lon=incident.lon,
        lat=incident.lat,
        cell=incident.cell,
        village=incident.cell[:12] if incident.cell else None,
        township=incident.township,
        snapped=incident.snapped,
        unlocated=incident.unlocated,
        urgent=incident.urgent,
        lead=assignment.lead if assignment else None,
        support=list(assignment.support) if assignment else [],
        stage=incident.clock.stage.value if incident.clock else None,
        deadline=incident.clock.deadline if incident.clock else None,
        overdue=is_overdue(incident, now),
        reported_at=incident.reported_at,
        probable_duplicate_of=row.probable_duplicate_of if row else None,
        duplicate_of=incident.duplicate_of,
        rework_count=incident.rework_count,
        text=incident.text,
        media=list(incident.media),
        in_review=incident.in_review,
        alert_count=row.alert_count if row else 0,
        last_seen=row.last_seen if row else None,
        gps_fix=None if incident.gps_fix is None else GpsFixBody(**msgspec.structs.asdict(incident.gps_fix)),
    )


class IncidentController(Controller):
    path = "/incidents"
    tags = ("incidents",)

    @post(
        "/",
        responses=REPORT_ANSWERS,
        guards=[allow(Role.WORKER, Role.DEVICE, Role.DUTY, Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def report(
        self, data: JSONBody[ReportIn], body: RawBody, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Response[Ack]:
        """Report an incident. Idempotent by client id: the same id gives the same incident (200)."""
        data = strict(body, ReportIn)
        if principal.role is Role.DEVICE:
            raise deny("devices send alerts over MQTT; they cannot report over HTTP")
        report = Report(
            device=principal.actor,
            client_id=data.client_id,
            source=SOURCE_OF_ROLE[principal.role],
            category=data.category,
            lon=data.lon,
            lat=data.lat,
            ts=data.ts or runtime.clock(),
            crs=data.crs,
            accuracy=data.acc,
            text=data.text,
            media=tuple(data.media),
            subject=data.subject_id,
            reporter=principal.scope_id if principal.role is Role.WORKER else None,
            urgent=data.urgent,
            gps_fix=None if data.gps_fix is None else GpsFix(**msgspec.structs.asdict(data.gps_fix)),
        )
        check_report_place(principal, report, runtime.intake)
        outcome = runtime.intake.submit(report, new_incident_id)
        incident = outcome.incident
        out = incident_out(incident, None, runtime.domains().catalog, runtime.clock())
        out.probable_duplicate_of = outcome.probable_duplicate_of
        ack = Ack(status="duplicate" if outcome.replayed else "accepted", incident=out)
        runtime.metrics.reports.labels(status=ack.status).inc()
        return Response(ack, status_code=HTTP_200_OK if outcome.replayed else HTTP_201_CREATED)

    @get("/", responses=refusals(), guards=[allow(*READERS)], sync_to_thread=True)
    def list_incidents(
        self,
        principal: PrincipalDep,
        incidents: IncidentsDep,
        runtime: RuntimeDep,
        township: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        states: Annotated[list[IncidentState] | None, QueryParameter(name="status")] = None,
        category: FromQuery[str | None] = None,
        overdue: FromQuery[bool | None] = None,
        review: Annotated[
            bool | None, QueryParameter(description="true: the alert review queue; false: everything else")
        ] = None,
        since: Annotated[dt.datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(name="to")] = None,
        bbox: Annotated[str | None, QueryParameter(description="minlon,minlat,maxlon,maxlat")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> Page[IncidentOut]:
        where = IncidentFilter(
            states=[s.value for s in states] if states else None,
            category=category,
            overdue=overdue,
            in_review=review,
            since=since,
            until=until,
            bbox=parse_bbox(bbox),
        )
        limit_to_scope(where, principal, township, unit)
        rows, total = incidents.search(where, limit, offset)
        catalog, now = incidents.domain().catalog, runtime.clock()
        items = [
            incident_out(i, r, catalog, now) for i, r in zip(incidents.incidents_of(rows), rows, strict=True)
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{incident_id:str}", responses=refusals(404), guards=[allow(*READERS)], sync_to_thread=True)
    def read(
        self,
        incident_id: FromPath[str],
        principal: PrincipalDep,
        incidents: IncidentsDep,
        runtime: RuntimeDep,
    ) -> IncidentDetail:
        row = incidents.row(incident_id)
        check_scope(principal, row, incidents)
        incident = incidents.get(incident_id)
        explanation = incident.assignment.explanation if incident.assignment else None
        return IncidentDetail(
            incident=incident_out(incident, row, incidents.domain().catalog, runtime.clock()),
            explanation_zh=explanation.text_zh if explanation else None,
            explanation_en=explanation.text_en if explanation else None,
            assignments=[
                AssignmentOut(
                    lead=a.lead,
                    support=a.support,
                    informed=a.informed,
                    matters=a.matters,
                    basis=a.basis,
                    agreement=a.agreement,
                    explanation=a.explanation,
                    current=a.current,
                    at=a.at,
                    by=a.by,
                    reason=a.reason,
                )
                for a in incidents.assignments(incident_id)
            ],
            history=[
                FlowOut(
                    action=f.action,
                    actor=f.actor,
                    at=f.at,
                    from_state=f.from_state,
                    to_state=f.to_state,
                    reason=f.reason,
                    unit=f.unit,
                    from_unit=f.from_unit,
                    duplicate_of=f.duplicate_of,
                    media=f.media,
                )
                for f in incidents.history(incident_id)
            ],
        )

    @post(
        "/{incident_id:str}/actions/{action:str}",
        responses=refusals(404, 409, 422),
        guards=[allow(*STAFF)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def act(
        self,
        incident_id: FromPath[str],
        action: FromPath[Action],
        data: JSONBody[ActionIn],
        body: RawBody,
        principal: PrincipalDep,
        incidents: IncidentsDep,
        runtime: RuntimeDep,
    ) -> IncidentOut:
        """Move the incident through the closed loop (accept, reject, dispatch, sign, …)."""
        data = strict(body, ActionIn)
        row = incidents.row(incident_id)
        check_scope(principal, row, incidents)
        if action is Action.REROUTE:
            raise deny("use POST /incidents/{id}/reroute with the new lead unit")
        if principal.role is Role.UNIT and (
            action not in UNIT_ACTIONS or row.lead_unit != principal.scope_id
        ):
            raise deny(
                f"a unit officer may only sign, return or handle its own unit's incidents, not {action.value}"
            )
        if principal.role is not Role.UNIT and action in UNIT_ACTIONS and principal.role is not Role.ADMIN:
            raise deny(f"{action.value} is done by the responsible unit")
        media = uploaded_media(data.media, runtime.settings.media_dir)
        after = incidents.apply(incident_id, action, principal.actor, data.reason, data.duplicate_of, media)
        runtime.metrics.transitions.labels(action=action.value).inc()
        return incident_out(after, incidents.row(incident_id), incidents.domain().catalog, runtime.clock())

    @post(
        "/{incident_id:str}/reroute",
        responses=refusals(404, 409, 422),
        guards=[allow(Role.ADMIN, Role.DUTY)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def reroute(
        self,
        incident_id: FromPath[str],
        data: JSONBody[RerouteIn],
        body: RawBody,
        principal: PrincipalDep,
        incidents: IncidentsDep,
        runtime: RuntimeDep,
    ) -> IncidentOut:
        """Give the incident to another lead unit, with a reason; the old assignment stays in the history."""
        data = strict(body, RerouteIn)
        row = incidents.row(incident_id)
        check_scope(principal, row, incidents)
        after = incidents.reroute(incident_id, data.lead, principal.actor, data.reason)
        runtime.metrics.transitions.labels(action=Action.REROUTE.value).inc()
        return incident_out(after, incidents.row(incident_id), incidents.domain().catalog, runtime.clock())
