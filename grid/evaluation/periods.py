"""The periods of the reports: a month (月调度), a quarter (季分析), a year (年总结), or any span of
days; the period before (环比) and the same period a year before (同比)."""

from __future__ import annotations

import datetime as dt
import enum
import re

import msgspec

from grid.errors import EvaluationRefused


class PeriodKind(enum.StrEnum):
    MONTH = "monthly"
    QUARTER = "quarterly"
    YEAR = "yearly"
    SPAN = "span"


_QUARTER_ZH = ("一", "二", "三", "四")


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """Whole local days from `first` to `last`, both included."""

    kind: PeriodKind
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.MONTH:
                return f"{self.first:%Y-%m}"
            case PeriodKind.QUARTER:
                return f"{self.first.year}Q{(self.first.month - 1) // 3 + 1}"
            case PeriodKind.YEAR:
                return f"{self.first.year}"
        return f"{self.first}..{self.last}"

    def title(self, lang: str) -> str:
        year, quarter = self.first.year, (self.first.month - 1) // 3 + 1
        match self.kind, lang:
            case PeriodKind.MONTH, "zh":
                return f"{year}年{self.first.month}月"
            case PeriodKind.QUARTER, "zh":
                return f"{year}年第{_QUARTER_ZH[quarter - 1]}季度"
            case PeriodKind.YEAR, "zh":
                return f"{year}年"
            case PeriodKind.SPAN, "zh":
                return f"{self.first} 至 {self.last}"
            case PeriodKind.MONTH, _:
                return f"{self.first:%B %Y}"
            case PeriodKind.QUARTER, _:
                return f"Q{quarter} {year}"
            case PeriodKind.YEAR, _:
                return str(year)
        return f"{self.first} to {self.last}"

    def previous(self) -> Period:
        """The period just before (环比): the month, quarter or year before, or an equal span."""
        match self.kind:
            case PeriodKind.MONTH:
                return month(_shift_months(self.first, -1))
            case PeriodKind.QUARTER:
                return quarter(_shift_months(self.first, -3))
            case PeriodKind.YEAR:
                return year(self.first.year - 1)
        days = (self.last - self.first).days + 1
        return span(self.first - dt.timedelta(days=days), self.first - dt.timedelta(days=1))

    def year_before(self) -> Period:
        """The same period a year before (同比)."""
        match self.kind:
            case PeriodKind.MONTH:
                return month(_shift_months(self.first, -12))
            case PeriodKind.QUARTER:
                return quarter(_shift_months(self.first, -12))
            case PeriodKind.YEAR:
                return year(self.first.year - 1)
        return span(_year_earlier(self.first), _year_earlier(self.last))

    def months(self) -> list[Period]:
        """The months the period covers, for trends."""
        out, first = [], self.first.replace(day=1)
        while first <= self.last:
            out.append(month(first))
            first = _shift_months(first, 1)
        return out


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _year_earlier(day: dt.date) -> dt.date:
    return (
        day.replace(year=day.year - 1, day=28)
        if (day.month, day.day) == (2, 29)
        else day.replace(year=day.year - 1)
    )


def _check_year(value: int) -> int:
    if not 2000 <= value <= 2099:
        raise EvaluationRefused(f"year {value} is outside 2000–2099", f"年份 {value} 不在 2000–2099 之间")
    return value


def month(first: dt.date) -> Period:
    start = first.replace(day=1)
    return Period(kind=PeriodKind.MONTH, first=start, last=_shift_months(start, 1) - dt.timedelta(days=1))


def quarter(first: dt.date) -> Period:
    start = dt.date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    return Period(kind=PeriodKind.QUARTER, first=start, last=_shift_months(start, 3) - dt.timedelta(days=1))


def year(value: int) -> Period:
    return Period(kind=PeriodKind.YEAR, first=dt.date(value, 1, 1), last=dt.date(value, 12, 31))


def span(first: dt.date, last: dt.date) -> Period:
    if last < first:
        raise EvaluationRefused(
            f"the period ends ({last}) before it starts ({first})",
            f"统计期的结束日 {last} 早于开始日 {first}",
        )
    _check_year(first.year)
    _check_year(last.year)
    return Period(kind=PeriodKind.SPAN, first=first, last=last)


_PATTERNS = {
    PeriodKind.MONTH: (re.compile(r"(\d{4})-(\d{2})"), "YYYY-MM, e.g. 2026-06"),
    PeriodKind.QUARTER: (re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE), "YYYYQn, e.g. 2026Q2"),
    PeriodKind.YEAR: (re.compile(r"(\d{4})"), "YYYY, e.g. 2026"),
}


def parse_period(kind: PeriodKind, text: str) -> Period:
    """A report's period as people write it: 2026-06, 2026Q2, 2026."""
    if kind is PeriodKind.SPAN:
        raise EvaluationRefused("a span is given by its first and last day", "自定义统计期须给出起止日期")
    pattern, shape = _PATTERNS[kind]
    found = pattern.fullmatch(text.strip())
    if found is None:
        raise EvaluationRefused(
            f"{kind.value} period must look like {shape}, not {text!r}",
            f"统计期格式应为 {shape}，而不是 {text!r}",
        )
    first_year = _check_year(int(found.group(1)))
    match kind:
        case PeriodKind.MONTH:
            number = int(found.group(2))
            if not 1 <= number <= 12:
                raise EvaluationRefused(f"month {number} does not exist", f"不存在 {number} 月")
            return month(dt.date(first_year, number, 1))
        case PeriodKind.QUARTER:
            return quarter(dt.date(first_year, int(found.group(2)) * 3 - 2, 1))
    return year(first_year)
