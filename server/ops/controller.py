"""Health (public, for load balancers) and Prometheus metrics (admins' tokens, as a scrape job has)."""

from __future__ import annotations

from litestar import Controller, MediaType, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.api.deps import RuntimeDep
from server.api.problems import refusals
from server.api.security import allow
from server.auth import Role
from server.db import migrate
from server.ops.schemas import Health
from server.reference.service import INDEX_VERSION, get_meta, has_data


class SystemController(Controller):
    tags = ("system",)

    @get(
        "/health",
        responses={503: ResponseSpec(Health, description="the database does not answer / 数据库无响应")},
        sync_to_thread=True,
        exclude_from_auth=True,
    )
    def health(self, runtime: RuntimeDep) -> Response[Health]:
        """Liveness and readiness: the database answers and the cells are loaded."""
        try:
            with Session(runtime.engine) as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                version = int(get_meta(session, INDEX_VERSION, 0))
                # A new deployment is healthy before its county is loaded: the proxy must let the admin in.
                cells = len(runtime.domains(session).index) if has_data(session) else 0
            revision = migrate.current(runtime.engine)
        except SQLAlchemyError:
            return Response(
                Health(status="unavailable", database="down", index_version=0, cells=0, schema_revision=None),
                status_code=503,
            )
        status = "ok" if cells else "no cells loaded"
        return Response(
            Health(status=status, database="up", index_version=version, cells=cells, schema_revision=revision)
        )

    @get(
        "/metrics",
        responses=refusals(),
        guards=[allow(Role.ADMIN)],
        sync_to_thread=True,
        media_type=MediaType.TEXT,
    )
    def metrics(self, runtime: RuntimeDep) -> Response[bytes]:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
