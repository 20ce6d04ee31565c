"""A synthetic demo county (or province), deterministic for a seed.

Geometry is a nested Voronoi tessellation: county → townships → villages → cells, each level
clipped to its parent. Each clipping computes a border's crossing points on its own side, so
neighbours across a village or township border would not share vertices; the cells are therefore
cleaned into one exact coverage on the written 1e-7° grid, and every level above is the union of
its cells, so all borders are the cells' own shared edges. Everything with a date is relative to
REFERENCE_DATE, never to today, so a seed always gives the same files.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msgspec
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.catalog_files import default_catalog, department_templates
from geodata.coding import code_cells, reading_order
from geodata.dataset import GRID_DEGREES, Dataset, Layer, Manifest, on_grid
from grid.organisation import Certificate, Officer, Unit, UnitKind, Worker
from grid.places import (
    Cell,
    County,
    Township,
    TownshipKind,
    Village,
    county_of,
    township_of,
    village_of,
)
from grid.powers import Agreement, DutyRole, HoldingMode, PowerListEntry, TerritorialDuty
from grid.staffing import enforcement_staff_needed
from grid.subjects import Device, DeviceKind, Subject, SubjectKind

REFERENCE_DATE = dt.date(2026, 1, 1)
PROVINCE_PREFIX = "33"
# Centre of the synthetic county; a province is laid out around it.
CENTRE = (119.60, 29.10)


@dataclass(frozen=True)
class SynthSize:
    counties: int
    townships: tuple[int, int]  # inclusive range per county
    villages: tuple[int, int]  # per township
    cells: tuple[int, int]  # per village
    county_km: float  # rough width of one county


SIZES = {
    "county": SynthSize(1, (12, 12), (7, 11), (9, 14), 60.0),  # ~1,200 cells
    "large-county": SynthSize(1, (14, 14), (12, 14), (27, 32), 60.0),  # ~5,400 cells
    "province": SynthSize(100, (9, 11), (9, 11), (28, 33), 45.0),  # ~300,000 cells
}

SYLLABLES = list("清溪石桥云龙安平新丰宁和兴华阳泉塘岭湖林东西南北金玉长永太福德明茂盛白青黄柳梅竹松杨")
KIND_CYCLE = [
    TownshipKind.CENTRAL,
    TownshipKind.KEY,
    TownshipKind.FEATURED,
    TownshipKind.DEVELOPED,
    TownshipKind.ORDINARY,
    TownshipKind.SUBDISTRICT,
    TownshipKind.KEY,
    TownshipKind.ORDINARY,
    TownshipKind.CENTRAL,
    TownshipKind.FEATURED,
    TownshipKind.ORDINARY,
]
URBAN_KINDS = {TownshipKind.SEAT, TownshipKind.SUBDISTRICT}
LARGE_KINDS = {
    TownshipKind.SEAT,
    TownshipKind.CENTRAL,
    TownshipKind.KEY,
    TownshipKind.DEVELOPED,
    TownshipKind.SUBDISTRICT,
}
POPULATION = {
    TownshipKind.SEAT: (60_000, 90_000),
    TownshipKind.SUBDISTRICT: (40_000, 70_000),
    TownshipKind.DEVELOPED: (50_000, 80_000),
    TownshipKind.CENTRAL: (35_000, 60_000),
}

# The township's power list by holding mode (see docs/data-format.md for the rationale).
STATIONED = {
    "zrzy": ("ZRZY-001", "ZRZY-003", "ZRZY-006"),
    "scjg": ("SCJG-001", "SCJG-002", "SCJG-006", "SCJG-007"),
}
STATUTORY = ("ZRZY-005",)
GRANTED_ALL = ("ZHZF-001", "ZHZF-003", "ZHZF-008", "ZHZF-011")
GRANTED_LARGE = ("ZHZF-002", "ZHZF-004", "ZHZF-005", "ZHZF-007", "ZHZF-009", "ZHZF-010", "ZHZF-012")
GRANTED_DEVELOPED = ("SL-003", "NYNC-002", "ZJ-001")
ENTRUSTED = {"JTYS-002": "dept.jtys", "JTYS-005": "dept.jtys", "SL-001": "dept.sl"}
# Agreement validity, cycled so every county has valid, expired and not-yet-valid agreements.
AGREEMENT_TERMS = [
    (dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    (dt.date(2023, 1, 1), dt.date(2025, 12, 31)),  # expired before the reference date
    (dt.date(2025, 7, 1), dt.date(2028, 6, 30)),
    (dt.date(2027, 1, 1), dt.date(2029, 12, 31)),  # not yet valid
]
# (matter, unit suffix, role): the territorial duty list (属地事项责任清单).
DUTIES = [
    ("STHJ-001", "office.enforcement", DutyRole.LEAD),
    ("STHJ-001", "office.command", DutyRole.SUPPORT),
    ("ZRZY-002", "stationed.zrzy", DutyRole.SUPPORT),
    ("ZRZY-002", "office.enforcement", DutyRole.SUPPORT),
    ("ZRZY-005", "stationed.zrzy", DutyRole.SUPPORT),
    ("ZHZF-006", "stationed.zrzy", DutyRole.SUPPORT),
    ("ZHZF-009", "stationed.zrzy", DutyRole.SUPPORT),
    ("SL-001", "office.enforcement", DutyRole.SUPPORT),
    ("NYNC-003", "office.enforcement", DutyRole.SUPPORT),
    ("YJGL-003", "office.command", DutyRole.SUPPORT),
]
TRADES = {
    "catering": SubjectKind.SHOP,
    "food_retail": SubjectKind.SHOP,
    "construction_site": SubjectKind.SITE,
    "livestock_farm": SubjectKind.SITE,
    "sand_yard": SubjectKind.SITE,
    "hazardous_chemicals": SubjectKind.ENTERPRISE,
    "factory": SubjectKind.ENTERPRISE,
    "public_venue": SubjectKind.PLACE,
    "clinic": SubjectKind.PLACE,
}
QUIET_DAYS = {1: 180, 2: 90, 3: 60, 4: 30}
CAMERA_CATEGORIES = ["0501", "0502", "0302", "0104", "0102", "0202"]


# -- geometry ------------------------------------------------------------------------------------


def _points_in(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(4 * n, 16), 2))
        inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def _split(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """Cut a convex polygon into n convex pieces (Voronoi of random seeds, clipped)."""
    if n <= 1:
        return [polygon]
    seeds = shapely.multipoints(_points_in(polygon, n, rng))
    regions = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=polygon))
    pieces = shapely.intersection(regions, polygon)
    return [p for p in pieces if p.geom_type == "Polygon" and not p.is_empty]


def _county_outline(centre: tuple[float, float], km: float, rng: np.random.Generator) -> BaseGeometry:
    angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
    radius = rng.uniform(0.8, 1.0, 24) * km / 2
    dx = radius * np.cos(angles) / (111.32 * np.cos(np.radians(centre[1])))
    dy = radius * np.sin(angles) / 110.57
    return shapely.convex_hull(shapely.multipoints(np.column_stack((centre[0] + dx, centre[1] + dy))))


def _ordered(pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    return [pieces[i] for i in reading_order(pieces)]


# Gaps and overlaps between separately clipped neighbours are about a millimetre wide; anything
# narrower than this is closed (a real piece of a cell is hundreds of metres wide).
_SEAM_DEGREES = 10 * GRID_DEGREES


def _tiled(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """The cells as one exact coverage: seams closed, vertices on the written grid and shared."""
    cleaned = shapely.coverage_clean(
        np.array(cells, dtype=object), gap_width=_SEAM_DEGREES, snapping_distance=GRID_DEGREES
    )
    return list(on_grid(cleaned))


def _unions(
    codes: list[str], cells: list[BaseGeometry], parent_of: Callable[[str], str]
) -> dict[str, BaseGeometry]:
    """Each parent's shape as the union of its cells: its border is made of their edges."""
    groups: dict[str, list[BaseGeometry]] = defaultdict(list)
    for code, shape in zip(codes, cells, strict=True):
        groups[parent_of(code)].append(shape)
    return {parent: shapely.coverage_union_all(shapes) for parent, shapes in groups.items()}


# -- names ---------------------------------------------------------------------------------------


class _Names:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self, suffix: str) -> str:
        # Two-character names while they last, then three: a province needs tens of thousands.
        for attempt in range(10_000):
            picks = self.rng.choice(len(SYLLABLES), 2 if attempt < 20 else 3, replace=False)
            name = "".join(SYLLABLES[i] for i in picks) + suffix
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError(f"ran out of synthetic names ending in {suffix!r}")


def _person(rng: np.random.Generator) -> str:
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红"
    return str(surnames[rng.integers(len(surnames))]) + "".join(
        given[i] for i in rng.integers(len(given), size=int(rng.integers(1, 3)))
    )


def _day(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


# -- the generator -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, size: SynthSize) -> None:
        self.rng = np.random.default_rng(seed)
        self.size = size
        self.names = _Names(self.rng)
        self.counties = Layer([], [])
        self.townships = Layer([], [])
        self.villages = Layer([], [])
        self.cells = Layer([], [])
        self.units: list[Unit] = []
        self.workers: list[Worker] = []
        self.officers: list[Officer] = []
        self.power_list: list[PowerListEntry] = []
        self.duties: list[TerritorialDuty] = []
        self.subjects: list[Subject] = []
        self.devices: list[Device] = []
        self.entrusted_count = 0

    def tile(self) -> None:
        """Replace every level's shapes by the exactly tiling ones derived from the cells."""
        codes = [cell.code for cell in self.cells.records]
        self.cells.shapes[:] = _tiled(self.cells.shapes)
        for layer, parent_of in (
            (self.villages, village_of),
            (self.townships, township_of),
            (self.counties, county_of),
        ):
            unions = _unions(codes, self.cells.shapes, parent_of)
            layer.shapes[:] = [unions[record.code] for record in layer.records]

    def _between(self, bounds: tuple[int, int]) -> int:
        return int(self.rng.integers(bounds[0], bounds[1] + 1))

    def county_shapes(self) -> Iterator[BaseGeometry]:
        size = self.size
        if size.counties == 1:
            yield _county_outline(CENTRE, size.county_km, self.rng)
            return
        side = np.sqrt(size.counties) * size.county_km
        province = _county_outline(CENTRE, side * 1.2, self.rng)
        yield from _ordered(_split(province, size.counties, self.rng))

    def build(self) -> None:
        for k, shape in enumerate(self.county_shapes()):
            code = (
                "339921" if self.size.counties == 1 else f"{PROVINCE_PREFIX}{91 + k // 60}{21 + k % 60:02d}"
            )
            self.county(code, shape)

    def county(self, code: str, shape: BaseGeometry) -> None:
        name = "示范县" if self.size.counties == 1 else self.names("县")
        for template in department_templates():
            parent = f"{code}.{template.parent}" if template.parent else None
            self.units.append(msgspec.structs.replace(template, id=f"{code}.{template.id}", parent=parent))
            self._officers(f"{code}.{template.id}", 8 if template.enforcement else 3, code)
        pieces = _ordered(_split(shape, self._between(self.size.townships), self.rng))
        centre = shape.centroid
        seat = int(np.argmin([p.distance(centre) for p in pieces]))
        counters = {"0": 0, "1": 0, "2": 0}
        seat_code = ""
        for i, piece in enumerate(pieces):
            kind = TownshipKind.SEAT if i == seat else KIND_CYCLE[i % len(KIND_CYCLE)]
            prefix = (
                "0" if kind is TownshipKind.SUBDISTRICT else "2" if kind is TownshipKind.ORDINARY else "1"
            )
            counters[prefix] += 1
            township_code = f"{code}{prefix}{counters[prefix]:02d}"
            seat_code = township_code if i == seat else seat_code
            self.township(township_code, kind, piece)
        self.counties.records.append(County(code=code, name=name, seat_township=seat_code))
        self.counties.shapes.append(shape)

    def township(self, code: str, kind: TownshipKind, shape: BaseGeometry) -> None:
        rng = self.rng
        suffix = (
            "街道" if kind is TownshipKind.SUBDISTRICT else "乡" if kind is TownshipKind.ORDINARY else "镇"
        )
        name = self.names(suffix)
        low, high = POPULATION.get(kind, (15_000, 40_000))
        population = int(rng.integers(low, high))
        seat = shape.representative_point()
        office = f"{code}.office.enforcement"
        self.townships.records.append(
            Township(
                code=code,
                name=name,
                kind=kind,
                population=population,
                enforcement_office=office,
                seat_lon=round(seat.x, 6),
                seat_lat=round(seat.y, 6),
            )
        )
        self.townships.shapes.append(shape)
        county = county_of(code)
        for suffix_id, zh, en, parent, enforcement in (
            ("office.enforcement", "综合行政执法办公室", "Comprehensive Enforcement Office", None, True),
            ("office.command", "综合信息指挥室", "Command Room", None, False),
            ("stationed.zrzy", "自然资源所", "Natural Resources Station", f"{county}.dept.zrzy", False),
            ("stationed.scjg", "市场监管所", "Market Regulation Station", f"{county}.dept.scjg", False),
        ):
            kind_of = UnitKind.STATIONED if parent else UnitKind.OFFICE
            unit_id = f"{code}.{suffix_id}"
            self.units.append(
                Unit(
                    id=unit_id,
                    name_zh=name + zh,
                    name_en=f"{name} {en}",
                    kind=kind_of,
                    township=code,
                    parent=parent,
                    enforcement=enforcement,
                )
            )
        # Some townships fall short of the staffing rule: the gap is something the KPIs show.
        needed = enforcement_staff_needed(population)
        self._officers(office, max(1, needed - int(rng.integers(0, 3))), county)
        self._officers(f"{code}.stationed.zrzy", 2, county)
        self._officers(f"{code}.stationed.scjg", 2, county)
        self._power_list(code, kind)
        for matter, unit_suffix, role in DUTIES:
            self.duties.append(
                TerritorialDuty(
                    township=code,
                    matter=matter,
                    unit=f"{code}.{unit_suffix}",
                    role=role,
                    order=len(self.duties),
                )
            )
        community = kind in URBAN_KINDS
        for n, piece in enumerate(_ordered(_split(shape, self._between(self.size.villages), rng)), start=1):
            village_code = f"{code}{n:03d}" if community else f"{code}{199 + n:03d}"
            self.village(village_code, self.names("社区" if community else "村"), piece)
        for n in range(int(rng.integers(2, 5))):
            # A camera watches one of the township's last-built cells (its villages are all built now).
            pick = len(self.cells.records) - 1 - int(rng.integers(0, 20))
            cell, at = self.cells.records[pick], self.cells.shapes[pick].representative_point()
            categories = rng.choice(CAMERA_CATEGORIES, size=int(rng.integers(1, 4)), replace=False)
            self.devices.append(
                Device(
                    id=f"cam-{code}-{n + 1:02d}",
                    kind=DeviceKind.CAMERA,
                    lon=round(at.x, 6),
                    lat=round(at.y, 6),
                    cell=cell.code,
                    categories=tuple(sorted(str(c) for c in categories)),
                )
            )

    def _power_list(self, township: str, kind: TownshipKind) -> None:
        county = county_of(township)
        rows: list[tuple[str, HoldingMode, str, Agreement | None]] = []
        for station, matters in STATIONED.items():
            rows += [(m, HoldingMode.STATIONED, f"{township}.stationed.{station}", None) for m in matters]
        office = f"{township}.office.enforcement"
        rows += [(m, HoldingMode.STATUTORY, office, None) for m in STATUTORY]
        granted = GRANTED_ALL + (GRANTED_LARGE if kind in LARGE_KINDS else ())
        granted += GRANTED_DEVELOPED if kind in (TownshipKind.DEVELOPED, TownshipKind.CENTRAL) else ()
        rows += [(m, HoldingMode.GRANTED, office, None) for m in granted]
        if kind not in URBAN_KINDS:
            for matter, department in ENTRUSTED.items():
                if matter == "SL-001" and self.rng.random() < 0.5:
                    continue  # no river to mine: the matter stays with the department
                start, end = AGREEMENT_TERMS[self.entrusted_count % len(AGREEMENT_TERMS)]
                self.entrusted_count += 1
                agreement = Agreement(
                    number=f"委托〔{start.year}〕{self.entrusted_count:04d}号",
                    department=f"{county}.{department}",
                    valid_from=start,
                    valid_to=end,
                )
                rows.append((matter, HoldingMode.ENTRUSTED, office, agreement))
        for n, (matter, mode, unit, terms) in enumerate(rows, start=1):
            self.power_list.append(
                PowerListEntry(
                    id=f"{township}-P{n:03d}",
                    township=township,
                    matter=matter,
                    mode=mode,
                    unit=unit,
                    agreement=terms,
                )
            )

    def _officers(self, unit: str, count: int, county: str) -> None:
        rng = self.rng
        for _ in range(count):
            number = f"{county}{len(self.officers) + 1:06d}"
            roll = rng.random()
            if roll < 0.05:
                certificates: tuple[Certificate, ...] = ()  # a new recruit, not yet certified
            else:
                # About one in eight certificates has lapsed by the reference date.
                start = (
                    _day(rng, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
                    if roll < 0.17
                    else _day(rng, dt.date(2022, 1, 1), dt.date(2025, 6, 30))
                )
                certificates = (
                    Certificate(
                        number=number,
                        issuer="示范省人民政府",
                        valid_from=start,
                        expires=start + dt.timedelta(days=5 * 365),
                    ),
                )
            self.officers.append(
                Officer(id=f"o{number}", name=_person(rng), unit=unit, certificates=certificates)
            )

    def village(self, code: str, name: str, shape: BaseGeometry) -> None:
        rng = self.rng
        self.villages.records.append(Village(code=code, name=name))
        self.villages.shapes.append(shape)
        pieces = _split(shape, self._between(self.size.cells), rng)
        codes = code_cells(code, pieces)
        order = sorted(range(len(pieces)), key=codes.__getitem__)
        for i in order:
            self.cells.records.append(
                Cell(
                    code=codes[i],
                    name=f"{name}第{int(codes[i][-2:])}网格",
                    patrol_target=int(rng.integers(2, 5)),
                )
            )
            self.cells.shapes.append(pieces[i])
        # One worker for one or two neighbouring cells; the first of each village is its cell head.
        i = 0
        while i < len(order):
            span = 1 if rng.random() < 0.6 else 2
            mine = tuple(codes[j] for j in order[i : i + span])
            self.workers.append(
                Worker(
                    id=f"w{mine[0]}",
                    name=_person(rng),
                    township=township_of(code),
                    cells=mine,
                    is_cell_head=i == 0,
                )
            )
            i += span
        for n in range(int(rng.integers(2, 5))):
            j = order[int(rng.integers(len(order)))]
            at = _points_in(pieces[j], 1, rng)[0]
            trade = str(rng.choice(list(TRADES)))
            risk = int(rng.integers(1, 5))
            visited = None if rng.random() < 0.2 else _day(rng, dt.date(2025, 6, 1), dt.date(2025, 12, 31))
            self.subjects.append(
                Subject(
                    id=f"s{code}{n + 1:02d}",
                    name=self.names("")
                    + {"catering": "餐馆", "food_retail": "超市", "construction_site": "工地"}.get(
                        trade, "有限公司"
                    ),
                    kind=TRADES[trade],
                    trade=trade,
                    risk=risk,
                    lon=round(float(at[0]), 6),
                    lat=round(float(at[1]), 6),
                    cell=codes[j],
                    address=f"{name}{int(rng.integers(1, 300))}号",
                    last_inspected=visited,
                    quiet_days=QUIET_DAYS[risk],
                )
            )


def synthesize(seed: int, size: str = "county") -> Dataset:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    builder = _Builder(seed, SIZES[size])
    builder.build()
    builder.tile()
    return Dataset(
        manifest=Manifest(seed=seed, size=size, counties=[c.code for c in builder.counties.records]),
        catalog=default_catalog(),
        counties=builder.counties,
        townships=builder.townships,
        villages=builder.villages,
        cells=builder.cells,
        units=builder.units,
        workers=builder.workers,
        officers=builder.officers,
        power_list=builder.power_list,
        duties=builder.duties,
        subjects=builder.subjects,
        devices=builder.devices,
    )
