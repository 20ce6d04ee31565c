"""One incident: where it is, why this unit has it, what happened so far, what may be the same
problem; and the duty officer's actions by key, each refused by the server with its reason shown."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Label, Static

from console.board import is_overdue, time_left
from console.clock import local
from console.keys import bind_keys
from console.remote.client import ServerError
from console.remote.models import CLOSED_STATES, EventView, IncidentDetail, IncidentView
from console.screens.base import ConsoleScreen
from console.screens.dialogs import ReasonDialog, RerouteDialog, WhistleDialog
from console.widgets.map.cell_map import CellMap, markers_for

# key, action, label; the actions that need a reason ask for one first
ACTIONS = [
    ("a", "accept", "key.accept"),
    ("x", "reject", "key.reject"),
    ("d", "dispatch", "key.dispatch"),
    ("r", "reroute", "key.reroute"),
    ("w", "whistle", "key.whistle"),
    ("s", "suspend", "key.suspend"),
    ("u", "resume", "key.resume"),
    ("v", "verify", "key.verify"),
    ("c", "close", "key.close"),
    ("o", "reopen", "key.reopen"),
]
NEEDS_REASON = {"reject", "suspend", "reopen"}
# The states each step may be taken from, by the loop's rules (grid/lifecycle.py; a test keeps them
# in step), so the footer offers only what the incident's state allows. The server still decides.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "accept": frozenset({"reported"}),
    "reject": frozenset({"reported"}),
    "dispatch": frozenset({"accepted", "returned"}),
    "reroute": frozenset({"reported", "accepted", "returned", "dispatched", "signed"}),
    "suspend": frozenset({"accepted", "dispatched", "signed", "returned", "reopened"}),
    "resume": frozenset({"suspended"}),
    "verify": frozenset({"handled"}),
    "close": frozenset({"verified"}),
    "reopen": frozenset({"handled", "verified", "closed"}),
}


class IncidentScreen(ConsoleScreen):
    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.detail: IncidentDetail | None = None

    def compose(self) -> ComposeResult:
        t = self.console.t
        bind_keys(self, t, [("escape", "back", "key.back")])
        bind_keys(self, t, [(key, f"step('{action}')", label) for key, action, label in ACTIONS])
        bind_keys(self, t, [("f", "photos", "key.photos")])
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="summary", classes="section")
            yield Label(t("detail.map"), classes="heading")
            yield CellMap(id="position")
            yield Label(t("detail.routing"), classes="heading")
            yield Static(id="routing", classes="section")
            yield Label(t("detail.history"), classes="heading")
            yield Static(id="history", classes="section")
            yield Label(t("detail.duplicates"), classes="heading")
            yield Static(id="duplicates", classes="section")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.watch(self.app, "last_event", self._live, init=False)
        self.set_interval(1.0, self._tick)  # the clock moves the countdown, not the stream

    def _live(self, event: EventView | None) -> None:
        """Reload when the live stream says this incident changed."""
        if event is not None and event.incident == self.incident_id:
            self.load()

    def _tick(self) -> None:
        if self.detail is not None:
            self._summary(self.detail.incident)

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load(self) -> None:
        app, t = self.console, self.console.t
        try:
            detail = await app.client.incident(self.incident_id)
            near = await app.client.near(detail.incident)
            cells = await app.cells_of(detail.incident.township) if detail.incident.township else []
        except ServerError as exc:
            self._status(t("error.server", detail=exc.message(t.lang)), refused=True)
            return
        self.detail = detail
        self.refresh_bindings()  # the footer follows the incident's state
        i = detail.incident
        self.sub_title = t("detail.title", id=i.id)
        self._summary(i)
        self.query_one("#routing", Static).update(self._routing(detail))
        self.query_one("#history", Static).update(self._history(detail))
        self.query_one("#duplicates", Static).update(self._duplicates(i, near))
        village = [c for c in cells if i.village and c.village == i.village] or cells
        markers = [*markers_for(near, app.clock()), *markers_for([i], app.clock())]
        self.query_one(CellMap).show(village, markers, select=i.id)

    def _summary(self, i: IncidentView) -> None:
        app, t, lang = self.console, self.console.t, self.console.t.lang
        d = app.directory
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        what = Text(f"{i.category} {d.category(i.category, lang)}  ")
        if i.urgent:
            what.append("!", style="bold bright_red")
        what.append(
            f" {t.state(i.state, i.in_review)} · {t.code('source', i.source)} · {local(i.reported_at)}"
        )
        grid.add_row(t("detail.what"), what)
        where = d.place(i.cell) if i.cell else t("detail.unlocated")
        if i.snapped:
            where += " " + t("detail.snapped")
        grid.add_row(t("detail.where"), where)
        grid.add_row(t("detail.coords"), f"{i.lon:.6f}, {i.lat:.6f}")
        grid.add_row(t("col.lead"), d.unit(i.lead, lang) or "—")
        if i.support:
            grid.add_row(t("detail.support"), "、".join(d.unit(u, lang) for u in i.support))
        left = Text(time_left(i, app.clock(), t), style="bold red" if is_overdue(i, app.clock()) else "")
        stage = t.code("stage", i.stage) if i.stage else ""
        grid.add_row(t("detail.deadline"), Text.assemble(f"{stage} {local(i.deadline)}  ", left))
        if i.alert_count:
            grid.add_row("", t("detail.alerts", count=i.alert_count, at=local(i.last_seen)))
        if i.text:
            grid.add_row(t("detail.text"), i.text)
        photos = Text()
        for n, ref in enumerate(i.media):
            photos.append(f"[{n + 1}] {ref.rsplit('/', 1)[-1][:12]}…  ")
        if i.media:
            photos.append(f"({t('detail.photos_hint')})", style="dim")
        grid.add_row(t("detail.photos"), photos if i.media else Text(t("detail.no_photos")))
        self.query_one("#summary", Static).update(grid)

    def _routing(self, detail: IncidentDetail) -> Any:
        t, d, lang = self.console.t, self.console.directory, self.console.t.lang
        text = (detail.explanation_zh if lang == "zh" else detail.explanation_en) or "—"
        table = Table(title=t("detail.assignments"), title_justify="left", expand=True, show_edge=False)
        for key in ("col.at", "col.lead", "col.basis", "col.reason"):
            table.add_column(t(key))
        for a in detail.assignments:
            table.add_row(local(a.at), d.unit(a.lead, lang), t.code("basis", a.basis), a.reason or "")
        return Group(Text(text), table)

    def _history(self, detail: IncidentDetail) -> Table:
        t = self.console.t
        table = Table(expand=True, show_edge=False)
        for key in ("col.at", "col.step", "col.state", "col.actor", "col.reason"):
            table.add_column(t(key))
        for f in detail.history:
            # A report (or a merged alert) does not move the incident: name the one state it is in.
            states = (
                t.code("state", f.to_state)
                if f.from_state == f.to_state
                else f"{t.code('state', f.from_state)} → {t.code('state', f.to_state)}"
            )
            table.add_row(
                local(f.at, "%m-%d %H:%M:%S"), t.code("action", f.action), states, f.actor, f.reason or ""
            )
        return table

    def _duplicates(self, i: IncidentView, near: list[IncidentView]) -> Text:
        t, d, lang = self.console.t, self.console.directory, self.console.t.lang
        lines = Text()
        if i.probable_duplicate_of:
            lines.append(t("detail.duplicate_of", id=i.probable_duplicate_of) + "\n", style="yellow")
        for other in near:
            metres = _metres(i, other)
            lines.append(
                f"{other.id[:8]}  {d.category(other.category, lang)}  {t.state(other.state)}  "
                f"{local(other.reported_at)}  {metres:.0f} m\n"
            )
        return lines if lines.plain else Text(t("detail.no_duplicates"))

    def _status(self, text: str, refused: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(refused, "refused")

    def action_back(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the steps the incident's state allows are offered (and shown in the footer)."""
        if self.detail is None:
            return action not in ("step", "photos")
        state = self.detail.incident.state
        if action == "photos":
            return bool(self.detail.incident.media)
        if action != "step" or not parameters:
            return True
        step = str(parameters[0])
        if step == "whistle":
            return state not in CLOSED_STATES
        return state in ALLOWED_FROM.get(step, frozenset())

    @work(group="photos", exit_on_error=False)
    async def action_photos(self) -> None:
        """Read each photo with the console's token and hand it to the app to open."""
        app, t = self.console, self.console.t
        if self.detail is None:
            return
        for ref in self.detail.incident.media:
            name = ref.rsplit("/", 1)[-1]
            try:
                content, mime = await app.client.media(ref)
            except ServerError as exc:
                self.app.notify(t("photo.failed", detail=exc.message(t.lang)), severity="error")
                continue
            app.show_photo(name, content, mime.split(";")[0])

    @work(group="act", exit_on_error=False)
    async def action_step(self, action: str) -> None:
        app, t = self.console, self.console.t
        label = t(next(label for _, a, label in ACTIONS if a == action))
        if self.detail is None:
            return
        incident = self.detail.incident
        try:
            if action == "reroute":
                units = sorted(app.directory.units.values(), key=lambda u: u.id)
                picked = await self.app.push_screen_wait(RerouteDialog(t, label, units, incident.lead))
                if picked is None:
                    return
                await app.client.reroute(incident.id, *picked)
            elif action == "whistle":
                departments = [u for u in app.directory.units.values() if u.township is None]
                order = await self.app.push_screen_wait(
                    WhistleDialog(t, sorted(departments, key=lambda u: u.id))
                )
                if order is None:
                    return
                await app.client.whistle(incident.id, order.kind, order.reason, order.units, order.note)
            else:
                reason = None
                if action in NEEDS_REASON:
                    reason = await self.app.push_screen_wait(ReasonDialog(t, f"{label}: {t('ask.reason')}"))
                    if reason is None:
                        return
                await app.client.act(incident.id, action, reason)
        except ServerError as exc:
            message = t("detail.refused", action=label, detail=exc.message(t.lang))
            self._status(message, refused=True)
            self.app.notify(message, severity="error")
            return
        self._status(t("detail.done", action=label))
        self.app.notify(t("detail.done", action=label))
        self.load()


def _metres(a: IncidentView, b: IncidentView) -> float:
    shrink = math.cos(math.radians(a.lat))
    return math.hypot((a.lon - b.lon) * shrink, a.lat - b.lat) * 111_320
