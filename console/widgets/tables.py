"""The row tables of the console's screens: a row cursor, zebra stripes, columns headed in the
console's language and keyed by their text key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from console.i18n import Texts


def row_table(t: Texts, columns: Iterable[str], **kwargs: Any) -> DataTable[Text | str]:
    table: DataTable[Text | str] = DataTable(cursor_type="row", zebra_stripes=True, **kwargs)
    for key in columns:
        table.add_column(t(key), key=key)
    return table
