"""A township picker for the screens that show one township at a time."""

from __future__ import annotations

from typing import Any

from textual.widgets import Select

from console.directory import Directory
from console.i18n import Texts


def township_picker(t: Texts, directory: Directory, **kwargs: Any) -> Select[str]:
    options = [(tw.name, code) for code, tw in sorted(directory.townships.items())]
    first = options[0][1] if options else Select.NULL
    return Select(options, prompt=t("map.pick_township"), value=first, allow_blank=False, **kwargs)
