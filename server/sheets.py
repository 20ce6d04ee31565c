"""What every printable workbook of the server shares: wrapped cells and column widths."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

WRAP = Alignment(wrap_text=True, vertical="top")


def set_widths(sheet: Worksheet, widths: Iterable[float]) -> None:
    """Column widths from column A on, in characters."""
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
