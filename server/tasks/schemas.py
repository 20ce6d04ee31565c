"""The tasks API's request and response bodies (docs/field-app.md#tasks-servertasks)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from server.api.schemas import ClientId, Reason
from server.incidents.schemas import IncidentOut, MediaNames
from server.whistles.schemas import WhistleOut

AnswerKind = Literal["sign", "handle", "return", "verify", "report_in"]
TaskKind = Literal["verify", "sign", "handle", "report_in"]


class TaskOut(msgspec.Struct):
    """One thing the caller has to do, with its clock and the answers it may take."""

    kind: TaskKind
    incident: IncidentOut
    whistle: WhistleOut | None
    due_at: dt.datetime | None
    overdue: bool
    answers: list[str]


class TaskList(msgspec.Struct):
    items: list[TaskOut]
    total: int


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    """A phone's answer to a task, under the client id it was given when it was made."""

    client_id: ClientId
    kind: AnswerKind
    incident: str | None = None
    whistle: str | None = None
    # verify only: the problem is gone (核查通过) or not (返工).
    fixed: bool | None = None
    note: Reason = ""
    media: MediaNames = []


class AnswerAck(msgspec.Struct):
    """`duplicate` when this client id was answered before: the incident or whistle as it is now."""

    status: Literal["accepted", "duplicate"]
    kind: str
    incident: IncidentOut | None
    whistle: WhistleOut | None
