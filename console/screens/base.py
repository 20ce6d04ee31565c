"""What every console screen shares: typed access to the app (its client, board, names and words)."""

from __future__ import annotations

from typing import cast

from textual.screen import Screen
from textual.widgets import Static

from console.remote.client import ServerError
from console.shell import Shell


class ConsoleScreen(Screen[None]):
    @property
    def console(self) -> Shell:
        return cast(Shell, self.app)

    def show_refusal(self, exc: ServerError) -> None:
        """Say on the screen's status line, in the console's language, why the server refused."""
        t = self.console.t
        status = self.query_one("#status", Static)
        status.update(t("conn.refused", detail=exc.message(t.lang)))
        status.add_class("refused")
