"""The issuer against independent implementations, over real HTTP (uvicorn on 127.0.0.1, SQLite).

- ``@openid4vc/openid4vci`` (``oid4vci_wallet.mjs``) is the wallet: from the offer link the admin API
  made, it fetches the offer by reference, our credential issuer and authorization server metadata,
  redeems the pre-authorized code with the ``tx_code``, gets a ``c_nonce``, signs
  ``openid4vci-proof+jwt`` proofs with fresh Ed25519 / P-256 holder keys and requests the credential.
- The credentials it gets are checked by independent verifiers (``online_verifier.mjs``) that fetch
  what our issuer publishes:
  - ``dc+sd-jwt`` with ``@sd-jwt/sd-jwt-vc``: the issuer key from its did:key ``iss`` and ``kid`` (an
    issuer on plain http is named by its DID; over https by its URL, with JWT VC Issuer Metadata), the
    status through the library's own status list fetcher and validator against our ``statuslist+jwt``
    (VALID, then SUSPENDED, VALID again, INVALID as the admin API changes it), and a KB-JWT made in JS
    with the holder key the wallet generated;
  - ``ldp_vc`` (``eddsa-rdfc-2022``) with ``@digitalbazaar/vc``, its BitstringStatusListEntry read from
    our BitstringStatusListCredential, whose own proof ``@digitalbazaar/vc`` verifies;
  - ``vc+sd-jwt`` (VCDM 2.0 secured with SD-JWT) with ``@sd-jwt/core``, status as for ``ldp_vc``.
- Negative: a wrong ``tx_code`` is the token error ``invalid_grant`` (OpenID4VCI 1.0 §6.3, HTTP 400 per
  RFC 6749 §5.2); a tampered credential, or a KB-JWT for another nonce, is rejected by the JS verifiers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuer.app import build_service
from issuer.settings import IssuerSettings
from shared.did.jwk import jwk_from_did_jwk
from shared.encoding import b64url_decode, b64url_encode
from tests.servers import ServiceProcess, free_port

pytestmark = pytest.mark.interop
Oracle = Callable[..., dict[str, Any]]

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = json.loads((ROOT / "issuer" / "examples" / "birth-certificate.json").read_text(encoding="utf-8"))
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
SD_JWT_VC = "BirthCertificate_sd_jwt_vc"
LDP_VC = "BirthCertificate_ldp_vc"
VC_SD_JWT = "BirthCertificate_vc_sd_jwt"
VCT = "https://w3id.org/tessera/vct/birth-certificate/v1"
# Token Status List §7.1
VALID, INVALID, SUSPENDED = 0, 1, 2


def issuer_process(*, data_dir: Path, database_url: str, key_encryption_key: str) -> ServiceProcess:
    """``uvicorn --factory issuer.app:app_from_env`` on 127.0.0.1, configured through ``TESSERA_ISSUER_*``.
    Its output (the JSON access logs) goes to ``data_dir/server.log``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "issuer.app:app_from_env"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"),
    ]
    env = {
        **os.environ,
        "TESSERA_ISSUER_DATABASE_URL": database_url,
        "TESSERA_ISSUER_DATA_DIR": str(data_dir),
        "TESSERA_ISSUER_KEY_ENCRYPTION_KEY": key_encryption_key,
        "TESSERA_ISSUER_PUBLIC_URL": url,
        "TESSERA_ISSUER_HOST": "127.0.0.1",
        "TESSERA_ISSUER_PORT": str(port),
    }
    return ServiceProcess(command, url=url, env=env, log=data_dir / "server.log", name="the issuer")


class Issuer:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.admin = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {api_key}"})

    def offer(self, *formats: str) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "BirthCertificate", "claims": CLAIMS}
        if formats:
            body["formats"] = list(formats)
        response = self.admin.post("/admin/offers", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def change(self, record_id: str, action: str) -> None:
        response = self.admin.post(f"/admin/records/{record_id}/{action}")
        assert response.status_code == 200, response.text

    def record(self, record_id: str) -> dict[str, Any]:
        return dict(self.admin.get(f"/admin/records/{record_id}").json())


@pytest.fixture(scope="module")
def issuer(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    """One issuer for the module; each test makes its own offer. ``node`` first: no server without the oracles."""
    root = tmp_path_factory.mktemp("issuer")
    database_url = f"sqlite:///{root / 'issuer.db'}"
    kek = b64url_encode(b"i" * 32)
    settings = IssuerSettings(database_url=database_url, data_dir=root / "data", key_encryption_key=kek)
    service = build_service(settings)  # migrates, as `tessera issuer migrate` would
    try:
        api_key = service.create_api_key(["admin"], "interop")  # as `tessera issuer api-key create`
    finally:
        service.db.dispose()
    with issuer_process(data_dir=root / "data", database_url=database_url, key_encryption_key=kek) as process:
        client = Issuer(process.url, api_key)
        yield client
        client.admin.close()


# --- the oracles ------------------------------------------------------------------------------------


def obtain(
    oracle: Oracle,
    offer: dict[str, Any],
    *,
    tx_code: str | None = None,
    holder_algs: tuple[str, ...] = ("EdDSA",),
) -> dict[str, Any]:
    """The JS wallet runs the whole flow from the offer link (the one a QR code would carry)."""
    request = {
        "op": "obtain",
        "offer": offer["offer_link"],
        "txCode": offer["tx_code"] if tx_code is None else tx_code,
        "holderAlgs": list(holder_algs),
    }
    return oracle("oid4vci_wallet.mjs", request)


def check(oracle: Oracle, issuer: Issuer, op: str, **request: Any) -> dict[str, Any]:
    return oracle("online_verifier.mjs", {"op": op, "issuerUrl": issuer.url, **request})


def present(oracle: Oracle, credential: str, holder: dict[str, Any], frame: dict[str, Any], nonce: str) -> str:
    """A KB-JWT presentation made in JS (@sd-jwt/sd-jwt-vc) with the holder key the JS wallet generated."""
    request = {
        "op": "present",
        "sdJwt": credential,
        "presentationFrame": frame,
        "holderJwk": holder["privateJwk"],
        "audience": "https://rp.example",
        "nonce": nonce,
    }
    return str(oracle("sdjwt.mjs", request)["sdJwt"])


def tamper_jwt_payload(sd_jwt: str, change: Callable[[dict[str, Any]], None]) -> str:
    """The issuer-signed JWT with its payload changed and the signature kept."""
    jwt, rest = sd_jwt.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    change(claims)
    forged = b64url_encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{header}.{forged}.{signature}~{rest}"


def jwt_payload(compact: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64url_decode(compact.split("~", 1)[0].split(".")[1]))
    return payload


def only(result: dict[str, Any], configuration: str) -> dict[str, Any]:
    assert result["tokenError"] is None, result["tokenError"]
    assert result["credentialErrors"] == {}, result["credentialErrors"]
    assert list(result["credentials"]) == [configuration]
    got: dict[str, Any] = result["credentials"][configuration]
    return got


# --- the protocol ---------------------------------------------------------------------------------


def test_wallet_library_redeems_an_offer_of_every_format(oracle: Oracle, issuer: Issuer) -> None:
    offer = issuer.offer()
    out = obtain(oracle, offer)
    # what the library read from our offer and metadata
    assert out["version"] == "V1"  # OpenID4VCI 1.0, from the configurations' credential_metadata
    assert out["credentialIssuer"] == issuer.url
    assert out["offer"]["credential_configuration_ids"] == [SD_JWT_VC, LDP_VC, VC_SD_JWT]
    assert out["offer"]["grants"][PRE_AUTH]["tx_code"] == {
        "input_mode": "numeric",
        "length": 6,
        "description": "Enter the code the registry gave you with this offer.",
    }
    assert out["authorizationServer"] == issuer.url and out["tokenEndpoint"] == f"{issuer.url}/token"
    assert out["tokenError"] is None and out["token"] == {"token_type": "Bearer", "expires_in": 300}
    assert out["credentialErrors"] == {}
    assert {cid: c["format"] for cid, c in out["credentials"].items()} == {
        SD_JWT_VC: "dc+sd-jwt",
        LDP_VC: "ldp_vc",
        VC_SD_JWT: "vc+sd-jwt",
    }
    for got in out["credentials"].values():
        assert len(got["credentials"]) == 1
        # the library's proof (Appendix F.1): no iss in the anonymous pre-authorized flow
        header, payload = got["proofHeaders"][0], got["proofPayloads"][0]
        assert header == {"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "jwk": got["holders"][0]["publicJwk"]}
        assert set(payload) == {"aud", "iat", "nonce"} and payload["aud"] == issuer.url
    record = issuer.record(offer["record_id"])
    assert record["status"] == "issued"
    assert sorted(c["format"] for c in record["credentials"]) == ["dc+sd-jwt", "ldp_vc", "vc+sd-jwt"]

    credentials = {cid: c["credentials"][0] for cid, c in out["credentials"].items()}
    assert check(oracle, issuer, "sdJwtVc", sdJwt=credentials[SD_JWT_VC])["verified"]
    assert check(oracle, issuer, "dataIntegrity", credential=credentials[LDP_VC])["verified"]
    assert check(oracle, issuer, "vcSdJwt", sdJwt=credentials[VC_SD_JWT])["verified"]


def test_wrong_tx_code_is_invalid_grant(oracle: Oracle, issuer: Issuer) -> None:
    offer = issuer.offer("dc+sd-jwt")
    wrong = "0" * 6 if offer["tx_code"] != "0" * 6 else "1" * 6
    out = obtain(oracle, offer, tx_code=wrong)
    assert out["token"] is None and out["credentials"] == {}
    assert out["tokenError"]["status"] == 400
    assert out["tokenError"]["error"] == "invalid_grant"
    # one wrong attempt (of tx_code_max_attempts = 3) leaves the offer usable with the right code
    again = obtain(oracle, offer)
    assert len(only(again, SD_JWT_VC)["credentials"]) == 1


# --- dc+sd-jwt ----------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_sd_jwt_vc_verified_by_sd_jwt_vc_with_its_status(oracle: Oracle, issuer: Issuer, alg: str) -> None:
    offer = issuer.offer("dc+sd-jwt")
    got = only(obtain(oracle, offer, holder_algs=(alg,)), SD_JWT_VC)
    [credential] = got["credentials"]
    [holder] = got["holders"]
    assert got["proofHeaders"][0]["alg"] == alg

    result = check(oracle, issuer, "sdJwtVc", sdJwt=credential)
    assert result["verified"], result["errors"]
    # On plain http the issuer names itself by its did:key (wallets refuse JWT VC Issuer Metadata over
    # http); the independent verifier took the key from the DID in the kid, not from a fetch.
    did = httpx.get(f"{issuer.url}/.well-known/did.json").json()["id"]
    assert result["issuerMetadataUrl"] is None and result["header"]["kid"].startswith(f"{did}#")
    payload = result["payload"]
    assert payload["iss"] == did and payload["vct"] == VCT
    assert payload["cnf"] == {"jwk": holder["publicJwk"]}  # bound to the key the wallet proved
    assert {name: payload[name] for name in CLAIMS} == CLAIMS
    assert payload["age_over_18"] is False  # a predicate disclosure, birthDate 2026-01-10
    status = result["status"]
    assert status["uri"] == payload["status"]["status_list"]["uri"] and status["uri"].startswith(issuer.url)
    assert status["value"] == VALID and status["idx"] == payload["status"]["status_list"]["idx"]
    assert status["listHeader"]["typ"] == "statuslist+jwt" and status["listPayload"]["status_list"]["bits"] == 2

    # a presentation with a KB-JWT, made in JS with the wallet's holder key
    shown = present(oracle, credential, holder, {"givenName": True, "age_over_18": True}, "n-0S4")
    presented = check(oracle, issuer, "sdJwtVc", sdJwt=shown, nonce="n-0S4", audience="https://rp.example")
    assert presented["verified"], presented["errors"]
    assert presented["kb"]["header"]["alg"] == alg and presented["kb"]["payload"]["nonce"] == "n-0S4"
    disclosed = {k for k in presented["payload"] if k not in {"iss", "vct", "iat", "exp", "status", "cnf"}}
    assert disclosed == {"givenName", "age_over_18", "registeringAuthority"}  # the last is never selective
    replayed = check(oracle, issuer, "sdJwtVc", sdJwt=shown, nonce="another", audience="https://rp.example")
    assert not replayed["verified"]

    # tampering with the issuer-signed payload breaks the signature
    forged = tamper_jwt_payload(credential, lambda c: c.update(registeringAuthority="Lagos State Civil Registry"))
    refused = check(oracle, issuer, "sdJwtVc", sdJwt=forged)
    assert not refused["verified"] and refused["errors"]

    # the status the library reads follows the admin API: suspended, reinstated, revoked
    issuer.change(offer["record_id"], "suspend")
    suspended = check(oracle, issuer, "sdJwtVc", sdJwt=credential)
    assert not suspended["verified"] and suspended["status"]["value"] == SUSPENDED
    assert "SDJWTException: Status is not valid" in suspended["errors"]
    issuer.change(offer["record_id"], "reinstate")
    reinstated = check(oracle, issuer, "sdJwtVc", sdJwt=credential)
    assert reinstated["verified"] and reinstated["status"]["value"] == VALID
    issuer.change(offer["record_id"], "revoke")
    revoked = check(oracle, issuer, "sdJwtVc", sdJwt=credential)
    assert not revoked["verified"] and revoked["status"]["value"] == INVALID
    assert "SDJWTException: Status is not valid" in revoked["errors"]


def test_sd_jwt_vc_batch_with_both_key_types(oracle: Oracle, issuer: Issuer) -> None:
    """One credential request with two proofs (§8.2): one credential per holder key, in order."""
    got = only(obtain(oracle, issuer.offer("dc+sd-jwt"), holder_algs=("EdDSA", "ES256")), SD_JWT_VC)
    assert len(got["credentials"]) == 2
    assert len({p["nonce"] for p in got["proofPayloads"]}) == 1  # one c_nonce for the batch
    for credential, holder in zip(got["credentials"], got["holders"], strict=True):
        result = check(oracle, issuer, "sdJwtVc", sdJwt=credential)
        assert result["verified"], result["errors"]
        assert result["payload"]["cnf"]["jwk"] == holder["publicJwk"]


# --- ldp_vc ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_ldp_vc_verified_by_digitalbazaar_with_its_status(oracle: Oracle, issuer: Issuer, alg: str) -> None:
    offer = issuer.offer("ldp_vc")
    got = only(obtain(oracle, offer, holder_algs=(alg,)), LDP_VC)
    [credential] = got["credentials"]
    [holder] = got["holders"]
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    subject = credential["credentialSubject"]
    assert jwk_from_did_jwk(subject["id"]) == holder["publicJwk"]  # bound through did:jwk
    assert {name: subject[name] for name in CLAIMS} == CLAIMS

    result = check(oracle, issuer, "dataIntegrity", credential=credential)
    assert result["verified"], result["errors"]
    entries = {e["statusPurpose"]: e for e in credential["credentialStatus"]}
    assert {s["purpose"]: (s["url"], s["index"], s["value"]) for s in result["statuses"]} == {
        purpose: (e["statusListCredential"], int(e["statusListIndex"]), 0) for purpose, e in entries.items()
    }
    assert all(s["listVerified"] for s in result["statuses"])  # the lists' own proofs verified

    forged = json.loads(json.dumps(credential))
    forged["credentialSubject"]["givenName"] = "Mallory"
    refused = check(oracle, issuer, "dataIntegrity", credential=forged)
    assert not refused["verified"] and refused["statuses"] == []  # the proof fails before any status check

    issuer.change(offer["record_id"], "revoke")
    revoked = check(oracle, issuer, "dataIntegrity", credential=credential)
    assert not revoked["verified"]
    assert {s["purpose"]: s["value"] for s in revoked["statuses"]} == {"revocation": 1, "suspension": 0}


# --- vc+sd-jwt (VCDM 2.0 secured with SD-JWT) ----------------------------------------------------


def test_vcdm_sd_jwt_verified_by_sd_jwt_core_with_its_status(oracle: Oracle, issuer: Issuer) -> None:
    offer = issuer.offer("vc+sd-jwt")
    got = only(obtain(oracle, offer, holder_algs=("ES256",)), VC_SD_JWT)
    [credential] = got["credentials"]
    [holder] = got["holders"]

    result = check(oracle, issuer, "vcSdJwt", sdJwt=credential)
    assert result["verified"], result["errors"]
    assert result["header"]["typ"] == "vc+sd-jwt" and result["header"]["cty"] == "vc"
    payload = result["payload"]
    assert payload["type"] == ["VerifiableCredential", "BirthCertificate"]
    assert payload["issuer"] == result["header"]["kid"].split("#")[0]
    assert payload["cnf"] == {"jwk": holder["publicJwk"]}
    assert {name: payload["credentialSubject"][name] for name in CLAIMS} == CLAIMS
    assert [s["value"] for s in result["statuses"]] == [0, 0] and all(s["listVerified"] for s in result["statuses"])

    frame = {"credentialSubject": {"givenName": True}}
    shown = present(oracle, credential, holder, frame, "n-vc")
    presented = check(oracle, issuer, "vcSdJwt", sdJwt=shown, nonce="n-vc", audience="https://rp.example")
    assert presented["verified"], presented["errors"]
    assert set(presented["payload"]["credentialSubject"]) == {"givenName", "registeringAuthority"}

    forged = tamper_jwt_payload(credential, lambda c: c.update(validUntil="2099-01-01T00:00:00Z"))
    assert not check(oracle, issuer, "vcSdJwt", sdJwt=forged)["verified"]
    assert jwt_payload(forged)["validUntil"] == "2099-01-01T00:00:00Z"

    issuer.change(offer["record_id"], "suspend")
    suspended = check(oracle, issuer, "vcSdJwt", sdJwt=credential)
    assert not suspended["verified"]
    assert {s["purpose"]: s["value"] for s in suspended["statuses"]} == {"revocation": 0, "suspension": 1}
