"""Loopback ports for the servers the tests (and benchmarks) start, and waiting for them to answer."""

from __future__ import annotations

import socket
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def answers(url: str, status: int = 200) -> bool:
    """Whether a GET of `url` answers with `status` now (False when nothing answers)."""
    try:
        return httpx.get(url, timeout=3).status_code == status
    except httpx.TransportError:
        return False


def wait_answering(url: str, status: int = 200, timeout: float = 60) -> None:
    """Wait until a GET of `url` answers with `status` (a server come up, a worker subscribed …)."""
    deadline = time.monotonic() + timeout
    while not answers(url, status):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer {status} within {timeout:.0f} s")
        time.sleep(0.2)
