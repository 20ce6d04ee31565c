"""Who may see which incidents: one incident's scope check, and a listing narrowed to the caller."""

from __future__ import annotations

from grid.intake import Intake, Report, check_report
from grid.places import township_of
from server.api.security import deny, township_scope
from server.auth import Principal, Role
from server.db.tables import IncidentRow
from server.incidents.service import IncidentFilter, IncidentService


def check_scope(principal: Principal, row: IncidentRow, service: IncidentService) -> None:
    """Refuse (403) an incident outside the caller's scope."""
    if principal.role in (Role.ADMIN, Role.DUTY):
        if principal.sees_township(row.township):
            return
    elif principal.role is Role.UNIT:
        # An alert in the review queue has not gone to enforcement yet (docs/domain.md#remote-enforcement-alerts).
        if principal.scope_id in service.units(row.id) and not row.in_review:
            return
    elif principal.role is Role.WORKER and row.reporter == principal.scope_id:
        return
    raise deny(f"incident {row.id} is outside your scope")


def limit_to_scope(
    where: IncidentFilter, principal: Principal, township: str | None, unit: str | None
) -> None:
    """Narrow a listing to what the caller may see; asking for more is refused, not silently cut."""
    townships, county = township_scope(principal, township)
    match principal.role:
        case Role.ADMIN | Role.DUTY:
            where.unit = unit
            where.townships, where.county = townships, county
        case Role.UNIT:
            if unit not in (None, principal.scope_id):
                raise deny(f"unit {unit} is not yours")
            # A unit's incidents are those it has a part in, wherever they are.
            where.unit = principal.scope_id
            where.townships = townships if township else None
            where.in_review = False
        case _:
            where.reporter = principal.scope_id
            where.townships = townships if township else None


def check_report_place(principal: Principal, report: Report, intake: Intake) -> None:
    """Refuse (403) a township's duty officer reporting a place outside their township, before the
    intake writes anything: the point is located here as the intake will locate it."""
    if principal.role is not Role.DUTY or principal.scope_kind == "county":
        return
    domain = intake.domain()
    check_report(report, domain, intake.clock())  # a bad report is refused for what it is, not for where
    lon, lat = intake.convert(report.lon, report.lat, report.crs)
    cell = domain.index.locate(lon, lat, report.accuracy).cell
    if not principal.sees_township(township_of(cell) if cell else None):
        raise deny("the reported place is outside your township")
