"""Real verifier processes for end-to-end tests: ``uvicorn --factory verifier.app:app_from_env`` on
127.0.0.1 and a free port, configured through ``TESSERA_VERIFIER_*`` like a deployment would be."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from shared.crypto import random_bytes
from tests.servers import ROOT, ServiceProcess, free_port
from verifier.service import create_api_key
from verifier.serving import HTTP_PROTOCOL
from verifier.store import Store, make_engine, migrate

__all__ = ["ROOT", "VerifierProcess", "api_key_for", "free_port"]


def api_key_for(database_url: str) -> str:
    """What ``tessera verifier api-key create`` does, straight on the database."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        return create_api_key(Store(engine), random_bytes, int(time.time()))
    finally:
        engine.dispose()


class VerifierProcess(ServiceProcess):
    """``with VerifierProcess(config=…, database_url=…, key_secret=…) as v: httpx.get(v.url + "/healthz")``

    The server's output goes to ``log`` if given, else to a temporary file removed on ``stop``.
    """

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
        log: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", "verifier.app:app_from_env"),
            *("--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)),
            *("--log-level", "warning", "--no-access-log"),
            *("--http", HTTP_PROTOCOL),  # TCP_NODELAY on every connection: see verifier.serving
        ]
        env = {
            **os.environ,
            "TESSERA_VERIFIER_CONFIG": str(config),
            "TESSERA_VERIFIER_DATABASE_URL": database_url,
            "TESSERA_VERIFIER_KEY_SECRET": key_secret,
            "TESSERA_VERIFIER_PUBLIC_URL": public_url or url,
            "TESSERA_VERIFIER_HOST": "127.0.0.1",
            "TESSERA_VERIFIER_PORT": str(self.port),
            **(extra_env or {}),
        }
        super().__init__(command, url=url, env=env, log=log, name="the verifier")
