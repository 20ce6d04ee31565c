"""Tasks (docs/field-app.md#tasks-servertasks): a field user's own work, chosen on the server, and
their answers: a unit signs, handles or returns its incidents and reports in to whistles, a worker
verifies the handling in their cells."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, RawBody
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import Session

from grid.catalog import Catalog
from grid.errors import TransitionRefused
from grid.incident import IncidentState
from grid.lifecycle import STATE_NAMES_ZH
from server.api.deps import IncidentsDep, PrincipalDep, RuntimeDep, SessionDep
from server.api.problems import refusals
from server.api.schemas import strict
from server.api.security import allow, deny
from server.auth import Principal, Role
from server.incidents.controller import incident_out
from server.incidents.service import IncidentService, uploaded_media
from server.runtime import Runtime
from server.tasks.schemas import AnswerAck, AnswerIn, TaskList, TaskOut
from server.tasks.service import Task, TaskService, action_of, check_answer
from server.whistles.controller import whistle_out
from server.whistles.service import WhistleService

ANSWER_ANSWERS = {
    HTTP_200_OK: ResponseSpec(
        AnswerAck,
        description="the same client id again: the incident or whistle as it is now / 重复答复（同一 client_id），返回当前状态",
    ),
    **refusals(404, 409, 422),
}


def _service(session: Session, incidents: IncidentService, runtime: Runtime) -> TaskService:
    whistles = WhistleService(session, runtime.domains.on(session), runtime.clock)
    return TaskService(session, incidents, whistles, runtime.clock)


def _task_out(task: Task, catalog: Catalog, now: dt.datetime) -> TaskOut:
    return TaskOut(
        kind=task.kind,
        incident=incident_out(task.incident, task.row, catalog, now),
        whistle=None if task.whistle is None else whistle_out(task.whistle, task.calls, now),
        due_at=task.due_at,
        overdue=task.overdue,
        answers=task.answers,
    )


def _check_answerer(principal: Principal, data: AnswerIn, service: TaskService) -> None:
    """Refuse (403) an answer its sender may not give, before anything is written: the lead unit
    signs, handles and returns; a worker verifies in their own cells; a called unit reports in."""
    if data.kind == "verify":
        if principal.role is not Role.WORKER:
            raise deny("a verification is answered by a grid worker")
        row = service.incidents.row(data.incident or "")
        if row.cell is None or row.cell not in service.cells_of(principal.scope_id):
            raise deny(f"incident {row.id} is not in your cells")
        if row.state != IncidentState.HANDLED.value:
            # Not fixed would reopen a verified or closed incident: an answer queued on a phone may
            # arrive after the duty officer closed it.
            state_zh = STATE_NAMES_ZH[IncidentState(row.state)]
            raise TransitionRefused(
                f"incident {row.id} is {row.state}: only a handled incident is verified",
                f"事件 {row.id} {state_zh}，仅已处置的事件可核查",
                incident=row.id,
                action="verify",
                state=row.state,
            )
    elif principal.role is not Role.UNIT:
        raise deny(f"{data.kind} is answered by a unit officer")
    elif data.kind == "report_in":
        _, calls = service.whistles.get(data.whistle or "")
        if principal.scope_id not in {c.unit for c in calls}:
            raise deny(f"whistle {data.whistle} did not call your unit")
    else:
        row = service.incidents.row(data.incident or "")
        if row.lead_unit != principal.scope_id or row.in_review:
            raise deny(f"{data.kind} on incident {row.id} is done by its lead unit")


class TaskController(Controller):
    path = "/tasks"
    tags = ("tasks",)
    guards = [allow(Role.WORKER, Role.UNIT)]  # noqa: RUF012  (Litestar reads it as a class attribute)

    @get("/", responses=refusals(), sync_to_thread=True)
    def tasks(
        self, principal: PrincipalDep, session: SessionDep, incidents: IncidentsDep, runtime: RuntimeDep
    ) -> TaskList:
        """The caller's own tasks, soonest due first: a worker's verifications (核查) in their cells; a
        unit's incidents to sign (签收) or handle (处置), and whistles to report in to (报到)."""
        service = _service(session, incidents, runtime)
        if principal.role is Role.WORKER:
            tasks = service.for_worker(principal.scope_id)
        else:
            tasks = service.for_unit(principal.scope_id)
        catalog, now = incidents.domain().catalog, runtime.clock()
        return TaskList(items=[_task_out(t, catalog, now) for t in tasks], total=len(tasks))

    @post("/answers", responses=ANSWER_ANSWERS, status_code=HTTP_201_CREATED, sync_to_thread=True)
    def answer(
        self,
        data: JSONBody[AnswerIn],
        body: RawBody,
        principal: PrincipalDep,
        session: SessionDep,
        incidents: IncidentsDep,
        runtime: RuntimeDep,
    ) -> Response[AnswerAck]:
        """Answer a task: `sign`, `handle` (with photos), `return` (note required), `verify` (`fixed`;
        not fixed reopens it, note required), `report_in`. Idempotent by client id: the same answer
        again is 200 `duplicate` with the current state; a step the loop refuses is 409 with its reason."""
        data = strict(body, AnswerIn)
        check_answer(data.kind, data.incident, data.whistle, data.fixed, bool(data.note or data.media))
        service = _service(session, incidents, runtime)
        earlier = service.earlier(principal.actor, data.client_id)
        taken = earlier is None
        if earlier is None:
            _check_answerer(principal, data, service)
            media = uploaded_media(data.media, runtime.settings.media_dir)
            target = data.whistle if data.kind == "report_in" else data.incident
            assert target is not None  # check_answer saw to it
            unit = principal.scope_id if principal.role is Role.UNIT else None
            taken = service.take(
                principal.actor, data.client_id, data.kind, target, data.fixed, data.note, media, unit
            )
            if taken and data.kind != "report_in":
                runtime.metrics.transitions.labels(action=action_of(data.kind, data.fixed).value).inc()
            earlier = service.earlier(principal.actor, data.client_id)
            assert earlier is not None  # taken now, or by the concurrent copy that won
        now = runtime.clock()
        incident_id = earlier.incident
        whistle = None
        if earlier.whistle is not None:
            row, calls = service.whistles.get(earlier.whistle)
            whistle, incident_id = whistle_out(row, calls, now), row.incident
        incident = None
        if incident_id is not None:
            incident = incident_out(
                incidents.get(incident_id), incidents.row(incident_id), incidents.domain().catalog, now
            )
        ack = AnswerAck(
            status="accepted" if taken else "duplicate", kind=earlier.kind, incident=incident, whistle=whistle
        )
        return Response(ack, status_code=HTTP_201_CREATED if taken else HTTP_200_OK)
