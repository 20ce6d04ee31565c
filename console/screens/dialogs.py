"""The questions an action asks before it goes to the server: a reason, a new lead unit, whom to whistle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from console.i18n import Texts
from console.remote.models import UnitView

T = TypeVar("T")

WHISTLE_KINDS = ("routine", "campaign", "emergency")
WHISTLE_REASONS = ("cannot_solve", "no_power", "emergency")


class Incomplete(Exception):
    """The form is missing something; the message says what."""


class Dialog(ModalScreen[T | None], Generic[T]):
    """A modal form: `fields()` lays it out, `answer()` reads it (or raises Incomplete)."""

    BINDINGS = [Binding("escape", "cancel", show=False)]  # noqa: RUF012

    def __init__(self, t: Texts, title: str) -> None:
        super().__init__(classes="dialog")
        self.t = t
        self.heading = title

    def fields(self) -> ComposeResult:
        yield from ()

    def answer(self) -> T:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.heading)
            yield from self.fields()
            yield Static("", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(self.t("ask.ok"), variant="primary", id="ok")
                yield Button(self.t("ask.cancel"), id="cancel")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        try:
            value = self.answer()
        except Incomplete as exc:
            self.query_one(".problem", Static).update(str(exc))
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _text(self, selector: str) -> str:
        value = self.query_one(selector, Input).value.strip()
        if not value:
            raise Incomplete(self.t("ask.required"))
        return value


class ReasonDialog(Dialog[str]):
    def fields(self) -> ComposeResult:
        yield Input(placeholder=self.t("ask.reason"), id="reason", max_length=500)

    def answer(self) -> str:
        return self._text("#reason")


class RerouteDialog(Dialog[tuple[str, str]]):
    def __init__(self, t: Texts, title: str, units: list[UnitView], current: str | None) -> None:
        super().__init__(t, title)
        self.units = [u for u in units if u.id != current]

    def fields(self) -> ComposeResult:
        yield Select(
            [(f"{u.name(self.t.lang)} ({u.id})", u.id) for u in self.units],
            prompt=self.t("ask.lead"),
            id="lead",
        )
        yield Input(placeholder=self.t("ask.reason"), id="reason", max_length=500)

    def answer(self) -> tuple[str, str]:
        lead = self.query_one("#lead", Select).value
        if lead is Select.NULL:
            raise Incomplete(self.t("ask.required"))
        return str(lead), self._text("#reason")


@dataclass(frozen=True)
class WhistleOrder:
    kind: str
    reason: str
    units: list[str]
    note: str


class WhistleDialog(Dialog[WhistleOrder]):
    def __init__(self, t: Texts, departments: list[UnitView]) -> None:
        super().__init__(t, t("whistle.title"))
        self.departments = departments

    def fields(self) -> ComposeResult:
        t = self.t
        yield Label(t("whistle.units"))
        yield SelectionList[str](*[(d.name(t.lang), d.id) for d in self.departments], id="units")
        yield Label(t("whistle.kind"))
        yield Select(
            [(t(f"whistle.kind.{k}"), k) for k in WHISTLE_KINDS],
            value="routine",
            allow_blank=False,
            id="kind",
        )
        yield Label(t("whistle.reason"))
        yield Select(
            [(t(f"whistle.reason.{r}"), r) for r in WHISTLE_REASONS],
            value="cannot_solve",
            allow_blank=False,
            id="reason",
        )
        yield Input(placeholder=t("whistle.note"), id="note", max_length=1000)

    def answer(self) -> WhistleOrder:
        units = list(self.query_one("#units", SelectionList).selected)
        if not units:
            raise Incomplete(self.t("whistle.pick_one"))
        return WhistleOrder(
            kind=str(self.query_one("#kind", Select).value),
            reason=str(self.query_one("#reason", Select).value),
            units=units,
            note=self.query_one("#note", Input).value.strip(),
        )


class RatingDialog(Dialog[int]):
    def fields(self) -> ComposeResult:
        yield Select([(str(n), n) for n in range(1, 6)], value=5, allow_blank=False, id="rating")

    def answer(self) -> int:
        return int(str(self.query_one("#rating", Select).value))


class MoveDialog(Dialog[str]):
    """Where a stop goes: one of the plan's teams, or off the plan ("")."""

    def __init__(self, t: Texts, title: str, teams: list[str], current: str | None) -> None:
        super().__init__(t, title)
        self.teams = [team for team in teams if team != current]
        self.current = current

    def fields(self) -> ComposeResult:
        options = [(team, team) for team in self.teams]
        if self.current is not None:
            options.append((self.t("sweep.off_plan"), ""))
        yield Select(options, prompt=self.t("sweep.ask_team"), id="team")

    def answer(self) -> str:
        team = self.query_one("#team", Select).value
        if team is Select.NULL:
            raise Incomplete(self.t("ask.required"))
        return str(team)


class SwapDialog(Dialog[tuple[str, str]]):
    """Which officer leaves the team, and who joins it, both picked from lists of (id, name): the
    team's officers, and the officers free to join that day."""

    def __init__(
        self, t: Texts, title: str, officers: list[tuple[str, str]], candidates: list[tuple[str, str]]
    ) -> None:
        super().__init__(t, title)
        self.officers = officers
        self.candidates = candidates

    def fields(self) -> ComposeResult:
        yield Select(
            [(f"{name} ({oid})", oid) for oid, name in self.officers],
            prompt=self.t("sweep.ask_leaving"),
            id="leaving",
        )
        if not self.candidates:
            yield Label(self.t("sweep.no_candidates"))
        yield Select(
            [(f"{name} ({oid})", oid) for oid, name in self.candidates],
            prompt=self.t("sweep.ask_joining"),
            id="joining",
        )

    def answer(self) -> tuple[str, str]:
        leaving = self.query_one("#leaving", Select).value
        joining = self.query_one("#joining", Select).value
        if leaving is Select.NULL or joining is Select.NULL:
            raise Incomplete(self.t("ask.required"))
        return str(leaving), str(joining)


class ConfirmDialog(Dialog[bool]):
    """A yes-or-no question before a step that is hard to take back."""

    def answer(self) -> bool:
        return True
