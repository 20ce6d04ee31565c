"""Patrols: the week's coverage of cells against their targets, and where the workers are; a worker's
phone sends its pings here (beside MQTT and OwnTracks) and reads its own cells' week."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody, RawBody
from litestar.status_codes import HTTP_200_OK

from grid.errors import DomainError
from grid.patrols import AreaCoverage, CellCoverage, Ping, PingRefused, by_township, by_village, week_of
from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import Limit, Offset, Page, strict
from server.api.security import allow, township_scope
from server.auth import Role
from server.patrols.schemas import (
    AreaCoverageOut,
    CellCoverageOut,
    CoverageOut,
    MyCoverageOut,
    PingsIn,
    PingsOut,
    PresenceOut,
)
from server.patrols.service import cells_coverage, cells_visited, coverage, presence_page
from server.reference.service import worker_cells

STAFF_ONLY = [allow(Role.ADMIN, Role.DUTY)]
WORKER_ONLY = [allow(Role.WORKER)]


class PingsRefused(DomainError):
    """A ping the patrol pipeline refuses (422)."""

    code = "invalid_ping"


def _area(a: AreaCoverage) -> AreaCoverageOut:
    return AreaCoverageOut(code=a.code, cells=a.cells, covered=a.covered, share=round(a.share, 4))


def _cell(c: CellCoverage) -> CellCoverageOut:
    return CellCoverageOut(cell=c.cell, days_visited=c.days_visited, target=c.target, covered=c.covered)


class PatrolController(Controller):
    path = "/patrols"
    tags = ("patrols",)

    @get("/coverage", responses=refusals(), guards=STAFF_ONLY, sync_to_thread=True)
    def coverage(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        township: FromQuery[str | None] = None,
        week: FromQuery[dt.date | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> CoverageOut:
        """Days each cell was patrolled in the week (any day of it; default this week) against its
        weekly target, rolled up per village and township."""
        townships, county = township_scope(principal, township)
        day = week or runtime.today()
        start, end = week_of(day)
        cells = coverage(session, townships, county, start)
        return CoverageOut(
            week_start=start,
            week_end=end,
            townships=[_area(a) for a in by_township(cells)],
            villages=[_area(a) for a in by_village(cells)],
            cells=Page(
                items=[_cell(c) for c in cells[offset : offset + limit]],
                total=len(cells),
                limit=limit,
                offset=offset,
            ),
        )

    @get("/presence", responses=refusals(), guards=STAFF_ONLY, sync_to_thread=True)
    def presence(
        self,
        session: SessionDep,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        township: FromQuery[str | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[PresenceOut]:
        """Who is online, where each worker was last seen, and how many cells they covered this week."""
        townships, county = township_scope(principal, township)
        rows, total = presence_page(session, townships, county, limit, offset)
        monday, _ = week_of(runtime.today())
        visited = cells_visited(session, [r.worker for r in rows], monday)
        return Page(
            items=[
                PresenceOut(
                    worker=r.worker,
                    township=r.township,
                    online=r.online,
                    last_ping_at=r.last_ping_at,
                    lon=r.lon,
                    lat=r.lat,
                    cell=r.cell,
                    via=r.via,
                    cells_visited_this_week=visited.get(r.worker, 0),
                )
                for r in rows
            ],
            total=total,
            limit=limit,
            offset=offset,
        )

    @post(
        "/pings",
        responses=refusals(422),
        guards=WORKER_ONLY,
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def pings(
        self, data: JSONBody[PingsIn], body: RawBody, principal: PrincipalDep, runtime: RuntimeDep
    ) -> PingsOut:
        """The worker's own pings (1–500 a batch) through the same pipeline as MQTT and OwnTracks:
        they become per-cell, per-day visits and move the worker's last position."""
        data = strict(body, PingsIn)
        pings = [
            Ping(worker=principal.scope_id, at=p.ts, lon=p.lon, lat=p.lat, accuracy=p.acc) for p in data.pings
        ]
        for n, ping in enumerate(pings):
            try:
                runtime.patrols.check(ping)
            except PingRefused as exc:
                raise PingsRefused(
                    f"pings[{n}]: {exc}",
                    f"第 {n + 1} 个定位点不符合要求：经纬度须为有效数值，时间须带时区，精度须为非负米数",
                    at=f"pings[{n}]",
                ) from None
        visits = runtime.patrols.take(pings, via="http")
        return PingsOut(taken=len(pings), visits=len(visits))

    @get("/mine", responses=refusals(), guards=WORKER_ONLY, sync_to_thread=True)
    def mine(self, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep) -> MyCoverageOut:
        """The worker's own cells this ISO week: days visited (by anyone on patrol) against each target."""
        start, end = week_of(runtime.today())
        cells = cells_coverage(session, worker_cells(session, principal.scope_id), start)
        return MyCoverageOut(
            week_start=start,
            week_end=end,
            cells=[_cell(c) for c in cells],
            covered=sum(c.covered for c in cells),
        )
