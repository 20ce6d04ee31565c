"""What every console screen shares: typed access to the app (its client, board, names and words)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from console.app import GridwatchConsole


class ConsoleScreen(Screen[None]):
    @property
    def console(self) -> GridwatchConsole:
        return cast("GridwatchConsole", self.app)
