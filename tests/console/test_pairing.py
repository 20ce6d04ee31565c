"""Pairing a phone from the console (F2): the duty officer names a worker or picks a unit, the
console shows the QR code, the code, the link and the expiry in the officer's language; the code
works on a phone; a refusal and an incomplete form are said, not raised."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input, Select, Static

from console.i18n import Lang
from console.screens.pairing import PairDialog, PairingScreen
from tests.support.console import Served, until

pytestmark = pytest.mark.anyio
SIZE = (160, 60)
CODE = re.compile(r"([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})")


def text(screen: PairingScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_f2_pairs_a_workers_phone_and_shows_the_qr_code(served: Served, lang: Lang) -> None:
    api = served.api
    person = next(w for w in api.template.county.workers if w.township == api.template.township_a)
    app = served.console("duty_a", lang)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PairDialog))
        app.screen.query_one("#worker", Input).value = person.id
        await pilot.click("#ok")
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        shown = app.screen
        assert isinstance(shown, PairingScreen)
        code = CODE.search(text(shown, "#code"))
        assert code is not None
        assert text(shown, "#code").startswith("配对码：" if lang == "zh" else "Code: ")
        assert text(shown, "#link").endswith(f"/field/#pair={code[1].replace('-', '')}")
        assert ("有效期至" if lang == "zh" else "Valid until") in text(shown, "#expires")
        qr = text(shown, "#qr").splitlines()
        assert len(qr) > 10 and set("".join(qr)) <= set("█▀▄ ")
        assert person.name in str(shown.query_one("Label").content)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PairingScreen))
    claimed = api.client.post("/pairings/claim", json={"code": code[1]})
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["name"] == person.name


async def test_a_unit_is_picked_and_a_refusal_is_said(served: Served) -> None:
    api = served.api
    a = api.template.township_a
    app = served.console("duty_a", "en")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PairDialog))
        # Neither, then both: the form says what it needs.
        await pilot.click("#ok")
        problem = app.screen.query_one(".problem", Static)
        assert "one of them" in str(problem.content)
        app.screen.query_one("#worker", Input).value = "w-someone"
        app.screen.query_one("#unit", Select).value = f"{a}.office.enforcement"
        await pilot.click("#ok")
        assert isinstance(app.screen, PairDialog)
        app.screen.query_one("#worker", Input).value = ""
        await pilot.click("#ok")
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("escape")
        # A county department is outside a township duty officer's scope: the server refuses, and
        # the console says so.
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PairDialog))
        app.screen.query_one("#unit", Select).value = "339921.dept.zhzf"
        await pilot.click("#ok")
        await until(pilot, lambda: any("Pairing failed" in n.message for n in app._notifications))
        assert any("outside your scope" in n.message for n in app._notifications)
    listed = api.client.get("/pairings", headers=api.auth("admin")).json()
    assert [p["scope"] for p in listed["items"]] == [f"unit:{a}.office.enforcement"]


async def test_a_refusal_is_said_in_chinese(served: Served) -> None:
    app = served.console("duty_a", "zh")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PairDialog))
        app.screen.query_one("#worker", Input).value = "w-nobody"
        await pilot.click("#ok")
        await until(pilot, lambda: any("配对失败" in n.message for n in app._notifications))
        assert any("没有网格员" in n.message for n in app._notifications)
