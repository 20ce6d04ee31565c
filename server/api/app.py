"""The application factory: controllers, auth, problem details, OpenAPI at /schema."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware

from server.api.deps import provide_incidents, provide_principal, provide_runtime, provide_session
from server.api.docs import ArrayLikeStructs, asset_routers, openapi_config
from server.api.fieldapp import field_app_compression, field_app_router, front_door
from server.api.problems import HANDLERS
from server.api.schemas import JsonRequest
from server.api.security import PUBLIC_PATHS, BearerAuth
from server.events.controller import EventController
from server.field.controller import RejectController
from server.incidents.controller import IncidentController
from server.incidents.open311 import Open311Controller
from server.kpis.controller import KpiController
from server.media.controller import MediaController
from server.ops.controller import SystemController
from server.pairings.controller import PairingController
from server.patrols.controller import PatrolController
from server.reference.controller import ReferenceController
from server.runtime import Runtime
from server.sweeps.controller import SweepController
from server.tasks.controller import TaskController
from server.tokens.controller import TokenController
from server.whistles.controller import WhistleController


def create_app(runtime: Runtime) -> Litestar:
    return Litestar(
        route_handlers=[
            SystemController,
            IncidentController,
            WhistleController,
            SweepController,
            KpiController,
            EventController,
            MediaController,
            Open311Controller,
            RejectController,
            PatrolController,
            ReferenceController,
            TokenController,
            PairingController,
            TaskController,
            *asset_routers(),
            field_app_router(),
            front_door,
        ],
        state=State({"runtime": runtime}),
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "session": Provide(provide_session),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "incidents": Provide(provide_incidents, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(BearerAuth, exclude=PUBLIC_PATHS)],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        request_class=JsonRequest,
        # The process configures logging once for every library (server/ops/logs.py); Litestar's own
        # configuration would replace the root handler with its text format.
        logging_config=None,
        request_max_body_size=runtime.settings.max_body_bytes,
        openapi_config=openapi_config(),
        plugins=[ArrayLikeStructs()],
        compression_config=field_app_compression(),
    )
