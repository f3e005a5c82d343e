"""Real issuer processes for end-to-end tests and the benchmark: ``tessera issuer serve`` on 127.0.0.1
and a free port, configured through ``TESSERA_ISSUER_*`` like a deployment would be."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_key_for(database_url: str, key_encryption_key: str, scopes: tuple[str, ...] = ("admin",)) -> str:
    """What ``tessera issuer api-key create`` does, straight on the database (migrating it first)."""
    from issuer.app import build_service
    from issuer.settings import IssuerSettings

    with tempfile.TemporaryDirectory() as data_dir:
        settings = IssuerSettings(
            database_url=database_url, key_encryption_key=key_encryption_key, data_dir=Path(data_dir)
        )
        service = build_service(settings)
        try:
            return service.create_api_key(list(scopes), "test", actor="test")
        finally:
            service.db.dispose()


class IssuerProcess:
    """``with IssuerProcess(database_url=…, key_encryption_key=…, data_dir=…) as i: httpx.get(i.url + "/healthz")``

    The server's standard error (its JSON logs) goes to ``data_dir/server.log``: a pipe nobody reads
    would fill up and block the server.
    """

    def __init__(
        self,
        *,
        database_url: str,
        key_encryption_key: str,
        data_dir: Path,
        workers: int = 1,
        port: int | None = None,
        public_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or self.url
        self.data_dir = data_dir
        self.log = data_dir / "server.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": key_encryption_key,
            "TESSERA_ISSUER_DATA_DIR": str(data_dir),
            "TESSERA_ISSUER_PUBLIC_URL": self.public_url,
            **(extra_env or {}),
        }
        self.database_url = database_url
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> IssuerProcess:
        command = [
            sys.executable,
            "-m",
            "shared.cli",
            "issuer",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--database-url",
            self.database_url,
        ]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.log.read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"the issuer exited with {self.proc.returncode}:\n{output[-4000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the issuer did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> IssuerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
