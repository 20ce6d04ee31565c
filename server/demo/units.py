"""Simulated unit officers for the demo: each unit signs what is dispatched to it, handles it and
reports in when a whistle calls it, after plausible delays, as its own officer would: through the
platform's HTTP routes with a unit token, never by writing rows. One worker and one unit are left to
a person instead, with a phone paired to each (the field app beside the console).

They work on what comes in while they are on duty; the backlog the history left (some of it past
its deadline) stays for the duty officer to chase, so the board has overdue incidents at any hour.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import or_
from sqlmodel import Session, col, select

from server.auth import Role, create_token, digest, revoke_token
from server.db.tables import PairingRow, TokenRow, TownshipRow, UnitRow, WorkerRow
from server.pairings.service import PairingService, link, shown

log = logging.getLogger(__name__)

# Seconds from first seeing an incident dispatched to signing it, and from signing to handling.
SIGN_DELAY = (20.0, 90.0)
HANDLE_DELAY = (40.0, 150.0)
REPORT_IN_DELAY = (30.0, 120.0)
PAGE = 500
TOKEN_DAYS = 7
PAIRING_MINUTES = 1440  # a day to open the link in: the longest a pairing code lasts


class Response(Protocol):
    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


class Http(Protocol):
    """What the desk needs of an HTTP client (httpx.Client, or Litestar's TestClient in tests)."""

    def get(self, url: str, *, params: Any = None, headers: Any = None) -> Any: ...

    def post(self, url: str, *, json: Any = None, params: Any = None, headers: Any = None) -> Any: ...


def unit_tokens(
    session: Session, county: str, now: dt.datetime, left_to_people: Collection[str] = ()
) -> dict[str, str]:
    """A short-lived token for every unit of the county, for its simulated officer, except the units
    whose work a person does from a paired phone."""
    units = session.exec(
        select(UnitRow.id)
        .where(or_(col(UnitRow.id).startswith(county), col(UnitRow.township).startswith(county)))
        .order_by(col(UnitRow.id))
    ).all()
    expires = now + dt.timedelta(days=TOKEN_DAYS)
    return {
        unit: create_token(session, Role.UNIT, f"unit:{unit}", label="demo-unit", expires=expires, now=now)
        for unit in units
        if unit not in left_to_people
    }


@dataclass(frozen=True)
class Phone:
    """A pairing the demo made for a person to open the field app with."""

    pairing: int
    role: Role
    ident: str
    name: str
    code: str  # ABCD-EFGH
    link: str


def demo_phones(session: Session, county: str, clock: Callable[[], dt.datetime], base: str) -> list[Phone]:
    """Pairings for the county's first grid worker and for the enforcement office of the worker's
    township, which then dispatches work to the unit the same person can sign and handle."""
    worker = session.exec(
        select(WorkerRow).where(col(WorkerRow.township).startswith(county)).order_by(col(WorkerRow.id))
    ).first()
    if worker is None:
        return []
    township = session.get(TownshipRow, worker.township)
    office = session.get(UnitRow, township.enforcement_office) if township else None
    people = [(Role.WORKER, worker.id, worker.name)]
    if office is not None:
        people.append((Role.UNIT, office.id, office.name_zh))
    service = PairingService(session, clock)
    phones = []
    for role, ident, name in people:
        row, code = service.make(service.target(role, ident), "demo phone", PAIRING_MINUTES, "demo")
        phones.append(Phone(row.id or 0, role, ident, name, shown(code), link(base, code)))
    return phones


def retire_phones(session: Session, phones: Collection[Phone], clock: Callable[[], dt.datetime]) -> None:
    """Sign the demo's phones out (or cancel their codes) when it stops, as its units' tokens."""
    service = PairingService(session, clock)
    for phone in phones:
        row = session.get(PairingRow, phone.pairing)
        if row is not None:
            service.revoke(row)


def retire_unit_tokens(session: Session, tokens: dict[str, str]) -> None:
    """Revoke the desk's tokens when the demo stops: none is left valid behind it."""
    digests = [digest(t) for t in tokens.values()]
    for row in session.exec(select(TokenRow).where(col(TokenRow.digest).in_(digests))).all():
        revoke_token(session, row)


class UnitDesk:
    def __init__(
        self,
        http: Http,
        reader_token: str,
        tokens: dict[str, str],
        clock: Callable[[], dt.datetime],
        *,
        seed: int = 1,
    ) -> None:
        self.http = http
        self.reader = {"Authorization": f"Bearer {reader_token}"}
        self.tokens = tokens
        self.clock = clock
        self.seed = seed
        self.on_duty_since = clock()
        # When each (incident or whistle call, state) was first seen: the delay runs from there.
        self.seen: dict[tuple[str, str], dt.datetime] = {}
        self.done: Counter[str] = Counter()

    def _due(self, key: str, state: str, delay: tuple[float, float], now: dt.datetime) -> bool:
        first = self.seen.setdefault((key, state), now)
        wait = random.Random(f"{self.seed}:{key}:{state}").uniform(*delay)
        return now >= first + dt.timedelta(seconds=wait)

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            answer = self.http.get(
                path, params={**params, "limit": PAGE, "offset": offset}, headers=self.reader
            )
            if answer.status_code != 200:
                return
            page = answer.json()
            yield from page["items"]
            offset += PAGE
            if offset >= page["total"]:
                return

    def _as(self, unit: str) -> dict[str, str] | None:
        token = self.tokens.get(unit)
        return None if token is None else {"Authorization": f"Bearer {token}"}

    def step(self) -> None:
        """Do whatever has come due since the last step."""
        now = self.clock()
        since = self.on_duty_since
        for incident in self._pages(
            "/incidents", {"status": ["dispatched", "signed", "reopened"], "from": since.isoformat()}
        ):
            state, unit = incident["state"], incident["lead"]
            headers = self._as(unit or "")
            if headers is None:
                continue
            action, delay = ("sign", SIGN_DELAY) if state == "dispatched" else ("handle", HANDLE_DELAY)
            if self._due(incident["id"], state, delay, now):
                answer = self.http.post(
                    f"/incidents/{incident['id']}/actions/{action}", json={}, headers=headers
                )
                if answer.status_code == 200:
                    self.done[action] += 1
        for whistle in self._pages("/whistles", {"open": "true"}):
            if dt.datetime.fromisoformat(whistle["opened_at"]) < since:
                continue
            for call in whistle["calls"]:
                headers = self._as(call["unit"])
                key = f"{whistle['id']}:{call['unit']}"
                if call["reported_at"] is None and headers and self._due(key, "called", REPORT_IN_DELAY, now):
                    answer = self.http.post(f"/whistles/{whistle['id']}/report-in", headers=headers)
                    if answer.status_code == 200:
                        self.done["report_in"] += 1

    def run(self, stop: threading.Event, every: float = 5.0) -> None:
        """Step until stopped; a failed request is tried again at the next step."""
        while not stop.wait(every):
            try:
                self.step()
            except Exception:  # the server may be restarting: the desk goes on at the next step
                log.warning("the simulated units' step failed; trying again", exc_info=True)
                continue
