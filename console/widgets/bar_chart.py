"""A horizontal bar chart in a frame. Rich measures the labels in terminal cells, so a Chinese name
(two cells a character) keeps the bars and the frame straight, as a plotting library's may not."""

from __future__ import annotations

from rich.bar import Bar
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

LABEL_CELLS = 24  # the widest label shown; longer ones end in "…"


class BarChart(Static):
    bars: tuple[tuple[str, float], ...] = ()  # what is drawn, for whoever reads the chart

    def show(self, title: str, bars: list[tuple[str, float]], most: float, empty: str) -> None:
        """One bar per (label, value), from 0 to `most`; `empty` is said when there is nothing to draw."""
        self.bars = tuple(bars)
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=LABEL_CELLS, no_wrap=True, overflow="ellipsis")
        grid.add_column(ratio=1)
        grid.add_column(width=7, justify="right")
        for label, value in bars:
            grid.add_row(
                Text(label, no_wrap=True, overflow="ellipsis"),
                Bar(most, 0, min(max(value, 0.0), most), color="dodger_blue1"),
                f"{value:.1f}",
            )
        body = grid if bars else Text(empty, style="dim")
        self.update(Panel(body, title=title, title_align="left", border_style="blue"))
