"""Authentication (bearer tokens) and the role guards every handler carries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from grid.places import COUNTY_DIGITS
from server.auth import Principal, Role, TokenRejected, authenticate
from server.runtime import Runtime

# Open311 clients send api_key as the spec says; its handlers authenticate it themselves. The field
# app's files carry no secret (the phone holds its token), and a phone claims its pairing before it
# has one.
PUBLIC_PATHS = ["^/health$", "^/schema", "^/open311/", "^/$", "^/field(/|$)", "^/pairings/claim$"]


class BearerAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("a bearer token is required (Authorization: Bearer gw_...)")
        runtime: Runtime = connection.app.state.runtime
        try:
            # In a thread: waiting for a pooled connection here would stall the event loop, and with
            # it the requests that are about to give theirs back.
            principal = await asyncio.to_thread(authenticate, runtime.engine, token.strip(), runtime.clock())
        except TokenRejected as exc:
            raise NotAuthorizedException(str(exc)) from None
        return AuthenticationResult(user=principal, auth=token)


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def allow(*roles: Role) -> Guard:
    """A guard admitting only these roles; scopes are checked where the resource is known."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.role not in roles:
            raise PermissionDeniedException(f"role {principal.role.value} may not do this")

    guard.__name__ = "allow_" + "_".join(r.value for r in roles)
    return guard


def deny(message: str) -> PermissionDeniedException:
    return PermissionDeniedException(message)


STAFF = (Role.ADMIN, Role.DUTY, Role.UNIT)
READERS = (Role.ADMIN, Role.DUTY, Role.UNIT, Role.WORKER)


def township_scope(principal: Principal, township: str | None) -> tuple[list[str] | None, str | None]:
    """(townships, county) a listing is limited to; asking outside the scope is refused, not cut.
    A county department's unit (no township) reads the county, so it may name any of its townships."""
    own = None if principal.scope_kind == "county" else principal.township
    if township is not None:
        inside = township.startswith(principal.county) if own is None else township == own
        if not inside:
            raise deny(f"township {township} is outside your scope")
        return [township], None
    if own is None:
        return None, principal.county
    return [own], None


def sees_place(principal: Principal, place: str) -> bool:
    """Whether the caller's scope holds a place named by a county (6-digit) or township code: the
    county's own things are for its admins and county duty officers only."""
    if len(place) == COUNTY_DIGITS:
        return principal.scope_kind == "county" and place == principal.county
    return principal.sees_township(place)
