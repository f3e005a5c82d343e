"""Scale out, not up (design.md §5): two verifier processes (uvicorn, 127.0.0.1) on one PostgreSQL.
A session created through one is fetched and answered through the other, and single use holds
across both (a second post through the first is ``replayed``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from shared import jose, sd_jwt
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.did import did_key_from_public_key
from shared.encoding import b64url_encode

from .servers import VerifierProcess, api_key_for

VCT = "https://w3id.org/tessera/vct/birth-certificate/v1"
ISSUER_KEY = Ed25519PrivateKey(b"\x71" * 32)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
KID = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
HOLDER = Ed25519PrivateKey(b"\x72" * 32)

CONFIG = f"""
[[trust.issuers]]
did = "{ISSUER}"
name = "Registry"
types = ["{VCT}"]

[policies.age]
purpose = {{ en = "Over 18?" }}

[[policies.age.dcql.credentials]]
id = "bc"
format = "dc+sd-jwt"
meta = {{ vct_values = ["{VCT}"] }}
claims = [{{ path = ["age_over_18"], values = [true] }}]
"""


def credential() -> sd_jwt.SdJwt:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "vct": VCT, "iat": int(now.timestamp()), "age_over_18": True, "givenName": "Amara"}
    return sd_jwt.issue(
        claims,
        disclosable=["age_over_18", "givenName"],
        signer=ISSUER_KEY,
        holder_key=HOLDER.public_key,
        now=now,
        random_bytes=random_bytes,
        kid=KID,
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_share_one_postgresql(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text(CONFIG, encoding="utf-8")
    key = api_key_for(database_url)
    secret = b64url_encode(b"r" * 32)  # replicas share the key secret through settings, not a file
    # both replicas sit behind one public URL (a load balancer); here the first one's address
    first = VerifierProcess(config=config, database_url=database_url, key_secret=secret)
    second = VerifierProcess(config=config, database_url=database_url, key_secret=secret, public_url=first.url)
    with first, second:
        a = httpx.Client(base_url=first.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        b = httpx.Client(base_url=second.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert a.get("/healthz").json()["did"] == b.get("/healthz").json()["did"]  # one identity

        session = a.post("/sessions", json={"policy": "age"}).json()
        request_path = session["request_uri"].removeprefix(first.url)
        token = b.get(request_path).text  # the request object, from the other replica
        request = jose.decode_unverified(token).payload
        assert request["client_id"] == session["client_id"]
        assert a.get(f"/sessions/{session['session_id']}").json()["status"] == "fetched"

        presentation = sd_jwt.present(
            credential(),
            reveal=["age_over_18"],
            holder_signer=HOLDER,
            audience=request["client_id"],
            nonce=request["nonce"],
            now=datetime.now(UTC),
        )
        form = urlencode({"vp_token": json.dumps({"bc": [presentation]}), "state": request["state"]})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response_path = request["response_uri"].removeprefix(first.url)
        assert b.post(response_path, content=form, headers=headers).status_code == 200
        result = a.get(f"/sessions/{session['session_id']}").json()
        assert result["status"] == "verified", result
        assert result["claims"] == {"bc": {"age_over_18": True}}
        again = a.post(response_path, content=form, headers=headers)  # the nonce is good once, everywhere
        assert again.status_code == 400 and again.json()["reason"] == "replayed"

        other = b.post("/sessions", json={"policy": "age"}).json()  # and the other way round
        assert a.get(f"/sessions/{other['session_id']}").json()["status"] == "pending"
        a.close()
        b.close()
