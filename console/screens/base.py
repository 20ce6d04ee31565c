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
        """Say in the console's language why the server refused: as a notification, which is seen
        whatever the screen shows, and on the screen's status line, which stays."""
        t = self.console.t
        message = t("conn.refused", detail=exc.message(t.lang))
        self.notify(message, severity="error", timeout=10)
        for status in self.query("#status").results(Static):
            status.update(message)
            status.add_class("refused")
