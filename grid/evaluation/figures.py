"""The figures of docs/domain.md#evaluation, from counts an adapter sums over a period and scope.

Counts are what the store sums; rates, means and the staffing gap are derived here, so every
adapter (API, workbook, console) shows the same numbers from the same formulas. Rates are
percentages rounded half-up to two places, as the county's reports print them (911/972 → 93.72).
"""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal

import msgspec

HOUR = 3600.0


class Counts(msgspec.Struct, kw_only=True):
    """Sums over a period and scope. Which incidents each counts is in DEFINITIONS."""

    reported: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    dispatched: int = 0
    dispatched_accurately: int = 0
    due_to_handle: int = 0
    handled: int = 0
    handled_on_time: int = 0
    reworked: int = 0
    due_to_close: int = 0
    closed: int = 0
    closed_on_time: int = 0
    suspended: int = 0
    overdue: int = 0
    accept_seconds: float = 0.0
    handle_seconds: float = 0.0
    whistles: int = 0
    report_ins_due: int = 0
    report_ins_on_time: int = 0
    ratings: int = 0
    rating_sum: int = 0
    cell_weeks: int = 0
    cell_weeks_covered: int = 0
    # Only for a township or the county; None elsewhere. The county's gap is its townships' gaps
    # added up: one township's surplus does not staff another.
    staff_needed: int | None = None
    staff_certified: int | None = None
    staff_gap: int | None = None

    def __add__(self, other: Counts) -> Counts:
        values = {}
        for name in self.__struct_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            values[name] = None if mine is None and theirs is None else (mine or 0) + (theirs or 0)
        return msgspec.convert(values, Counts)


class Figures(msgspec.Struct, kw_only=True):
    reported: int
    accepted: int
    accepted_on_time: int
    on_time_accept_rate: float | None
    dispatched: int
    dispatched_accurately: int
    accurate_dispatch_rate: float | None
    due_to_handle: int
    handled: int
    handled_on_time: int
    handle_rate: float | None
    on_time_handle_rate: float | None
    reworked: int
    rework_rate: float | None
    due_to_close: int
    closed: int
    closed_on_time: int
    close_rate: float | None
    on_time_close_rate: float | None
    suspended: int
    overdue: int
    mean_accept_hours: float | None
    mean_handle_hours: float | None
    whistles: int
    whistle_rate: float | None
    report_ins_due: int
    report_ins_on_time: int
    on_time_report_in_rate: float | None
    mean_rating: float | None
    patrol_coverage: float | None
    staff_needed: int | None
    staff_certified: int | None
    staffing_gap: int | None


def percent(part: int, whole: int) -> float | None:
    """part/whole as a percentage, half-up to two places; None when nothing was due."""
    if whole <= 0:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def mean(total: float, count: int, unit: float = 1.0) -> float | None:
    return None if count <= 0 else round(total / count / unit, 2)


def figures(c: Counts) -> Figures:
    return Figures(
        reported=c.reported,
        accepted=c.accepted,
        accepted_on_time=c.accepted_on_time,
        on_time_accept_rate=percent(c.accepted_on_time, c.accepted),
        dispatched=c.dispatched,
        dispatched_accurately=c.dispatched_accurately,
        accurate_dispatch_rate=percent(c.dispatched_accurately, c.dispatched),
        due_to_handle=c.due_to_handle,
        handled=c.handled,
        handled_on_time=c.handled_on_time,
        handle_rate=percent(c.handled, c.due_to_handle),
        on_time_handle_rate=percent(c.handled_on_time, c.due_to_handle),
        reworked=c.reworked,
        rework_rate=percent(c.reworked, c.handled),
        due_to_close=c.due_to_close,
        closed=c.closed,
        closed_on_time=c.closed_on_time,
        close_rate=percent(c.closed, c.due_to_close),
        on_time_close_rate=percent(c.closed_on_time, c.due_to_close),
        suspended=c.suspended,
        overdue=c.overdue,
        mean_accept_hours=mean(c.accept_seconds, c.accepted, HOUR),
        mean_handle_hours=mean(c.handle_seconds, c.handled, HOUR),
        whistles=c.whistles,
        whistle_rate=percent(c.whistles, c.accepted),
        report_ins_due=c.report_ins_due,
        report_ins_on_time=c.report_ins_on_time,
        on_time_report_in_rate=percent(c.report_ins_on_time, c.report_ins_due),
        mean_rating=mean(c.rating_sum, c.ratings),
        patrol_coverage=percent(c.cell_weeks_covered, c.cell_weeks),
        staff_needed=c.staff_needed,
        staff_certified=c.staff_certified,
        staffing_gap=c.staff_gap,
    )


class Kind(enum.StrEnum):
    COUNT = "count"
    RATE = "rate"  # a percentage
    HOURS = "hours"
    SCORE = "score"
    PEOPLE = "people"


class Definition(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    zh: str
    en: str
    kind: Kind
    formula_zh: str
    formula_en: str
    # A higher value is better (rankings and the direction of a change).
    higher_is_better: bool = True


def _d(key: str, zh: str, en: str, kind: Kind, fzh: str, fen: str, better: bool = True) -> Definition:
    return Definition(
        key=key, zh=zh, en=en, kind=kind, formula_zh=fzh, formula_en=fen, higher_is_better=better
    )


_C, _R = Kind.COUNT, Kind.RATE
DEFINITIONS: tuple[Definition, ...] = (
    _d("reported", "上报数", "Reported", _C, "期内上报的事件数", "Incidents reported in the period"),
    _d("accepted", "立案数", "Accepted", _C, "期内立案的事件数", "Incidents accepted (立案) in the period"),
    _d(
        "accepted_on_time",
        "按时立案数",
        "Accepted on time",
        _C,
        "期内立案且未超立案时限的事件数",
        "Accepted in the period within the accept limit",
    ),
    _d(
        "on_time_accept_rate",
        "按时立案率",
        "On-time accept rate",
        _R,
        "按时立案数 ÷ 立案数 × 100%",
        "accepted on time ÷ accepted × 100%",
    ),
    _d(
        "dispatched",
        "派遣数",
        "Dispatched",
        _C,
        "期内首次派遣的事件数",
        "Incidents first dispatched in the period",
    ),
    _d(
        "dispatched_accurately",
        "准确派遣数",
        "Dispatched accurately",
        _C,
        "派遣后未被回退、未被改派的事件数",
        "Dispatched and never returned or re-routed away from the unit",
    ),
    _d(
        "accurate_dispatch_rate",
        "准确派遣率",
        "Accurate dispatch rate",
        _R,
        "准确派遣数 ÷ 派遣数 × 100%",
        "dispatched accurately ÷ dispatched × 100%",
    ),
    _d(
        "due_to_handle",
        "应处置数",
        "Due to handle",
        _C,
        "期内派遣、已处置或已结束或现已超期的事件数，缓办中的除外",
        "Dispatched in the period and already due (handled, ended, or past a limit now), less those suspended",
    ),
    _d(
        "handled",
        "处置数",
        "Handled",
        _C,
        "应处置事件中已处置反馈的数",
        "Due to handle and handled (处置反馈)",
    ),
    _d(
        "handled_on_time",
        "按期处置数",
        "Handled on time",
        _C,
        "已处置且每次处置均未超处置时限的事件数",
        "Handled, every time within the handle limit",
    ),
    _d(
        "handle_rate",
        "处置率",
        "Handle rate",
        _R,
        "处置数 ÷ 应处置数 × 100%",
        "handled ÷ due to handle × 100%",
    ),
    _d(
        "on_time_handle_rate",
        "按期处置率",
        "On-time handle rate",
        _R,
        "按期处置数 ÷ 应处置数 × 100%",
        "handled on time ÷ due to handle × 100%",
    ),
    _d(
        "reworked",
        "返工数",
        "Reworked",
        _C,
        "已处置事件中被返工过的数",
        "Handled incidents that were reopened (返工) at least once",
        False,
    ),
    _d(
        "rework_rate",
        "返工率",
        "Rework rate",
        _R,
        "返工数 ÷ 处置数 × 100%",
        "reworked ÷ handled × 100%",
        False,
    ),
    _d(
        "due_to_close",
        "应结案数",
        "Due to close",
        _C,
        "期内立案且已到期（已结束、有环节超时限或现已超期）的事件数，缓办中的和重复的除外",
        "Accepted in the period and already due (ended, a stage past its limit, or past its deadline now),"
        " less those suspended (缓办) or merged as duplicates",
    ),
    _d("closed", "结案数", "Closed", _C, "应结案事件中已结案的数", "Due to close and closed (结案)"),
    _d(
        "closed_on_time",
        "按期结案数",
        "Closed on time",
        _C,
        "已结案且各环节均未超时限的事件数",
        "Closed, with no timed stage past its limit",
    ),
    _d("close_rate", "结案率", "Close rate", _R, "结案数 ÷ 应结案数 × 100%", "closed ÷ due to close × 100%"),
    _d(
        "on_time_close_rate",
        "按期结案率",
        "On-time close rate",
        _R,
        "按期结案数 ÷ 应结案数 × 100%",
        "closed on time ÷ due to close × 100%",
    ),
    _d(
        "suspended",
        "缓办数",
        "Suspended",
        _C,
        "期内立案、现处于缓办的事件数",
        "Accepted in the period and suspended now",
        False,
    ),
    _d(
        "overdue",
        "超期数",
        "Overdue",
        _C,
        "应结案事件中有环节超时限、或现已超期未办的数",
        "Due to close with a stage past its limit, or open and past its deadline now",
        False,
    ),
    _d(
        "mean_accept_hours",
        "平均立案用时（小时）",
        "Mean time to accept (h)",
        Kind.HOURS,
        "立案时间 − 上报时间 的平均值（自然小时）",
        "mean of accepted − reported, natural hours",
        False,
    ),
    _d(
        "mean_handle_hours",
        "平均处置用时（小时）",
        "Mean time to handle (h)",
        Kind.HOURS,
        "最近处置时间 − 首次派遣时间 的平均值（自然小时）",
        "mean of last handled − first dispatched, natural hours",
        False,
    ),
    _d("whistles", "吹哨数", "Whistles", _C, "期内吹哨次数", "Whistles blown in the period"),
    _d(
        "whistle_rate",
        "吹哨率",
        "Whistle rate",
        _R,
        "吹哨数 ÷ 立案数 × 100%",
        "whistles ÷ accepted × 100%",
        False,
    ),
    _d(
        "report_ins_due",
        "应报到数",
        "Report-ins due",
        _C,
        "报到时限在期内且已过、或已报到的被吹哨部门次数",
        "Whistle calls whose report-in limit falls in the period and has passed, or that have reported in",
    ),
    _d(
        "report_ins_on_time",
        "按时报到数",
        "Reported in on time",
        _C,
        "按时限报到的次数",
        "Calls reported in within the limit",
    ),
    _d(
        "on_time_report_in_rate",
        "按时报到率",
        "On-time report-in rate",
        _R,
        "按时报到数 ÷ 应报到数 × 100%",
        "reported in on time ÷ report-ins due × 100%",
    ),
    _d(
        "mean_rating",
        "部门平均评分",
        "Mean department rating",
        Kind.SCORE,
        "乡镇对报到部门评分（1–5）的平均值",
        "mean of the townships' 1–5 ratings of the departments that reported in",
    ),
    _d(
        "patrol_coverage",
        "巡查覆盖率",
        "Patrol coverage",
        _R,
        "达到周巡查目标的网格周数 ÷ 网格周数 × 100%（期内自周一起的各周）",
        "cell-weeks meeting the weekly patrol target ÷ cell-weeks × 100% (weeks starting on a Monday in the period)",
    ),
    _d(
        "staff_needed",
        "应配执法人员",
        "Enforcement staff needed",
        Kind.PEOPLE,
        "2 人，常住人口超过 2 万的每满 1 万人加 1 人",
        "2, plus 1 per full 10,000 residents above 20,000",
    ),
    _d(
        "staff_certified",
        "持证执法人员",
        "Certified officers",
        Kind.PEOPLE,
        "期末持有效执法证的人员数",
        "Officers with a certificate valid on the last day",
    ),
    _d(
        "staffing_gap",
        "执法力量缺口",
        "Staffing gap",
        Kind.PEOPLE,
        "各乡镇 max(0, 应配 − 持证) 之和",
        "sum over the townships of max(0, needed − certified)",
        False,
    ),
)
DEFINITION = {d.key: d for d in DEFINITIONS}
