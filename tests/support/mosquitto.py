"""A real Mosquitto for the tests (Debian's package), started with the shipped configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.network import free_port, wait_listening

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "conf.d"


@dataclass
class Broker:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    def start(self) -> None:
        self.process = _launch(self.folder)
        wait_listening(self.port)

    def stop(self) -> None:
        self.process.terminate()  # a clean shutdown writes the persistence file
        self.process.wait(timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()


def _launch(folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["mosquitto", "-c", str(folder / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextmanager
def mosquitto(auth: Path | None = None) -> Iterator[Broker]:
    """A broker on a free port; with `auth`, the `passwords` and `acl` files in that folder apply."""
    if shutil.which("mosquitto") is None:
        raise RuntimeError("mosquitto not found: apt-get install mosquitto (.ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-mqtt-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "mosquitto", "mosquitto")  # mosquitto drops root for its own user
    port = free_port()
    access = "allow_anonymous true\n"
    if auth is not None:
        for name in ("passwords", "acl"):
            shutil.copy(auth / name, folder / name)
            if os.geteuid() == 0:
                shutil.chown(folder / name, "mosquitto", "mosquitto")
        access = f"allow_anonymous false\npassword_file {folder}/passwords\nacl_file {folder}/acl\n"
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\n{access}persistence_location {folder}/\ninclude_dir {SHIPPED}\n",
        encoding="utf-8",
    )
    broker = Broker(port=port, folder=folder, process=_launch(folder))
    try:
        wait_listening(port)
        yield broker
    finally:
        broker.process.kill()
        broker.process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
