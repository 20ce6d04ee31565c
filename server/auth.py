"""Bearer tokens, roles and scopes (docs/domain.md#roles-and-scopes).

| role   | scope                        | may                                                       |
|--------|------------------------------|-----------------------------------------------------------|
| admin  | county:{code}                | everything in the county, reference data, tokens          |
| duty   | county:{code} / township:{c} | read and move incidents in scope, whistle, verify, close  |
| unit   | unit:{id}                    | read incidents its unit has a part in; sign, return, handle |
| worker | worker:{id}                  | report; read its own reports and its township's data      |
| device | device:{id}                  | send alerts, nothing else                                 |

Tokens are random; only their SHA-256 digest is stored. A scope must name a place, unit or person
loaded here, when the token is made and on every request; a revoked token is refused at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets

import msgspec
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from grid.errors import NotFound
from server.db.tables import CountyRow, DeviceRow, TokenRow, TownshipRow, UnitRow, WorkerRow

TOKEN_PREFIX = "gw_"


class Role(enum.StrEnum):
    ADMIN = "admin"
    DUTY = "duty"
    UNIT = "unit"
    WORKER = "worker"
    DEVICE = "device"


SCOPE_KINDS = {
    Role.ADMIN: ("county",),
    Role.DUTY: ("county", "township"),
    Role.UNIT: ("unit",),
    Role.WORKER: ("worker",),
    Role.DEVICE: ("device",),
}


class ScopeError(ValueError):
    """A scope that names nothing loaded here, or the wrong kind of thing; said in both languages."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    scope_kind: str
    scope_id: str
    # Where the scope sits: the county (admin, county duty), the township (duty, unit, worker).
    county: str
    township: str | None = None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.scope_id}"

    def sees_township(self, township: str | None) -> bool:
        if township is None:
            # Unlocated incidents wait for the county's duty officers.
            return self.scope_kind == "county"
        if self.scope_kind == "county":
            return township.startswith(self.county)
        return township == self.township


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scope(role: Role, scope: str) -> tuple[str, str]:
    kind, _, ident = scope.partition(":")
    if kind not in SCOPE_KINDS[role] or not ident:
        allowed = " or ".join(f"{k}:ID" for k in SCOPE_KINDS[role])
        raise ScopeError(
            f"role {role.value} takes scope {allowed}, not {scope!r}",
            f"角色 {role.value} 的范围应为 {allowed}，而不是 {scope!r}",
        )
    return kind, ident


def resolve(session: Session, role: Role, scope: str, token_id: int | None = None) -> Principal:
    """Check the scope names something loaded here and find where it sits."""
    kind, ident = parse_scope(role, scope)
    township: str | None = None
    if kind == "county":
        if len(ident) != 6 or not ident.isdigit():
            raise ScopeError(f"county code must be 6 digits: {ident!r}", f"县级代码应为 6 位数字：{ident!r}")
        if session.get(CountyRow, ident) is None:
            raise ScopeError(f"no county {ident} is loaded here", f"本系统未载入县 {ident}")
        county = ident
    elif kind == "township":
        if len(ident) != 9 or not ident.isdigit():
            raise ScopeError(
                f"township code must be 9 digits: {ident!r}", f"乡镇代码应为 9 位数字：{ident!r}"
            )
        place = session.get(TownshipRow, ident)
        if place is None:
            raise ScopeError(f"no township {ident} is loaded here", f"本系统未载入乡镇 {ident}")
        county, township = place.county, ident
    elif kind == "unit":
        unit = session.get(UnitRow, ident)
        if unit is None:
            raise ScopeError(f"no unit {ident!r}", f"没有单位 {ident!r}")
        township = unit.township
        county = unit.township[:6] if unit.township else unit.id.split(".", 1)[0]
    elif kind == "worker":
        worker = session.get(WorkerRow, ident)
        if worker is None:
            raise ScopeError(f"no worker {ident!r}", f"没有网格员 {ident!r}")
        township, county = worker.township, worker.township[:6]
    else:
        device = session.get(DeviceRow, ident)
        if device is None:
            raise ScopeError(f"no device {ident!r}", f"没有设备 {ident!r}")
        township, county = device.township, device.township[:6]
    return Principal(
        role=role, scope_kind=kind, scope_id=ident, county=county, township=township, token_id=token_id
    )


def create_token(
    session: Session,
    role: Role,
    scope: str,
    label: str = "",
    expires: dt.datetime | None = None,
    now: dt.datetime | None = None,
    *,
    commit: bool = True,
) -> str:
    """A new token; with commit=False it joins the caller's transaction (a pairing's claim)."""
    resolve(session, role, scope)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        TokenRow(
            digest=digest(token),
            role=role.value,
            scope=scope,
            label=label,
            created_at=now or dt.datetime.now(dt.UTC),
            expires_at=expires,
        )
    )
    if commit:
        session.commit()
    return token


class TokenRejected(Exception):
    pass


def authenticate(engine: Engine, token: str, now: dt.datetime) -> Principal:
    with Session(engine) as session:
        row = session.exec(select(TokenRow).where(TokenRow.digest == digest(token))).first()
        if row is None or row.revoked:
            raise TokenRejected("unknown or revoked token")
        if row.expires_at is not None and row.expires_at <= now:
            raise TokenRejected("token expired")
        try:
            return resolve(session, Role(row.role), row.scope, row.id)
        except ScopeError as exc:
            raise TokenRejected(f"token scope no longer valid: {exc}") from None


def token_county(session: Session, row: TokenRow) -> str | None:
    """The county a token's scope sits in; None once its scope names nothing here."""
    try:
        return resolve(session, Role(row.role), row.scope).county
    except ScopeError:
        return None


def list_tokens(session: Session, county: str | None = None) -> list[TokenRow]:
    """Every token, oldest first, or only those whose scope sits in `county`."""
    rows = session.exec(select(TokenRow).order_by(col(TokenRow.id))).all()
    return [r for r in rows if county is None or token_county(session, r) == county]


def token_row(session: Session, token_id: int) -> TokenRow:
    row = session.get(TokenRow, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}", f"没有令牌 {token_id}", token=token_id)
    return row


def revoke_token(session: Session, row: TokenRow) -> TokenRow:
    """Revoke a token for good (again changes nothing): its next request is refused with 401."""
    row.revoked = True
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
