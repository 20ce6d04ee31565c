"""The project's own checks run with the tests: lint, format, types and the layering contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
    ],
    ids=lambda c: c[0] + (" " + c[1] if len(c) > 1 and c[1] == "format" else ""),
)
def test_check_passes(command: list[str]) -> None:
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def test_grid_imports_no_adapter_or_framework() -> None:
    """Every module of the core imports without the adapters or a framework (what the contracts say,
    checked at run time, where a lazy import inside a function would show too once it ran)."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "grid").rglob("*.py")
    )
    assert len(modules) > 30, modules  # the walk found the core, not an empty folder
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'geodata','sync','server','console','click','litestar','textual','sqlmodel','sqlalchemy',"
        "'pyproj','paho','amqtt','httpx','openpyxl','ortools','pyogrio'})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
