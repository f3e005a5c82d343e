"""The demo's issuer and verifier: real ``uvicorn`` processes on 127.0.0.1, configured like a deployment.

Each service is started as ``python -m uvicorn --factory issuer.app:app_from_env`` (or ``verifier.app``)
with its settings in ``TESSERA_ISSUER_*`` / ``TESSERA_VERIFIER_*``; API keys come from the services' own
CLIs (``tessera issuer api-key create --json``, ``tessera verifier api-key create --json``). Nothing here
imports the issuer's or verifier's Python modules: the demo sees them as a wallet and a relying party
would, over HTTP.

- The issuer is https (a throwaway CA, :func:`wallet.demo.config.make_tls`): its SD-JWT VCs name it by URL, and
  issuer keys are fetched over https only. Its public URL makes it ``did:web:127.0.0.1%3A<port>``.
- The verifier is plain http on loopback (which the wallet accepts for local runs), so it is a
  ``did:key`` verifier. It trusts the demo CA through ``SSL_CERT_FILE``, may fetch from private
  addresses (the issuer is on 127.0.0.1), and does not cache status lists, so a revocation shows at once
  (a deployment keeps the default cache and sees it within ``status_cache_seconds``).

To save time, work that does not depend on another step runs side by side: the verifier's API key (which
also migrates its database) is made while the issuer starts, the issuer's while the verifier starts.
Every process is stopped by :meth:`Services.stop`, also when starting fails half-way; their output goes
to log files whose last lines are quoted when something goes wrong.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from shared.encoding import b64url_encode
from shared.errors import REASONS, TesseraError
from wallet.demo.config import DemoTls, make_tls, write_verifier_config

HOST = "127.0.0.1"
START_TIMEOUT = 45.0
ISSUER_NAME = "Demo civil registry"
SD_JWT_CONFIGURATION = "BirthCertificate_sd_jwt_vc"
# settings a person may have exported for their own services; the demo's must not inherit them
OWN_PREFIXES = ("TESSERA_ISSUER_", "TESSERA_VERIFIER_", "SSL_CERT_")


class DemoError(TesseraError):
    """Something in the demo did not happen as the story says; the message says what and where."""

    default_code = "server_error"


def error_code(value: Any) -> str:
    """A reason code from a service's error body, when it is one Tessera knows."""
    code = value.get("reason") or value.get("error") if isinstance(value, dict) else None
    return code if isinstance(code, str) and code in REASONS else "server_error"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    # The children run in the temporary directory; make sure they import this same Tessera.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class ServiceProcess:
    name: str
    url: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    verify: ssl.SSLContext | bool = True
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        # A session of its own: Ctrl-C in the terminal reaches the demo only, which then stops the
        # services itself, in order, instead of every process racing to shut down.
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            self.command,
            cwd=self.log_path.parent,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def wait_ready(self, deadline: float) -> None:
        with httpx.Client(verify=self.verify, timeout=2.0) as client:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    code = self.proc.returncode if self.proc is not None else "?"
                    raise DemoError(f"the {self.name} stopped while starting (exit {code}):\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError(f"the {self.name} did not answer on {self.url} in time:\n{self.log_tail()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass(frozen=True)
class IssuerInfo:
    url: str
    did: str
    vct: str  # of the SD-JWT VC birth certificate, as the issuer's metadata advertises it
    api_key: str  # scopes issue and revoke
    database_url: str


@dataclass(frozen=True)
class VerifierInfo:
    url: str
    api_key: str
    config_path: Path
    database_url: str


def _uvicorn(app: str, port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        *extra,
    ]


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # like the services: stopped by us, not by the terminal's Ctrl-C
    )


def _api_key(proc: subprocess.Popen[str], what: str) -> str:
    try:
        out, err = proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise DemoError(f"'{what}' did not finish in time") from None
    try:
        key = json.loads(out)["api_key"]
    except (ValueError, KeyError, TypeError):
        raise DemoError(f"'{what}' failed (exit {proc.returncode}): {err.strip()[-500:]}") from None
    return str(key)


@dataclass
class Services:
    """``with Services(workdir) as s:`` — the issuer and verifier, running, with API keys."""

    workdir: Path
    database_url: str | None = None  # one database for both (their tables are prefixed); default SQLite files
    tls: DemoTls | None = None
    issuer: IssuerInfo | None = None
    verifier: VerifierInfo | None = None
    processes: list[ServiceProcess] = field(default_factory=list)
    commands: list[subprocess.Popen[str]] = field(default_factory=list)  # the CLIs, while they run

    def __enter__(self) -> Services:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def ssl_context(self) -> ssl.SSLContext:
        assert self.tls is not None, "start the services first"
        return ssl.create_default_context(cafile=str(self.tls.ca_file))

    def http_client(self) -> httpx.Client:
        """An httpx client that trusts the demo CA (for the wallet, and for the demo's admin calls)."""
        return httpx.Client(verify=self.ssl_context(), timeout=15.0, follow_redirects=False)

    def start(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tls = make_tls(self.workdir)
        issuer_port = free_port()
        verifier_port = free_port()
        while verifier_port == issuer_port:  # both sockets were closed: the kernel may hand out one port twice
            verifier_port = free_port()
        issuer_url, verifier_url = f"https://{HOST}:{issuer_port}", f"http://{HOST}:{verifier_port}"
        issuer_db = self.database_url or f"sqlite:///{self.workdir / 'issuer.db'}"
        verifier_db = self.database_url or f"sqlite:///{self.workdir / 'verifier.db'}"
        base = _base_env()
        issuer_env = base | {
            "TESSERA_ISSUER_HOST": HOST,
            "TESSERA_ISSUER_PORT": str(issuer_port),
            "TESSERA_ISSUER_PUBLIC_URL": issuer_url,
            "TESSERA_ISSUER_DATA_DIR": str(self.workdir / "issuer"),
            "TESSERA_ISSUER_DATABASE_URL": issuer_db,
            "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": b64url_encode(os.urandom(32)),
            "TESSERA_ISSUER_ISSUER_NAME": ISSUER_NAME,
        }
        config_path = self.workdir / "verifier.toml"
        verifier_env = base | {
            "TESSERA_VERIFIER_HOST": HOST,
            "TESSERA_VERIFIER_PORT": str(verifier_port),
            "TESSERA_VERIFIER_PUBLIC_URL": verifier_url,
            "TESSERA_VERIFIER_DATABASE_URL": verifier_db,
            "TESSERA_VERIFIER_CONFIG": str(config_path),
            "TESSERA_VERIFIER_KEY_SECRET": b64url_encode(os.urandom(32)),
            "TESSERA_VERIFIER_ALLOW_PRIVATE_FETCH": "true",
            "TESSERA_VERIFIER_STATUS_CACHE_SECONDS": "0",
            "SSL_CERT_FILE": str(self.tls.ca_file),
        }
        issuer = ServiceProcess(
            "issuer",
            issuer_url,
            _uvicorn(
                "issuer.app:app_from_env",
                issuer_port,
                "--ssl-certfile",
                str(self.tls.cert_file),
                "--ssl-keyfile",
                str(self.tls.key_file),
            ),
            issuer_env,
            self.workdir / "issuer.log",
            verify=self.ssl_context(),
        )
        self.processes.append(issuer)
        issuer.start()
        # The verifier's key now (it migrates the verifier's database), while the issuer starts. Its config
        # file is written only once the issuer's DID is known, so the command is not pointed at it yet.
        key_env = {k: v for k, v in verifier_env.items() if k != "TESSERA_VERIFIER_CONFIG"}
        verifier_key = self._command(
            "verifier", "api-key", "create", "--json", "--database-url", verifier_db, env=key_env
        )
        issuer.wait_ready(deadline)
        # The issuer has migrated its database: its key can be made while the verifier starts.
        issuer_key = self._command(
            *("issuer", "api-key", "create", "--scope", "issue,revoke", "--label", "tessera demo", "--json"),
            *("--database-url", issuer_db),
            env=issuer_env,
        )
        did, vct = self._discover(issuer_url)
        write_verifier_config(config_path, issuer_did=did, issuer_url=issuer_url, vct=vct)
        verifier_api_key = _api_key(verifier_key, "tessera verifier api-key create")
        verifier = ServiceProcess(
            "verifier",
            verifier_url,
            _uvicorn("verifier.app:app_from_env", verifier_port),
            verifier_env,
            self.workdir / "verifier.log",
        )
        self.processes.append(verifier)
        verifier.start()
        self.issuer = IssuerInfo(issuer_url, did, vct, _api_key(issuer_key, "tessera issuer api-key create"), issuer_db)
        verifier.wait_ready(deadline)
        self.verifier = VerifierInfo(verifier_url, verifier_api_key, config_path, verifier_db)

    def _command(self, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        proc = _cli(*args, env=env, cwd=self.workdir)
        self.commands.append(proc)
        return proc

    def _discover(self, issuer_url: str) -> tuple[str, str]:
        """The issuer's DID (its DID document) and the vct of its SD-JWT VC birth certificate (its metadata)."""
        try:
            with self.http_client() as client:
                did = client.get(f"{issuer_url}/.well-known/did.json").json().get("id")
                metadata = client.get(f"{issuer_url}/.well-known/openid-credential-issuer").json()
                configs = metadata.get("credential_configurations_supported") or {}
                vct = (configs.get(SD_JWT_CONFIGURATION) or {}).get("vct")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:  # AttributeError: JSON of another shape
            raise DemoError(f"the issuer's DID document or metadata could not be read: {exc}") from exc
        if not isinstance(did, str) or not isinstance(vct, str):
            raise DemoError(f"the issuer does not publish a DID and a {SD_JWT_CONFIGURATION} vct")
        return did, vct

    def stop(self) -> None:
        """Stop everything this started (interrupted half-way, a CLI may still be running too)."""
        for command in self.commands:
            if command.poll() is None:
                command.kill()
            command.communicate()
        self.commands.clear()
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    # --- calls the story makes as the registry's and the relying parties' software -----------------

    def _call(self, url: str, api_key: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            with self.http_client() as client:
                reply = client.request(method, url + path, json=body, headers={"Authorization": f"Bearer {api_key}"})
        except httpx.HTTPError as exc:  # a service that stopped mid-story: say so, with the reason code
            raise DemoError(f"{method} {url}{path}: {type(exc).__name__}", code="network_error") from exc
        try:
            value = reply.json()
        except ValueError:
            value = {}
        if reply.status_code >= 400 or not isinstance(value, dict):
            detail = value.get("error_description", "") if isinstance(value, dict) else ""
            raise DemoError(f"{method} {path} failed with HTTP {reply.status_code}: {detail}", code=error_code(value))
        return value

    def issuer_admin(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        assert self.issuer is not None, "start the services first"
        return self._call(self.issuer.url, self.issuer.api_key, method, path, body)

    def verifier_api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        assert self.verifier is not None, "start the services first"
        return self._call(self.verifier.url, self.verifier.api_key, method, path, body)
