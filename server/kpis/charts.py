"""The report's charts as PNG (matplotlib, no display): the trend of incidents and of 按期结案率 per
place, overdue incidents per department, the top categories, and incidents per cell on the map.

Labels are Chinese when a CJK font is installed (Debian: fonts-wqy-microhei or fonts-noto-cjk),
English otherwise: boxes in place of characters help nobody. matplotlib knows the fonts of its cache,
which may predate the font's installation, so a CJK font it does not know is looked up by file
(fontconfig, else Debian's paths) and added.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: charts are files, never windows

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.ticker import MaxNLocator
from shapely.geometry import shape

from grid.evaluation.scopes import ScopeKind
from server.kpis.report import KpiReport

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei")
# Where Debian's CJK font packages put their files, for a machine without fontconfig's fc-list.
DEBIAN_CJK_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
NO_CJK_FONT = (
    "no Chinese font found (install fonts-wqy-microhei or fonts-noto-cjk): the charts are labelled in "
    "English / 未找到中文字体（请安装 fonts-wqy-microhei 或 fonts-noto-cjk）：图表以英文标注"
)
DPI = 110


def _known_cjk_family() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def cjk_font_files() -> list[str]:
    """The installed fonts that cover Chinese, by file: fontconfig's list, else Debian's paths."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        try:
            listed = subprocess.run(
                [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        files = sorted({line.strip().rstrip(":") for line in listed.splitlines() if line.strip()})
        if files:
            return files
    return [path for path in DEBIAN_CJK_FILES if Path(path).is_file()]


@functools.cache
def cjk_family() -> str | None:
    """A CJK font family matplotlib can draw with, added from its file if its cache lacks it."""
    known = _known_cjk_family()
    if known is not None:
        return known
    added: list[str] = []
    for path in cjk_font_files():
        before = len(font_manager.fontManager.ttflist)
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue  # a file FreeType cannot read: try the next
        added += [f.name for f in font_manager.fontManager.ttflist[before:]]
    return _known_cjk_family() or next(iter(added), None)


def chart_language() -> str:
    return "zh" if cjk_family() else "en"


_WORDS = {
    "trend_reported": ("各地上报数", "Incidents reported"),
    "trend_on_time": ("各地按期结案率（%）", "On-time close rate (%)"),
    "overdue": ("各部门超期数", "Overdue by department"),
    "categories": ("高发问题类别（上报数）", "Top categories (reported)"),
    "cells": ("各网格上报数", "Incidents per cell"),
    "nothing": ("本期无数据", "Nothing in this period"),
}


def _word(key: str, lang: str) -> str:
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def _png(draw: Callable[[Figure, str], None], size: tuple[float, float]) -> bytes:
    lang = chart_language()
    family = cjk_family()
    with plt.rc_context({"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"]}):
        figure = plt.figure(figsize=size, dpi=DPI)
        try:
            draw(figure, lang)
            figure.tight_layout()
            out = io.BytesIO()
            figure.savefig(out, format="png")
        finally:
            plt.close(figure)
    return out.getvalue()


def report_charts(report: KpiReport) -> dict[str, bytes]:
    """name → PNG bytes."""
    return {
        "trend": _png(lambda f, lang: _trend(f, lang, report), (9, 6)),
        "overdue": _png(lambda f, lang: _overdue(f, lang, report), (9, 4.5)),
        "categories": _png(lambda f, lang: _categories(f, lang, report), (9, 4.5)),
        "cells": _png(lambda f, lang: _cells(f, lang, report), (8, 8)),
    }


def _trend(figure: Figure, lang: str, report: KpiReport) -> None:
    top, bottom = figure.subplots(2, 1, sharex=True)
    months = [p.month.label for p in report.trend]
    keys = sorted({k for p in report.trend for k in p.figures})
    for key in keys:
        label = report.names.get(key, key)
        top.plot(
            months,
            [p.figures[key].reported if key in p.figures else 0 for p in report.trend],
            marker="o",
            label=label,
        )
        rates = [p.figures[key].on_time_close_rate if key in p.figures else None for p in report.trend]
        bottom.plot(months, [float("nan") if r is None else r for r in rates], marker="o", label=label)
    top.set_title(_word("trend_reported", lang))
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_title(_word("trend_on_time", lang))
    bottom.set_ylim(0, 100)
    if keys:
        top.legend(fontsize=7, ncol=4, loc="upper left")


def _bars(axes: Axes, labels: list[str], values: list[int], title: str, lang: str, color: str) -> None:
    axes.set_title(title)
    if not values:
        axes.text(0.5, 0.5, _word("nothing", lang), ha="center", va="center", transform=axes.transAxes)
        return
    axes.barh(labels[::-1], values[::-1], color=color)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for y, value in enumerate(values[::-1]):
        axes.text(value, y, f" {value}", va="center", fontsize=8)


def _overdue(figure: Figure, lang: str, report: KpiReport) -> None:
    departments = next((lv for lv in report.levels if lv.level is ScopeKind.DEPARTMENT), None)
    rows = sorted(
        ((r.name, r.figures.overdue) for r in (departments.rows if departments else []) if r.figures.overdue),
        key=lambda x: -x[1],
    )[:12]
    _bars(
        figure.subplots(), [n for n, _ in rows], [v for _, v in rows], _word("overdue", lang), lang, "#c0392b"
    )


def _categories(figure: Figure, lang: str, report: KpiReport) -> None:
    rows = [(zh if lang == "zh" else en, n) for _, zh, en, n in report.categories]
    _bars(
        figure.subplots(),
        [n for n, _ in rows],
        [v for _, v in rows],
        _word("categories", lang),
        lang,
        "#2e86c1",
    )


def _cells(figure: Figure, lang: str, report: KpiReport) -> None:
    axes = figure.subplots()
    axes.set_title(_word("cells", lang))
    axes.set_aspect("equal")
    axes.axis("off")
    patches, values = [], []
    for geometry, reported in report.cells.values():
        polygon = shape(json.loads(geometry))
        for part in getattr(polygon, "geoms", [polygon]):
            patches.append(PolygonPatch(list(part.exterior.coords), closed=True))
            values.append(reported)
    if not patches:
        axes.text(0.5, 0.5, _word("nothing", lang), ha="center", va="center", transform=axes.transAxes)
        return
    collection = PatchCollection(patches, cmap="YlOrRd", edgecolor="#888888", linewidth=0.2)
    collection.set_array(values)
    axes.add_collection(collection)
    axes.autoscale_view()
    figure.colorbar(collection, ax=axes, shrink=0.6)
