"""`gridwatch sweep`: plan a Tuesday sweep, show, publish and audit it, record outcomes and absences."""

from __future__ import annotations

import datetime as dt
import getpass
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import click
import msgspec
from sqlmodel import Session

from grid.errors import DomainError, NotFound
from grid.sweep.outcomes import Outcome
from grid.sweep.plan import ConflictKind, Mode, SweepPlan, SweepRules
from server.reference.service import first_county_code
from server.runtime import Runtime, migrated_runtime
from server.sweeps.printout import plan_geojson, plan_workbook
from server.sweeps.service import SweepService, next_tuesday, plan_of

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _sweeps() -> Iterator[tuple[SweepService, Runtime]]:
    """The sweep service on a migrated database; a domain refusal becomes the command's error (exit 1)."""
    runtime = migrated_runtime()
    with Session(runtime.engine) as session:
        try:
            yield SweepService(session, runtime.domains, runtime.clock, runtime.sweep_solver), runtime
        except DomainError as exc:
            raise click.ClickException(f"{exc.message_en}\n{exc.message_zh}") from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _officer_labels(plan: SweepPlan, names: dict[str, str]) -> dict[str, str]:
    """What the summary calls each officer: the name, with the id when two officers share it."""
    ids = {o for t in plan.teams for o in t.officers}
    shared = Counter(names.get(o, o) for o in ids)
    return {o: names.get(o, o) if shared[names.get(o, o)] == 1 else f"{names.get(o, o)} ({o})" for o in ids}


class _Stored(Protocol):
    """What the summary says of a plan as stored, besides the plan itself."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def revision(self) -> int: ...


def _summary(row: _Stored, plan: SweepPlan, names: dict[str, str]) -> list[str]:
    planned = sum(len(t.stops) for t in plan.teams)
    lines = [
        f"{row.id} ({row.status}, revision {row.revision}): {plan.date}, {plan.scope}, mode {plan.mode.value}"
        + (f", seed {plan.seed}" if plan.seed is not None else ""),
        f"  {_count(len(plan.stops), 'candidate')}, {planned} planned in {_count(len(plan.teams), 'team')}, "
        f"{plan.length_m / 1000:.1f} km; inputs digest {plan.digest[:16]}…",
    ]
    labels = _officer_labels(plan, names)
    for team in plan.teams:
        officers = ", ".join(labels[o] for o in team.officers)
        lines.append(
            f"  {team.id}: {officers} — {_count(len(team.stops), 'stop')}, {team.length_m / 1000:.1f} km"
        )
        lines += [f"      {n}. {plan.stop(s).name} [{s}]" for n, s in enumerate(team.stops, start=1)]
    counts = {kind: sum(c.kind is kind for c in plan.conflicts) for kind in ConflictKind}
    stated = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
    lines.append(f"  conflicts: {stated or 'none'}")
    # Each conflict with its reason, in both languages: a count alone says nothing to act on.
    for conflict in plan.conflicts:
        where = f" [{conflict.stop}]" if conflict.stop else f" [{conflict.township}]"
        lines.append(f"    {conflict.kind.value}{where}: {conflict.text_en}")
        lines.append(f"      {conflict.text_zh}")
    return lines


def _echo_plan(row: _Stored, plan: SweepPlan, names: dict[str, str], as_json: bool) -> None:
    click.echo(msgspec.json.encode(plan).decode() if as_json else "\n".join(_summary(row, plan, names)))


@click.group()
def sweep() -> None:
    """The Tuesday joint sweep (综合查一次)."""


@sweep.command("plan")
@click.option("--date", "day", type=DAY, default=None, help="The sweep day (default: the next Tuesday).")
@click.option("--township", default=None, help="One township (default: the whole county).")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.PRIORITY.value)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="The double-random draw's seed."
)
@click.option("--stops-per-team", type=click.IntRange(1, 50), default=SweepRules().stops_per_team)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also write ID.xlsx (one sheet per team) and ID.geojson (routes and stops) here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_command(
    day: dt.datetime | None,
    township: str | None,
    mode: str,
    seed: int | None,
    stops_per_team: int,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Plan a sweep: candidates (or the double-random draw), teams, routes and conflicts."""
    with _sweeps() as (service, runtime):
        try:
            scope = township or first_county_code(service.session)
        except LookupError:
            raise click.ClickException(
                "no county is loaded: run `gridwatch load --data DIR` first\n"
                "尚未载入任何县的数据：请先运行 `gridwatch load --data DIR`"
            ) from None
        date = day.date() if day else next_tuesday(runtime.today())
        if mode == Mode.DOUBLE_RANDOM and seed is None:
            raise click.UsageError(
                "--mode double_random needs --seed (it is stored so the draw can be repeated)"
            )
        rules = SweepRules(stops_per_team=stops_per_team)
        row = service.create(date, scope, Mode(mode), seed, rules, _actor())
        plan = plan_of(row)
        names = service.names(plan)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"{row.id}.xlsx").write_bytes(plan_workbook(plan, names))
            (out_dir / f"{row.id}.geojson").write_bytes(msgspec.json.encode(plan_geojson(plan)))
        _echo_plan(row, plan, names, as_json)


@sweep.command("show")
@click.argument("plan_id")
@click.option("--json", "as_json", is_flag=True)
def show(plan_id: str, as_json: bool) -> None:
    """Show a plan: teams, routes and conflicts."""
    with _sweeps() as (service, _):
        row = service.row(plan_id)
        plan = plan_of(row)
        _echo_plan(row, plan, service.names(plan), as_json)


@sweep.command("publish")
@click.argument("plan_id")
def publish(plan_id: str) -> None:
    """Publish a reviewed plan: it can no longer be edited, and outcomes can be recorded."""
    with _sweeps() as (service, _):
        row = service.publish(plan_id, service.row(plan_id).revision, _actor())
        click.echo(f"{row.id} published")


@sweep.command("outcome")
@click.argument("plan_id")
@click.argument("stop")
@click.argument("outcome", type=click.Choice([o.value for o in Outcome]))
@click.option("--note", default="")
@click.option("--category", default=None, help="What was found (4 digits), when a case is opened.")
def outcome(plan_id: str, stop: str, outcome: str, note: str, category: str | None) -> None:
    """Record what a team found at a stop of a published plan."""
    with _sweeps() as (service, runtime):
        recorded = service.record(plan_id, stop, Outcome(outcome), note, category, _actor(), runtime.intake)
        click.echo(
            f"{stop}: {recorded.outcome}" + (f", incident {recorded.incident}" if recorded.incident else "")
        )


@sweep.command("audit")
@click.argument("plan_id")
def audit(plan_id: str) -> None:
    """Repeat a plan's draw from its stored seed and say whether it is the same."""
    with _sweeps() as (service, _):
        result = service.audit(plan_id)
    click.echo(msgspec.json.encode(result).decode())
    if result.same_draw is not True:
        raise SystemExit(1)


@sweep.command("absent")
@click.argument("officer")
@click.option("--from", "first", type=DAY, required=True)
@click.option("--to", "last", type=DAY, required=True)
@click.option("--reason", default="")
def absent(officer: str, first: dt.datetime, last: dt.datetime, reason: str) -> None:
    """Record an officer away (leave, training): not drawn for a sweep on those days."""
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    runtime = migrated_runtime()
    with Session(runtime.engine) as session:
        service = SweepService(session, runtime.domains, runtime.clock, runtime.sweep_solver)
        try:
            service.record_absence(officer, first.date(), last.date(), reason)
        except NotFound as exc:
            raise click.BadParameter(f"{exc.message_en}\n{exc.message_zh}", param_hint="OFFICER") from None
    click.echo(f"{officer} away {first.date()} – {last.date()}")
