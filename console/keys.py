"""Key bindings whose descriptions follow the console's language."""

from __future__ import annotations

from collections.abc import Iterable

from textual.dom import DOMNode

from console.i18n import Texts


def bind_keys(node: DOMNode, t: Texts, keys: Iterable[tuple[str, str, str]]) -> None:
    """Add (key, action, label key) bindings to one screen or widget. Textual's BINDINGS are fixed when
    the class is defined, but the language is chosen at start, so each instance binds its own."""
    for key, action, label in keys:
        node._bindings.bind(key, action, t(label))
