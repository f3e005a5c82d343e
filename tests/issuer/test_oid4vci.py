"""OpenID4VCI 1.0 pre-authorized code flow end to end, its error paths, status lists, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from shared import data_integrity, jose, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey, P256PrivateKey
from shared.did.key import resolve_did_key
from shared.keys import key_from_jwk, public_jwk
from shared.status_list import read_status_list_token

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
BASE = "http://issuer.test"


def proof(key: Any, nonce: str | None, *, iat: int, aud: str = BASE, typ: str = "openid4vci-proof+jwt") -> str:
    claims: dict[str, Any] = {"aud": aud, "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    return jose.sign_compact({"typ": typ, "jwk": public_jwk(key)}, claims, key)


def make_offer(client: TestClient, api_key: Any, claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    reply = client.post(
        "/admin/offers", json={"type": "BirthCertificate", "claims": claims, **extra}, headers=api_key("issue")
    )
    assert reply.status_code == 201
    body: dict[str, Any] = reply.json()
    return body


def redeem(client: TestClient, offer: dict[str, Any], tx_code: str | None = None) -> httpx.Response:
    code = offer["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return client.post("/token", data=form)


def nonce_of(client: TestClient) -> str:
    reply = client.post("/nonce")
    assert reply.headers["cache-control"] == "no-store"
    value: str = reply.json()["c_nonce"]
    return value


def request_credential(client: TestClient, token: str, config: str, proofs: list[str]) -> httpx.Response:
    return client.post(
        "/credential",
        json={"credential_configuration_id": config, "proofs": {"jwt": proofs}},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_metadata(client: TestClient) -> None:
    meta = client.get("/.well-known/openid-credential-issuer").json()
    assert meta["credential_issuer"] == BASE
    assert meta["nonce_endpoint"] == f"{BASE}/nonce"
    assert meta["batch_credential_issuance"]["batch_size"] >= 2
    configs = meta["credential_configurations_supported"]
    assert configs["BirthCertificate_sd_jwt_vc"]["format"] == "dc+sd-jwt"
    assert configs["BirthCertificate_ldp_vc"]["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    for entry in configs.values():
        assert entry["credential_metadata"]["display"][0]["name"]
        assert entry["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["EdDSA", "ES256"]
    assert client.get("/.well-known/oauth-authorization-server").json()["token_endpoint"] == f"{BASE}/token"
    jwks = client.get("/.well-known/jwt-vc-issuer").json()
    assert jwks["issuer"] == BASE and jwks["jwks"]["keys"][0]["kid"]


def test_full_flow_in_three_formats_with_status(
    client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any
) -> None:
    offer = make_offer(client, api_key, claims)
    token = redeem(client, offer, offer["tx_code"])
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    assert redeem(client, offer, offer["tx_code"]).json()["error"] == "invalid_grant"  # single use
    now = int(clock())
    holders = [Ed25519PrivateKey.generate(), P256PrivateKey.generate()]
    nonce = nonce_of(client)
    reply = request_credential(
        client, access, "BirthCertificate_sd_jwt_vc", [proof(k, nonce, iat=now) for k in holders]
    )
    assert reply.status_code == 200, reply.text
    creds = [c["credential"] for c in reply.json()["credentials"]]
    assert len(creds) == 2
    jwks = client.get("/.well-known/jwt-vc-issuer").json()["jwks"]
    issuer_key = key_from_jwk(jwks["keys"][0])
    moment = datetime.fromtimestamp(now, UTC)
    for text, holder in zip(creds, holders, strict=True):
        _, payload = jose.verify_compact(text.split("~")[0], key=issuer_key, typ="dc+sd-jwt")
        assert payload["vct"] == "https://w3id.org/tessera/vct/birth-certificate/v1"
        assert payload["cnf"]["jwk"] == public_jwk(holder)
        assert "givenName" not in payload  # selectively disclosable
        verified = sd_jwt_vc.verify_sd_jwt_vc(
            text, resolve_issuer_key=lambda *_: issuer_key, now=moment, require_kb=False
        )
        assert verified.claims["givenName"] == "Amara"
        assert verified.claims["age_over_18"] is False
    # the same nonce cannot be used again
    again = request_credential(client, access, "BirthCertificate_ldp_vc", [proof(holders[0], nonce, iat=now)])
    assert again.json()["error"] == "invalid_nonce"

    ldp = request_credential(client, access, "BirthCertificate_ldp_vc", [proof(holders[0], nonce_of(client), iat=now)])
    assert ldp.status_code == 200, ldp.text
    doc = ldp.json()["credentials"][0]["credential"]
    assert doc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert doc["credentialSubject"]["id"].startswith("did:jwk:")

    def resolve(vm: str) -> Any:
        return resolve_did_key(vm.split("#", maxsplit=1)[0]).method(vm)

    data_integrity.verify(doc, resolve_method=resolve, now=moment)
    vcsd = request_credential(
        client, access, "BirthCertificate_vc_sd_jwt", [proof(holders[1], nonce_of(client), iat=now)]
    )
    assert vcsd.status_code == 200, vcsd.text
    dup = request_credential(client, access, "BirthCertificate_ldp_vc", [proof(holders[0], nonce_of(client), iat=now)])
    assert dup.json()["error"] == "invalid_credential_request"

    # the record: issued, four credentials, no claims; the offer is spent
    record = client.get(f"/admin/records/{offer['record_id']}", headers=api_key("revoke")).json()
    assert record["status"] == "issued" and len(record["credentials"]) == 4
    assert len({c["status_index"] for c in record["credentials"] if c["format"] == "dc+sd-jwt"}) == 2
    assert client.get(urlsplit(offer["offer_uri"]).path).status_code == 404

    # status: valid, then suspended, then revoked in the Token Status List
    ref = jose.decode_unverified(creds[0].split("~")[0]).payload["status"]["status_list"]
    path = urlsplit(ref["uri"]).path

    def token_status() -> int:
        reply = client.get(path)
        assert reply.headers["content-type"].startswith("application/statuslist+jwt")
        _, body = jose.verify_compact(reply.text, key=issuer_key, typ="statuslist+jwt")
        return read_status_list_token(body, uri=ref["uri"], now=now).status_of(sd_jwt_vc_status_ref(ref))

    assert token_status() == 0
    etag = client.get(path).headers["etag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    revoker = api_key("revoke")
    assert client.post(f"/admin/records/{offer['record_id']}/suspend", headers=revoker).status_code == 200
    assert token_status() == 2
    assert client.get(path).headers["etag"] != etag
    assert client.post(f"/admin/records/{offer['record_id']}/reinstate", headers=revoker).status_code == 200
    assert token_status() == 0
    assert client.post(f"/admin/records/{offer['record_id']}/revoke", headers=revoker).status_code == 200
    assert token_status() == 1
    bit = client.get(urlsplit(doc["credentialStatus"][0]["statusListCredential"]).path)
    assert bit.status_code == 200 and "BitstringStatusListCredential" in bit.text


def sd_jwt_vc_status_ref(ref: dict[str, Any]) -> Any:
    from shared.status_list import parse_status_claim

    return parse_status_claim({"status_list": ref})


def test_wrong_tx_codes_invalidate_the_offer(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    offer = make_offer(client, api_key, claims)
    assert redeem(client, offer).json()["error"] == "invalid_grant"  # missing
    assert redeem(client, offer, "000000" if offer["tx_code"] != "000000" else "111111").status_code == 400
    third = redeem(client, offer, "x")
    assert "now invalid" in third.json()["error_description"]
    assert redeem(client, offer, offer["tx_code"]).json()["error"] == "invalid_grant"  # too late


def test_token_request_errors(client: TestClient) -> None:
    assert client.post("/token", data={"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert client.post("/token", data={"grant_type": PRE_AUTH}).json()["error"] == "invalid_request"
    bad = client.post("/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert bad.headers["cache-control"] == "no-store"
    assert client.post("/token", json={"grant_type": PRE_AUTH}).json()["error"] == "invalid_request"


def test_credential_request_errors(client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any) -> None:
    offer = make_offer(client, api_key, claims, tx_code=False)
    access = redeem(client, offer).json()["access_token"]
    now = int(clock())
    key = Ed25519PrivateKey.generate()
    config = "BirthCertificate_sd_jwt_vc"
    assert request_credential(client, "wrong", config, [proof(key, nonce_of(client), iat=now)]).status_code == 401
    cases = [
        ([proof(key, nonce_of(client), iat=now, aud="https://other")], "invalid_proof"),
        ([proof(key, nonce_of(client), iat=now - 3600)], "invalid_proof"),
        ([proof(key, nonce_of(client), iat=now, typ="jwt")], "invalid_proof"),
        ([proof(key, None, iat=now)], "invalid_nonce"),
        ([proof(key, "made-up", iat=now)], "invalid_nonce"),
        ([proof(key, (n := nonce_of(client)), iat=now), proof(key, n, iat=now)], "invalid_proof"),  # same key twice
        (["not.a.jwt"], "invalid_proof"),
    ]
    for proofs, error in cases:
        reply = request_credential(client, access, config, proofs)
        assert reply.status_code == 400 and reply.json()["error"] == error, (error, reply.text)
    forged = proof(key, nonce_of(client), iat=now)
    head, body, _ = forged.split(".")
    other = proof(Ed25519PrivateKey.generate(), "x", iat=now).split(".")[2]
    assert request_credential(client, access, config, [f"{head}.{body}.{other}"]).json()["error"] == "invalid_proof"
    unknown = request_credential(client, access, "Nope", [proof(key, nonce_of(client), iat=now)])
    assert unknown.json()["error"] == "unknown_credential_configuration"
    assert client.post("/credential", content=b"{", headers={"Authorization": f"Bearer {access}"}).status_code == 400


def test_clock_expiry_of_tokens_and_nonces(
    client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any
) -> None:
    offer = make_offer(client, api_key, claims, tx_code=False)
    access = redeem(client, offer).json()["access_token"]
    nonce = nonce_of(client)
    clock.advance(3600)
    key = Ed25519PrivateKey.generate()
    reply = request_credential(client, access, "BirthCertificate_sd_jwt_vc", [proof(key, nonce, iat=int(clock()))])
    assert reply.status_code == 401


@pytest.mark.slow
def test_parallel_redemptions_and_requests(app: Any, api_key: Any, claims: dict[str, Any], clock: Any) -> None:
    with TestClient(app) as client:
        offer = make_offer(client, api_key, claims, tx_code=False)
    code = offer["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as ac:
            form = {"grant_type": PRE_AUTH, "pre-authorized_code": code}
            tokens = await asyncio.gather(*[ac.post("/token", data=form) for _ in range(50)])
            access = next(r.json()["access_token"] for r in tokens if r.status_code == 200)
            nonce = (await ac.post("/nonce")).json()["c_nonce"]
            body = {
                "credential_configuration_id": "BirthCertificate_sd_jwt_vc",
                "proofs": {"jwt": [proof(Ed25519PrivateKey.generate(), nonce, iat=int(clock()))]},
            }
            headers = {"Authorization": f"Bearer {access}"}
            creds = await asyncio.gather(*[ac.post("/credential", json=body, headers=headers) for _ in range(50)])
            return list(tokens), list(creds)

    tokens, creds = asyncio.run(run())
    assert sorted(r.status_code for r in tokens).count(200) == 1
    assert all(r.json()["error"] == "invalid_grant" for r in tokens if r.status_code != 200)
    assert [r.status_code for r in creds].count(200) == 1
    assert {r.json()["error"] for r in creds if r.status_code != 200} == {"invalid_nonce"}


def test_expired_offers_lose_their_claims(
    client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any, app: Any
) -> None:
    from sqlalchemy import select

    from issuer.store.models import NonceRow, OfferRow

    offer = make_offer(client, api_key, claims)
    issued = make_offer(client, api_key, claims, tx_code=False, formats=["dc+sd-jwt"])
    access = redeem(client, issued).json()["access_token"]
    nonce_of(client)  # handed out, never used: nothing is stored for it
    used = nonce_of(client)
    proofs = [proof(Ed25519PrivateKey.generate(), used, iat=int(clock()))]
    assert request_credential(client, access, "BirthCertificate_sd_jwt_vc", proofs).status_code == 200
    clock.advance(app.state.service.settings.offer_ttl_seconds + 1)
    purged = app.state.service.purge_expired()
    assert purged["offers"] == 1 and purged["nonces"] == 1  # the expired offer; the used nonce
    with app.state.service.db.tx() as session:
        row = session.get(OfferRow, offer["offer_id"])
        assert row is not None and row.claims_sealed is None and row.status == "expired"
        assert session.scalars(select(NonceRow)).all() == []
    assert redeem(client, offer, offer["tx_code"]).json()["error"] == "invalid_grant"


def test_nonces_are_stored_only_when_used_and_cannot_be_forged(
    make_app: Any, claims: dict[str, Any], clock: Any
) -> None:
    from sqlalchemy import func, select

    from issuer.store.models import NonceRow
    from shared.encoding import b64url_decode, b64url_encode

    app = make_app(nonce_ttl_seconds=60)
    client = TestClient(app)

    def stored() -> int:
        with app.state.service.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(NonceRow)) or 0)

    key_header = {"Authorization": f"Bearer {app.state.service.create_api_key(['issue'])}"}
    offer = make_offer(client, lambda *_: key_header, claims, tx_code=False)
    access = redeem(client, offer).json()["access_token"]
    nonces = [nonce_of(client) for _ in range(20)]
    assert len(set(nonces)) == 20 and stored() == 0
    key = Ed25519PrivateKey.generate()
    now = int(clock())
    raw = bytearray(b64url_decode(nonces[0]))
    raw[0] ^= 1  # a later expiry: the MAC no longer matches
    for forged in (b64url_encode(bytes(raw)), nonces[0][:-2], "A" * 54):
        reply = request_credential(client, access, "BirthCertificate_sd_jwt_vc", [proof(key, forged, iat=now)])
        assert reply.json()["error"] == "invalid_nonce", forged
    clock.advance(61)  # past the nonce's lifetime, within the access token's
    late = request_credential(client, access, "BirthCertificate_sd_jwt_vc", [proof(key, nonces[1], iat=int(clock()))])
    assert late.json()["error"] == "invalid_nonce"
    assert stored() == 0
