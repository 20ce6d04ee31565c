"""Who is responsible (docs/domain.md#route): category → matters → the township's lists → one lead unit.

| township holds the matter as           | lead                               | others                        |
|----------------------------------------|------------------------------------|-------------------------------|
| statutory / granted                    | the township office the list names | territorial-duty support      |
| entrusted, agreement valid on the date | the township office (dept's name)  | entrusting dept informed      |
| entrusted, agreement not valid         | the department, as if not held     | township per territorial list |
| stationed                              | the department's stationed unit    | township (属地配合)            |
| not on the lists (duty admission)      | the department or its enforcement  | township only if the territo- |
|                                        | team                               | rial list gives it a role     |

Several matters → one lead: the highest-severity matter, ties by matter code; the rest support.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import msgspec

from grid.catalog import Catalog, Matter
from grid.errors import DutyAdmissionRefused, RoutingError
from grid.incident import Assignment, Explanation, MatterDecision, RouteBasis
from grid.organisation import Unit, UnitKind
from grid.places import Township
from grid.powers import HoldingMode, PowerLists

# Explanation sentences per language; fields are filled from a MatterDecision and unit names.
# Basis labels are keyed by RouteBasis, so other keys must not collide with its values.
WORDS = {
    "zh": {
        RouteBasis.STATUTORY: "法定事项",
        RouteBasis.GRANTED: "赋权事项",
        RouteBasis.ENTRUSTED: "委托事项",
        RouteBasis.ENTRUSTED_LAPSED: "委托已失效",
        RouteBasis.STATIONED: "派驻机构事项",
        RouteBasis.NOT_LISTED: "未列入乡镇清单（职责准入）",
        RouteBasis.MANUAL: "值班员改派",
        "where_cell": "网格 {cell} 位于{township}。",
        "where_snapped": "上报位置不在任何网格内，已吸附到 {metres:.0f} 米外最近的网格 {cell}（位于{township}）。",
        "where": "事件位于{township}。",
        "matter": "事项「{name}」[{code}，严重程度 {severity}]：{basis}{entry}，由{lead}负责",
        "entry": "（清单条目 {entry}）",
        "tail_entrusted": "，以{informed}名义执法（委托书 {agreement}，有效期 {start} 至 {end}），并告知委托部门",
        "tail_expired": "，因委托书 {agreement}（有效期 {start} 至 {end}）已于 {end} 到期",
        "tail_not_yet": "，因委托书 {agreement}（有效期 {start} 至 {end}）自 {start} 起才生效",
        "tail_not_listed": "，该事项不得下放乡镇",
        "end": "。",
        "several": "多个事项时由严重程度最高的「{name}」确定主办单位。",
        "summary": "主办：{lead}；配合：{support}。",
        "sep": "、",
        "none": "无",
        "join": "",
    },
    "en": {
        RouteBasis.STATUTORY: "statutory",
        RouteBasis.GRANTED: "granted",
        RouteBasis.ENTRUSTED: "entrusted",
        RouteBasis.ENTRUSTED_LAPSED: "entrustment not in force",
        RouteBasis.STATIONED: "stationed unit",
        RouteBasis.NOT_LISTED: "not on the township's lists (duty admission)",
        RouteBasis.MANUAL: "re-routed by the duty officer",
        "where_cell": "Cell {cell} lies in {township}.",
        "where_snapped": "The reported point lies in no cell; it was snapped to the nearest, cell {cell} in {township}, {metres:.0f} m away.",
        "where": "The incident lies in {township}.",
        "matter": "Matter '{name}' [{code}, severity {severity}]: {basis}{entry}; {lead} is responsible",
        "entry": " (list entry {entry})",
        "tail_entrusted": ", acting in the name of {informed} (agreement {agreement}, valid {start} to {end}), which is informed",
        "tail_expired": ", because agreement {agreement} (valid {start} to {end}) expired on {end}",
        "tail_not_yet": ", because agreement {agreement} (valid {start} to {end}) is not valid until {start}",
        "tail_not_listed": "; it may not be pushed down to the township",
        "end": ".",
        "several": "With several matters the most severe, '{name}', decides the lead.",
        "summary": "Lead: {lead}; support: {support}.",
        "sep": ", ",
        "none": "none",
        "join": " ",
    },
}
_TAILS = {
    RouteBasis.ENTRUSTED: "tail_entrusted",
    RouteBasis.NOT_LISTED: "tail_not_listed",
}


def _tail(d: MatterDecision, on: dt.date) -> str | None:
    """Which tail explains a decision; a lapsed agreement says whether it expired or has not begun."""
    if d.basis is not RouteBasis.ENTRUSTED_LAPSED:
        return _TAILS.get(d.basis)
    started = d.agreement_valid_from is None or d.agreement_valid_from <= on
    return "tail_expired" if started else "tail_not_yet"


def _unique(ids: Iterable[str], exclude: Iterable[str] = ()) -> tuple[str, ...]:
    seen = set(exclude)
    out = []
    for unit in ids:
        if unit not in seen:
            seen.add(unit)
            out.append(unit)
    return tuple(out)


class Router:
    def __init__(
        self,
        catalog: Catalog,
        lists: PowerLists,
        units: Mapping[str, Unit],
        townships: Mapping[str, Township],
    ) -> None:
        self.catalog = catalog
        self.lists = lists
        self.units = units
        self.townships = townships
        # A department's enforcement team takes the enforcement it keeps (行政处罚 etc.).
        self.teams = {
            u.parent: u.id
            for u in units.values()
            if u.kind is UnitKind.DEPARTMENT and u.enforcement and u.parent
        }

    # -- one matter -------------------------------------------------------------------------------

    def _department_side(self, matter: Matter, township: Township) -> str:
        """The county department (or its enforcement team) that keeps a matter. Catalog matters name a
        department kind ("dept.zrzy"); each county has its own unit of that kind ("339921.dept.zrzy")."""
        department = f"{township.county}.{matter.department}"
        if department not in self.units:
            raise RoutingError(
                f"matter {matter.code}: county {township.county} has no department {matter.department}",
                f"事项 {matter.code}：县 {township.county} 没有主管部门 {matter.department}",
                matter=matter.code,
            )
        return self.teams.get(department, department)

    def _territorial(self, township: str, matter: str) -> tuple[str, ...]:
        return tuple(d.unit for d in self.lists.territorial(township, matter))

    def decide(self, matter: Matter, township: Township, on: dt.date) -> MatterDecision:
        entry = self.lists.entry(township.code, matter.code)
        support = self._territorial(township.code, matter.code)
        agreement = entry.agreement if entry else None
        informed: tuple[str, ...] = ()
        if entry is None:
            basis, lead = RouteBasis.NOT_LISTED, self._department_side(matter, township)
        elif entry.mode in (HoldingMode.STATUTORY, HoldingMode.GRANTED):
            basis, lead = RouteBasis(entry.mode.value), entry.unit
        elif entry.mode is HoldingMode.STATIONED:
            basis, lead = RouteBasis.STATIONED, entry.unit
            support = support or (township.enforcement_office,)
        elif agreement is not None and agreement.valid_on(on):
            basis, lead = RouteBasis.ENTRUSTED, entry.unit
            informed = (agreement.department,)
        else:
            basis, lead = RouteBasis.ENTRUSTED_LAPSED, self._department_side(matter, township)
        return MatterDecision(
            matter=matter.code,
            severity=matter.severity,
            basis=basis,
            lead=lead,
            support=_unique(support, [lead]),
            informed=informed,
            list_entry=entry.id if entry else None,
            agreement=agreement.number if agreement else None,
            agreement_valid_from=agreement.valid_from if agreement else None,
            agreement_valid_to=agreement.valid_to if agreement else None,
            department=f"{township.county}.{matter.department}",
        )

    # -- an incident ------------------------------------------------------------------------------

    def route(
        self,
        category: str,
        township: str,
        on: dt.date,
        cell: str | None = None,
        *,
        snapped_m: float | None = None,
    ) -> Assignment:
        """`snapped_m`: how far outside every cell the point was before it was snapped to `cell`."""
        found = self.townships.get(township)
        if found is None:
            raise RoutingError(f"unknown township {township}", f"未知的乡镇 {township}", township=township)
        matters = sorted(
            (self.catalog.matter(code) for code in self.catalog.category(category).matters),
            key=lambda m: (-m.severity, m.code),
        )
        decisions = tuple(self.decide(m, found, on) for m in matters)
        for d in decisions:
            for unit in (d.lead, *d.support, *d.informed):
                if unit not in self.units:
                    raise RoutingError(
                        f"power lists name unknown unit {unit} for matter {d.matter}",
                        f"权力清单中事项 {d.matter} 指向不存在的单位 {unit}",
                        unit=unit,
                    )
        first = decisions[0]
        rest = [u for d in decisions[1:] for u in (d.lead, *d.support)]
        informed = [u for d in decisions for u in d.informed]
        lead = first.lead
        support = _unique([*first.support, *rest], [lead])
        text_zh, text_en = self._explain(found, cell, snapped_m, on, decisions, lead, support)
        return Assignment(
            lead=lead,
            support=support,
            informed=_unique(informed, [lead, *support]),
            matters=tuple(d.matter for d in decisions),
            basis=first.basis,
            agreement=first.agreement if first.basis is RouteBasis.ENTRUSTED else None,
            explanation=Explanation(
                cell=cell,
                snapped_m=snapped_m,
                township=township,
                on=on,
                lead_matter=first.matter,
                decisions=decisions,
                text_zh=text_zh,
                text_en=text_en,
            ),
        )

    def reroute(self, current: Assignment, lead: str, reason: str) -> Assignment:
        """A duty officer's re-route to `lead`: duty admission still holds for the lead matter."""
        township = current.explanation.township
        self.check_duty_admission(current.explanation.lead_matter, township, lead)
        support = tuple(u for u in current.support if u != lead)
        before, after = self.units[current.lead], self.units[lead]
        return Assignment(
            lead=lead,
            support=support,
            informed=tuple(u for u in current.informed if u != lead),
            matters=current.matters,
            basis=RouteBasis.MANUAL,
            agreement=None,
            explanation=msgspec.structs.replace(
                current.explanation,
                text_zh=f"值班员改派：由{before.name_zh}改为{after.name_zh}，理由：{reason}。",
                text_en=f"Re-routed by the duty officer from {before.name_en} to {after.name_en}: {reason}.",
            ),
        )

    def check_duty_admission(self, matter: str, township: str, unit: str) -> None:
        """Duty admission (职责准入): a township unit may lead only on matters on its township's lists."""
        target = self.units.get(unit)
        if target is None:
            raise RoutingError(f"unknown unit {unit}", f"未知的单位 {unit}", unit=unit)
        if target.kind is UnitKind.DEPARTMENT:
            return
        if target.township != township:
            raise DutyAdmissionRefused(
                f"{unit} belongs to township {target.township}, not {township}",
                f"{target.name_zh} 不属于乡镇 {township}",
                matter=matter,
                unit=unit,
            )
        if self.lists.entry(township, matter) is None:
            raise DutyAdmissionRefused(
                f"matter {matter} is not on township {township}'s lists; it cannot be pushed down to {unit}",
                f"事项 {matter} 未列入乡镇 {township} 的清单，不得下放给 {target.name_zh}",
                matter=matter,
                unit=unit,
            )

    # -- words ------------------------------------------------------------------------------------

    def _names(self, ids: Iterable[str], lang: str) -> str:
        words = WORDS[lang]
        return words["sep"].join(self.units[u].name(lang) for u in ids) or words["none"]

    def _sentence(self, d: MatterDecision, on: dt.date, lang: str) -> str:
        words = WORDS[lang]
        matter = self.catalog.matter(d.matter)
        text = words["matter"].format(
            name=matter.name(lang),
            code=d.matter,
            severity=d.severity,
            basis=words[d.basis],
            entry=words["entry"].format(entry=d.list_entry) if d.list_entry else "",
            lead=self._names([d.lead], lang),
        )
        tail = _tail(d, on)
        if tail:
            text += words[tail].format(
                informed=self._names(d.informed, lang),
                agreement=d.agreement,
                start=d.agreement_valid_from,
                end=d.agreement_valid_to,
            )
        return text + words["end"]

    def _explain(
        self,
        township: Township,
        cell: str | None,
        snapped_m: float | None,
        on: dt.date,
        decisions: tuple[MatterDecision, ...],
        lead: str,
        support: tuple[str, ...],
    ) -> tuple[str, str]:
        where = "where" if not cell else "where_cell" if snapped_m is None else "where_snapped"
        texts = []
        for lang in ("zh", "en"):
            words = WORDS[lang]
            parts = [words[where].format(cell=cell, township=township.name, metres=snapped_m)]
            parts += [self._sentence(d, on, lang) for d in decisions]
            if len(decisions) > 1:
                parts.append(
                    words["several"].format(name=self.catalog.matter(decisions[0].matter).name(lang))
                )
            parts.append(
                words["summary"].format(lead=self._names([lead], lang), support=self._names(support, lang))
            )
            texts.append(words["join"].join(parts))
        return texts[0], texts[1]
