"""Whistles in the database. Called departments take part in the incident until it closes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

from sqlmodel import Session, col, select

from grid.domain import Domain
from grid.errors import NotFound
from grid.organisation import UnitKind
from grid.whistles import WhistleKind, WhistleReason, WhistleRefused, check_rating, report_in_due
from server.api.listings import page_of
from server.db.tables import EventRow, IncidentRow, IncidentUnitRow, UnitRow, WhistleCallRow, WhistleRow
from server.incidents.service import IncidentService
from server.incidents.store import OPEN_STATES


def whistle_event(
    kind: str, whistle: WhistleRow, at: dt.datetime, calls: Sequence[WhistleCallRow], **extra: object
) -> EventRow:
    return EventRow(
        at=at,
        kind=kind,
        incident=whistle.incident,
        township=whistle.township,
        units=[c.unit for c in calls],
        payload={"whistle": whistle.id, "incident": whistle.incident, "kind": whistle.kind, **extra},
    )


def _called(calls: Sequence[WhistleCallRow], unit: str) -> WhistleCallRow:
    call = next((c for c in calls if c.unit == unit), None)
    if call is None:
        raise WhistleRefused(
            f"{unit} was not called by this whistle", f"{unit} 不在本次吹哨召集之列", unit=unit
        )
    return call


class WhistleService:
    def __init__(
        self, session: Session, domain: Callable[[], Domain], clock: Callable[[], dt.datetime]
    ) -> None:
        self.session = session
        self.domain = domain
        self.clock = clock

    def get(self, whistle_id: str) -> tuple[WhistleRow, list[WhistleCallRow]]:
        whistle = self.session.get(WhistleRow, whistle_id)
        if whistle is None:
            raise NotFound(f"no whistle {whistle_id}", f"没有吹哨记录 {whistle_id}", whistle=whistle_id)
        return whistle, self.calls(whistle_id)

    def calls(self, whistle_id: str) -> list[WhistleCallRow]:
        return list(
            self.session.exec(
                select(WhistleCallRow)
                .where(WhistleCallRow.whistle == whistle_id)
                .order_by(col(WhistleCallRow.unit))
            ).all()
        )

    def open(
        self,
        incident_id: str,
        kind: WhistleKind,
        reason: WhistleReason,
        units: Sequence[str],
        note: str,
        actor: str,
    ) -> WhistleRow:
        incidents = IncidentService(self.session, self.domain, self.clock)
        row = incidents.row(incident_id)
        if row.state not in OPEN_STATES or row.township is None:
            raise WhistleRefused(
                "only an open, located incident can be whistled for", "只能对未办结且已定位的事件吹哨"
            )
        if not units or len(set(units)) != len(units):
            raise WhistleRefused("name each department to call once", "请指明要召集的部门（不重复）")
        for unit_id in units:
            unit = self.session.get(UnitRow, unit_id)
            if (
                unit is None
                or unit.kind != UnitKind.DEPARTMENT.value
                or not unit.id.startswith(row.township[:6])
            ):
                raise WhistleRefused(
                    f"{unit_id} is not a department of this county", f"{unit_id} 不是本县的部门", unit=unit_id
                )
        now = self.clock()
        due = report_in_due(kind, now, self.domain().calendar)
        whistle = WhistleRow(
            id=uuid.uuid4().hex,
            incident=incident_id,
            township=row.township,
            kind=kind.value,
            reason=reason.value,
            note=note,
            opened_at=now,
            opened_by=actor,
        )
        calls = [WhistleCallRow(whistle=whistle.id, unit=u, due_at=due) for u in units]
        parts = set(incidents.units(incident_id))
        self.session.add(whistle)
        self.session.add_all(calls)
        self.session.add_all(IncidentUnitRow(incident=incident_id, unit=u) for u in units if u not in parts)
        self.session.add(whistle_event("whistle.opened", whistle, now, calls, due=due.isoformat()))
        self.session.commit()
        return whistle

    def report_in(self, whistle_id: str, unit: str, actor: str) -> WhistleCallRow:
        whistle, calls = self.get(whistle_id)
        call = _called(calls, unit)
        if call.reported_at is not None:
            raise WhistleRefused(f"{unit} has already reported in", f"{unit} 已报到", unit=unit)
        now = self.clock()
        call.reported_at, call.reported_by, call.late = now, actor, now > call.due_at
        self.session.add(call)
        self.session.add(whistle_event("whistle.reported_in", whistle, now, calls, unit=unit, late=call.late))
        self.session.commit()
        return call

    def rate(self, whistle_id: str, unit: str, rating: int) -> WhistleCallRow:
        whistle, calls = self.get(whistle_id)
        call = _called(calls, unit)
        check_rating(rating, call.reported_at is not None)
        now = self.clock()
        call.rating, call.rated_at = rating, now
        self.session.add(call)
        self.session.add(whistle_event("whistle.rated", whistle, now, calls, unit=unit, rating=rating))
        self.session.commit()
        return call

    def search(
        self,
        townships: Sequence[str] | None,
        county: str | None,
        unit: str | None,
        open_only: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[WhistleRow], int]:
        query = select(WhistleRow)
        if townships is not None:
            query = query.where(col(WhistleRow.township).in_(townships))
        if county is not None:
            query = query.where(col(WhistleRow.township).startswith(county))
        if unit is not None:
            query = query.where(
                col(WhistleRow.id).in_(select(WhistleCallRow.whistle).where(WhistleCallRow.unit == unit))
            )
        if open_only:
            open_incidents = select(IncidentRow.id).where(col(IncidentRow.state).in_(OPEN_STATES))
            query = query.where(col(WhistleRow.incident).in_(open_incidents))
        return page_of(
            self.session, query, [col(WhistleRow.opened_at).desc(), col(WhistleRow.id)], limit, offset
        )
