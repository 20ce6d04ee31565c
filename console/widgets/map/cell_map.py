"""Cells drawn in the terminal with braille lines, incidents as coloured markers; zoom, pan, pick."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

from textual import events
from textual.geometry import Size
from textual_hires_canvas import Canvas

from console.board import is_overdue
from console.remote.models import CellShape, IncidentView

CELL_STYLE = "grey50"
ASPECT = 2.0  # a terminal cell is about twice as tall as it is wide


@dataclass(frozen=True)
class Marker:
    incident: str
    lon: float
    lat: float
    style: str


class CellMap(Canvas, can_focus=True):
    """Set `cells` and `markers` with `show`; the view fits the cells, then zooms and pans by key."""

    def __init__(self, **kwargs: str) -> None:
        super().__init__(width=1, height=1, **kwargs)  # type: ignore[arg-type]
        self.cells: list[CellShape] = []
        self.markers: list[Marker] = []
        self.selected: int | None = None
        self.zoom = 1.0
        self.centre = (0.0, 0.0)
        self._box = (0.0, 0.0, 1.0, 1.0)

    def show(
        self,
        cells: list[CellShape],
        markers: list[Marker],
        keep_view: bool = False,
        select: str | None = None,
    ) -> None:
        """Draw these cells and markers; the selection stays on the same incident unless `select` names one."""
        chosen = select or (self.selected_marker.incident if self.selected_marker else None)
        self.cells, self.markers = cells, markers
        self.selected = next((n for n, m in enumerate(markers) if m.incident == chosen), None)
        if not keep_view:
            points = [p for c in cells for ring in c.rings for p in ring] or [(m.lon, m.lat) for m in markers]
            if points:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                self._box = (min(xs), min(ys), max(xs), max(ys))
                self.centre = ((self._box[0] + self._box[2]) / 2, (self._box[1] + self._box[3]) / 2)
                self.zoom = 1.0
        self.redraw()

    @property
    def selected_marker(self) -> Marker | None:
        return (
            self.markers[self.selected]
            if self.selected is not None and self.selected < len(self.markers)
            else None
        )

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()

    def _scale(self) -> float:
        """Terminal columns per degree of longitude at zoom 1, fitting the cells' box."""
        width, height = max(self.size.width, 1), max(self.size.height, 1)
        minx, miny, maxx, maxy = self._box
        shrink = math.cos(math.radians(self.centre[1]))
        fit_x = width / max((maxx - minx) * shrink, 1e-9)
        fit_y = height * ASPECT / max(maxy - miny, 1e-9)
        return min(fit_x, fit_y) * 0.95

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """Lon/lat to fractional terminal columns and rows."""
        k = self._scale() * self.zoom
        shrink = math.cos(math.radians(self.centre[1]))
        x = self.size.width / 2 + (lon - self.centre[0]) * shrink * k
        y = self.size.height / 2 - (lat - self.centre[1]) * k / ASPECT
        return x, y

    def redraw(self) -> None:
        if self.size.width < 2 or self.size.height < 2:
            return
        self.reset(size=Size(self.size.width, self.size.height), refresh=False)
        edges: list[tuple[float, float, float, float]] = []
        for cell in self.cells:
            for ring in cell.rings:
                points = [self.project(lon, lat) for lon, lat in ring]
                edges.extend((a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(points))
        if edges:
            self.draw_hires_lines(edges, style=CELL_STYLE)
        for n, marker in enumerate(self.markers):
            x, y = self.project(marker.lon, marker.lat)
            if n == self.selected:
                self.set_pixel(int(x), int(y), "◉", f"bold reverse {marker.style}")
            else:
                self.set_pixel(int(x), int(y), "●", marker.style)
        self.refresh()

    def zoom_by(self, factor: float) -> None:
        self.zoom = min(64.0, max(0.5, self.zoom * factor))
        self.redraw()

    def pan(self, columns: int, rows: int) -> None:
        """Move the view by a share of the screen."""
        k = self._scale() * self.zoom
        shrink = math.cos(math.radians(self.centre[1]))
        lon, lat = self.centre
        self.centre = (
            lon + columns * self.size.width / 4 / (shrink * k),
            lat - rows * self.size.height / 4 * ASPECT / k,
        )
        self.redraw()

    def step(self, by: int) -> Marker | None:
        """Select the next (or previous) marker and centre on it."""
        if not self.markers:
            return None
        self.selected = 0 if self.selected is None else (self.selected + by) % len(self.markers)
        marker = self.markers[self.selected]
        x, y = self.project(marker.lon, marker.lat)
        if not (0 <= x < self.size.width and 0 <= y < self.size.height):
            self.centre = (marker.lon, marker.lat)
        self.redraw()
        return marker


def marker_style(incident: IncidentView, now: dt.datetime) -> str:
    """Markers by state, as in the map's legend: reported, in progress, overdue, to verify."""
    if is_overdue(incident, now):
        return "red"
    if incident.state == "reported":
        return "yellow"
    if incident.state in ("handled", "verified"):
        return "green"
    if incident.state == "suspended":
        return "grey62"
    return "dodger_blue1"


def markers_for(incidents: list[IncidentView], now: dt.datetime) -> list[Marker]:
    return [Marker(i.id, i.lon, i.lat, marker_style(i, now)) for i in incidents]
