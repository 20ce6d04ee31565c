"""A real Mosquitto for the tests (Debian's package), started with the shipped configuration: the
reliability settings alone (anonymous), or with logins the whole of deploy/mosquitto/mosquitto.conf
as compose runs it, on free ports and with paths of its own."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.network import free_port, wait_listening

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "conf.d"
COMPOSED = SHIPPED.parent / "mosquitto.conf"


@dataclass
class Broker:
    # Where phones connect; with logins the platform has a listener of its own.
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    platform_port: int
    # The TLS listeners, when the broker was given certificates.
    tls_port: int | None = None
    platform_tls_port: int | None = None

    @property
    def ports(self) -> list[int]:
        return [p for p in (self.port, self.platform_port, self.tls_port, self.platform_tls_port) if p]

    def start(self) -> None:
        self.process = _launch(self.folder)
        for port in self.ports:
            wait_listening(port)

    def stop(self) -> None:
        self.process.terminate()  # a clean shutdown writes the persistence file
        self.process.wait(timeout=20)

    def kill(self) -> None:
        """A crash: what changed since the last autosave is gone."""
        self.process.send_signal(signal.SIGKILL)
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


def _composed(folder: Path, ports: dict[int, int], certs: Path | None) -> str:
    """deploy/mosquitto/mosquitto.conf with the test's ports and paths; with `certs`, its TLS
    listeners switched on."""
    text = COMPOSED.read_text(encoding="utf-8")
    if certs is not None:
        for tls in (8883, 8884):
            block = re.search(rf"^#listener {tls}\n(#.*\n)+", text, re.MULTILINE)
            assert block is not None, f"mosquitto.conf documents the TLS listener {tls}"
            text = text.replace(block.group(0), block.group(0).replace("#", ""))
    for shipped, port in ports.items():
        text, found = re.subn(rf"^listener {shipped}$", f"listener {port} 127.0.0.1", text, flags=re.M)
        assert found == 1, f"mosquitto.conf has listener {shipped}"
    for shipped, here in (
        ("/mosquitto/auth/", f"{folder}/"),
        ("/mosquitto/data/", f"{folder}/"),
        ("/mosquitto/certs/", f"{certs}/"),
        ("/mosquitto/config/conf.d", str(SHIPPED)),
    ):
        text = text.replace(shipped, here)
    assert not re.search(r"^[^#].* /mosquitto/", text, re.M), "a path of the image is left"
    return text


@contextmanager
def mosquitto(auth: Path | None = None, certs: Path | None = None) -> Iterator[Broker]:
    """A broker on free ports. With `auth`, the folder `gridwatch mqtt-acl` wrote: the shipped
    mosquitto.conf with its files; with `certs` (server.crt, server.key) too, its TLS listeners."""
    if shutil.which("mosquitto") is None:
        raise RuntimeError("mosquitto not found: apt-get install mosquitto (.ci/run does)")
    # Outside pytest's folders, which Mosquitto's user may not enter.
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-mqtt-"))
    port = platform_port = free_port()
    tls_port = platform_tls_port = None
    if auth is None:
        text = f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence_location {folder}/\n"
        text += f"include_dir {SHIPPED}\n"
    else:
        platform_port = free_port()
        ports = {1883: port, 1884: platform_port}
        if certs is not None:
            tls_port, platform_tls_port = free_port(), free_port()
            ports |= {8883: tls_port, 8884: platform_tls_port}
        for name in ("passwords", "platform-passwords", "acl"):
            shutil.copy(auth / name, folder / name)
        text = _composed(folder, ports, certs)
    (folder / "mosquitto.conf").write_text(text, encoding="utf-8")
    if os.geteuid() == 0:  # mosquitto drops root for its own user
        for path in [folder, *folder.iterdir(), *([certs, *certs.iterdir()] if certs else [])]:
            shutil.chown(path, "mosquitto", "mosquitto")
    broker = Broker(port, folder, _launch(folder), platform_port, tls_port, platform_tls_port)
    try:
        for listening in broker.ports:
            wait_listening(listening)
        yield broker
    finally:
        broker.process.kill()
        broker.process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
