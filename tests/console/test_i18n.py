"""The console's words: every code the server can send has its text in both languages (found by
reading the server's own enums, so a new value fails here first), and a code the console does not
know yet is shown as it is instead of taking the console down."""

from __future__ import annotations

import re

import pytest

from console.i18n import TEXTS, Texts
from console.screens.dialogs import WHISTLE_KINDS, WHISTLE_REASONS
from console.screens.incident import ACTIONS, ALLOWED_FROM
from grid.lifecycle import REROUTABLE, RULES, Action
from grid.whistles import WhistleKind, WhistleReason
from tests.support.console import ROOT, SERVER_CODES, values


@pytest.mark.parametrize("family", sorted(SERVER_CODES))
def test_every_code_the_server_sends_has_words_in_both_languages(family: str) -> None:
    values = SERVER_CODES[family]
    assert values, family  # the enumeration itself found something
    missing = sorted(v for v in values if f"{family}.{v}" not in TEXTS)
    assert not missing, f"no console text for {family}: {missing}"
    for value in values:
        zh, en = TEXTS[f"{family}.{value}"]
        assert zh.strip() and en.strip(), (family, value)


def test_the_enumeration_finds_what_the_server_writes() -> None:
    assert {"report", "alert_merged"} <= SERVER_CODES["action"]
    assert SERVER_CODES["sweep.status"] == {"draft", "published"}
    assert "sweep" in SERVER_CODES["source"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_code_from_a_newer_server_shows_as_it_is(lang: str) -> None:
    t = Texts(lang)  # type: ignore[arg-type]
    assert t.code("source", "drone") == "drone"
    assert t.state("escalated") == "escalated"
    assert t.code("source", "sweep") == ("综合查" if lang == "zh" else "sweep")
    assert t("no.such.key") == "no.such.key"  # a slip in the console is shown, not raised


def test_the_console_offers_the_choices_the_server_takes() -> None:
    assert set(WHISTLE_KINDS) == values(WhistleKind)
    assert set(WHISTLE_REASONS) == values(WhistleReason)


def test_the_footer_follows_the_lifecycle_rules() -> None:
    """The incident screen offers a step in the states grid's lifecycle allows it from."""
    keyed = {action for _, action, _ in ACTIONS} - {"whistle"}
    assert keyed == set(ALLOWED_FROM)
    for action, states in ALLOWED_FROM.items():
        rule = REROUTABLE if action == "reroute" else RULES[Action(action)].sources
        assert states == values(rule), action


def test_every_text_the_console_names_is_there_in_both_languages() -> None:
    """Each key written as t("…") in the console (the pairing screen's among them) has words in both
    languages, with the same placeholders."""
    used: set[str] = set()
    for path in (ROOT / "console").rglob("*.py"):
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert {"key.pair", "pair.title", "pair.code", "pair.link", "pair.expires", "pair.failed"} <= used
    assert sorted(used - set(TEXTS)) == []
    for key in used:
        zh, en = TEXTS[key]
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), key
