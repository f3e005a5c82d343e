"""Real issuer processes for end-to-end tests and the benchmark: ``tessera issuer serve`` on 127.0.0.1
and a free port, configured through ``TESSERA_ISSUER_*`` like a deployment would be."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.servers import ROOT, ServiceProcess, free_port

__all__ = ["ROOT", "IssuerProcess", "api_key_for", "free_port"]


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


class IssuerProcess(ServiceProcess):
    """``with IssuerProcess(database_url=…, key_encryption_key=…, data_dir=…) as i: httpx.get(i.url + "/healthz")``

    The server's standard error (its JSON logs) goes to ``data_dir/server.log``.
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
        url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or url
        self.data_dir = data_dir
        self.database_url = database_url
        self.workers = workers
        command = [
            *(sys.executable, "-m", "shared.cli", "issuer", "serve", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--workers", str(workers), "--database-url", database_url),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": key_encryption_key,
            "TESSERA_ISSUER_DATA_DIR": str(data_dir),
            "TESSERA_ISSUER_PUBLIC_URL": self.public_url,
            **(extra_env or {}),
        }
        super().__init__(
            command,
            url=url,
            env=env,
            log=data_dir / "server.log",
            name="the issuer",
            start_timeout=60.0,
            stop_timeout=15.0,
        )
