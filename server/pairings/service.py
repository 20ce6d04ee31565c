"""Pairing codes: made for a worker or a unit officer, claimed once by a phone for its own token.

A code is 8 characters from an alphabet without 0/O/1/I (read aloud or typed from a screen without
doubt); only its SHA-256 digest is stored, so the database never holds a code that still works.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

import segno
from sqlmodel import Session

from grid.errors import NotFound, StateConflict
from server.auth import Principal, Role, ScopeError, create_token, digest, resolve, revoke_token
from server.db.tables import CountyRow, PairingRow, TokenRow, TownshipRow, UnitRow, WorkerRow
from server.pairings import store
from server.pairings.schemas import Identity
from server.pairings.store import PairingExpired, PairingRefused

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """ABCDEFGH as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def normalise(typed: str) -> str:
    """The code as typed or scanned: any case, spaces and dashes anywhere."""
    code = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        # The code itself is not repeated: refusals are shown and may be logged by a proxy.
        raise PairingRefused(
            f"a pairing code is {CODE_LENGTH} letters and digits like ABCD-EFGH (no 0, O, 1 or I)",
            f"配对码为 {CODE_LENGTH} 位字母和数字，形如 ABCD-EFGH（不含 0、O、1、I）",
        )
    return code


def link(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/field/#pair={code}"


def qr_svg(target: str) -> str:
    return str(segno.make(target, error="m").svg_inline(scale=4))


def state(row: PairingRow, token: TokenRow | None, now: dt.datetime) -> str:
    if row.claimed_at is None:
        return "waiting" if row.expires_at > now else "expired"
    return "signed_out" if token is None or token.revoked else "signed_in"


def identity(session: Session, who: Principal) -> Identity:
    """Who a principal is, by name: the worker, the unit, or the place an admin or duty officer
    answers for; a device by its id."""
    name, name_en = who.scope_id, None
    if who.scope_kind == "worker" and (worker := session.get(WorkerRow, who.scope_id)):
        name = worker.name
    elif who.scope_kind == "unit" and (unit := session.get(UnitRow, who.scope_id)):
        name, name_en = unit.name_zh, unit.name_en
    elif who.scope_kind == "county" and (county := session.get(CountyRow, who.scope_id)):
        name = county.name
    elif who.scope_kind == "township" and (township := session.get(TownshipRow, who.scope_id)):
        name = township.name
    return Identity(
        role=who.role.value,
        scope=f"{who.scope_kind}:{who.scope_id}",
        actor=who.actor,
        name=name,
        name_en=name_en,
        county=who.county,
        township=who.township,
    )


def within(principal: Principal, target: Principal) -> bool:
    """Whether an admin or duty officer answers for the person or unit a pairing is for: a county
    scope for its county, a township duty officer for its township's workers and units."""
    if principal.scope_kind == "county":
        return target.county == principal.county
    return target.township is not None and target.township == principal.township


class PairingService:
    def __init__(self, session: Session, clock: Callable[[], dt.datetime]) -> None:
        self.session = session
        self.clock = clock

    def target(self, role: Role, ident: str) -> Principal:
        """The worker or unit a pairing is for, and where it sits; refused if not loaded here."""
        try:
            return resolve(self.session, role, f"{role.value}:{ident}")
        except ScopeError as exc:
            raise PairingRefused(exc.message_en, exc.message_zh) from None

    def make(self, target: Principal, label: str, minutes: int, created_by: str) -> tuple[PairingRow, str]:
        """A new code for `target`, good for `minutes`; the code is returned once and not kept."""
        now = self.clock()
        code = new_code()
        row = PairingRow(
            digest=digest(code),
            role=target.role.value,
            scope=f"{target.scope_kind}:{target.scope_id}",
            label=label,
            created_at=now,
            created_by=created_by,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
        self.session.add(row)
        self.session.commit()
        self.session.refresh(row)
        return row, code

    def claim(self, typed: str, device: str) -> tuple[str, Principal]:
        """Exchange a code for a new token of the person or unit it was made for, once."""
        code = normalise(typed)
        row = store.by_digest(self.session, digest(code))
        if row is None or row.id is None:
            raise NotFound("no such pairing code; ask for a new one", "配对码不存在，请重新获取")
        now = self.clock()
        if row.claimed_at is not None:
            raise StateConflict("this pairing code was used already", "该配对码已被使用")
        if row.expires_at <= now:
            raise PairingExpired(
                "this pairing code has expired; ask for a new one", "该配对码已过期，请重新获取"
            )
        if not store.take(self.session, row.id, now):  # another phone was a moment faster
            self.session.rollback()
            raise StateConflict("this pairing code was used already", "该配对码已被使用")
        role = Role(row.role)
        device_label = device.strip() or "phone"
        label = f"phone: {device_label} (pairing {row.id})"
        try:
            token = create_token(self.session, role, row.scope, label=label, now=now, commit=False)
        except ScopeError as exc:
            self.session.rollback()
            raise PairingRefused(exc.message_en, exc.message_zh) from None
        minted = store.token_by_digest(self.session, digest(token))
        row.token = minted.id
        self.session.add(row)
        # The claim, the token and the link between them, in one transaction.
        self.session.commit()
        return token, resolve(self.session, role, row.scope, minted.id)

    def get(self, pairing_id: int) -> PairingRow:
        row = self.session.get(PairingRow, pairing_id)
        if row is None:
            raise NotFound(f"no pairing {pairing_id}", f"没有配对记录 {pairing_id}", pairing=pairing_id)
        return row

    def placed(self, row: PairingRow) -> Principal | None:
        """Where a pairing's person or unit sits; None once it is no longer loaded here."""
        try:
            return resolve(self.session, Role(row.role), row.scope)
        except ScopeError:
            return None

    def listing(self) -> list[tuple[PairingRow, TokenRow | None, Principal | None]]:
        rows = store.newest_first(self.session)
        tokens = store.tokens(self.session, [r.token for r in rows if r.token is not None])
        return [(r, tokens.get(r.token or 0), self.placed(r)) for r in rows]

    def token_of(self, row: PairingRow) -> TokenRow | None:
        return None if row.token is None else self.session.get(TokenRow, row.token)

    def revoke(self, row: PairingRow) -> TokenRow | None:
        """Sign the phone out (revoke its token), or cancel a code nobody claimed yet."""
        token = self.token_of(row)
        if token is not None:
            return revoke_token(self.session, token)
        if row.claimed_at is None:
            row.expires_at = min(row.expires_at, self.clock())
            self.session.add(row)
            self.session.commit()
            self.session.refresh(row)
        return None
