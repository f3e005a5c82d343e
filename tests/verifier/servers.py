"""Real verifier processes for end-to-end tests: ``uvicorn --factory verifier.app:app_from_env`` on
127.0.0.1 and a free port, configured through ``TESSERA_VERIFIER_*`` like a deployment would be."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from shared.crypto import random_bytes
from verifier.service import create_api_key
from verifier.serving import HTTP_PROTOCOL
from verifier.store import Store, make_engine, migrate

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_key_for(database_url: str) -> str:
    """What ``tessera verifier api-key create`` does, straight on the database."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        return create_api_key(Store(engine), random_bytes, int(time.time()))
    finally:
        engine.dispose()


class VerifierProcess:
    """``with VerifierProcess(config=…, database_url=…, key_secret=…) as v: httpx.get(v.url + "/healthz")``"""

    def __init__(
        self,
        *,
        config: Path,
        database_url: str,
        key_secret: str,
        workers: int = 1,
        port: int | None = None,
        public_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TESSERA_VERIFIER_CONFIG": str(config),
            "TESSERA_VERIFIER_DATABASE_URL": database_url,
            "TESSERA_VERIFIER_KEY_SECRET": key_secret,
            "TESSERA_VERIFIER_PUBLIC_URL": public_url or self.url,
            "TESSERA_VERIFIER_HOST": "127.0.0.1",
            "TESSERA_VERIFIER_PORT": str(self.port),
            **(extra_env or {}),
        }
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> VerifierProcess:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "verifier.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            HTTP_PROTOCOL,  # TCP_NODELAY on every connection: see verifier.serving
        ]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.proc.stdout.read().decode("utf-8", "replace") if self.proc.stdout else ""
                raise RuntimeError(f"the verifier exited with {self.proc.returncode}:\n{output[-4000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the verifier did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> VerifierProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
