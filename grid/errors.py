"""Domain errors: every refusal carries a stable code and a message in Chinese and English."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused an operation.

    `code` is stable and machine-readable (API problem types and MQTT rejected acks use it);
    `message_zh` / `message_en` are what a person reads.
    """

    code = "domain_error"

    def __init__(self, message_en: str, message_zh: str, **detail: object) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh
        self.detail = detail

    def message(self, lang: str = "en") -> str:
        return self.message_zh if lang == "zh" else self.message_en


class InvalidCode(DomainError):
    code = "invalid_code"


class CatalogError(DomainError):
    code = "catalog_error"


class UnknownCategory(DomainError):
    code = "unknown_category"


class RoutingError(DomainError):
    code = "routing_error"


class DutyAdmissionRefused(DomainError):
    code = "duty_admission_refused"


class TransitionRefused(DomainError):
    code = "transition_refused"


class CalendarError(DomainError):
    code = "calendar_error"


class EvaluationRefused(DomainError):
    """A KPI question that cannot be answered as asked: a malformed period or scope."""

    code = "evaluation_refused"


class NotFound(DomainError):
    """What was asked for does not exist (or not in the caller's county)."""

    code = "not_found"


class StateConflict(DomainError):
    """The thing changed or is in a state that refuses the request: a stale revision, a plan already
    published, a second outcome for one stop."""

    code = "conflict"
