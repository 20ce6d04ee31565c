"""`gridwatch token pair`: a pairing code for a phone from the command line, its QR code in the
terminal and in a file, claimed over HTTP for a working token; bad input refused in both languages."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlmodel import Session, select

from server.api.app import create_app
from server.cli import main
from server.db.engine import make_engine
from server.db.tables import PairingRow, WorkerRow
from server.runtime import Runtime
from server.settings import Settings
from tests.support.commands import run_gridwatch

pytestmark = pytest.mark.process

A = "339921101"


def first_worker(url: str) -> WorkerRow:
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.exec(select(WorkerRow).where(WorkerRow.township == A).order_by(WorkerRow.id)).first()
    engine.dispose()
    assert row is not None
    return row


def test_token_pair_prints_a_code_a_link_and_a_qr_code_a_phone_can_claim(
    database: str, tmp_path: Path
) -> None:
    person = first_worker(database)
    env = {
        **os.environ,
        "GRIDWATCH_DATABASE_URL": database,
        "GRIDWATCH_PUBLIC_URL": "https://grid.example.cn/",
    }
    svg = tmp_path / "pair.svg"
    done = run_gridwatch(
        "token", "pair", "--worker", person.id, "--minutes", "30", "--label", "Ma's phone", "--svg", str(svg),
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    code = re.search(r"code / 配对码: ([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})$", done.stdout, re.M)
    assert code is not None, done.stdout
    raw = code[1].replace("-", "")
    assert f"link / 链接:   https://grid.example.cn/field/#pair={raw}\n" in done.stdout
    assert f"(worker {person.id})" in done.stdout
    # The QR code is drawn with half blocks, a few dozen lines, before the code.
    drawn = done.stdout[: done.stdout.index("code / ")].splitlines()
    assert 10 < len(drawn) < 40 and all(set(line) <= set("█▀▄ ") for line in drawn)
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))

    engine = make_engine(database)
    with Session(engine) as session:
        row = session.exec(select(PairingRow)).one()
    assert (row.created_by, row.label, row.role, row.scope) == (
        "cli",
        "Ma's phone",
        "worker",
        f"worker:{person.id}",
    )
    now = row.created_at + dt.timedelta(minutes=1)
    assert row.expires_at == row.created_at + dt.timedelta(minutes=30)
    app = create_app(Runtime(settings=Settings(database_url=database), engine=engine, clock=lambda: now))
    with TestClient(app) as client:
        claimed = client.post("/pairings/claim", json={"code": raw.lower(), "device": "test"})
        assert claimed.status_code == 201, claimed.text
        me = client.get("/me", headers={"Authorization": f"Bearer {claimed.json()['token']}"})
        assert (me.status_code, me.json()["name"]) == (200, person.name)
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "said", "said_zh"),
    [
        ((), "name --worker ID or --unit ID", "请指定 --worker 或 --unit 之一"),
        (("--worker", "W", "--unit", f"{A}.office.enforcement"), "name --worker ID or --unit ID", "之一"),
        (("--worker", "w-nobody"), "no worker 'w-nobody'", "没有网格员 'w-nobody'"),
        (("--unit", "339921.dept.nobody"), "no unit '339921.dept.nobody'", "没有单位"),
        (("--worker", "W", "--minutes", "4"), "4 is not in the range 5<=x<=1440", ""),
        (("--worker", "W", "--minutes", "1441"), "1441 is not in the range", ""),
        (("--worker", "W", "--minutes", "soon"), "'soon' is not a valid integer", ""),
        (
            ("--worker", "W", "--base-url", "grid.example.cn"),
            "is not an http(s) address",
            "不是 http(s) 地址",
        ),
    ],
)
def test_token_pair_refuses_bad_input_and_makes_nothing(
    database: str, args: tuple[str, ...], said: str, said_zh: str
) -> None:
    person = first_worker(database)
    done = CliRunner().invoke(
        main,
        ["token", "pair", *(person.id if a == "W" else a for a in args)],
        env={"GRIDWATCH_DATABASE_URL": database},
    )
    assert done.exit_code == 2, done.output
    assert said in done.output and said_zh in done.output
    engine = make_engine(database)
    with Session(engine) as session:
        assert session.exec(select(PairingRow)).all() == []
    engine.dispose()
