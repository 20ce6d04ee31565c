"""The app itself (docs/field-app.md#screens): served by `gridwatch serve` at /field/ from `/`,
installable (manifest, service worker), usable offline after a first visit, in Chinese and English."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tests.support.browser import FieldPhone
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_front_door_leads_to_the_app_and_nothing_comes_from_outside(
    live_sqlite: Live, phones: Phones
) -> None:
    live = live_sqlite
    landed = httpx.get(f"{live.server.url}/", follow_redirects=True)
    assert landed.status_code == 200 and landed.url.path == "/field/"
    worker = live.worker()
    phone = phones(live, live.fix_in(worker.cells[0]))
    requested: list[str] = []
    phone.page.on("request", lambda request: requested.append(request.url))
    phone.pair(live.link(worker=worker.id))
    phone.go("report")
    phone.hook("map").wait_for()
    outside = [url for url in requested if not url.startswith((live.server.url, "data:", "blob:"))]
    assert not outside, f"fetched from outside the server: {outside}"
    manifest = phone.page.evaluate("() => document.querySelector('link[rel=manifest]')?.href")
    assert manifest, "no web app manifest"
    shown = httpx.get(str(manifest)).json()
    assert shown["icons"] and shown["start_url"] and shown["display"] in ("standalone", "fullscreen")


def test_the_app_starts_offline_in_the_language_chosen(live_sqlite: Live, phones: Phones) -> None:
    live = live_sqlite
    worker = live.worker()
    phone = phones(live, live.fix_in(worker.cells[0]))
    phone.pair(live.link(worker=worker.id))
    assert HAN.search(str(phone.hook("nav-report").text_content())), "Chinese is the default"
    phone.hook("lang-toggle").click()
    phone.page.wait_for_function(
        "() => !/[\\u4e00-\\u9fff]/.test(document.querySelector('[data-testid=nav-report]').textContent)"
    )
    assert "report" in str(phone.hook("nav-report").text_content()).lower()
    # The service worker controls the page once it is installed; then the server may go away.
    phone.page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    if not phone.page.evaluate("() => navigator.serviceWorker.controller !== null"):
        phone.page.reload()  # a worker that does not claim open pages takes the next load
    phone.page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    live.server.kill()
    phone.offline(True)
    phone.page.reload()
    phone.hook("nav-report").wait_for()
    assert "report" in str(phone.hook("nav-report").text_content()).lower()  # English kept
    assert worker.name in str(phone.hook("whoami").text_content())  # still signed in
