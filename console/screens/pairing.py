"""Pair a phone (docs/field-app.md#pairing): the duty officer names a grid worker or a unit, the
server makes a one-time code, and the console shows the QR code the phone scans, the short code to
type instead, the link, and until when it can be claimed."""

from __future__ import annotations

import io
from typing import Any

import segno
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from console.clock import local
from console.directory import Directory
from console.i18n import Texts
from console.remote.client import ServerClient, ServerError
from console.remote.models import PairingView, UnitView
from console.screens.dialogs import Dialog, Incomplete

DEFAULT_MINUTES = 60


def qr_text(link: str) -> str:
    """The link's QR code in half blocks (two modules a character), light on dark."""
    drawn = io.StringIO()
    segno.make(link, error="m").terminal(out=drawn, compact=True, border=2)
    return drawn.getvalue().rstrip("\n")


class PairDialog(Dialog[tuple[str, str]]):
    """Whose phone: a worker's id typed, or a unit picked from the directory."""

    def __init__(self, t: Texts, units: list[UnitView]) -> None:
        super().__init__(t, t("pair.title"))
        self.units = units

    def fields(self) -> ComposeResult:
        yield Input(placeholder=self.t("pair.worker"), id="worker", max_length=64)
        yield Select(
            [(f"{u.name(self.t.lang)} ({u.id})", u.id) for u in self.units],
            prompt=self.t("pair.unit"),
            id="unit",
        )

    def answer(self) -> tuple[str, str]:
        worker = self.query_one("#worker", Input).value.strip()
        unit = self.query_one("#unit", Select).value
        if bool(worker) == (unit is not Select.NULL):
            raise Incomplete(self.t("pair.one_of"))
        return ("worker", worker) if worker else ("unit", str(unit))


class PairingScreen(ModalScreen[None]):
    """The code made: scan it, type it, or open the link; Escape or Close when done."""

    BINDINGS = [Binding("escape", "close", show=False)]  # noqa: RUF012
    DEFAULT_CSS = """
    PairingScreen { align: center middle; }
    PairingScreen > VerticalScroll { width: auto; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 2; }
    PairingScreen #qr { width: auto; color: white; background: black; }
    PairingScreen Static, PairingScreen Label { width: auto; }
    """

    def __init__(self, t: Texts, made: PairingView) -> None:
        super().__init__()
        self.t = t
        self.made = made

    def compose(self) -> ComposeResult:
        t, made = self.t, self.made
        with VerticalScroll():
            yield Label(t("pair.made", name=made.name, who=made.scope))
            yield Static(qr_text(made.link), id="qr", markup=False)
            yield Static(t("pair.code", code=made.code), id="code", markup=False)
            yield Static(t("pair.link", link=made.link), id="link", markup=False)
            yield Static(t("pair.expires", at=local(made.expires_at, "%Y-%m-%d %H:%M")), id="expires")
            yield Static(t("pair.scan"))
            with Vertical(classes="buttons"):
                yield Button(t("pair.close"), variant="primary", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


async def pair_phone(
    app: App[Any], client: ServerClient, directory: Directory, t: Texts
) -> PairingView | None:
    """Ask whose phone, have the server make the code, and show it; a refusal is said in the
    officer's language. Run in a worker (it waits for the dialog)."""
    units = sorted(directory.units.values(), key=lambda u: u.id)
    whose = await app.push_screen_wait(PairDialog(t, units))
    if whose is None:
        return None
    role, ident = whose
    try:
        made = await client.pair(role, ident, DEFAULT_MINUTES)
    except ServerError as exc:
        app.notify(t("pair.failed", detail=exc.message(t.lang)), severity="error", timeout=15)
        return None
    await app.push_screen(PairingScreen(t, made))
    return made
