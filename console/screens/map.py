"""The township's cells drawn in the terminal with the open incidents on them; zoom and pan by key,
step through the markers and open one."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Select, Static

from console.keys import bind_keys
from console.remote.client import ServerError
from console.screens.base import ConsoleScreen
from console.screens.incident import IncidentScreen
from console.widgets.map.cell_map import CellMap, markers_for
from console.widgets.township_picker import township_picker

MARK_SECONDS = 0.5  # redrawing a township takes tens of ms, so a busy stream is drawn twice a second


class MapScreen(ConsoleScreen):
    def __init__(self) -> None:
        super().__init__()
        self.township: str | None = None
        self._marking = False  # a redraw for live changes is due

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(
            self,
            t,
            [
                ("plus,equals_sign", "zoom(2)", "key.zoom_in"),
                ("minus", "zoom(0.5)", "key.zoom_out"),
                ("n", "step(1)", "key.next_marker"),
                ("p", "step(-1)", "key.prev_marker"),
                ("enter", "open", "key.open"),
            ],
        )
        for key, dx, dy in (("left", -1, 0), ("right", 1, 0), ("up", 0, -1), ("down", 0, 1)):
            self._bindings.bind(key, f"pan({dx},{dy})", show=False)
        yield Header()
        with Horizontal(id="map-bar"):
            yield township_picker(t, self.console.directory, id="map-township")
            yield Static(t("map.legend"), id="legend")
        yield CellMap()
        yield Static("", id="map-status")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "last_event", self._live, init=False)
        picker = self.query_one("#map-township", Select)
        if picker.value is not Select.NULL:
            self.township = str(picker.value)
            self.load()
        self.query_one(CellMap).focus()

    @on(Select.Changed, "#map-township")
    def _township(self, event: Select.Changed) -> None:
        self.township = str(event.value)
        self.load()

    def _live(self) -> None:
        if self.township and not self._marking:
            self._marking = True
            self.set_timer(MARK_SECONDS, self._remark)

    def _remark(self) -> None:
        self._marking = False
        self._mark(keep_view=True)

    @work(exclusive=True, group="map", exit_on_error=False)
    async def load(self) -> None:
        if self.township is None:
            return
        try:
            cells = await self.console.cells_of(self.township)
        except ServerError as exc:
            self.query_one("#map-status", Static).update(exc.message(self.console.t.lang))
            return
        self.query_one(CellMap).cells = cells
        self._mark(keep_view=False)

    def _mark(self, keep_view: bool) -> None:
        app = self.console
        cell_map = self.query_one(CellMap)
        incidents = [i for i in app.board.incidents.values() if i.township == self.township]
        incidents.sort(key=lambda i: (i.lon, i.lat))  # markers step west to east
        cell_map.show(cell_map.cells, markers_for(incidents, app.clock()), keep_view=keep_view)
        self._describe()

    def _describe(self) -> None:
        app, t = self.console, self.console.t
        cell_map = self.query_one(CellMap)
        marker = cell_map.selected_marker
        status = self.query_one("#map-status", Static)
        if not cell_map.cells:
            status.update(t("map.none"))
        elif marker is not None and marker.incident in app.board.incidents:
            i = app.board.incidents[marker.incident]
            status.update(
                t(
                    "map.selected",
                    category=app.directory.category(i.category, t.lang),
                    state=t.state(i.state, i.in_review),
                    place=app.directory.place(i.cell),
                )
            )
        else:
            name = app.directory.township(self.township)
            status.update(t("map.heading", township=name, zoom=f"{cell_map.zoom:g}"))

    def action_zoom(self, factor: float) -> None:
        self.query_one(CellMap).zoom_by(factor)
        self._describe()

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one(CellMap).pan(dx, dy)

    def action_step(self, by: int) -> None:
        self.query_one(CellMap).step(by)
        self._describe()

    def action_open(self) -> None:
        marker = self.query_one(CellMap).selected_marker
        if marker is not None:
            self.app.push_screen(IncidentScreen(marker.incident))
