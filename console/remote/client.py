"""The console's HTTP client: one method per thing the duty officer reads or does on the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
import msgspec

from console.remote.models import (
    OPEN_STATES,
    CategoryView,
    CellShape,
    CoverageView,
    IncidentDetail,
    IncidentView,
    KpiDefinitionView,
    KpiView,
    OfficerView,
    PairingView,
    PresenceView,
    Problem,
    SweepSummaryView,
    SweepView,
    TownshipView,
    UnitView,
    VillageView,
    WhistleView,
    WorkerView,
)

T = TypeVar("T")
PAGE = 500  # the server's largest page
DEFAULT_URL = "http://127.0.0.1:8000"


class ServerError(Exception):
    """Anything that kept a request from being answered; `message(lang)` is what the officer reads."""

    def message(self, lang: str) -> str:
        return str(self)


class ServerRefused(ServerError):
    """The server said no (an RFC 9457 problem)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem

    def message(self, lang: str) -> str:
        return (self.problem.detail_zh if lang == "zh" else None) or self.problem.detail or self.problem.code


class Unreachable(ServerError):
    """The server could not be reached or did not answer."""


class _Paged(msgspec.Struct):
    items: list[msgspec.Raw]
    total: int


class ServerClient:
    def __init__(self, url: str, token: str, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _send(self, method: str, path: str, **request: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **request)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{method} {path}: {exc}") from exc
        if response.status_code >= 400:
            try:
                problem = msgspec.json.decode(response.content, type=Problem)
            except msgspec.DecodeError:
                problem = Problem(status=response.status_code, detail=response.text[:200])
            if not problem.status:
                problem.status = response.status_code
            raise ServerRefused(problem)
        return response

    async def _call(self, method: str, path: str, kind: type[T], **request: Any) -> T:
        response = await self._send(method, path, **request)
        return msgspec.json.decode(response.content, type=kind)

    async def _all(self, path: str, kind: type[T], **params: Any) -> list[T]:
        """Every item of a paged listing."""
        items: list[T] = []
        while True:
            page = await self._call(
                "GET", path, _Paged, params={**params, "limit": PAGE, "offset": len(items)}
            )
            items.extend(msgspec.json.decode(raw, type=kind) for raw in page.items)
            if not page.items or len(items) >= page.total:
                return items

    # --- incidents ---
    async def open_incidents(self, township: str | None = None) -> list[IncidentView]:
        params: dict[str, Any] = {"status": list(OPEN_STATES)}
        if township:
            params["township"] = township
        return await self._all("/incidents", IncidentView, **params)

    async def incident(self, incident_id: str) -> IncidentDetail:
        return await self._call("GET", f"/incidents/{incident_id}", IncidentDetail)

    async def near(self, incident: IncidentView, span: float = 0.003) -> list[IncidentView]:
        """Open incidents of the same category close by: the probable duplicates to look at."""
        bbox = f"{incident.lon - span},{incident.lat - span},{incident.lon + span},{incident.lat + span}"
        found = await self._all(
            "/incidents", IncidentView, bbox=bbox, category=incident.category, status=list(OPEN_STATES)
        )
        return [i for i in found if i.id != incident.id]

    async def act(self, incident_id: str, action: str, reason: str | None = None) -> IncidentView:
        body = {"reason": reason} if reason else {}
        return await self._call("POST", f"/incidents/{incident_id}/actions/{action}", IncidentView, json=body)

    async def reroute(self, incident_id: str, lead: str, reason: str) -> IncidentView:
        return await self._call(
            "POST", f"/incidents/{incident_id}/reroute", IncidentView, json={"lead": lead, "reason": reason}
        )

    async def media(self, ref: str) -> tuple[bytes, str]:
        """A photo an incident carries (its `/media/<name>` reference), read with the console's token:
        the bytes and their content type."""
        name = ref.rsplit("/", 1)[-1]
        response = await self._send("GET", f"/media/{name}")
        return response.content, response.headers.get("content-type", "application/octet-stream")

    # --- whistles ---
    async def whistle(
        self, incident_id: str, kind: str, reason: str, units: Sequence[str], note: str = ""
    ) -> WhistleView:
        body = {"kind": kind, "reason": reason, "units": list(units), "note": note}
        return await self._call("POST", f"/incidents/{incident_id}/whistles", WhistleView, json=body)

    async def open_whistles(self) -> list[WhistleView]:
        return await self._all("/whistles", WhistleView, open="true")

    async def report_in(self, whistle_id: str, unit: str) -> WhistleView:
        return await self._call(
            "POST", f"/whistles/{whistle_id}/report-in", WhistleView, params={"unit": unit}
        )

    async def rate(self, whistle_id: str, unit: str, rating: int) -> WhistleView:
        body = {"unit": unit, "rating": rating}
        return await self._call("POST", f"/whistles/{whistle_id}/rate", WhistleView, json=body)

    # --- phones ---
    async def pair(self, role: str, ident: str, minutes: int) -> PairingView:
        """A one-time code for a worker's or a unit's phone (role "worker" or "unit")."""
        return await self._call("POST", "/pairings", PairingView, json={role: ident, "minutes": minutes})

    # --- sweeps ---
    async def latest_sweep(self) -> SweepView | None:
        page = await self._call("GET", "/sweeps", _Paged, params={"limit": 1})
        if not page.items:
            return None
        latest = msgspec.json.decode(page.items[0], type=SweepSummaryView)
        return await self.sweep(latest.id)

    async def sweep(self, plan_id: str) -> SweepView:
        return await self._call("GET", f"/sweeps/{plan_id}", SweepView)

    async def plan_sweep(self) -> SweepView:
        """Plan next Tuesday for the caller's own scope."""
        return await self._call("POST", "/sweeps", SweepView, json={})

    async def move_stop(self, sweep: SweepView, stop: str, team: str | None) -> SweepView:
        body = {"revision": sweep.revision, "stop": stop, "team": team}
        return await self._call("POST", f"/sweeps/{sweep.id}/moves", SweepView, json=body)

    async def swap_officer(self, sweep: SweepView, team: str, leaving: str, joining: str) -> SweepView:
        body = {"revision": sweep.revision, "team": team, "leaving": leaving, "joining": joining}
        return await self._call("POST", f"/sweeps/{sweep.id}/swaps", SweepView, json=body)

    async def publish_sweep(self, sweep: SweepView) -> SweepView:
        return await self._call(
            "POST", f"/sweeps/{sweep.id}/publish", SweepView, json={"revision": sweep.revision}
        )

    # --- patrols ---
    async def presence(self, township: str | None) -> list[PresenceView]:
        return await self._all(
            "/patrols/presence", PresenceView, **({"township": township} if township else {})
        )

    async def coverage(self, township: str | None, week: dt.date | None = None) -> CoverageView:
        params: dict[str, Any] = {"limit": PAGE}
        if township:
            params["township"] = township
        if week:
            params["week"] = week.isoformat()
        return await self._call("GET", "/patrols/coverage", CoverageView, params=params)

    # --- reference data ---
    async def kpis(self, scope: str | None, first: dt.date, last: dt.date, by: str | None) -> KpiView:
        """The figures of a scope (default: the caller's own) with the period before (环比)."""
        params: dict[str, str] = {"from": first.isoformat(), "to": last.isoformat(), "compare": "true"}
        if scope is not None:
            params["scope"] = scope
        if by is not None:
            params["by"] = by
        return await self._call("GET", "/kpis", KpiView, params=params)

    async def kpi_definitions(self) -> list[KpiDefinitionView]:
        return await self._call("GET", "/kpis/definitions", list[KpiDefinitionView])

    async def townships(self) -> list[TownshipView]:
        return await self._all("/townships", TownshipView)

    async def villages(self) -> list[VillageView]:
        return await self._all("/villages", VillageView)

    async def units(self) -> list[UnitView]:
        return await self._all("/units", UnitView)

    async def workers(self, township: str) -> list[WorkerView]:
        return await self._all("/workers", WorkerView, township=township)

    async def officers(self) -> list[OfficerView]:
        return await self._all("/officers", OfficerView)

    async def categories(self) -> list[CategoryView]:
        return await self._all("/categories", CategoryView)

    async def cells(self, township: str) -> list[CellShape]:
        shapes: list[CellShape] = []
        while True:
            page = await self._call(
                "GET",
                "/cells",
                dict[str, Any],
                params={"township": township, "limit": 5000, "offset": len(shapes)},
            )
            shapes.extend(_cell_shape(f) for f in page["features"])
            if not page["features"] or len(shapes) >= page["total"]:
                return shapes

    async def stream_head(self) -> int:
        return int((await self._call("GET", "/events/head", dict[str, int]))["cursor"])


def _cell_shape(feature: dict[str, Any]) -> CellShape:
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    props = feature["properties"]
    return CellShape(
        code=props["code"],
        name=props["name"],
        village=props["village"],
        township=props["township"],
        rings=[[(float(x), float(y)) for x, y, *_ in ring] for polygon in polygons for ring in polygon],
    )
