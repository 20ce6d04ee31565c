"""Rankings (排名) of the rows of one level, and the change of a figure against another period."""

from __future__ import annotations

from collections.abc import Sequence

from grid.evaluation.figures import DEFINITION, DEFINITIONS, Figures, Kind

# What each level is ranked by: the figure its evaluation is about (区域/部门/岗位评价, CJ/T 292).
RANKED_BY = {
    "township": ("on_time_close_rate", "close_rate", "accepted"),
    "village": ("on_time_close_rate", "close_rate", "accepted"),
    "cell": ("on_time_close_rate", "close_rate", "accepted"),
    "unit": ("on_time_handle_rate", "handle_rate", "handled"),
    "department": ("on_time_handle_rate", "handle_rate", "handled"),
    "worker": ("accepted", "reported", "patrol_coverage"),
}


def ranks(rows: Sequence[Figures], level: str) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) by the level's figures in order; rows with nothing to rank
    by (no incidents due) get None and come last."""
    keys = RANKED_BY[level]

    def key(f: Figures) -> tuple[float, ...]:
        return tuple(_signed(k, getattr(f, k)) for k in keys)

    rankable = [i for i, f in enumerate(rows) if getattr(f, keys[0]) is not None]
    ordered = sorted(rankable, key=lambda i: key(rows[i]), reverse=True)
    out: list[int | None] = [None] * len(rows)
    for position, i in enumerate(ordered):
        previous = ordered[position - 1]
        tied = position > 0 and key(rows[previous]) == key(rows[i])
        out[i] = out[previous] if tied else position + 1
    return out


def _signed(name: str, value: float | None) -> float:
    if value is None:
        return float("-inf")
    return value if DEFINITION[name].higher_is_better else -value


def change(name: str, now: float | None, before: float | None) -> float | None:
    """A rate's change in percentage points; a count's or a mean's change as a percentage of what it
    was. None when either side is missing or a count grew from nothing."""
    if now is None or before is None:
        return None
    if DEFINITION[name].kind is Kind.RATE:
        return round(now - before, 2)
    if before == 0:
        return None
    return round((now - before) / before * 100, 2)


def changes(now: Figures, before: Figures) -> dict[str, float | None]:
    """Every figure's change against another period."""
    return {d.key: change(d.key, getattr(now, d.key), getattr(before, d.key)) for d in DEFINITIONS}
