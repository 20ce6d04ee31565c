"""Tokens: an admin lists the county's tokens and revokes one (created with `gridwatch token create`)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from server.api.deps import PrincipalDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import Limit, Offset, Page
from server.api.security import allow, deny
from server.auth import Role, list_tokens, revoke_token, token_county, token_row
from server.db.tables import TokenRow
from server.tokens.schemas import TokenOut


def token_out(row: TokenRow) -> TokenOut:
    return TokenOut(
        id=row.id or 0,
        role=row.role,
        scope=row.scope,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked,
    )


class TokenController(Controller):
    path = "/tokens"
    tags = ("tokens",)
    guards = [allow(Role.ADMIN)]  # noqa: RUF012  (Litestar reads it as a class attribute)

    @get("/", responses=refusals(), sync_to_thread=True)
    def list_tokens(
        self, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
    ) -> Page[TokenOut]:
        """The tokens whose scope lies in your county, oldest first."""
        rows = list_tokens(session, principal.county)
        items = [token_out(r) for r in rows[offset : offset + limit]]
        return Page(items=items, total=len(rows), limit=limit, offset=offset)

    @post("/{token_id:int}/revoke", responses=refusals(404), status_code=HTTP_200_OK, sync_to_thread=True)
    def revoke(self, token_id: FromPath[int], session: SessionDep, principal: PrincipalDep) -> TokenOut:
        """Revoke a token of your county: its next request is refused (401). Revoking again is no change."""
        row = token_row(session, token_id)
        if token_county(session, row) != principal.county:
            raise deny(f"token {token_id} is outside your county")
        return token_out(revoke_token(session, row))
