"""On patrol (docs/field-app.md#patrol): the switch sends the phone's position as batched pings, and
the worker's cells this week count the visit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.browser import FieldPhone
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]


def test_on_patrol_the_visit_counts(live_sqlite: Live, phones: Phones) -> None:
    live = live_sqlite
    worker = live.worker()  # the template's worker_a1
    cell = worker.cells[0]
    phone = phones(live, live.fix_in(cell))
    phone.pair(live.link(worker=worker.id))
    phone.go("patrol")
    phone.hook("patrol-cell").first.wait_for()
    phone.hook("patrol-toggle").click()
    assert phone.hook("patrol-toggle").get_attribute("aria-checked") == "true"
    phone.page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=patrol-sent]').dataset.count) >= 1"
    )
    mine = live.server.call("GET", "/patrols/mine", live.token("worker_a1")).json()
    (row,) = [c for c in mine["cells"] if c["cell"] == cell]
    assert row["days_visited"] == 1
    # The phone reloads the week after a batch is taken: the visit shows there too.
    shown = phone.page.locator(f'[data-testid="patrol-cell"][data-cell="{cell}"]')
    expected = f"1/{row['target']}"
    phone.page.wait_for_function(
        "([cell, text]) => document.querySelector(`[data-testid=patrol-cell][data-cell='${cell}']`)"
        ".textContent.includes(text)",
        arg=[cell, expected],
    )
    assert shown.get_attribute("data-covered") == str(row["covered"]).lower()
    phone.hook("patrol-toggle").click()
    assert phone.hook("patrol-toggle").get_attribute("aria-checked") == "false"
