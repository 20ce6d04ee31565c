"""The command palette (Ctrl+P): go to a screen, or open an incident by what it is or where."""

from __future__ import annotations

from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.board import BoardFilter
from console.screens.incident import IncidentScreen
from console.shell import Shell

MOST_INCIDENTS = 20


class ConsoleCommands(Provider):
    @property
    def console(self) -> Shell:
        return cast(Shell, self.app)

    def _screens(self) -> list[tuple[str, str]]:
        t = self.console.t
        return [(t("palette.go", screen=t.code("nav", name)), name) for name in self.console.NAVIGATION]

    async def discover(self) -> Hits:
        for label, name in self._screens():
            yield DiscoveryHit(label, partial(self.console.action_go, name))

    async def search(self, query: str) -> Hits:
        app, t = self.console, self.console.t
        matcher = self.matcher(query)
        for label, name in self._screens():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(app.action_go, name))
        found = app.board.view(BoardFilter(search=query), app.clock())[:MOST_INCIDENTS]
        for incident in found:
            what = (
                f"{app.directory.category(incident.category, t.lang)} · {app.directory.place(incident.cell)}"
            )
            label = t("palette.open_incident", label=what)
            yield Hit(0.5, label, partial(self.app.push_screen, IncidentScreen(incident.id)), text=label)
