"""Names for codes: units, townships, villages and categories, loaded once from the server."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.remote.client import ServerClient
from console.remote.models import CategoryView, TownshipView, UnitView, VillageView


@dataclass
class Directory:
    units: dict[str, UnitView] = field(default_factory=dict)
    townships: dict[str, TownshipView] = field(default_factory=dict)
    villages: dict[str, VillageView] = field(default_factory=dict)
    categories: dict[str, CategoryView] = field(default_factory=dict)

    async def load(self, client: ServerClient) -> None:
        """Fill in place: the board and the screens hold this one directory."""
        self.units = {u.id: u for u in await client.units()}
        self.townships = {t.code: t for t in await client.townships()}
        self.villages = {v.code: v for v in await client.villages()}
        self.categories = {c.code: c for c in await client.categories()}

    def unit(self, unit_id: str | None, lang: str) -> str:
        if unit_id is None:
            return ""
        unit = self.units.get(unit_id)
        return unit.name(lang) if unit else unit_id

    def category(self, code: str, lang: str) -> str:
        category = self.categories.get(code)
        return category.name(lang) if category else code

    def township(self, code: str | None) -> str:
        if code is None:
            return ""
        township = self.townships.get(code)
        return township.name if township else code

    def village(self, code: str | None) -> str:
        if code is None:
            return ""
        village = self.villages.get(code)
        return village.name if village else code

    def place(self, cell: str | None) -> str:
        """Cell number, village and township, short enough for a table column."""
        if cell is None:
            return "—"
        return f"{cell[-2:]} · {self.village(cell[:12])} · {self.township(cell[:9])}"
