"""Real service processes for end-to-end tests and the benchmarks: a command started on 127.0.0.1 and a free
port, its output in a log file, waited for on a health URL, and stopped with SIGTERM (then killed).

The output goes to a file, never to a pipe: a pipe nobody reads fills up and blocks the server."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log: Path, chars: int = 4000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


class ServiceProcess:
    """``with ServiceProcess(command, url=…, env=…, log=…) as s: httpx.get(s.url + "/healthz")``

    ``start`` returns once ``url + health`` answers 200 (checked with ``verify``, for a test CA); if the
    process exits first, or the timeout passes, it raises with the end of the log. ``stop`` sends SIGTERM,
    waits ``stop_timeout`` seconds, kills if need be, and returns the exit code. Without a ``log`` path the
    output goes to a temporary file, removed on ``stop``.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        url: str,
        env: Mapping[str, str],
        log: Path | None = None,
        name: str = "the service",
        health: str = "/healthz",
        verify: ssl.SSLContext | bool = True,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        cwd: Path = ROOT,
    ) -> None:
        self.command = list(command)
        self.url = url
        self.env = dict(env)
        self.log = log
        self.name = name
        self.health = health
        self.verify = verify
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._temporary_log: Path | None = None

    def start(self, timeout: float | None = None) -> Self:
        timeout = self.start_timeout if timeout is None else timeout
        log = self._log_path()
        with log.open("wb") as out:
            self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                tail = log_tail(log)
                self.stop()
                raise RuntimeError(f"{self.name} exited with {code}:\n{tail}")
            try:
                if httpx.get(f"{self.url}{self.health}", verify=self.verify, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        tail = log_tail(log)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.url} within {timeout} s:\n{tail}")

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit code, or None if it was not running."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=self.stop_timeout if timeout is None else timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            code = self.proc.returncode
        self.proc = None
        if self._temporary_log is not None:
            self._temporary_log.unlink(missing_ok=True)
            self._temporary_log = None
        return code

    def _log_path(self) -> Path:
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            return self.log
        fd, name = tempfile.mkstemp(prefix="tessera-server-", suffix=".log")
        os.close(fd)
        self._temporary_log = Path(name)
        return self._temporary_log

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
