"""What a figure is about: the county, a township, village or cell, a unit, a department, a worker;
and the levels a scope's figures can be broken down by."""

from __future__ import annotations

import enum

import msgspec

from grid.errors import EvaluationRefused


class ScopeKind(enum.StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    CELL = "cell"
    UNIT = "unit"
    DEPARTMENT = "department"
    WORKER = "worker"


# Places are named by their codes (GB/T 2260 + 3 + 3 + 2 digits).
_CODE_LENGTHS = {ScopeKind.COUNTY: 6, ScopeKind.TOWNSHIP: 9, ScopeKind.VILLAGE: 12, ScopeKind.CELL: 14}
_AREAS = (ScopeKind.COUNTY, ScopeKind.TOWNSHIP, ScopeKind.VILLAGE)
# The levels under each scope; a worker, a unit and a cell are not broken down further.
_LEVELS = {
    ScopeKind.COUNTY: tuple(ScopeKind)[1:],
    ScopeKind.TOWNSHIP: (
        ScopeKind.VILLAGE,
        ScopeKind.CELL,
        ScopeKind.UNIT,
        ScopeKind.DEPARTMENT,
        ScopeKind.WORKER,
    ),
    ScopeKind.VILLAGE: (ScopeKind.CELL, ScopeKind.WORKER),
    ScopeKind.DEPARTMENT: (ScopeKind.UNIT,),
}


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    kind: ScopeKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @property
    def is_area(self) -> bool:
        return self.kind in _AREAS or self.kind is ScopeKind.CELL

    def check_level(self, level: ScopeKind) -> None:
        allowed = _LEVELS.get(self.kind, ())
        if level not in allowed:
            names = ", ".join(k.value for k in allowed) or "nothing"
            raise EvaluationRefused(
                f"a {self.kind.value} scope breaks down by {names}, not by {level.value}",
                f"{self.kind.value} 范围只能按 {names} 分解，不能按 {level.value}",
            )


def parse_scope(text: str) -> Scope:
    """`kind:id`, e.g. township:330782101."""
    kind_text, sep, ident = text.strip().partition(":")
    try:
        kind = ScopeKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in ScopeKind)
        raise EvaluationRefused(
            f"scope must be KIND:ID with KIND one of {kinds}, not {text!r}",
            f"范围应写作 类别:编号，类别为 {kinds} 之一，而不是 {text!r}",
        ) from None
    if not sep or not ident or len(ident) > 64:
        raise EvaluationRefused(
            f"scope {text!r} names no {kind.value}: write KIND:ID",
            f"范围 {text!r} 缺少编号，应写作 类别:编号",
        )
    length = _CODE_LENGTHS.get(kind)
    if length is not None and not (len(ident) == length and ident.isdigit()):
        raise EvaluationRefused(
            f"a {kind.value} code has {length} digits, not {ident!r}",
            f"{kind.value} 编码应为 {length} 位数字，而不是 {ident!r}",
        )
    return Scope(kind=kind, id=ident)
