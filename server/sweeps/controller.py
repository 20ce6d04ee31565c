"""Tuesday sweep plans (综合查一次): plan, review (move a stop, swap an officer), publish, outcomes."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import Session

from grid.sweep.plan import SweepPlan, SweepRules
from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import Limit, Offset, Page, strict
from server.api.security import allow, deny, sees_place, township_scope
from server.auth import Principal, Role
from server.db.tables import SweepOutcomeRow, SweepPlanRow
from server.runtime import Runtime
from server.sweeps.printout import plan_geojson, plan_workbook
from server.sweeps.schemas import (
    MoveIn,
    OutcomeIn,
    OutcomeOut,
    PlanIn,
    PublishIn,
    SwapIn,
    SweepOut,
    SweepSummary,
)
from server.sweeps.service import SweepAudit, SweepService, next_tuesday, plan_of

PLANNERS = (Role.ADMIN, Role.DUTY)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _service(session: Session, runtime: Runtime) -> SweepService:
    return SweepService(session, runtime.domains.on(session), runtime.clock, runtime.sweep_solver)


def _check_read(principal: Principal, row: SweepPlanRow, plan: SweepPlan) -> None:
    if principal.role is Role.UNIT:
        if not any(principal.scope_id in t.units for t in plan.teams):
            raise deny(f"no officer of your unit is in sweep {row.id}")
    elif not sees_place(principal, row.scope):
        raise deny(f"sweep {row.id} is outside your scope")


def _readable(
    plan_id: str, principal: Principal, session: Session, runtime: Runtime
) -> tuple[SweepService, SweepPlanRow, SweepPlan]:
    """The plan, if the caller may read it."""
    service = _service(session, runtime)
    row = service.row(plan_id)
    plan = plan_of(row)
    _check_read(principal, row, plan)
    return service, row, plan


def _changeable(plan_id: str, principal: Principal, session: Session, runtime: Runtime) -> SweepService:
    """The service to change the plan with, if the plan is in the caller's scope."""
    service = _service(session, runtime)
    row = service.row(plan_id)
    if not sees_place(principal, row.scope):
        raise deny(f"sweep {row.id} is outside your scope")
    return service


def sweep_out(row: SweepPlanRow, service: SweepService) -> SweepOut:
    plan = plan_of(row)
    return SweepOut(
        id=row.id,
        status=row.status,
        revision=row.revision,
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
        plan=plan,
        names=service.names(plan),
    )


def outcome_out(row: SweepOutcomeRow) -> OutcomeOut:
    return OutcomeOut(
        stop=row.stop,
        outcome=row.outcome,
        note=row.note,
        incident=row.incident,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


class SweepController(Controller):
    tags = ("sweeps",)

    @post(
        "/sweeps",
        responses=refusals(409),
        guards=[allow(*PLANNERS)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def plan(
        self,
        data: JSONBody[PlanIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SweepOut:
        """Plan a sweep day for a township (or, for the county's officers, the whole county)."""
        data = strict(body, PlanIn)
        scope = data.township or principal.township or principal.county
        if not sees_place(principal, scope):
            raise deny(f"{scope} is outside your scope")
        date = data.date or next_tuesday(runtime.today())
        service = _service(session, runtime)
        rules = SweepRules(stops_per_team=data.stops_per_team)
        row = service.create(date, scope, data.mode, data.seed, rules, principal.actor)
        return sweep_out(row, service)

    @get("/sweeps", responses=refusals(), guards=[allow(*PLANNERS)], sync_to_thread=True)
    def list_sweeps(
        self,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[SweepSummary]:
        townships, county = township_scope(principal, township)
        rows, total = _service(session, runtime).listing(townships, county, limit, offset)
        items = [
            SweepSummary(
                id=r.id,
                scope=r.scope,
                date=r.date,
                mode=r.mode,
                status=r.status,
                revision=r.revision,
                created_by=r.created_by,
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/sweeps/{plan_id:str}",
        responses=refusals(404),
        guards=[allow(*PLANNERS, Role.UNIT)],
        sync_to_thread=True,
    )
    def read_sweep(
        self, plan_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> SweepOut:
        """A plan with its teams, routes, stops, reasons and conflicts; a unit sees the plans its
        officers are in."""
        service, row, _ = _readable(plan_id, principal, session, runtime)
        return sweep_out(row, service)

    @post(
        "/sweeps/{plan_id:str}/moves",
        responses=refusals(404, 409),
        guards=[allow(*PLANNERS)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def move(
        self,
        plan_id: FromPath[str],
        data: JSONBody[MoveIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SweepOut:
        """Move a stop to another team (or off the plan); refused if the result breaks a rule."""
        data = strict(body, MoveIn)
        service = _changeable(plan_id, principal, session, runtime)
        return sweep_out(service.move(plan_id, data.revision, data.stop, data.team), service)

    @post(
        "/sweeps/{plan_id:str}/swaps",
        responses=refusals(404, 409),
        guards=[allow(*PLANNERS)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def swap(
        self,
        plan_id: FromPath[str],
        data: JSONBody[SwapIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SweepOut:
        """Swap one officer of a team for another; refused if the result breaks a rule."""
        data = strict(body, SwapIn)
        service = _changeable(plan_id, principal, session, runtime)
        return sweep_out(service.swap(plan_id, data.revision, data.team, data.leaving, data.joining), service)

    @post(
        "/sweeps/{plan_id:str}/publish",
        responses=refusals(404, 409),
        guards=[allow(*PLANNERS)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def publish(
        self,
        plan_id: FromPath[str],
        data: JSONBody[PublishIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SweepOut:
        data = strict(body, PublishIn)
        service = _changeable(plan_id, principal, session, runtime)
        return sweep_out(service.publish(plan_id, data.revision, principal.actor), service)

    @post(
        "/sweeps/{plan_id:str}/outcomes",
        responses=refusals(404, 409, 422),
        guards=[allow(*PLANNERS)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def record_outcome(
        self,
        plan_id: FromPath[str],
        data: JSONBody[OutcomeIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> OutcomeOut:
        """After the day: what the team found at a stop. A case opens an incident (or links the
        stop's own); the subject's last visit and risk level follow."""
        data = strict(body, OutcomeIn)
        service = _changeable(plan_id, principal, session, runtime)
        recorded = service.record(
            plan_id, data.stop, data.outcome, data.note, data.category, principal.actor, runtime.intake
        )
        return outcome_out(recorded)

    @get(
        "/sweeps/{plan_id:str}/outcomes",
        responses=refusals(404),
        guards=[allow(*PLANNERS, Role.UNIT)],
        sync_to_thread=True,
    )
    def list_outcomes(
        self, plan_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> list[OutcomeOut]:
        service, _, _ = _readable(plan_id, principal, session, runtime)
        return [outcome_out(r) for r in service.outcomes(plan_id)]

    @get(
        "/sweeps/{plan_id:str}/sheet",
        responses=refusals(404),
        guards=[allow(*PLANNERS, Role.UNIT)],
        sync_to_thread=True,
        media_type=XLSX,
    )
    def sheet(
        self, plan_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> Response[bytes]:
        """The printable workbook: one sheet per team, stops in route order, space for outcomes."""
        service, row, plan = _readable(plan_id, principal, session, runtime)
        content = plan_workbook(plan, service.names(plan))
        disposition = f'attachment; filename="{row.id}.xlsx"'
        return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})

    @get(
        "/sweeps/{plan_id:str}/map",
        responses=refusals(404),
        guards=[allow(*PLANNERS, Role.UNIT)],
        sync_to_thread=True,
        media_type="application/geo+json",
    )
    def map(
        self, plan_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> dict[str, object]:
        """Routes and stops as GeoJSON (WGS-84)."""
        _, _, plan = _readable(plan_id, principal, session, runtime)
        return plan_geojson(plan)

    @get(
        "/sweeps/{plan_id:str}/audit", responses=refusals(404), guards=[allow(*PLANNERS)], sync_to_thread=True
    )
    def audit(
        self, plan_id: FromPath[str], principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> SweepAudit:
        """Repeat the draw from its stored seed: are the inputs unchanged, and is the draw the same?"""
        service = _changeable(plan_id, principal, session, runtime)
        return service.audit(plan_id)
