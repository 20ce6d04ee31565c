"""The board's table: draws only the rows on screen, so 10,000 open incidents scroll and count down
as smoothly as a hundred."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.board import is_overdue, time_left
from console.clock import local
from console.directory import Directory
from console.i18n import Texts
from console.remote.models import IncidentView

Column = tuple[str, int]  # label key, width in terminal cells

COLUMNS: list[Column] = [
    ("col.urgent", 2),
    ("col.reported", 11),
    ("col.category", 18),
    ("col.place", 30),
    ("col.lead", 26),
    ("col.state", 10),
    ("col.left", 14),
    ("col.source", 8),
]
HEADER = Style(bold=True, underline=True)
CURSOR = Style(reverse=True)
OVERDUE = Style(color="red", bold=True)
URGENT = Style(color="bright_red", bold=True)
REVIEW = Style(color="yellow")


class IncidentTable(ScrollView, can_focus=True):
    """Rows are read from `rows` when drawn; `show(rows)` swaps them in without rebuilding anything."""

    BINDINGS = [  # noqa: RUF012
        Binding("up,k", "cursor(-1)", show=False),
        Binding("down,j", "cursor(1)", show=False),
        Binding("pageup", "cursor(-20)", show=False),
        Binding("pagedown", "cursor(20)", show=False),
        Binding("home", "cursor(-1000000)", show=False),
        Binding("end", "cursor(1000000)", show=False),
    ]

    @dataclass
    class Chosen(Message):
        """The officer pressed Enter on (or clicked twice) an incident."""

        incident: IncidentView

    def __init__(
        self, texts: Texts, directory: Directory, clock: Callable[[], dt.datetime], **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.t = texts
        self.directory = directory
        self.clock = clock
        self.rows: list[IncidentView] = []
        self.cursor = 0
        self._width = sum(w for _, w in COLUMNS) + len(COLUMNS)

    def show(self, rows: list[IncidentView]) -> None:
        """New rows (after a filter or a live change); the cursor stays on the same incident if it can."""
        current = self.rows[self.cursor].id if self.rows and self.cursor < len(self.rows) else None
        self.rows = rows
        if current is not None:
            self.cursor = next(
                (n for n, r in enumerate(rows) if r.id == current), min(self.cursor, len(rows) - 1)
            )
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        self.virtual_size = Size(self._width, len(rows) + 1)
        self.refresh()

    @property
    def selected(self) -> IncidentView | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def action_cursor(self, step: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        self.scroll_to_region(Region(0, self.cursor + 1, 1, 1), spacing=None, animate=False, force=True)
        self.refresh()

    def key_enter(self) -> None:
        if self.selected is not None:
            self.post_message(self.Chosen(self.selected))

    def on_click(self, event: events.Click) -> None:
        row = event.y + int(self.scroll_offset.y) - 1
        if 0 <= row < len(self.rows):
            self.cursor = row
            self.refresh()
            if event.chain >= 2:
                self.post_message(self.Chosen(self.rows[row]))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            line = self._line([(self.t(key), HEADER) for key, _ in COLUMNS], None)
        else:
            index = y + scroll_y - 1
            if index >= len(self.rows):
                return Strip.blank(self.size.width)
            line = self._line(
                self._cells(self.rows[index]), CURSOR if index == self.cursor and self.has_focus else None
            )
        return line.crop(scroll_x, scroll_x + self.size.width)

    def _cells(self, i: IncidentView) -> list[tuple[str, Style | None]]:
        now = self.clock()
        late = is_overdue(i, now)
        lang = self.t.lang
        return [
            ("!" if i.urgent else "", URGENT),
            (local(i.reported_at), None),
            (self.directory.category(i.category, lang), None),
            (self.directory.place(i.cell), None),
            (self.directory.unit(i.lead, lang), None),
            (self.t.state(i.state, i.in_review), REVIEW if i.in_review else None),
            (time_left(i, now, self.t), OVERDUE if late else None),
            (self.t.code("source", i.source), None),
        ]

    def _line(self, cells: list[tuple[str, Style | None]], row_style: Style | None) -> Strip:
        segments: list[Segment] = []
        for (text, style), (_, width) in zip(cells, COLUMNS, strict=True):
            cell = Text(text, style=style or "", no_wrap=True, overflow="ellipsis")
            cell.truncate(width, overflow="ellipsis", pad=True)  # pads by terminal cells: CJK stays aligned
            cell.append(" ")
            segments.extend(cell.render(self.app.console))
        strip = Strip(segments).extend_cell_length(max(self.size.width, self._width))
        return strip.apply_style(row_style) if row_style else strip
