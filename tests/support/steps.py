"""Steps through the API that several test modules take: a whistle, a closed-loop day in June."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support.api import CST, Api

ZHZF, ZRZY = "339921.dept.zhzf", "339921.dept.zrzy"


def whistle(api: Api, incident: str, who: str = "duty_a", **body: Any) -> Any:
    payload = {"kind": "routine", "reason": "no_power", "units": [ZHZF, ZRZY]} | body
    return api.client.post(f"/incidents/{incident}/whistles", json=payload, headers=api.auth(who))


JUNE = {"from": "2026-06-01", "to": "2026-06-30"}


def closed_loop_day(api: Api) -> dict[str, str]:
    """Nine incidents of category 0501 (limits: accept, dispatch and sign 1 working hour, handle
    and verify 2) reported by worker_a1 in township A on Tuesday 2026-06-16 at 09:00. Working
    hours are 08:00–12:00 and 14:00–18:00; everything below happens before noon."""
    _at(api, 9, 0)
    ids = {name: api.report(n=n).json()["incident"]["id"] for n, name in enumerate("ABCDEFGHI")}
    _at(api, 9, 6)  # accept limit: 10:00
    for name in "ACDEFI":
        _run(api, ids[name], "accept")
    _run(api, ids["G"], "reject:不属于本县管辖")
    for name in "ACDFI":  # dispatch on time; sign limit 10:06
        _run(api, ids[name], "dispatch")
    _at(api, 9, 12)
    for name in "ACI":  # handle limit 11:12
        _run(api, ids[name], "sign")
    _run(api, ids["E"], "suspend:等待权属认定")
    moved = api.client.post(
        f"/incidents/{ids['D']}/reroute",
        json={"lead": ZHZF, "reason": "涉及违法建设"},
        headers=api.auth("duty_a"),
    )
    assert moved.status_code == 200, moved.text
    _run(api, ids["D"], "sign", who="unit_dept")
    _at(api, 9, 18)  # D's and A's verify limit: 11:18
    for name in "AC":
        _run(api, ids[name], "handle")
    _run(api, ids["D"], "handle", who="unit_dept")
    _at(api, 9, 24)
    _run(api, ids["A"], "verify")
    _run(api, ids["C"], "reopen:摊位仍在")  # the handle clock restarts: limit 11:24
    _at(api, 9, 30)
    _run(api, ids["A"], "close")
    _run(api, ids["C"], "handle")
    _at(api, 9, 36)
    _run(api, ids["C"], "verify", "close")
    _at(api, 11, 0)  # B is accepted an hour after its 10:00 limit, then done at once
    _run(api, ids["B"], "accept", "dispatch", "sign", "handle", "verify", "close")
    _at(api, 11, 30)  # I is handled 18 minutes after its 11:12 limit
    _run(api, ids["I"], "handle", "verify", "close")
    return ids


def _at(api: Api, hour: int, minute: int) -> None:
    api.clock.now = dt.datetime(2026, 6, 16, hour, minute, tzinfo=CST)


def _run(api: Api, incident: str, *steps: str, who: str = "duty_a") -> None:
    """Steps `action` or `action:reason`, by `who`; township A's office signs and handles for duty_a."""
    for step in steps:
        action, _, reason = step.partition(":")
        actor = {"duty_a": "unit_a"}.get(who, who) if action in ("sign", "handle") else who
        body = {"reason": reason} if reason else {}
        done = api.act(incident, action, actor, **body)
        assert done.status_code == 200, (incident, action, done.text)
