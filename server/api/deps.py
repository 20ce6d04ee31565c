"""Dependency providers: a session per request, the caller, the services.

Handlers and providers name their dependencies explicitly (Litestar 3 stops inferring them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel import Session

from server.auth import Principal
from server.incidents.service import IncidentService
from server.runtime import Runtime

RuntimeDep = NamedDependency[Runtime]
SessionDep = NamedDependency[Session]
PrincipalDep = NamedDependency[Principal]
IncidentsDep = NamedDependency[IncidentService]


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_session(state: State) -> AsyncIterator[Session]:
    # Async, so the session is closed on the event loop: a sync generator is closed in a worker
    # thread, and the workers may all be waiting for the very connection this session holds.
    with Session(state.runtime.engine) as session:
        yield session


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.user
    return principal


def provide_incidents(session: SessionDep, runtime: RuntimeDep) -> IncidentService:
    return IncidentService(session, runtime.domains.on(session), runtime.clock)
