"""A command run in a real pseudo-terminal, as a person runs it: read what it draws, type keys."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

SCREEN_KEPT = 200_000  # bytes of output kept to match against: the last few frames


class Terminal:
    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], cwd: Path, rows: int = 40, cols: int = 140
    ):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(
            list(command),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**env, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.screen = b""

    def wait_for(self, pattern: bytes, timeout: float) -> re.Match[bytes] | None:
        """The last match of `pattern` in what the command drew, once there is one; None after
        `timeout` seconds or when the command ended without drawing it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    self.screen = (self.screen + os.read(self.master, 65536))[-SCREEN_KEPT:]
                except OSError:  # the command ended and closed the terminal
                    return None
            found = list(re.finditer(pattern, self.screen))
            if found:
                return found[-1]
        return None

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        """Kill what is still running (the whole session), and let go of the terminal."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=20)
        os.close(self.master)
