"""Probable duplicates, the staffing rule and the two-certified-officers rule."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from grid.duplicates import probable_duplicate
from grid.geo import METRES_PER_DEGREE_LAT
from grid.incident import Incident, IncidentState, Source
from grid.organisation import Certificate, Officer
from grid.staffing import check_two_certified, enforcement_staff_needed, staffing_gap
from tests.support.clock import at

BASE = Incident(
    id="a", source=Source.REPORT, category="0501", lon=120.0, lat=30.0, reported_at=at("2026-06-16 09:00")
)


def north(metres: float) -> float:
    return 30.0 + metres / METRES_PER_DEGREE_LAT


@pytest.mark.parametrize(
    ("category", "metres", "hours", "state", "linked"),
    [
        ("0501", 10, 1, IncidentState.ACCEPTED, True),
        ("0501", 49, 23.9, IncidentState.DISPATCHED, True),
        ("0501", 51, 1, IncidentState.ACCEPTED, False),  # too far
        ("0501", 10, 24.1, IncidentState.ACCEPTED, False),  # too late
        ("0502", 10, 1, IncidentState.ACCEPTED, False),  # another minor category
        ("0501", 10, 1, IncidentState.CLOSED, False),  # no longer open
        ("0501", 10, -2, IncidentState.REPORTED, True),  # the earlier report arrived later
    ],
)
def test_probable_duplicate(
    category: str, metres: float, hours: float, state: IncidentState, linked: bool
) -> None:
    existing = msgspec.structs.replace(BASE, state=state)
    found = probable_duplicate(
        category, 120.0, north(metres), BASE.reported_at + dt.timedelta(hours=hours), [existing]
    )
    assert (found is existing) is linked


def test_nearest_then_earliest_wins() -> None:
    near = msgspec.structs.replace(BASE, id="near", lat=north(5))
    far = msgspec.structs.replace(BASE, id="far", lat=north(30))
    early = msgspec.structs.replace(BASE, id="early", lat=north(5), reported_at=at("2026-06-16 08:00"))
    now = at("2026-06-16 10:00")
    assert probable_duplicate("0501", 120.0, 30.0, now, [far, near]).id == "near"  # type: ignore[union-attr]
    assert probable_duplicate("0501", 120.0, 30.0, now, [near, far, early]).id == "early"  # type: ignore[union-attr]
    assert probable_duplicate("0501", 120.0, 30.0, now, []) is None


@pytest.mark.parametrize(
    ("population", "needed"),
    [(0, 2), (19_999, 2), (20_000, 2), (29_999, 2), (30_000, 3), (39_999, 3), (45_000, 4), (120_000, 12)],
)
def test_enforcement_staff_needed(population: int, needed: int) -> None:
    assert enforcement_staff_needed(population) == needed


def test_negative_population_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        enforcement_staff_needed(-1)


def officer(oid: str, start: str | None, end: str | None = None) -> Officer:
    certificates = ()
    if start:
        certificates = (
            Certificate(
                number=oid,
                issuer="省政府",
                valid_from=dt.date.fromisoformat(start),
                expires=dt.date.fromisoformat(end or "2030-01-01"),
            ),
        )
    return Officer(id=oid, name=oid, unit="u", certificates=certificates)


TUESDAY = dt.date(2026, 6, 16)


def test_two_certified_officers() -> None:
    valid_a, valid_b = officer("a", "2024-01-01"), officer("b", "2026-06-16", "2026-06-16")
    expired, future, none = (
        officer("x", "2019-01-01", "2026-06-15"),
        officer("f", "2026-06-17"),
        officer("n", None),
    )
    ok = check_two_certified([valid_a, valid_b, expired], TUESDAY)
    assert ok.ok and ok.certified == ("a", "b") and ok.uncertified == ("x",)
    short = check_two_certified([valid_a, expired, future, none], TUESDAY)
    assert not short.ok
    assert short.certified == ("a",)
    assert "at least 2" in (short.reason_en or "")
    assert "至少需要 2 名" in (short.reason_zh or "")
    assert not check_two_certified([], TUESDAY).ok


def test_staffing_gap_counts_certified_only() -> None:
    team = [officer("a", "2024-01-01"), officer("x", "2019-01-01", "2024-01-01"), officer("n", None)]
    gap = staffing_gap(45_000, team, TUESDAY)
    assert (gap.needed, gap.certified, gap.gap) == (4, 1, 3)
    assert staffing_gap(10_000, [officer(str(i), "2024-01-01") for i in range(5)], TUESDAY).gap == 0
