"""The `gridwatch` command as a user runs it: real processes, real files, garbage included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from geodata.dataset import load_dataset
from server.cli import main
from tests.support.commands import ROOT, run_gridwatch

pytestmark = pytest.mark.process


def gridwatch(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return run_gridwatch(*args, stdin=stdin, text=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "county"
    done = gridwatch("synth", "--seed", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert b"townships" in done.stdout
    return out


def test_synth_writes_a_loadable_folder(data: Path) -> None:
    dataset = load_dataset(data)
    assert len(dataset.cells.records) >= 1000
    assert dataset.manifest.seed == 4


def test_synth_refuses_a_non_empty_folder(data: Path) -> None:
    done = gridwatch("synth", "--out", str(data))
    assert done.returncode == 2
    assert b"not empty" in done.stderr


@pytest.mark.parametrize(
    "args",
    [("synth",), ("synth", "--seed", "x", "--out", "/tmp/z"), ("synth", "--size", "huge", "--out", "/tmp/z")],
)
def test_synth_bad_arguments(args: tuple[str, ...]) -> None:
    done = gridwatch(*args)
    assert done.returncode == 2
    assert b"Error" in done.stderr


def lines_of(done: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_route_the_example_file_on_the_embedded_county() -> None:
    """Routing sample incidents offline: no data folder, the synthetic county made in memory."""
    example = (ROOT / "docs/examples/incidents.jsonl").read_bytes()
    done = gridwatch("route", stdin=example)
    assert done.returncode == 0, done.stderr
    out = lines_of(done)
    assert len(out) == len(example.splitlines())  # one answer per line, errors included
    decided = {o["id"]: o for o in out if "error" not in o}
    errors = [o for o in out if "error" in o]
    assert [e["line"] for e in errors] == [len(out) - 1, len(out)]
    assert "unknown category" in str(errors[0]["error"])
    modes = {o["mode"] for o in decided.values()}
    assert {"granted", "stationed", "not_listed", "entrusted", "entrusted_lapsed"} <= modes
    assert decided["demo-4"]["agreement"] and decided["demo-4"]["informed"]
    assert decided["demo-7"]["snapped"] is True
    assert decided["demo-8"]["unlocated"] is True
    assert decided["demo-8"]["lead"] is None
    for o in decided.values():
        if o["unlocated"]:
            continue
        assert str(o["cell"]).startswith(str(o["township"]))
        explanation = o["explanation"]
        assert isinstance(explanation, dict)
        assert explanation["text_zh"]
        assert explanation["text_en"]


def test_route_a_folder_gives_the_same_answers(data: Path) -> None:
    line = b'{"id": "x", "lon": 119.6, "lat": 29.1, "category": "0501", "ts": "2026-11-24T09:30:00+08:00"}\n'
    from_folder = lines_of(gridwatch("route", "--data", str(data), stdin=line))
    in_memory = lines_of(gridwatch("route", "--seed", "4", stdin=line))
    assert from_folder == in_memory


def test_route_reports_bad_lines_and_goes_on(data: Path) -> None:
    good = {"id": "ok", "lon": 119.6, "lat": 29.1, "category": "0501", "ts": "2026-11-24T09:30:00+08:00"}
    garbage = [
        b"{",
        b"[]",
        b'{"id": 1}',
        b'{"id": 2, "lon": "east", "lat": 29.1, "category": "0501"}',
        b'{"id": 3, "lon": 500, "lat": 29.1, "category": "0501"}',
        b'{"id": 4, "lon": NaN, "lat": 29.1, "category": "0501"}',
        b'{"id": 5, "lon": 119.6, "lat": 29.1, "category": "0501", "crs": "mars"}',
        b'{"id": 6, "lon": 119.6, "lat": 29.1, "category": "0501", "ts": "yesterday"}',
        b'{"id": 7, "lon": 119.6, "lat": 29.1, "category": "0501", "ts": "2026-11-24T09:30:00"}',
        b'{"id": 8, "lon": 119.6, "lat": 29.1, "category": "0501", "acc": -3}',
        b"\xff\xfe",
        b"",
    ]
    stdin = b"\n".join([*garbage, json.dumps(good).encode()]) + b"\n"
    done = gridwatch("route", "--data", str(data), stdin=stdin)
    assert done.returncode == 0, done.stderr
    out = lines_of(done)
    errors, decisions = out[:-1], out[-1]
    assert len(errors) == len(garbage) - 1  # the empty line is skipped
    assert all(e["error"] for e in errors)
    # A bare NaN is not JSON: that line is malformed and its id cannot be read.
    assert [e["id"] for e in errors[2:10]] == [1, 2, 3, None, 5, 6, 7, 8]
    assert "time zone" in str(errors[8]["error"])
    assert "out of range" in str(errors[4]["error"])
    assert decisions["id"] == "ok" and decisions["lead"]


def test_route_gcj02_input_lands_where_the_wgs84_point_does(data: Path) -> None:
    from geodata.coords import wgs84_to_gcj02

    lon, lat = 119.6012, 29.1034
    glon, glat = wgs84_to_gcj02(lon, lat)
    stdin = (
        json.dumps({"id": "w", "lon": lon, "lat": lat, "category": "0501"})
        + "\n"
        + json.dumps({"id": "g", "lon": glon, "lat": glat, "crs": "gcj02", "category": "0501"})
        + "\n"
    ).encode()
    wgs, gcj = lines_of(gridwatch("route", "--data", str(data), stdin=stdin))
    assert wgs["cell"] == gcj["cell"] is not None
    assert abs(float(gcj["lon"]) - lon) < 1e-6  # type: ignore[arg-type]


def test_route_without_data_folder(tmp_path: Path) -> None:
    done = gridwatch("route", "--data", str(tmp_path / "missing"))
    assert done.returncode == 1
    assert b"not a data folder" in done.stderr
    assert b"Traceback" not in done.stderr


def test_route_with_broken_folder(data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}", encoding="utf-8")
    done = gridwatch("route", "--data", str(broken))
    assert done.returncode == 1
    assert b"catalog.json: missing" in done.stderr


def test_synth_to_a_folder_it_cannot_write_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker / "county", Path("/proc/gridwatch-county")):
        done = gridwatch("synth", "--out", str(out))
        assert done.returncode == 1, done.stdout
        assert b"cannot write to" in done.stderr
        assert "无法写入".encode() in done.stderr
        assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("scope", "said_en", "said_zh"),
    [
        ("township:339921999", "no township 339921999 is loaded here", "本系统未载入乡镇 339921999"),
        ("township:33992110\x00", "township code must be 9 digits", "乡镇代码应为 9 位数字"),
        ("unit:339921.dept.zrzy", "role duty takes scope", "角色 duty 的范围应为"),
    ],
)
def test_token_create_refuses_a_place_not_loaded_in_both_languages(
    tmp_path: Path, scope: str, said_en: str, said_zh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'gw.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    done = runner.invoke(main, ["token", "create", "--role", "duty", "--scope", scope])
    assert done.exit_code == 2
    assert said_en in done.output
    assert said_zh in done.output
    assert "gw_" not in done.output  # no token was printed


def test_every_command_loads_by_its_name() -> None:
    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None and command.name == name
    assert main.get_command(context, "nosuch") is None
    unknown = CliRunner().invoke(main, ["nosuch"])
    assert unknown.exit_code == 2 and "No such command 'nosuch'" in unknown.output


def test_the_ingest_worker_starts_without_the_file_tools() -> None:
    """A restarted worker drains its backlog sooner when it does not first import pandas, geopandas
    and matplotlib for commands it is not running (bench/recovery.py)."""
    probe = (
        "import sys, click; from server.cli import main; "
        "main.get_command(click.Context(main), 'ingest'); "
        "print(sorted(m for m in ('pandas', 'geopandas', 'pyogrio', 'matplotlib', 'openpyxl') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
