"""After the day: what each stop found, and what that does to the subject's risk."""

from __future__ import annotations

import datetime as dt
import enum

import msgspec

from grid.subjects import Subject


class Outcome(enum.StrEnum):
    NOTHING_FOUND = "nothing_found"  # 未发现问题
    RECTIFICATION = "rectification"  # 责令整改
    CASE_OPENED = "case_opened"  # 立案查处 (opens or links an incident)


MIN_RISK, MAX_RISK = 1, 4


def risk_after(risk: int, outcome: Outcome) -> int:
    """Graded supervision (信用风险分类): a clean visit lowers the risk level by one, a case raises it by
    one, an order to rectify keeps it; always within 1..4."""
    step = {Outcome.NOTHING_FOUND: -1, Outcome.RECTIFICATION: 0, Outcome.CASE_OPENED: 1}[outcome]
    return min(MAX_RISK, max(MIN_RISK, risk + step))


def visited(subject: Subject, on: dt.date, outcome: Outcome) -> Subject:
    """The subject after a visit: its last visit is the sweep day, its risk follows the outcome."""
    return msgspec.structs.replace(subject, last_inspected=on, risk=risk_after(subject.risk, outcome))
