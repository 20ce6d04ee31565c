"""Pairing a phone (docs/field-app.md#pairing): the QR code's link or the short code typed, refusals
said in the phone's language, and a revoked pairing signed out with its queue kept for the same
person's next pairing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.support.browser import SIGNED_IN, FieldPhone
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]
HAN = re.compile(r"[\u4e00-\u9fff]")


def typed(phone: FieldPhone, code: str) -> str:
    """Type a code on the signed-out screen; the error shown, or "" once signed in."""
    phone.hook("pair-code").fill(code)
    phone.hook("pair-submit").click()
    shown = phone.page.wait_for_function(
        f"() => ({SIGNED_IN})() ? ' ' : document.querySelector('[data-testid=pair-error]')?.textContent"
    )
    return str(shown.json_value()).strip()


def test_a_typed_code_pairs_once_and_garbage_is_refused_in_both_languages(
    live_sqlite: Live, phones: Phones
) -> None:
    live = live_sqlite
    worker = live.worker()
    made = live.server.pair(live.token("admin"), worker=worker.id)
    phone = phones(live, live.fix_in(worker.cells[0]))
    phone.page.goto(f"{live.server.url}/field/")
    phone.hook("signed-out").wait_for()
    malformed = typed(phone, "0000-OOOO")
    assert HAN.search(malformed), malformed
    unknown = typed(phone, "ABCD-EFGH")
    assert HAN.search(unknown) and unknown != malformed, unknown  # the server's word, in Chinese
    assert typed(phone, str(made["code"]).lower().replace("-", " ")) == ""  # as a person might type it
    assert phone.hook("whoami").get_attribute("data-actor") == f"worker:{worker.id}"

    again = phones(live, live.fix_in(worker.cells[0]))
    again.page.goto(f"{live.server.url}/field/")
    again.hook("lang-toggle").click()
    used = typed(again, str(made["code"]))
    assert used and not HAN.search(used), used  # refused (used once), said in English
    assert again.hook("whoami").get_attribute("data-actor") == ""


def test_a_revoked_phone_is_signed_out_and_keeps_its_queue(live_sqlite: Live, phones: Phones) -> None:
    live = live_sqlite
    worker = live.worker(1)
    phone = phones(live, live.fix_in(worker.cells[0]))
    made = live.server.pair(live.token("admin"), worker=worker.id)
    phone.pair(str(made["link"]))
    phone.go("report")
    phone.hook("category-option").first.wait_for()  # the catalogue is on the phone
    phone.offline(True)
    kept = phone.file_report("0501", "撤销前离线上报")
    revoked = live.server.call("POST", f"/pairings/{made['id']}/revoke", live.token("admin"))
    assert revoked.status_code == 200, revoked.text
    phone.offline(False)  # the queue is sent: 401
    phone.hook("signed-out").wait_for()
    assert phone.hook("whoami").get_attribute("data-actor") == ""
    # Paired again as the same person, the phone sends what it kept.
    assert typed(phone, str(live.server.pair(live.token("admin"), worker=worker.id)["code"])) == ""
    assert kept in phone.queue()
    phone.wait_states({kept: "accepted"})
