"""Real processes on real sockets: two ``tessera issuer serve`` replicas share one database; an offer
made through one is redeemed through the other; a replica killed with SIGKILL loses nothing it
acknowledged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import jose
from shared.crypto import Ed25519PrivateKey, P256PrivateKey
from shared.encoding import b64url_encode
from shared.keys import public_jwk

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "issuer" / "examples" / "birth-certificate.json"
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PUBLIC = "http://issuer.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tessera(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - the caller checks
        [sys.executable, "-m", "shared.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


class Replica:
    def __init__(self, env: dict[str, str], database_url: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "issuer",
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                database_url,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"the issuer did not start: {err[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        if self.process.stderr:
            self.process.stderr.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": b64url_encode(b"r" * 32),
        "TESSERA_ISSUER_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
        # replicas behind one load balancer share one public URL
        "TESSERA_ISSUER_PUBLIC_URL": PUBLIC,
    }


@pytest.fixture
def replicas(env: dict[str, str], database_url: str) -> Iterator[tuple[Replica, Replica]]:
    assert _tessera("issuer", "migrate", "--database-url", database_url, env=env).returncode == 0
    a = Replica(env, database_url)
    try:
        b = Replica(env, database_url)
    except BaseException:
        a.kill()
        raise
    try:
        yield a, b
    finally:
        a.kill()
        b.kill()


def _proof(key: Any, aud: str, nonce: str) -> str:
    return jose.sign_compact(
        {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(key)},
        {"aud": aud, "iat": int(time.time()), "nonce": nonce},
        key,
    )


def test_offer_on_one_replica_redeemed_on_the_other(
    replicas: tuple[Replica, Replica], env: dict[str, str], database_url: str
) -> None:
    a, b = replicas
    made = _tessera(
        "issuer", "api-key", "create", "--scope", "admin", "--json", "--database-url", database_url, env=env
    )
    key = json.loads(made.stdout)["api_key"]
    created = _tessera(
        "issuer",
        "offer",
        "create",
        "--url",
        a.url,
        "--api-key",
        key,
        "--type",
        "BirthCertificate",
        "--claims",
        str(EXAMPLE),
        "--json",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    out = json.loads(created.stdout)
    assert out["offer_uri"].startswith(PUBLIC)
    offer = httpx.get(out["offer_uri"].replace(PUBLIC, b.url)).json()  # made through A, served by B
    code = offer["grants"][PRE_AUTH]["pre-authorized_code"]
    token = httpx.post(
        f"{b.url}/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": out["tx_code"]}
    )
    assert token.status_code == 200, token.text
    assert (
        httpx.post(
            f"{a.url}/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": out["tx_code"]}
        ).status_code
        == 400
    )
    access = token.json()["access_token"]
    nonce = httpx.post(f"{a.url}/nonce").json()["c_nonce"]
    body = {
        "credential_configuration_id": "BirthCertificate_sd_jwt_vc",
        "proofs": {
            "jwt": [
                _proof(Ed25519PrivateKey.generate(), PUBLIC, nonce),
                _proof(P256PrivateKey.generate(), PUBLIC, nonce),
            ]
        },
    }
    reply = httpx.post(f"{b.url}/credential", json=body, headers={"Authorization": f"Bearer {access}"})
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["credentials"]) == 2

    a.kill()  # SIGKILL: no shutdown hooks run; what was acknowledged must be in the database
    record = httpx.get(f"{b.url}/admin/records/{out['record_id']}", headers={"Authorization": f"Bearer {key}"}).json()
    assert record["status"] == "issued" and len(record["credentials"]) == 2
    revoked = _tessera("issuer", "revoke", out["record_id"], "--url", b.url, "--api-key", key, env=env)
    assert revoked.returncode == 0, revoked.stderr
    verified = _tessera("issuer", "audit", "verify", "--database-url", database_url, env=env)
    assert verified.returncode == 0 and "intact" in verified.stdout
