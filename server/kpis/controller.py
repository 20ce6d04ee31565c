"""KPIs (绩效评价): the figures of a scope over a period, broken down and ranked, and what each means."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from grid.evaluation.figures import DEFINITIONS, Definition
from grid.evaluation.periods import span
from grid.evaluation.ranking import changes
from grid.evaluation.scopes import Scope, ScopeKind, parse_scope
from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.security import allow, deny, sees_place
from server.auth import Principal, Role
from server.kpis.schemas import KpiOut
from server.kpis.service import KpiService

SCOPE_HELP = "county:CODE, township:CODE, village:CODE, cell:CODE, unit:ID, department:ID or worker:ID"


def own_scope(principal: Principal) -> Scope:
    """What a caller's KPIs are about when they do not say."""
    if principal.scope_kind == "county":
        return Scope(kind=ScopeKind.COUNTY, id=principal.county)
    return Scope(kind=ScopeKind(principal.scope_kind), id=principal.scope_id)


def check_reads(principal: Principal, scope: Scope, store: KpiService) -> None:
    """A worker reads their own figures, a unit its own (and a department's unit its department's),
    a duty officer or admin the places and units in their scope."""
    place = store.place_of(scope)
    if principal.role in (Role.WORKER, Role.UNIT):
        kinds = (
            {ScopeKind.WORKER} if principal.role is Role.WORKER else {ScopeKind.UNIT, ScopeKind.DEPARTMENT}
        )
        if scope.kind not in kinds or scope.id != principal.scope_id:
            raise deny(f"{scope} is outside your scope")
    elif not sees_place(principal, place):
        raise deny(f"{scope} is outside your scope")


class KpiController(Controller):
    path = "/kpis"
    tags = ("kpis",)
    guards = [allow(Role.ADMIN, Role.DUTY, Role.UNIT, Role.WORKER)]  # noqa: RUF012  (Litestar reads it as a class attribute)

    @get("/", responses=refusals(), sync_to_thread=True)
    def figures(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        within: Annotated[
            str | None, QueryParameter(name="scope", max_length=80, description=SCOPE_HELP)
        ] = None,
        first: Annotated[dt.date | None, QueryParameter(name="from", description="first day")] = None,
        last: Annotated[dt.date | None, QueryParameter(name="to", description="last day")] = None,
        by: FromQuery[ScopeKind | None] = None,
        compare: FromQuery[bool] = False,
    ) -> KpiOut:
        """The scope's figures from `from` to `to` (whole days, both included; default this month so
        far), broken down `by` a level with ranks, and with `compare` the figures of the period
        before (环比) and a year before (同比)."""
        wanted = own_scope(principal) if within is None else parse_scope(within)
        today = runtime.today()
        period = span(first or today.replace(day=1), last or today)
        store = KpiService(session, runtime.domains.calendar.tz, runtime.clock())
        check_reads(principal, wanted, store)
        out = KpiOut(table=store.table(wanted, period, by))
        if compare:
            now = out.table.figures
            out.previous = store.scope_figures(wanted, period.previous())
            out.year_before = store.scope_figures(wanted, period.year_before())
            out.previous_change = changes(now, out.previous)
            out.year_change = changes(now, out.year_before)
        return out

    @get("/definitions", responses=refusals(), sync_to_thread=True)
    def definitions(self) -> list[Definition]:
        """Every figure: its names, unit kind and formula (zh and en)."""
        return list(DEFINITIONS)
