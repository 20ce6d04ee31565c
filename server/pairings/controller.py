"""Pairing phones: an admin or duty officer makes a one-time code for a worker or unit officer in
their scope; the phone claims it (no token yet) for a token of its own; `GET /me` says who a token
is. Scope is checked before anything is written."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import Session

from server.api.deps import PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import BadRequest, refusals
from server.api.schemas import MAX_CURSOR, Limit, Offset, Page, strict
from server.api.security import allow, deny
from server.auth import Principal, Role
from server.db.tables import PairingRow, TokenRow
from server.pairings.schemas import (
    AppSettings,
    Claimed,
    ClaimIn,
    MeOut,
    PairingIn,
    PairingMade,
    PairingOut,
)
from server.pairings.service import PairingService, identity, link, qr_svg, shown, state, within
from server.reference.service import worker_cells
from server.runtime import Runtime

# What the field app keeps to (docs/field-app.md): photos shrunk on the phone under the cap, pings
# batched about once a minute while on patrol.
MAX_PHOTOS = 6
PHOTO_MAX_BYTES = 600_000
PHOTO_LONG_EDGE = 1600
PING_SECONDS = 60


def _service(session: Session, runtime: Runtime) -> PairingService:
    return PairingService(session, runtime.clock)


def pairing_out(row: PairingRow, token: TokenRow | None, runtime: Runtime) -> PairingOut:
    return PairingOut(
        id=row.id or 0,
        role=row.role,
        scope=row.scope,
        label=row.label,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        claimed_at=row.claimed_at,
        token=row.token,
        state=state(row, token, runtime.clock()),
    )


# Bounded, so that no id can ask the database for a number it cannot hold (SQLite: 64-bit).
PairingId = Annotated[int, PathParameter(ge=1, le=MAX_CURSOR)]


def _check(principal: Principal, target: Principal | None, what: str) -> None:
    if target is None or not within(principal, target):
        raise deny(f"{what} is outside your scope")


class PairingController(Controller):
    tags = ("pairings",)

    @post(
        "/pairings",
        responses=refusals(422),
        guards=[allow(Role.ADMIN, Role.DUTY)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def make(
        self,
        data: JSONBody[PairingIn],
        body: RawBody,
        request: Request[Any, Any, Any],
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> PairingMade:
        """A one-time pairing code for a worker or unit officer of your scope, as a short code, a
        link and its QR code; the phone that opens the link gets its own token."""
        data = strict(body, PairingIn)
        if (data.worker is None) == (data.unit is None):
            raise BadRequest(
                'name either a worker or a unit: {"worker": ID} or {"unit": ID}',
                '请指定网格员或单位之一：{"worker": ID} 或 {"unit": ID}',
            )
        service = _service(session, runtime)
        role, ident = (Role.WORKER, data.worker) if data.worker is not None else (Role.UNIT, data.unit)
        target = service.target(role, ident or "")
        _check(principal, target, f"{role.value} {ident}")
        row, code = service.make(target, data.label, data.minutes, principal.actor)
        base = runtime.settings.public_url or str(request.base_url)
        made = link(base, code)
        return PairingMade(
            id=row.id or 0,
            code=shown(code),
            link=made,
            role=row.role,
            scope=row.scope,
            name=identity(session, target).name,
            expires_at=row.expires_at,
            qr_svg=qr_svg(made),
        )

    @get("/pairings", responses=refusals(), guards=[allow(Role.ADMIN, Role.DUTY)], sync_to_thread=True)
    def list_pairings(
        self,
        principal: PrincipalDep,
        session: SessionDep,
        runtime: RuntimeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[PairingOut]:
        """The pairings of the workers and units in your scope, newest first: waiting, expired,
        signed in (claimed, its token live) or signed out (its token revoked)."""
        mine = [
            pairing_out(row, token, runtime)
            for row, token, target in _service(session, runtime).listing()
            if target is not None and within(principal, target)
        ]
        return Page(items=mine[offset : offset + limit], total=len(mine), limit=limit, offset=offset)

    @post(
        "/pairings/{pairing_id:int}/revoke",
        responses=refusals(404),
        guards=[allow(Role.ADMIN, Role.DUTY)],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def revoke(
        self, pairing_id: PairingId, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> PairingOut:
        """Sign the phone out (its token is revoked: its next request is refused), or cancel a code
        nobody has claimed. Again is no change."""
        service = _service(session, runtime)
        row = service.get(pairing_id)
        _check(principal, service.placed(row), f"pairing {pairing_id}")
        token = service.revoke(row)
        return pairing_out(row, token, runtime)

    @post(
        "/pairings/claim",
        responses=refusals(404, 409, 410, 422),
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def claim(
        self, data: JSONBody[ClaimIn], body: RawBody, session: SessionDep, runtime: RuntimeDep
    ) -> Claimed:
        """A phone exchanges a pairing code, once, for a token of its own (no token needed)."""
        data = strict(body, ClaimIn)
        token, who = _service(session, runtime).claim(data.code, data.device)
        me = identity(session, who)
        return Claimed(**{f: getattr(me, f) for f in me.__struct_fields__}, token=token)

    @get("/me", responses=refusals(), guards=[allow(*Role)], sync_to_thread=True)
    def me(self, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> MeOut:
        """Who this token speaks for, and the field app's settings."""
        me = identity(session, principal)
        return MeOut(
            **{f: getattr(me, f) for f in me.__struct_fields__},
            cells=worker_cells(session, principal.scope_id) if principal.role is Role.WORKER else [],
            app=AppSettings(
                tile_url=runtime.settings.tile_url,
                max_photos=MAX_PHOTOS,
                photo_max_bytes=PHOTO_MAX_BYTES,
                photo_long_edge=PHOTO_LONG_EDGE,
                ping_seconds=PING_SECONDS,
            ),
        )
