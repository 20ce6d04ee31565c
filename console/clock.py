"""Time as the console shows it: county time (China has one time zone, UTC+8)."""

from __future__ import annotations

import datetime as dt

LOCAL = dt.timezone(dt.timedelta(hours=8), "CST")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(moment: dt.datetime | None, pattern: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(LOCAL).strftime(pattern) if moment else "—"
