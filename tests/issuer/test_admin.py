"""The admin API: API-key scopes, offers (by value, by reference, link, QR, tx_code), records,
revoke/suspend/reinstate, key rotation, and the audit trail of all of it."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from fastapi.testclient import TestClient

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def _offer(client: TestClient, headers: dict[str, str], claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    reply = client.post("/admin/offers", json={"type": "BirthCertificate", "claims": claims, **extra}, headers=headers)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_api_keys_are_required_and_scoped(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    body = {"type": "BirthCertificate", "claims": claims}
    reply = client.post("/admin/offers", json=body)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_token"
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert client.post("/admin/offers", json=body, headers={"Authorization": "Bearer tsi_nope"}).status_code == 401
    forged = "tsi_" + "A" * 11 + "_" + "B" * 43
    assert client.post("/admin/offers", json=body, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    revoker = api_key("revoke")
    reply = client.post("/admin/offers", json=body, headers=revoker)
    assert reply.status_code == 403
    assert reply.json()["error"] == "insufficient_scope"
    assert client.post("/admin/keys/rotate", headers=api_key("issue")).status_code == 403
    assert client.post("/admin/offers", json=body, headers=api_key("admin")).status_code == 201


def test_offer_by_value_by_reference_link_and_qr(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    headers = api_key("issue")
    offer = _offer(client, headers, claims, qr=True)
    assert offer["qr_png_url"] == f"http://issuer.test/admin/offers/{offer['offer_id']}/qr.png"
    assert "qr_svg" not in _offer(client, headers, claims)
    assert offer["tx_code"].isdigit() and len(offer["tx_code"]) == 6
    by_value = offer["credential_offer"]
    assert by_value["credential_issuer"] == "http://issuer.test"
    assert by_value["credential_configuration_ids"] == [
        "BirthCertificate_sd_jwt_vc",
        "BirthCertificate_ldp_vc",
        "BirthCertificate_vc_sd_jwt",
    ]
    grant = by_value["grants"][PRE_AUTH]
    assert grant["tx_code"] == {"input_mode": "numeric", "length": 6, "description": grant["tx_code"]["description"]}
    assert len(grant["pre-authorized_code"]) >= 43
    assert offer["tx_code"] not in json.dumps(by_value)

    link = urlsplit(offer["offer_link"])
    assert link.scheme == "openid-credential-offer"
    assert unquote(parse_qs(link.query)["credential_offer_uri"][0]) == offer["offer_uri"]
    by_ref = client.get(urlsplit(offer["offer_uri"]).path)
    assert by_ref.status_code == 200
    assert by_ref.headers["cache-control"] == "no-store"
    assert by_ref.json() == by_value
    value_link = urlsplit(offer["offer_link_by_value"])
    assert json.loads(parse_qs(value_link.query)["credential_offer"][0]) == by_value

    assert offer["qr_svg"].startswith("<svg") and "<title>Credential offer</title>" in offer["qr_svg"]
    png = base64.urlsafe_b64decode(offer["qr_png_base64"] + "==")
    assert png.startswith(b"\x89PNG")
    qr_png = client.get(f"/admin/offers/{offer['offer_id']}/qr.png", headers=headers)
    assert qr_png.status_code == 200 and qr_png.headers["content-type"] == "image/png"
    qr_svg = client.get(f"/admin/offers/{offer['offer_id']}/qr.svg", headers=headers)
    assert qr_svg.headers["content-type"].startswith("image/svg+xml")
    assert client.get("/admin/offers/nope/qr.svg", headers=headers).status_code == 404


def test_offer_without_tx_code_and_with_chosen_formats(
    client: TestClient, api_key: Any, claims: dict[str, Any]
) -> None:
    offer = _offer(client, api_key("issue"), claims, tx_code=False, formats=["ldp_vc"])
    assert offer["tx_code"] is None
    assert "tx_code" not in offer["credential_offer"]["grants"][PRE_AUTH]
    assert offer["credential_offer"]["credential_configuration_ids"] == ["BirthCertificate_ldp_vc"]


def test_bad_offers_get_field_errors(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    headers = api_key("issue")
    reply = client.post(
        "/admin/offers", json={"type": "BirthCertificate", "claims": {**claims, "sex": "?"}}, headers=headers
    )
    assert reply.status_code == 400
    assert reply.json()["fields"] == [{"field": "sex", "message": "must be one of F, M, X"}]
    reply = client.post("/admin/offers", json={"type": "Passport", "claims": claims}, headers=headers)
    assert reply.status_code == 400 and "unknown credential type" in reply.json()["error_description"]
    reply = client.post(
        "/admin/offers",
        json={"type": "BirthCertificate", "claims": claims, "formats": ["jwt_vc_json"]},
        headers=headers,
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"
    reply = client.post("/admin/offers", json={"type": "BirthCertificate", "claims": claims, "x": 1}, headers=headers)
    assert reply.status_code == 400


def test_records_are_listed_without_claims(
    client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any
) -> None:
    issuer_key = api_key("issue")
    first = _offer(client, issuer_key, claims)
    clock.advance(10)
    second = _offer(client, issuer_key, claims)
    listing = client.get("/admin/records", headers=api_key("revoke")).json()
    assert [r["id"] for r in listing["records"]] == [second["record_id"], first["record_id"]]
    record = listing["records"][0]
    assert record["type"] == "BirthCertificate" and record["status"] == "offered"
    assert "Amara" not in json.dumps(listing)
    one = client.get(f"/admin/records/{first['record_id']}", headers=issuer_key).json()
    assert "claims" not in one  # retention is off by default
    filtered = client.get("/admin/records", params={"status": "revoked"}, headers=issuer_key).json()
    assert filtered["records"] == []
    assert client.get("/admin/records", params={"limit": 0}, headers=issuer_key).status_code == 400
    assert client.get("/admin/records/missing", headers=issuer_key).status_code == 404


def test_retention_keeps_claims_when_configured(make_app: Any, claims: dict[str, Any]) -> None:
    app = make_app(retain_claims=True)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {app.state.service.create_api_key(['issue'])}"}
        offer = _offer(client, headers, claims)
        assert client.get(f"/admin/records/{offer['record_id']}", headers=headers).json()["claims"] == claims


def test_revoking_an_offered_record_kills_the_offer(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    offer = _offer(client, api_key("issue"), claims)
    revoker = api_key("revoke")
    record = offer["record_id"]
    assert client.post(f"/admin/records/{record}/suspend", headers=revoker).status_code == 409
    reply = client.post(f"/admin/records/{record}/revoke", headers=revoker)
    assert reply.json() == {"id": record, "status": "revoked", "previous": "offered"}
    assert client.get(urlsplit(offer["offer_uri"]).path).status_code == 404
    again = client.post(f"/admin/records/{record}/reinstate", headers=revoker)
    assert again.status_code == 409 and "permanent" in again.json()["error_description"]
    assert client.post(f"/admin/records/{record}/explode", headers=revoker).status_code == 400
    assert client.post("/admin/records/missing/revoke", headers=revoker).status_code == 404


def test_offers_expire(client: TestClient, api_key: Any, claims: dict[str, Any], clock: Any, app: Any) -> None:
    offer = _offer(client, api_key("issue"), claims)
    clock.advance(app.state.service.settings.offer_ttl_seconds + 1)
    assert client.get(urlsplit(offer["offer_uri"]).path).status_code == 404


def test_key_rotation_keeps_old_keys_published(client: TestClient, api_key: Any) -> None:
    admin = api_key("admin")
    before = client.get("/admin/keys", headers=admin).json()["keys"]
    assert len(before) == 1
    rotated = client.post("/admin/keys/rotate", headers=admin).json()
    assert rotated["retired"] == before[0]["kid"]
    after = client.get("/admin/keys", headers=admin).json()["keys"]
    assert [k["kid"] for k in after] == [rotated["active"], rotated["retired"]]
    assert after[1]["retired_at"] is not None


def test_did_document_and_context_are_served(client: TestClient) -> None:
    doc = client.get("/.well-known/did.json")
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("application/did+json")
    assert doc.json()["id"].startswith("did:key:z6Mk")
    ctx = client.get("/contexts/birth-certificate/v1")
    assert ctx.status_code == 200 and ctx.headers["content-type"].startswith("application/ld+json")
    assert "registrationNumber" in ctx.json()["@context"]
    assert client.get("/contexts/../../etc/passwd").status_code == 404


def test_did_web_lists_every_key(make_app: Any) -> None:
    app = make_app(public_url="https://registry.example")
    with TestClient(app) as client:
        app.state.service.rotate_keys("test")
        doc = client.get("/.well-known/did.json").json()
    assert doc["id"] == "did:web:registry.example"
    assert len(doc["verificationMethod"]) == 2
    assert doc["assertionMethod"] == [m["id"] for m in doc["verificationMethod"]]
    assert all(m["type"] == "Multikey" for m in doc["verificationMethod"])


def test_every_admin_action_is_audited(client: TestClient, api_key: Any, claims: dict[str, Any]) -> None:
    admin = api_key("admin")
    offer = _offer(client, admin, claims)
    client.post(f"/admin/records/{offer['record_id']}/revoke", headers=admin)
    client.post("/admin/keys/rotate", headers=admin)
    client.post("/admin/api-keys", json={"scopes": ["issue"]}, headers=admin)
    entries = client.get("/admin/audit", headers=admin).json()["entries"]
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["api_key.create", "offer.create", "record.revoke", "keys.rotate", "api_key.create"]
    assert "Amara" not in json.dumps(entries)
    report = client.get("/admin/audit/verify", headers=admin).json()
    assert report["ok"] is True and report["entries"] == 5
