"""``tessera verifier serve --tls-cert … --tls-key …`` without a public URL: served over HTTPS, and every link
it hands out (request URI, response URI, status and counter-page URLs) is https, as for the issuer
(tests/issuer/test_tls.py)."""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared import jose
from shared.encoding import b64url_encode
from tests.servers import ROOT, ServiceProcess, free_port
from tests.tls import make_certificates
from tests.verifier.conftest import EXAMPLE_CONFIG
from tests.verifier.servers import api_key_for

pytestmark = pytest.mark.slow


@pytest.fixture
def https_verifier(tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext, str]]:
    ca, cert, key = make_certificates(tmp_path)
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'verifier.db'}"
    api_key = api_key_for(database_url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TESSERA_VERIFIER_")},
        "PYTHONPATH": str(ROOT),
        "TESSERA_VERIFIER_DATABASE_URL": database_url,
        "TESSERA_VERIFIER_KEY_SECRET": b64url_encode(b"t" * 32),
    }
    command = [
        *(sys.executable, "-m", "shared.cli", "verifier", "serve", "--host", "127.0.0.1", "--port", str(port)),
        *("--tls-cert", str(cert), "--tls-key", str(key), "--config", str(EXAMPLE_CONFIG)),
    ]
    trust = ssl.create_default_context(cafile=str(ca))
    url = f"https://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with ServiceProcess(
        command, url=url, env=env, log=log, name="the verifier", verify=trust, start_timeout=60, stop_timeout=30
    ):
        yield url, trust, api_key


def test_tls_without_a_public_url_hands_out_https_links(https_verifier: tuple[str, ssl.SSLContext, str]) -> None:
    url, trust, api_key = https_verifier
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, verify=trust, timeout=10, headers=headers) as client:
        session = client.post("/sessions", json={"policy": "age-over-18"})
        assert session.status_code == 201, session.text
        created = session.json()
        for name in ("request_uri", "status_url", "view_url", "qr_png_url", "qr_svg_url"):
            assert created[name].startswith(f"{url}/"), (name, created[name])
        assert parse_qs(urlsplit(created["link"]).query)["request_uri"] == [created["request_uri"]]
        token = client.get(urlsplit(created["request_uri"]).path).text
        assert jose.decode_unverified(token).payload["response_uri"].startswith(f"{url}/responses/")
        # the VC API needs the key over TLS too
        assert client.post("/credentials/verify", json={"verifiableCredential": {}}).status_code == 422  # a verdict
        assert httpx.post(f"{url}/credentials/verify", json={}, verify=trust, timeout=10).status_code == 401
