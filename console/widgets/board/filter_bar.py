"""The board's filters: township, lead unit, state, category, overdue only, and a free-text search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Select

from console.board import BoardFilter
from console.directory import Directory
from console.i18n import Texts
from console.remote.models import OPEN_STATES


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar Select { width: 1fr; }
    FilterBar Checkbox { width: auto; }
    FilterBar Input { width: 2fr; }
    """

    @dataclass
    class Changed(Message):
        where: BoardFilter

    def __init__(self, texts: Texts, directory: Directory, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = texts
        self.directory = directory
        self.where = BoardFilter()

    def compose(self) -> ComposeResult:
        t, d, lang = self.t, self.directory, self.t.lang
        yield Select(
            [(tw.name, code) for code, tw in sorted(d.townships.items())],
            prompt=t("filter.township"),
            id="township",
        )
        yield Select(
            sorted(((u.name(lang), u.id) for u in d.units.values()), key=lambda o: o[1]),
            prompt=t("filter.unit"),
            id="unit",
        )
        yield Select([(t.code("state", s), s) for s in OPEN_STATES], prompt=t("filter.state"), id="state")
        yield Select(
            [
                (f"{c.code} {c.name(lang)}", c.code)
                for c in sorted(d.categories.values(), key=lambda c: c.code)
            ],
            prompt=t("filter.category"),
            id="category",
        )
        yield Checkbox(t("filter.overdue"), id="overdue")
        yield Input(placeholder=t("filter.search"), id="search")

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        self._set(**{str(event.select.id): value})

    @on(Checkbox.Changed, "#overdue")
    def _overdue(self, event: Checkbox.Changed) -> None:
        self._set(overdue=event.value)

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self._set(search=event.value)

    def _set(self, **changes: Any) -> None:
        self.where = self.where.with_(**changes)
        self.post_message(self.Changed(self.where))

    def clear(self) -> None:
        for select in self.query(Select):
            select.clear()
        self.query_one(Checkbox).value = False
        self.query_one(Input).value = ""
        self.where = BoardFilter()
        self.post_message(self.Changed(self.where))
