"""W3C VC API issue endpoint; Bitstring status lists; 1,000 distinct status indices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from issuer.store import status as status_store
from shared import data_integrity
from shared.did.key import resolve_did_key
from shared.status_list import decode_bitstring

SAMPLE = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/tessera/contexts/birth-certificate/v1"],
    "type": ["VerifiableCredential", "BirthCertificate"],
    "validFrom": "2026-01-15T00:00:00Z",
    "credentialSubject": {"givenName": "Amara", "familyName": "Okafor", "birthDate": "2026-01-10"},
}


def _resolve(vm: str) -> Any:
    return resolve_did_key(vm.split("#", maxsplit=1)[0]).method(vm)


def test_vc_api_issue_needs_a_key_and_signs(client: TestClient, api_key: Any, clock: Any) -> None:
    assert client.post("/credentials/issue", json={"credential": SAMPLE}).status_code == 401
    reply = client.post("/credentials/issue", json={"credential": SAMPLE}, headers=api_key("issue"))
    assert reply.status_code == 201, reply.text
    signed = reply.json()["verifiableCredential"]
    assert signed["issuer"].startswith("did:key:")
    data_integrity.verify(signed, resolve_method=_resolve, now=datetime.fromtimestamp(clock(), UTC))
    jcs = client.post(
        "/credentials/issue",
        json={"credential": SAMPLE, "options": {"cryptosuite": "eddsa-jcs-2022"}},
        headers=api_key("issue"),
    )
    assert jcs.json()["verifiableCredential"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"


def test_vc_api_refuses_bad_credentials(make_app: Any) -> None:
    app = make_app(vc_api_open=True)
    with TestClient(app) as client:
        assert client.post("/credentials/issue", json={"credential": SAMPLE}).status_code == 201  # opened in config
        bad = [
            {"credential": {**SAMPLE, "issuer": "did:example:someone-else"}},
            {"credential": {**SAMPLE, "type": "BirthCertificate"}},
            {"credential": {**SAMPLE, "@context": ["https://example.com/unknown"]}},
            {"credential": {**SAMPLE, "credentialSubject": {"undefinedTerm": 1}}},
            {"credential": "x"},
            {"credential": SAMPLE, "options": {"cryptosuite": "rsa"}},
        ]
        for body in bad:
            reply = client.post("/credentials/issue", json=body)
            assert reply.status_code == 400, (body, reply.text)
            assert set(reply.json()) >= {"error", "error_description"}
        assert client.post("/credentials/issue", content=b"[").status_code == 400


def test_bitstring_lists_are_signed_and_flip(client: TestClient, api_key: Any, app: Any, clock: Any) -> None:
    service = app.state.service
    with service.db.tx() as session:
        list_id, idx = status_store.allocate(session, kind="bitstring", credential_id="c1", size=131_072, now=1)
    path = f"/status/{list_id}/revocation"
    first = client.get(path)
    assert first.status_code == 200 and first.headers["cache-control"].startswith("public, max-age=")
    doc = json.loads(first.text)
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    data_integrity.verify(doc, resolve_method=_resolve, now=datetime.fromtimestamp(clock(), UTC))
    assert decode_bitstring(doc["credentialSubject"]["encodedList"]).get(idx) == 0
    with service.db.tx() as session:
        status_store.set_entries(session, list_id, "revocation", {idx: 1})
    after = json.loads(client.get(path).text)
    assert decode_bitstring(after["credentialSubject"]["encodedList"]).get(idx) == 1
    assert client.get(f"/status/{list_id}/other").status_code == 404
    assert client.get("/status/nope").status_code == 404


def test_thousand_issuances_get_distinct_indices(app: Any) -> None:
    service = app.state.service
    seen: set[tuple[str, int]] = set()
    for batch in range(10):
        with service.db.tx() as session:
            for i in range(100):
                seen.add(
                    status_store.allocate(session, kind="token", credential_id=f"{batch}-{i}", size=131_072, now=1)
                )
    assert len(seen) == 1000


def test_ldp_vc_under_did_web_names_its_key(make_app: Any, claims: dict[str, Any], clock: Any) -> None:
    app = make_app(public_url="https://registry.example")
    with TestClient(app) as client:
        doc = client.get("/.well-known/did.json").json()
        key = app.state.service.create_api_key(["issue"])
        reply = client.post(
            "/credentials/issue", json={"credential": SAMPLE}, headers={"Authorization": f"Bearer {key}"}
        )
    signed = reply.json()["verifiableCredential"]
    assert signed["issuer"] == "did:web:registry.example"
    assert signed["proof"]["verificationMethod"] in doc["assertionMethod"]
