"""Patrols: the week's coverage of cells against their targets, and where the workers are."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get
from litestar.params import FromQuery

from grid.patrols import AreaCoverage, by_township, by_village, week_of
from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import Limit, Offset, Page
from server.api.security import allow, township_scope
from server.auth import Role
from server.patrols.schemas import AreaCoverageOut, CellCoverageOut, CoverageOut, PresenceOut
from server.patrols.service import cells_visited, coverage, presence_page


def _area(a: AreaCoverage) -> AreaCoverageOut:
    return AreaCoverageOut(code=a.code, cells=a.cells, covered=a.covered, share=round(a.share, 4))


class PatrolController(Controller):
    path = "/patrols"
    tags = ("patrols",)
    guards = [allow(Role.ADMIN, Role.DUTY)]  # noqa: RUF012  (Litestar reads it as a class attribute)

    @get("/coverage", responses=refusals(), sync_to_thread=True)
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
                items=[
                    CellCoverageOut(
                        cell=c.cell, days_visited=c.days_visited, target=c.target, covered=c.covered
                    )
                    for c in cells[offset : offset + limit]
                ],
                total=len(cells),
                limit=limit,
                offset=offset,
            ),
        )

    @get("/presence", responses=refusals(), sync_to_thread=True)
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
