"""``tessera issuer serve --tls-cert … --tls-key …``: HTTPS with a certificate for 127.0.0.1 made here (a
test CA and a server certificate signed by it), https URLs in the metadata, and a clear one-line error
— not a traceback — for a missing, unreadable or mismatched certificate or key."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.encoding import b64url_encode
from tests.servers import ROOT, ServiceProcess, free_port
from tests.tls import make_certificates, pem_key

pytestmark = pytest.mark.slow
PUBLIC = "https://registry.example"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TESSERA_ISSUER_")},
        "PYTHONPATH": str(ROOT),
        "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": b64url_encode(b"t" * 32),
        "TESSERA_ISSUER_DATA_DIR": str(tmp_path / "data"),
        "TESSERA_ISSUER_DATABASE_URL": f"sqlite:///{tmp_path / 'issuer.db'}",
    }


def _serve(env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", "issuer", "serve", "--host", "127.0.0.1", *args]


@pytest.fixture
def https_issuer(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, ssl.SSLContext]]:
    """Two workers behind HTTPS, with an https public URL."""
    ca, cert, key = make_certificates(tmp_path)
    port = free_port()
    command = _serve(env, "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key), "--workers", "2")
    trust = ssl.create_default_context(cafile=str(ca))
    url = f"https://127.0.0.1:{port}"
    server = ServiceProcess(
        command,
        url=url,
        env={**env, "TESSERA_ISSUER_PUBLIC_URL": PUBLIC},
        log=tmp_path / "server.log",
        name="the issuer",
        verify=trust,
        start_timeout=60,
    )
    with server:
        yield url, trust
        assert server.stop(timeout=30) == 0  # the supervisor stops its workers and exits cleanly on SIGTERM


def test_https_with_an_https_public_url(https_issuer: tuple[str, ssl.SSLContext]) -> None:
    url, trust = https_issuer
    with httpx.Client(base_url=url, verify=trust, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        meta = client.get("/.well-known/openid-credential-issuer").json()
        assert meta["credential_issuer"] == PUBLIC
        assert meta["credential_endpoint"] == f"{PUBLIC}/credential"
        assert meta["nonce_endpoint"] == f"{PUBLIC}/nonce"
        assert client.get("/.well-known/oauth-authorization-server").json()["token_endpoint"] == f"{PUBLIC}/token"
        assert client.get("/.well-known/did.json").json()["id"] == "did:web:registry.example"
        for _ in range(10):  # several connections: each worker of the two answers over TLS
            with httpx.Client(base_url=url, verify=trust, timeout=10) as fresh:
                assert fresh.get("/healthz").status_code == 200
    with pytest.raises(httpx.ConnectError):  # the test CA is the only one that vouches for this server
        httpx.get(f"{url}/healthz", timeout=10)


def test_the_default_base_url_is_https_with_a_certificate(tmp_path: Path) -> None:
    from issuer.settings import IssuerSettings

    settings = IssuerSettings(host="127.0.0.1", port=8443, tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    assert settings.base_url == "https://127.0.0.1:8443"


def _refused(env: dict[str, str], *args: str) -> str:
    """Run ``serve`` expecting it to refuse to start: its standard error."""
    command = _serve(env, "--port", str(free_port()), *args)
    done = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "serving" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tessera: error ["), done.stderr
    return lines[0]


def test_bad_certificate_or_key_is_one_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    _, cert, key = make_certificates(tmp_path)
    missing = tmp_path / "nowhere.pem"
    assert str(missing) in _refused(env, "--tls-cert", str(missing), "--tls-key", str(key))
    assert str(missing) in _refused(env, "--tls-cert", str(cert), "--tls-key", str(missing))
    other = tmp_path / "other.key"
    other.write_bytes(pem_key(ec.generate_private_key(ec.SECP256R1())))
    mismatch = _refused(env, "--tls-cert", str(cert), "--tls-key", str(other))
    assert "cannot use the TLS certificate" in mismatch and str(other) in mismatch
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    assert "cannot use the TLS certificate" in _refused(env, "--tls-cert", str(junk), "--tls-key", str(key))
    assert "go together" in _refused(env, "--tls-cert", str(cert))
    assert not (tmp_path / "issuer.db").exists()  # refused before touching the database


def test_a_taken_port_is_one_clear_error_with_workers(env: dict[str, str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            _serve(env, "--port", str(port), "--workers", "2"),
            check=False,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
