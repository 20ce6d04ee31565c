"""The rules every plan keeps, checked after planning and after every edit a reviewer makes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import msgspec

from grid.organisation import Officer
from grid.staffing import MIN_CERTIFIED_OFFICERS
from grid.sweep.plan import Conflict, ConflictKind, SweepPlan, SweepRefused, Team


class Violation(msgspec.Struct, frozen=True, kw_only=True):
    text_zh: str
    text_en: str
    team: str | None = None
    stop: str | None = None


def _team_rules(
    team: Team, plan: SweepPlan, officers: Mapping[str, Officer], absent: set[str]
) -> list[Violation]:
    found = []
    unknown = [o for o in team.officers if o not in officers]
    if unknown:
        found.append(
            Violation(
                team=team.id,
                text_zh=f"{team.id} 含未知人员 {'、'.join(unknown)}",
                text_en=f"{team.id} names unknown officers {', '.join(unknown)}",
            )
        )
    members = [officers[o] for o in team.officers if o in officers]
    certified = [o for o in members if o.certified_on(plan.date) and o.id not in absent]
    if len(certified) < MIN_CERTIFIED_OFFICERS:
        found.append(
            Violation(
                team=team.id,
                text_zh=f"{team.id} 在 {plan.date} 持有效执法证的在岗人员仅 {len(certified)} 名，至少需要 {MIN_CERTIFIED_OFFICERS} 名",
                text_en=f"{team.id} has {len(certified)} officer(s) certified and present on {plan.date}; at least {MIN_CERTIFIED_OFFICERS} are required",
            )
        )
    away = [o.id for o in members if o.id in absent]
    if away:
        found.append(
            Violation(
                team=team.id,
                text_zh=f"{team.id} 的 {'、'.join(away)} 当天不在岗",
                text_en=f"{', '.join(away)} of {team.id} are away that day",
            )
        )
    units = tuple(sorted({o.unit for o in members}))
    if units != tuple(sorted(team.units)):
        found.append(
            Violation(
                team=team.id,
                text_zh=f"{team.id} 的部门与其人员不符",
                text_en=f"{team.id}'s departments do not match its officers",
            )
        )
    if len(team.stops) > plan.rules.stops_per_team:
        cap = plan.rules.stops_per_team
        found.append(
            Violation(
                team=team.id,
                text_zh=f"{team.id} 有 {len(team.stops)} 个检查点，超过每组 {cap} 个",
                text_en=f"{team.id} has {len(team.stops)} stops, more than {cap} per team",
            )
        )
    for stop_id in team.stops:
        stop = plan.stop(stop_id)
        missing = [u for u in stop.units if u not in units]
        if missing:
            found.append(
                Violation(
                    team=team.id,
                    stop=stop_id,
                    text_zh=f"{team.id} 缺少 {'、'.join(missing)} 的人员，不能检查 {stop.name}",
                    text_en=f"{team.id} has nobody from {', '.join(missing)}, which {stop.name} needs",
                )
            )
        if stop.township != team.township:
            found.append(
                Violation(
                    team=team.id,
                    stop=stop_id,
                    text_zh=f"{stop.name} 不在 {team.id} 的乡镇",
                    text_en=f"{stop.name} is outside {team.id}'s township",
                )
            )
    return found


def check_plan(
    plan: SweepPlan, officers: Mapping[str, Officer], absent: Iterable[str] = ()
) -> list[Violation]:
    """Every broken rule, each stated: two certified officers per team on the day, nobody in two teams,
    every stop visited at most once and by a team covering all its departments, the stop cap, one
    visit per subject."""
    away = set(absent)
    found = [v for team in plan.teams for v in _team_rules(team, plan, officers, away)]
    for officer, times in Counter(o for t in plan.teams for o in t.officers).items():
        if times > 1:
            found.append(
                Violation(
                    text_zh=f"{officer} 被编入 {times} 个检查组", text_en=f"{officer} is in {times} teams"
                )
            )
    for stop, times in Counter(s for t in plan.teams for s in t.stops).items():
        if times > 1:
            found.append(
                Violation(
                    stop=stop,
                    text_zh=f"{stop} 被安排检查 {times} 次",
                    text_en=f"{stop} is visited {times} times",
                )
            )
    for subject, times in Counter(s.subject for s in plan.stops if s.subject).items():
        if times > 1:
            found.append(
                Violation(
                    stop=f"subject:{subject}",
                    text_zh=f"对象 {subject} 出现在 {times} 个检查点",
                    text_en=f"subject {subject} is on {times} stops",
                )
            )
    return found


def _refuse_if_broken(plan: SweepPlan, officers: Mapping[str, Officer], absent: Iterable[str]) -> SweepPlan:
    broken = check_plan(plan, officers, absent)
    if broken:
        raise SweepRefused(
            "the edit breaks the rules: " + "; ".join(v.text_en for v in broken),
            "调整违反规则：" + "；".join(v.text_zh for v in broken),
            violations=[msgspec.to_builtins(v) for v in broken],
        )
    return plan


def move_stop(
    plan: SweepPlan,
    stop_id: str,
    to_team: str | None,
    officers: Mapping[str, Officer],
    absent: Iterable[str] = (),
) -> SweepPlan:
    """Move a stop to another team (appended; the caller re-routes), or off the plan with `None`."""
    stop = plan.stop(stop_id)
    if to_team is not None:
        plan.team(to_team)
    teams = tuple(
        msgspec.structs.replace(
            t, stops=tuple(s for s in t.stops if s != stop_id) + ((stop_id,) if t.id == to_team else ())
        )
        for t in plan.teams
    )
    conflicts = tuple(c for c in plan.conflicts if c.stop != stop_id)
    if to_team is None:
        conflicts += (
            Conflict(
                kind=ConflictKind.LEFT_OUT,
                township=stop.township,
                stop=stop_id,
                text_zh=f"{stop.name} 已由审核人移出计划",
                text_en=f"{stop.name} was taken off the plan by the reviewer",
            ),
        )
    return _refuse_if_broken(
        msgspec.structs.replace(plan, teams=teams, conflicts=conflicts), officers, absent
    )


def swap_officer(
    plan: SweepPlan,
    team_id: str,
    leaving: str,
    joining: str,
    officers: Mapping[str, Officer],
    absent: Iterable[str] = (),
) -> SweepPlan:
    """Replace one officer of a team with another; the team's departments follow its officers."""
    team = plan.team(team_id)
    if leaving not in team.officers:
        raise SweepRefused(f"{leaving} is not in {team_id}", f"{leaving} 不在 {team_id}", officer=leaving)
    if joining not in officers:
        raise SweepRefused(f"unknown officer {joining}", f"未知的执法人员 {joining}", officer=joining)
    members = tuple(joining if o == leaving else o for o in team.officers)
    changed = msgspec.structs.replace(
        team, officers=members, units=tuple(sorted({officers[o].unit for o in members if o in officers}))
    )
    teams = tuple(changed if t.id == team_id else t for t in plan.teams)
    return _refuse_if_broken(msgspec.structs.replace(plan, teams=teams), officers, absent)
