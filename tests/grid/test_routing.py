"""Every row of the routing table (docs/domain.md#route), on a hand-built township."""

from __future__ import annotations

import datetime as dt

import pytest

from grid.errors import DutyAdmissionRefused, RoutingError, UnknownCategory
from grid.incident import RouteBasis
from grid.powers import HoldingMode, PowerListEntry, PowerLists
from tests.support.routing import (
    COMMAND,
    MULTI_SEVERITY,
    MULTI_TIE,
    OFFICE,
    SCJG_TEAM,
    SINGLE,
    SL,
    STATION,
    ZRZY,
    T,
    make_router,
)

ON = dt.date(2026, 6, 15)
CELL = "33010010120001"

# matter, expected basis, lead, support (in order), informed
ROWS = [
    ("STAT", RouteBasis.STATUTORY, OFFICE, (COMMAND, STATION), ()),
    ("GRNT", RouteBasis.GRANTED, OFFICE, (), ()),
    ("ENTV", RouteBasis.ENTRUSTED, OFFICE, (), (SL,)),
    ("ENTX", RouteBasis.ENTRUSTED_LAPSED, SL, (COMMAND,), ()),
    ("ENTF", RouteBasis.ENTRUSTED_LAPSED, SL, (), ()),
    ("STTD", RouteBasis.STATIONED, STATION, (COMMAND,), ()),
    ("STNO", RouteBasis.STATIONED, STATION, (OFFICE,), ()),  # township office as 属地配合
    ("NLTD", RouteBasis.NOT_LISTED, SL, (OFFICE, COMMAND), ()),  # lead role first in the list's order
    ("NLNO", RouteBasis.NOT_LISTED, SL, (), ()),
    ("NLTM", RouteBasis.NOT_LISTED, SCJG_TEAM, (), ()),
]


@pytest.mark.parametrize(("matter", "basis", "lead", "support", "informed"), ROWS, ids=[r[0] for r in ROWS])
def test_routing_row(
    matter: str, basis: RouteBasis, lead: str, support: tuple[str, ...], informed: tuple[str, ...]
) -> None:
    assignment = make_router().route(SINGLE[matter], T, ON, CELL)
    assert assignment.basis is basis
    assert assignment.lead == lead
    assert assignment.support == support
    assert assignment.informed == informed
    assert assignment.matters == (matter,)
    assert lead not in assignment.support


def test_entrusted_valid_carries_the_agreement_number() -> None:
    assignment = make_router().route(SINGLE["ENTV"], T, ON, CELL)
    assert assignment.agreement == "W-1"
    decision = assignment.explanation.decisions[0]
    assert (decision.agreement_valid_from, decision.agreement_valid_to) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    assert "W-1" in assignment.explanation.text_zh
    assert "W-1" in assignment.explanation.text_en
    assert "Water Bureau" in assignment.explanation.text_en  # acting in the department's name


@pytest.mark.parametrize(
    ("on", "basis", "lead"),
    [
        (dt.date(2025, 12, 31), RouteBasis.ENTRUSTED_LAPSED, SL),  # day before validity
        (dt.date(2026, 1, 1), RouteBasis.ENTRUSTED, OFFICE),  # first valid day
        (dt.date(2026, 12, 31), RouteBasis.ENTRUSTED, OFFICE),  # last valid day
        (dt.date(2027, 1, 1), RouteBasis.ENTRUSTED_LAPSED, SL),  # day after
    ],
)
def test_agreement_checked_against_incident_date(on: dt.date, basis: RouteBasis, lead: str) -> None:
    assignment = make_router().route(SINGLE["ENTV"], T, on, CELL)
    assert (assignment.basis, assignment.lead) == (basis, lead)
    assert assignment.agreement == ("W-1" if basis is RouteBasis.ENTRUSTED else None)


def test_expired_agreement_says_when_it_expired() -> None:
    assignment = make_router().route(SINGLE["ENTX"], T, ON, CELL)
    assert (
        "agreement W-2 (valid 2024-01-01 to 2025-12-31) expired on 2025-12-31"
        in assignment.explanation.text_en
    )
    assert (
        "委托书 W-2（有效期 2024-01-01 至 2025-12-31）已于 2025-12-31 到期" in assignment.explanation.text_zh
    )
    assert "not valid until" not in assignment.explanation.text_en
    assert assignment.explanation.decisions[0].list_entry == "P4"


def test_agreement_not_yet_valid_says_from_when() -> None:
    assignment = make_router().route(SINGLE["ENTF"], T, ON, CELL)
    assert assignment.basis is RouteBasis.ENTRUSTED_LAPSED
    assert (
        "agreement W-3 (valid 2027-01-01 to 2027-12-31) is not valid until 2027-01-01"
        in assignment.explanation.text_en
    )
    assert (
        "委托书 W-3（有效期 2027-01-01 至 2027-12-31）自 2027-01-01 起才生效"
        in assignment.explanation.text_zh
    )
    assert "expired" not in assignment.explanation.text_en


@pytest.mark.parametrize(
    ("on", "words_en", "words_zh"),
    [
        (dt.date(2025, 12, 31), "not valid until 2026-01-01", "自 2026-01-01 起才生效"),
        (dt.date(2027, 1, 1), "expired on 2026-12-31", "已于 2026-12-31 到期"),
    ],
)
def test_one_agreement_before_and_after_its_term(on: dt.date, words_en: str, words_zh: str) -> None:
    explanation = make_router().route(SINGLE["ENTV"], T, on, CELL).explanation
    assert words_en in explanation.text_en
    assert words_zh in explanation.text_zh


def test_a_snapped_point_is_explained() -> None:
    explanation = make_router().route(SINGLE["STAT"], T, ON, CELL, snapped_m=12.4).explanation
    assert explanation.snapped_m == 12.4
    assert explanation.text_en.startswith(
        f"The reported point lies in no cell; it was snapped to the nearest, cell {CELL}"
    )
    assert "12 m away" in explanation.text_en
    assert explanation.text_zh.startswith(f"上报位置不在任何网格内，已吸附到 12 米外最近的网格 {CELL}")
    inside = make_router().route(SINGLE["STAT"], T, ON, CELL).explanation
    assert inside.snapped_m is None
    assert "snapped" not in inside.text_en and "吸附" not in inside.text_zh


def test_several_matters_one_lead_by_severity() -> None:
    assignment = make_router().route(MULTI_SEVERITY, T, ON, CELL)
    assert assignment.matters == ("HIGH", "STAT", "GRNT")
    assert assignment.explanation.lead_matter == "HIGH"
    assert assignment.lead == OFFICE  # HIGH is granted to the office
    # STAT's and GRNT's units support, deduplicated, never the lead again.
    assert assignment.support == (COMMAND, STATION)
    assert len(assignment.explanation.decisions) == 3


def test_several_matters_tie_broken_by_matter_code() -> None:
    assignment = make_router().route(MULTI_TIE, T, ON, CELL)
    assert assignment.explanation.lead_matter == "TIEA"
    assert assignment.lead == ZRZY
    assert assignment.support == (SL,)


def test_explanation_is_machine_and_human_readable() -> None:
    assignment = make_router().route(SINGLE["STAT"], T, ON, CELL)
    e = assignment.explanation
    assert (e.cell, e.township, e.on) == (CELL, T, ON)
    assert e.decisions[0].basis is RouteBasis.STATUTORY
    assert e.decisions[0].list_entry == "P1"
    for text in (e.text_zh, e.text_en):
        assert CELL in text
        assert "P1" in text
    assert "法定" in e.text_zh
    assert "statutory" in e.text_en
    assert "甲镇执法办" in e.text_zh
    assert "Jia Enforcement Office" in e.text_en


def test_unknown_category_and_township_refused() -> None:
    router = make_router()
    with pytest.raises(UnknownCategory):
        router.route("9999", T, ON, CELL)
    with pytest.raises(RoutingError, match="unknown township"):
        router.route(SINGLE["STAT"], "330100999", ON, CELL)


def test_list_naming_a_missing_unit_is_a_routing_error() -> None:
    router = make_router()
    bad = PowerListEntry(id="PX", township=T, matter="GRNT", mode=HoldingMode.GRANTED, unit="nobody")
    router.lists = PowerLists([bad], [])
    with pytest.raises(RoutingError, match="nobody"):
        router.route(SINGLE["GRNT"], T, ON, CELL)


def test_duty_admission() -> None:
    router = make_router()
    # On the lists: the township may lead.
    router.check_duty_admission("GRNT", T, OFFICE)
    # A department may always take a matter back.
    router.check_duty_admission("NLNO", T, SL)
    with pytest.raises(DutyAdmissionRefused) as refused:
        router.check_duty_admission("NLNO", T, OFFICE)
    assert "NLNO" in refused.value.message_en
    assert "不得下放" in refused.value.message_zh
    with pytest.raises(RoutingError):
        router.check_duty_admission("NLNO", T, "ghost")
    # Another township's office never leads here, whatever the lists say.
    with pytest.raises(DutyAdmissionRefused, match="belongs to township"):
        router.check_duty_admission("GRNT", "330100102", OFFICE)


def test_reroute_keeps_duty_admission_and_explains() -> None:
    router = make_router()
    current = router.route(SINGLE["STAT"], T, ON, CELL)
    moved = router.reroute(current, ZRZY, "需要部门执法")
    assert (moved.lead, moved.basis) == (ZRZY, RouteBasis.MANUAL)
    assert moved.support == (COMMAND, STATION)
    assert "需要部门执法" in moved.explanation.text_zh
    assert "Land Bureau" in moved.explanation.text_en
    assert moved.explanation.decisions == current.explanation.decisions  # the original reasons stay
    not_listed = router.route(SINGLE["NLNO"], T, ON, CELL)
    with pytest.raises(DutyAdmissionRefused):
        router.reroute(not_listed, OFFICE, "推给乡镇")


def test_entrusted_entry_requires_agreement() -> None:
    with pytest.raises(ValueError, match="agreement"):
        PowerListEntry(id="B", township=T, matter="X", mode=HoldingMode.ENTRUSTED, unit=OFFICE)
    with pytest.raises(ValueError, match="agreement"):
        PowerListEntry(
            id="B",
            township=T,
            matter="X",
            mode=HoldingMode.GRANTED,
            unit=OFFICE,
            agreement=make_router().lists.entry(T, "ENTV").agreement,  # type: ignore[union-attr]
        )


def test_duplicate_list_entries_refused() -> None:
    entry = PowerListEntry(id="A", township=T, matter="GRNT", mode=HoldingMode.GRANTED, unit=OFFICE)
    with pytest.raises(Exception, match="listed twice"):
        PowerLists([entry, entry], [])


def test_department_named_by_kind_resolves_per_county() -> None:
    assignment = make_router().route(SINGLE["NLNO"], T, ON, CELL)
    assert assignment.explanation.decisions[0].department == SL
