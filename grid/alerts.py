"""Remote-enforcement alerts (非现场执法, docs/domain.md#remote-enforcement-alerts).

A camera or sensor has a fixed place, so an alert is located by its device, not by what it sends.
The same device seeing the same category again within the merge window is the same matter: the
alert joins the open incident instead of opening another. Below the category's confidence
threshold an alert waits in the review queue; no alert opens a case by itself (a person accepts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from grid.incident import Incident, Source

MERGE_WINDOW = dt.timedelta(minutes=10)


class OpenAlert(msgspec.Struct, frozen=True, kw_only=True):
    """An open alert incident and when its device last saw the matter."""

    incident: Incident
    device: str
    last_seen: dt.datetime


def needs_review(confidence: float, threshold: float) -> bool:
    return confidence < threshold


def merge_target(
    device: str,
    category: str,
    at: dt.datetime,
    candidates: Iterable[OpenAlert],
    window: dt.timedelta = MERGE_WINDOW,
) -> Incident | None:
    """The open incident this alert joins: same device, same category, last seen within the window.
    The most recently seen wins, so a long-running matter stays one incident."""
    best: OpenAlert | None = None
    for c in candidates:
        incident = c.incident
        if c.device != device or incident.category != category or incident.source is not Source.ALERT:
            continue
        if not incident.is_open or abs(at - c.last_seen) > window:
            continue
        if best is None or c.last_seen > best.last_seen:
            best = c
    return None if best is None else best.incident
