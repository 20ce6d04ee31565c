"""The live board's rules, without a terminal: order, filters, search, live events, countdowns; and the
console's words in both languages."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from console.board import Board, BoardFilter, countdown, is_overdue
from console.directory import Directory
from console.i18n import TEXTS, Texts, default_lang
from console.remote.models import CategoryView, EventView, IncidentView, UnitView

T0 = dt.datetime(2026, 6, 16, 1, 0, tzinfo=dt.UTC)


def incident(n: int, **fields: object) -> IncidentView:
    values: dict[str, object] = {
        "id": f"i{n}",
        "source": "report",
        "state": "reported",
        "category": "0501",
        "lon": 119.6,
        "lat": 29.1,
        "cell": "33992110100101",
        "township": "339921101",
        "urgent": False,
        "lead": "339921101.office.enforcement",
        "deadline": T0 + dt.timedelta(hours=4),
        "reported_at": T0 + dt.timedelta(minutes=n),
    }
    values.update(fields)
    return IncidentView(**values)  # type: ignore[arg-type]


@pytest.fixture
def board() -> Board:
    directory = Directory(
        units={
            "339921101.office.enforcement": UnitView(
                "339921101.office.enforcement",
                "综合行政执法办公室",
                "Enforcement office",
                "office",
                "339921101",
            )
        },
        categories={
            "0501": CategoryView("0501", "占道经营", "Street vending"),
            "0301": CategoryView("0301", "井盖缺失", "Missing manhole cover", urgent=True),
        },
    )
    return Board(directory)


def event(n: int, incident_id: str, kind: str = "incident.created", **payload: object) -> EventView:
    body: dict[str, object] = {
        "state": "reported",
        "category": "0301",
        "cell": "33992110200305",
        "township": "339921102",
        "lead": None,
        "deadline": (T0 + dt.timedelta(hours=1)).isoformat(),
        "urgent": True,
        "source": "alert",
        "in_review": False,
        "lon": 119.7,
        "lat": 29.2,
    }
    body.update(payload)
    return EventView(
        id=n,
        at=T0 + dt.timedelta(hours=2),
        kind=kind,
        incident=incident_id,
        township=str(body["township"]),
        payload=body,
    )


def test_urgent_first_then_newest_and_closed_ones_left_off(board: Board) -> None:
    board.load([incident(1), incident(2), incident(3, urgent=True), incident(4, state="closed")])
    assert [i.id for i in board.view(BoardFilter(), T0)] == ["i3", "i2", "i1"]
    assert len(board) == 3


def test_filters_and_search(board: Board) -> None:
    board.load(
        [
            incident(1),
            incident(2, township="339921102", cell="33992110200101"),
            incident(3, state="dispatched", deadline=T0 - dt.timedelta(minutes=5)),
            incident(4, category="0301", text="井盖不见了"),
        ]
    )
    view = board.view
    assert [i.id for i in view(BoardFilter(township="339921102"), T0)] == ["i2"]
    assert [i.id for i in view(BoardFilter(state="dispatched"), T0)] == ["i3"]
    assert [i.id for i in view(BoardFilter(overdue=True), T0)] == ["i3"]
    assert [i.id for i in view(BoardFilter(category="0301"), T0)] == ["i4"]
    assert [i.id for i in view(BoardFilter(search="井盖"), T0)] == ["i4"]  # the text and the category name
    assert [i.id for i in view(BoardFilter(search="MANHOLE"), T0)] == ["i4"]  # English names, any case
    assert {i.id for i in view(BoardFilter(search="enforcement office"), T0)} == {"i1", "i2", "i3", "i4"}
    assert view(BoardFilter(unit="nobody"), T0) == []
    # Several terms: each must match somewhere (id, text, place or category name), in any order and case.
    assert [i.id for i in view(BoardFilter(search="  Manhole   不见 "), T0)] == ["i4"]
    assert [i.id for i in view(BoardFilter(search="不见 i4"), T0)] == ["i4"]
    assert view(BoardFilter(search="manhole vending"), T0) == []
    assert view(BoardFilter(state="dispatched", township="339921102"), T0) == []


def test_live_events_add_change_and_take_off(board: Board) -> None:
    board.load([incident(1)])
    arrived = board.apply(event(10, "new"))
    assert arrived is not None and arrived.urgent and arrived.category_name_en == "Missing manhole cover"
    assert [i.id for i in board.view(BoardFilter(), T0)] == ["new", "i1"]
    # A change keeps the row's place and takes the new state, lead and deadline.
    assert (
        board.apply(
            event(11, "i1", "incident.dispatch", state="dispatched", category="0501", urgent=False, lead="u9")
        )
        is None
    )
    changed = board.incidents["i1"]
    assert (changed.state, changed.lead, changed.reported_at) == ("dispatched", "u9", incident(1).reported_at)
    # Closed, rejected or duplicate: off the board.
    board.apply(event(12, "new", "incident.close", state="closed"))
    assert [i.id for i in board.view(BoardFilter(), T0)] == ["i1"]
    # An event this console cannot read (a newer server's payload) is passed over, not raised.
    assert board.apply(EventView(14, T0, "incident.teleported", "i1", None, {"state": 7})) is None
    assert board.incidents["i1"].state == "dispatched"
    # Whistle events do not touch the board.
    assert board.apply(EventView(13, T0, "whistle.opened", "i1", "339921101", {"kind": "routine"})) is None
    assert board.incidents["i1"].state == "dispatched"


def test_countdown_and_overdue() -> None:
    t = Texts("en")
    assert countdown(T0 + dt.timedelta(days=2, hours=3, minutes=5), T0, t) == "2d 3h"
    assert countdown(T0 + dt.timedelta(hours=1, minutes=5), T0, t) == "1h 05m"
    assert countdown(T0 - dt.timedelta(minutes=12), T0, t) == "overdue 12m"
    assert countdown(None, T0, t) == "—"
    assert Texts("zh")("time.overdue", span="5分") == "超时5分"
    late = incident(1, deadline=T0 - dt.timedelta(seconds=1))
    assert is_overdue(late, T0) and not is_overdue(incident(2), T0)
    # A suspended incident's clock stopped: overdue only if the server said so when it stopped.
    assert not is_overdue(incident(3, state="suspended", deadline=T0 - dt.timedelta(days=1)), T0)
    assert is_overdue(incident(3, state="suspended", overdue=True), T0)


def test_every_text_in_both_languages_with_the_same_placeholders() -> None:
    fields = string.Formatter()
    for key, (zh, en) in TEXTS.items():
        assert zh.strip() and en.strip(), key
        assert {f[1] for f in fields.parse(zh) if f[1]} == {f[1] for f in fields.parse(en) if f[1]}, key


def test_language_follows_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert default_lang() == "en"
