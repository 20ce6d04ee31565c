"""README's MQTT recipe, run as it stands: its shell block, taken from README.md, runs in a fresh
folder laid out as a clone (with deploy/mosquitto/) on Debian's Mosquitto, with free ports in place
of 1883, 1884, 8000 and 9100. Then a worker's phone logs in with its password from credentials.csv,
reports, and hears exactly one ack per report."""

from __future__ import annotations

import csv
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from geodata.dataset import Dataset, load_dataset
from tests.support.api import Template, database_for_test
from tests.support.commands import gridwatch
from tests.support.network import free_port, wait_answering
from tests.support.phone import Phone, login

pytestmark = [pytest.mark.mosquitto, pytest.mark.process]

ROOT = Path(__file__).resolve().parents[2]
LEAD = "**The field over MQTT.**"


def readme_recipe() -> str:
    """The first shell block after the MQTT section's lead in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert LEAD in text, f"README.md has a paragraph starting {LEAD}"
    block = re.search(r"^```sh\n(.*?)^```$", text[text.index(LEAD) :], re.MULTILINE | re.DOTALL)
    assert block is not None, "the MQTT section has a ```sh block"
    return block.group(1)


def with_ports(text: str, ports: dict[int, int]) -> str:
    for shipped, here in ports.items():
        text = re.sub(rf"\b{shipped}\b", str(here), text)
    return text


@dataclass
class Recipe:
    folder: Path
    phone_port: int
    platform_port: int
    county: Dataset
    passwords: dict[str, str]
    output: str


@pytest.fixture
def recipe() -> Iterator[Recipe]:
    """The README's block run by bash in a clone-like folder; its background jobs (the broker, the
    ingest worker, the server) are stopped afterwards through the process group it leads."""
    uv = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(uv).is_file(), "uv not found"
    phone_port, platform_port, api_port, metrics_port = (free_port() for _ in range(4))
    ports = {1883: phone_port, 1884: platform_port}
    # Outside pytest's folders, and enterable by others: Mosquitto started as root runs as its own
    # user, which must reach the broker's files (as it must in a clone).
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-readme-"))
    folder.chmod(0o755)
    shutil.copytree(ROOT / "deploy" / "mosquitto", folder / "deploy" / "mosquitto")
    for conf in (folder / "deploy" / "mosquitto").rglob("*.conf"):
        conf.write_text(with_ports(conf.read_text(encoding="utf-8"), ports), encoding="utf-8")
    # `uv run` from the clone's top folder is uv run of the project; here the clone is elsewhere.
    script = with_ports(readme_recipe(), ports).replace("uv run ", f"{uv} run --project {ROOT} --no-sync ")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")} | {
        "GRIDWATCH_PORT": str(api_port),
        "GRIDWATCH_METRICS_PORT": str(metrics_port),
    }
    log = folder / "recipe.log"
    with log.open("wb") as out:
        shell = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert shell.wait(timeout=600) == 0, log.read_text(errors="replace")
        wait_answering(f"http://127.0.0.1:{metrics_port}/health", timeout=120)  # subscribed
        wait_answering(f"http://127.0.0.1:{api_port}/health", timeout=120)
        with (folder / "broker" / "credentials.csv").open(encoding="utf-8") as rows:
            passwords = {row["id"]: row["password"] for row in csv.DictReader(rows)}
        yield Recipe(
            folder,
            phone_port,
            platform_port,
            load_dataset(folder / "demo-county"),
            passwords,
            log.read_text(errors="replace"),
        )
    finally:
        stop_group(shell.pid)
        shutil.rmtree(folder, ignore_errors=True)


def stop_group(group: int) -> None:
    """Stop the block's session (its shell's jobs, and theirs): SIGTERM, then SIGKILL after 20 s."""
    try:
        os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            os.killpg(group, 0)
            time.sleep(0.2)
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return  # all gone


def test_the_readme_block_is_the_one_machine_recipe() -> None:
    block = readme_recipe()
    assert "mosquitto -c deploy/mosquitto/one-machine.conf &" in block
    assert (ROOT / "deploy/mosquitto/one-machine.conf").is_file()
    assert re.search(r"GRIDWATCH_MQTT_URL=\S*mqtt://gridwatch-ingest:\$\(.+\)@127\.0\.0\.1:1884", block)
    assert "uv run gridwatch mqtt-acl --out broker/" in block


def test_the_readme_mqtt_recipe_acks_every_report_once(recipe: Recipe) -> None:
    assert "may not enter" not in recipe.output, recipe.output  # mqtt-acl found the folder reachable
    for name in ("passwords", "platform-passwords", "acl", "credentials.csv"):
        assert (recipe.folder / "broker" / name).stat().st_mode & 0o077 == 0, name  # the owner's alone
    # The broker runs with logins: strangers and phones' passwords on the platform's port are refused.
    worker = recipe.county.workers[0].id
    assert login(recipe.phone_port, None, None) == "Not authorized"
    assert login(recipe.platform_port, worker, recipe.passwords[worker]) == "Not authorized"
    phone = Phone(worker, recipe.passwords[worker], recipe.phone_port)
    cells = recipe.county.cells
    reports = [f"readme-{n}" for n in range(5)]
    try:
        for n, report_id in enumerate(reports):
            phone.report(report_id, cells.shapes[n].representative_point())
        phone.wait_for(reports, timeout=60)
        phone.wait_for(["never"], timeout=2)  # room for a second ack, were one sent
    finally:
        phone.close()
    assert sorted(phone.acks) == reports, recipe.output
    for n, report_id in enumerate(reports):
        assert phone.acks[report_id] == [f"accepted {cells.records[n].code}"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the handover to Mosquitto's user is root's")
def test_mqtt_acl_as_root_hands_the_files_to_mosquitto_and_says_when_it_cannot_reach_them(
    sqlite_template: Template, tmp_path: Path
) -> None:
    """pytest's folders are root's alone (0700), as /root is: Mosquitto started as root could not
    open the files there, and `mqtt-acl` says so in both languages; from a folder others may enter
    it says nothing, and the broker's files are Mosquitto's."""
    url = database_for_test(sqlite_template, tmp_path, None)
    closed = gridwatch(url, "mqtt-acl", "--out", str(tmp_path / "broker"))
    assert closed.exit_code == 0, closed.output
    assert "warning: Mosquitto started as root runs as user 'mosquitto', which may not enter" in closed.output
    assert "警告：以 root 启动的 Mosquitto 以用户 'mosquitto' 运行" in closed.output
    open_folder = Path(tempfile.mkdtemp(prefix="gridwatch-acl-"))
    try:
        open_folder.chmod(0o755)
        done = gridwatch(url, "mqtt-acl", "--out", str(open_folder / "broker"))
        assert done.exit_code == 0, done.output
        assert "may not enter" not in done.output
        mosquitto = pwd.getpwnam("mosquitto").pw_uid
        owners = {
            p.name: p.stat().st_uid for p in [open_folder / "broker", *(open_folder / "broker").iterdir()]
        }
        assert owners == {
            "broker": mosquitto,
            "passwords": mosquitto,
            "platform-passwords": mosquitto,
            "acl": mosquitto,
            "credentials.csv": 0,
        }
    finally:
        shutil.rmtree(open_folder, ignore_errors=True)
