"""The verifier against independent implementations, over real HTTP (uvicorn on 127.0.0.1).

- ``@sd-jwt/sd-jwt-vc`` issues (Ed25519 did:key issuer, trusted in the verifier's config) and presents
  SD-JWT VCs with Ed25519 and ES256 holder keys; the KB-JWT carries ``aud`` = the full client_id and the
  request object's ``nonce``. Our verifier accepts them.
- ``@digitalbazaar/vc`` signs a credential and a VP (``challenge`` = nonce, ``domain`` = client_id);
  our verifier accepts it in a session and through the VC API.
- ``@openid4vc/openid4vp`` (``oid4vp_wallet.mjs``) is the wallet for a whole session: it parses the
  link, fetches and verifies the signed request object, builds the response and posts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from shared import jose
from shared.crypto import Ed25519PrivateKey
from shared.did import did_key_from_public_key
from shared.encoding import b64url_encode
from shared.keys import public_jwk
from tests.verifier.servers import VerifierProcess, api_key_for

pytestmark = pytest.mark.interop
Oracle = Callable[..., dict[str, Any]]

VCT = "https://w3id.org/tessera/vct/birth-certificate/v1"
BIRTH_CONTEXT = "https://w3id.org/tessera/contexts/birth-certificate/v1"
ISSUER_SEED = b"\x61" * 32
ISSUER_KEY = Ed25519PrivateKey(ISSUER_SEED)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
ISSUER_KID = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
HOLDER_SEED = b"\x62" * 32
HOLDER = did_key_from_public_key(Ed25519PrivateKey(HOLDER_SEED).public_key)
HOLDER_KID = f"{HOLDER}#{HOLDER.removeprefix('did:key:')}"
CLAIMS = {
    "givenName": "Amara",
    "familyName": "Okafor",
    "birthDate": "2008-01-10",
    "age_over_18": True,
    "age_over_21": False,
    "sex": "F",
    "nationality": "NG",
    "placeOfBirth": "Enugu",
    "registrationNumber": "ENU-2008-000417",
    "registrationDate": "2008-01-15",
    "registeringAuthority": "Enugu State Civil Registry",
    "motherName": "Ngozi Okafor",
}
REVEAL = ["givenName", "familyName", "age_over_18"]

CONFIG = f"""
[client]
name = {{ en = "Interop Verifier", fr = "Vérificateur d'interopérabilité" }}

[[trust.issuers]]
did = "{ISSUER}"
name = "Interop Registry"
types = ["{VCT}", "BirthCertificate"]

[policies.sd]
purpose = {{ en = "Your name and that you are over 18.", fr = "Votre nom et que vous avez plus de 18 ans." }}

[[policies.sd.dcql.credentials]]
id = "bc"
format = "dc+sd-jwt"
meta = {{ vct_values = ["{VCT}"] }}
claims = [{{ path = ["givenName"] }}, {{ path = ["familyName"] }}, {{ path = ["age_over_18"], values = [true] }}]

[policies.ldp]
purpose = {{ en = "Your child's name.", fr = "Le nom de votre enfant." }}

[[policies.ldp.dcql.credentials]]
id = "bc"
format = "ldp_vc"
meta = {{ type_values = [["BirthCertificate"]] }}
claims = [{{ path = ["credentialSubject", "givenName"] }}, {{ path = ["credentialSubject", "birthDate"] }}]
"""


def issuer_private_jwk() -> dict[str, str]:
    return {**public_jwk(ISSUER_KEY), "d": b64url_encode(ISSUER_SEED)}


class Verifier:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {api_key}"})

    def session(self, policy: str) -> dict[str, Any]:
        response = self.http.post("/sessions", json={"policy": policy})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def request_object(self, session: dict[str, Any]) -> dict[str, Any]:
        token = httpx.get(session["request_uri"], timeout=30).text  # no API key: the wallet's side
        return jose.decode_unverified(token).payload

    def post(self, request: dict[str, Any], vp: Any, query_id: str = "bc") -> httpx.Response:
        form = urlencode({"vp_token": json.dumps({query_id: [vp]}), "state": request["state"]})
        return httpx.post(
            request["response_uri"],
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )

    def result(self, session: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.get(f"/sessions/{session['session_id']}").json())


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verifier]:
    root: Path = tmp_path_factory.mktemp("verifier")
    config = root / "verifier.toml"
    config.write_text(CONFIG, encoding="utf-8")
    database_url = f"sqlite:///{root / 'verifier.db'}"
    key = api_key_for(database_url)
    with VerifierProcess(config=config, database_url=database_url, key_secret=b64url_encode(b"s" * 32)) as process:
        client = Verifier(process.url, key)
        yield client
        client.http.close()


def issue_sd_jwt(oracle: Oracle, holder_public_jwk: dict[str, Any]) -> str:
    now = int(datetime.now(UTC).timestamp())
    issued = oracle(
        "sdjwt.mjs",
        {
            "op": "issue",
            "issuerJwk": issuer_private_jwk(),
            "claims": {"iss": ISSUER, "vct": VCT, "iat": now, "exp": now + 3600, **CLAIMS},
            "disclosable": list(CLAIMS),
            "holderJwk": holder_public_jwk,
            "kid": ISSUER_KID,
            "typ": "dc+sd-jwt",
        },
    )
    return str(issued["sdJwt"])


def assert_verified(result: dict[str, Any]) -> None:
    assert result["status"] == "verified", json.dumps(result.get("verdict"), indent=1)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_sd_jwt_js_presentation_is_accepted(oracle: Oracle, verifier: Verifier, alg: str) -> None:
    holder = oracle("sdjwt.mjs", {"op": "generateKey", "alg": alg})
    credential = issue_sd_jwt(oracle, holder["publicJwk"])
    session = verifier.session("sd")
    request = verifier.request_object(session)
    presented = oracle(
        "sdjwt.mjs",
        {
            "op": "present",
            "sdJwt": credential,
            "reveal": REVEAL,
            "holderJwk": holder["privateJwk"],
            "audience": request["client_id"],  # the full client_id, with its decentralized_identifier: prefix
            "nonce": request["nonce"],
        },
    )["sdJwt"]
    assert presented.count("~") == len(REVEAL) + 1  # 3 of 12 disclosures, then the KB-JWT
    assert verifier.post(request, presented).status_code == 200
    result = verifier.result(session)
    assert_verified(result)
    assert result["claims"] == {"bc": {"givenName": "Amara", "familyName": "Okafor", "age_over_18": True}}
    kb = jose.decode_unverified(presented.rsplit("~", 1)[1])
    assert kb.header["alg"] == alg and kb.payload["aud"] == request["client_id"]


def test_sd_jwt_js_presentation_for_another_verifier_is_refused(oracle: Oracle, verifier: Verifier) -> None:
    holder = oracle("sdjwt.mjs", {"op": "generateKey", "alg": "ES256"})
    credential = issue_sd_jwt(oracle, holder["publicJwk"])
    session = verifier.session("sd")
    request = verifier.request_object(session)
    presented = oracle(
        "sdjwt.mjs",
        {
            "op": "present",
            "sdJwt": credential,
            "reveal": REVEAL,
            "holderJwk": holder["privateJwk"],
            "audience": request["client_id"].removeprefix("decentralized_identifier:"),  # the bare DID
            "nonce": request["nonce"],
        },
    )["sdJwt"]
    verifier.post(request, presented)
    result = verifier.result(session)
    assert result["status"] == "rejected" and result["verdict"]["code"] == "audience_mismatch"


def di_credential(oracle: Oracle) -> dict[str, Any]:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": ISSUER,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": HOLDER,
            "type": "Person",
            "givenName": "Amara",
            "familyName": "Okafor",
            "birthDate": "2019-01-10",
        },
    }
    signed = oracle(
        "di.mjs",
        {
            "op": "sign",
            "credential": credential,
            "keyPair": {"id": ISSUER_KID, "controller": ISSUER, "seed": b64url_encode(ISSUER_SEED)},
            "cryptosuite": "eddsa-rdfc-2022",
        },
    )
    assert signed["document"] is not None, signed.get("errors")
    return dict(signed["document"])


def di_presentation(oracle: Oracle, credential: dict[str, Any], *, challenge: str, domain: str) -> dict[str, Any]:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [credential],
    }
    signed = oracle(
        "di.mjs",
        {
            "op": "sign",
            "presentation": presentation,
            "keyPair": {"id": HOLDER_KID, "controller": HOLDER, "seed": b64url_encode(HOLDER_SEED)},
            "cryptosuite": "eddsa-rdfc-2022",
            "challenge": challenge,
            "domain": domain,
        },
    )
    assert signed["document"] is not None, signed.get("errors")
    return dict(signed["document"])


def test_digitalbazaar_vp_is_accepted_in_a_session(oracle: Oracle, verifier: Verifier) -> None:
    credential = di_credential(oracle)
    session = verifier.session("ldp")
    request = verifier.request_object(session)
    vp = di_presentation(oracle, credential, challenge=request["nonce"], domain=request["client_id"])
    assert verifier.post(request, vp).status_code == 200
    result = verifier.result(session)
    assert_verified(result)
    assert result["claims"] == {"bc": {"credentialSubject": {"givenName": "Amara", "birthDate": "2019-01-10"}}}
    assert result["verdict"]["holder"] == HOLDER


def test_digitalbazaar_vp_through_the_vc_api(oracle: Oracle, verifier: Verifier) -> None:
    vp = di_presentation(oracle, di_credential(oracle), challenge="c-42", domain="https://rp.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": "c-42", "domain": "https://rp.example"}}
    ok = verifier.http.post("/presentations/verify", json=body)  # with the relying party's API key
    assert ok.status_code == 200, ok.text
    body["options"]["challenge"] = "another"
    assert verifier.http.post("/presentations/verify", json=body).status_code == 422
    credential = verifier.http.post("/credentials/verify", json={"verifiableCredential": vp["verifiableCredential"][0]})
    assert credential.status_code == 200, credential.text
    assert httpx.post(f"{verifier.url}/presentations/verify", json=body, timeout=30).status_code == 401  # no key


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_openid4vp_library_wallet_completes_a_session(oracle: Oracle, verifier: Verifier, alg: str) -> None:
    holder = oracle("sdjwt.mjs", {"op": "generateKey", "alg": alg})
    credential = issue_sd_jwt(oracle, holder["publicJwk"])
    session = verifier.session("sd")
    out = oracle(
        "oid4vp_wallet.mjs",
        {
            "op": "present",
            "link": session["link"],
            "credentials": {"bc": credential},
            "holderJwk": holder["privateJwk"],
            "reveal": REVEAL,
        },
    )
    assert out["responseStatus"] == 200, out
    assert out["clientPrefix"] == "decentralized_identifier"
    assert out["clientId"] == session["client_id"] and out["didUrl"].startswith(session["client_id"].split(":", 1)[1])
    assert out["clientName"] == "Interop Verifier"
    assert out["clientMetadata"]["client_name#fr"] == "Vérificateur d'interopérabilité"
    assert out["purpose"]["en"] == "Your name and that you are over 18."
    assert out["dcqlQuery"]["credentials"][0]["id"] == "bc"
    result = verifier.result(session)
    assert_verified(result)
    assert result["claims"]["bc"]["age_over_18"] is True
