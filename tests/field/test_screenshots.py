"""The main screens of the field app, in Chinese and English, at a phone's 360×740 and scale 2: the
images README shows. They are written to GRIDWATCH_SCREENSHOTS when it names a folder
(`GRIDWATCH_SCREENSHOTS=docs/images uv run pytest tests/field/test_screenshots.py`), else to the
test's own folder; either way each screen must render at the phone's size."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.support.browser import FieldPhone, Fix, camera_photo
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]
SCREENS = ("report", "queue", "tasks", "patrol")


def report_over_http(live: Live, fix: Fix, n: int) -> str:
    made = live.server.call(
        "POST",
        "/incidents",
        live.token("worker_a1"),
        json={"client_id": f"shot-{n}", "category": "0501", "lon": fix.lon, "lat": fix.lat, "acc": 6},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["incident"]["id"])


def test_screenshots_of_the_main_screens(live_sqlite: Live, phones: Phones, tmp_path: Path) -> None:
    live = live_sqlite
    folder = Path(os.environ.get("GRIDWATCH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    worker = live.worker()
    fix = live.fix_in(worker.cells[0], acc=8)
    field = phones(live, fix)
    field.pair(live.link(worker=worker.id))
    sent = field.file_report(
        "0501", "人行道上占道经营", [camera_photo(tmp_path / "a.jpg", 1200, 900, seed=1)]
    )
    field.wait_states({sent: "accepted"})
    field.move(Fix(116.397, 39.909, 5))
    refused = field.file_report("0502", "县外的点")
    field.wait_states({refused: "refused"})
    field.move(fix)
    field.offline(True)
    field.file_report("0501", "离线时上报")
    field.offline(False)
    # A unit officer's phone with work to sign and to handle.
    incidents = [report_over_http(live, fix, n) for n in range(3)]
    for incident in incidents:
        for action in ("accept", "dispatch"):
            done = live.server.call(
                "POST", f"/incidents/{incident}/actions/{action}", live.token("duty_a"), json={}
            )
            assert done.status_code == 200, done.text
    lead = live.server.call("GET", f"/incidents/{incidents[0]}", live.token("admin")).json()["incident"][
        "lead"
    ]
    unit = phones(live, fix)
    unit.pair(live.link(unit=lead))
    field.go("patrol")
    field.hook("patrol-toggle").click()  # on patrol: a ping sent, the visit counted
    field.page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=patrol-sent]').dataset.count) >= 1"
    )

    for lang in ("zh", "en"):
        for screen in SCREENS:
            phone = unit if screen == "tasks" else field
            phone.go(screen)
            if screen == "report":
                field.fill_report("0501", "占道经营" if lang == "zh" else "Street vending", [])
            if screen == "tasks":
                unit.hook("task-item").first.wait_for()
            # From the top, no field focused, the last toast gone, fonts and the map drawn.
            phone.page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
            phone.page.locator("#toast").wait_for(state="hidden")
            phone.page.wait_for_timeout(300)
            path = folder / f"field-{screen}-{lang}.png"
            phone.page.screenshot(path=str(path))
            with Image.open(path) as image:
                assert image.size == (720, 1480), (path, image.size)
            # The picture shows the screen it is named after, in the language it is named after.
            tab = str(phone.hook(f"nav-{screen}").text_content())
            assert phone.page.evaluate("() => location.hash") == f"#/{screen}"
            assert bool(re.search(r"[\u4e00-\u9fff]", tab)) == (lang == "zh"), (screen, lang, tab)
        for phone in (field, unit):
            phone.hook("lang-toggle").click()
