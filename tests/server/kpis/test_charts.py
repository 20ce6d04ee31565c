"""The charts find an installed CJK font even when matplotlib's font cache was built before the font
was installed, and say in both languages when there is none. Each case runs in a fresh process with
a font cache of its own (MPLCONFIGDIR), as a user's first `gridwatch report` does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import Template, database_for_test
from tests.support.commands import ROOT

pytestmark = pytest.mark.process

# Draws Chinese text with the family found, every warning an error: a missing glyph (a box) fails.
PROBE = """
import json, sys, warnings
from matplotlib import font_manager
from server.kpis import charts
if sys.argv[1] == "no-font":
    charts.DEBIAN_CJK_FILES = ()
cached = sorted({f.name for f in font_manager.fontManager.ttflist})
family = charts.cjk_family()
if family:
    import matplotlib.pyplot as plt
    warnings.simplefilter("error")
    with plt.rc_context({"font.family": [family]}):
        figure = plt.figure()
        figure.suptitle("各地按期结案率")
        figure.savefig(sys.argv[2])
print(json.dumps({"cached": cached, "family": family, "language": charts.chart_language()}))
"""


def probe(config: Path, case: str, tmp_path: Path, path: str | None = None) -> dict[str, object]:
    env = {**os.environ, "MPLCONFIGDIR": str(config), "PATH": path or os.environ["PATH"]}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, case, str(tmp_path / "probe.png")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


@pytest.fixture(scope="module")
def stale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A font cache written before the CJK font was installed: matplotlib's own, without it."""
    config = tmp_path_factory.mktemp("mpl")
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env={**os.environ, "MPLCONFIGDIR": str(config)},
        check=True,
        timeout=300,
    )
    (cache,) = config.glob("fontlist-*.json")
    fonts = json.loads(cache.read_text(encoding="utf-8"))
    fonts["ttflist"] = [f for f in fonts["ttflist"] if "wqy" not in f["fname"] and "CJK" not in f["fname"]]
    cache.write_text(json.dumps(fonts), encoding="utf-8")
    return config


def stale_cache(stale: Path, tmp_path: Path) -> Path:
    """A copy of the stale cache for one test: the probe's process may rewrite it."""
    return Path(shutil.copytree(stale, tmp_path / "mpl"))


def test_a_cjk_font_missing_from_a_stale_cache_is_found_by_file(stale: Path, tmp_path: Path) -> None:
    # .ci/run installs fonts-wqy-microhei.
    answer = probe(stale_cache(stale, tmp_path), "installed", tmp_path)
    assert "WenQuanYi Micro Hei" not in answer["cached"]  # type: ignore[operator]
    assert answer["family"] == "WenQuanYi Micro Hei"
    assert answer["language"] == "zh"
    assert (tmp_path / "probe.png").stat().st_size > 1000


def test_debians_paths_serve_without_fontconfig(stale: Path, tmp_path: Path) -> None:
    answer = probe(stale_cache(stale, tmp_path), "installed", tmp_path, path=str(Path(sys.executable).parent))
    assert answer["family"] == "WenQuanYi Micro Hei"


def test_no_cjk_font_means_english_charts_and_a_notice_in_both_languages(
    sqlite_template: Template, stale: Path, tmp_path: Path
) -> None:
    config = stale_cache(stale, tmp_path)
    no_fontconfig = str(Path(sys.executable).parent)
    answer = probe(config, "no-font", tmp_path, path=no_fontconfig)
    assert answer == {"cached": answer["cached"], "family": None, "language": "en"}
    report = (
        "import sys; from server.kpis import charts; charts.DEBIAN_CJK_FILES = (); "
        "from server.cli import main; main(sys.argv[1:])"
    )
    out = tmp_path / "m.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", report, "report", "monthly", "--period", "2026-06", "--out", str(out)],
        env={
            **os.environ,
            "MPLCONFIGDIR": str(config),
            "PATH": no_fontconfig,
            "GRIDWATCH_DATABASE_URL": database_for_test(sqlite_template, tmp_path, None),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "charts in en" in done.stdout
    assert "no Chinese font found (install fonts-wqy-microhei" in done.stderr
    assert "未找到中文字体" in done.stderr
    assert out.stat().st_size > 0
