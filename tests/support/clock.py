"""Moments in China Standard Time, as the tests write them."""

from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """A China Standard Time moment from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CST)
