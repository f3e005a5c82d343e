"""Data Integrity (``ldp_vc``) on SQLite and PostgreSQL: OpenID4VP sessions answered with a holder-signed
VP (``challenge`` = nonce, ``domain`` = the full client_id), Bitstring Status List checks, and the W3C
VC API endpoints ``POST /credentials/verify`` and ``POST /presentations/verify``."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared import data_integrity, status_list
from shared.crypto import Ed25519PrivateKey
from shared.did import did_key_from_public_key
from verifier.app import create_app
from verifier.policy import parse_config
from verifier.settings import VerifierSettings

from .conftest import Clock
from .sessions import SessionClient

ISSUER_KEY = Ed25519PrivateKey(b"\x51" * 32)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
ISSUER_VM = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
HOLDER_KEY = Ed25519PrivateKey(b"\x52" * 32)
HOLDER = did_key_from_public_key(HOLDER_KEY.public_key)
HOLDER_VM = f"{HOLDER}#{HOLDER.removeprefix('did:key:')}"
OTHER_KEY = Ed25519PrivateKey(b"\x53" * 32)
OTHER = did_key_from_public_key(OTHER_KEY.public_key)
BIRTH_CONTEXT = "https://w3id.org/tessera/contexts/birth-certificate/v1"
REVOCATION_LIST = "https://status.example/bsl/revocation"
SUSPENSION_LIST = "https://status.example/bsl/suspension"
SIGNED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def config(trusted: str = ISSUER) -> Any:
    return parse_config(
        {
            "client": {"name": {"en": "Springfield School", "fr": "École de Springfield"}},
            "trust": {"issuers": [{"did": trusted, "name": "Test Registry", "types": ["BirthCertificate"]}]},
            "policies": {
                "enrol": {
                    "purpose": {"en": "Enrol your child.", "fr": "Inscrire votre enfant."},
                    "retention_days": 1,
                    "dcql": {
                        "credentials": [
                            {
                                "id": "bc",
                                "format": "ldp_vc",
                                "meta": {"type_values": [["BirthCertificate"]]},
                                "claims": [
                                    {"path": ["credentialSubject", "givenName"]},
                                    {"path": ["credentialSubject", "birthDate"]},
                                ],
                            }
                        ]
                    },
                }
            },
        }
    )


def credential(
    *, idx: int = 3, key: Ed25519PrivateKey = ISSUER_KEY, issuer: str = ISSUER, **extra: Any
) -> dict[str, Any]:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": HOLDER,
            "type": "Person",
            "givenName": "Amara",
            "familyName": "Okafor",
            "birthDate": "2019-01-10",
        },
        "credentialStatus": [
            {
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(idx),
                "statusListCredential": url,
            }
            for purpose, url in (("revocation", REVOCATION_LIST), ("suspension", SUSPENSION_LIST))
        ],
        **extra,
    }
    vm = f"{issuer}#{issuer.removeprefix('did:key:')}"
    return data_integrity.sign(doc, signer=key, verification_method=vm, created=SIGNED_AT)


def presentation(
    vc: dict[str, Any], *, challenge: str | None, domain: str | None, key: Ed25519PrivateKey = HOLDER_KEY
) -> dict[str, Any]:
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [vc],
    }
    return data_integrity.sign(
        vp,
        signer=key,
        verification_method=HOLDER_VM,
        created=SIGNED_AT,
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
    )


class StatusServer:
    """Serves signed Bitstring Status List credentials: index 7 revoked, index 8 suspended."""

    def __init__(self) -> None:
        self.up = True
        self.hits = 0
        self.signer = ISSUER_KEY
        self.lists = {
            url: self._list(url, purpose, {index: 1})
            for url, purpose, index in ((REVOCATION_LIST, "revocation", 7), (SUSPENSION_LIST, "suspension", 8))
        }

    def _list(self, url: str, purpose: str, values: dict[int, int]) -> dict[str, Any]:
        bits = status_list.StatusList.zeros(status_list.MIN_BITSTRING_ENTRIES, bits=1, order=status_list.MSB_FIRST)
        unsigned = status_list.build_status_list_credential(
            bits.with_values(values), id=url, issuer=ISSUER, status_purpose=purpose, valid_from=SIGNED_AT
        )
        return data_integrity.sign(unsigned, signer=self.signer, verification_method=ISSUER_VM, created=SIGNED_AT)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.hits += 1
        if not self.up:
            return httpx.Response(503)
        doc = self.lists.get(str(request.url))
        if doc is None:
            return httpx.Response(404)
        return httpx.Response(200, content=json.dumps(doc).encode(), headers={"Content-Type": "application/vc+ld+json"})


class Harness(SessionClient):
    policy = "enrol"

    def __init__(self, client: TestClient, status: StatusServer) -> None:
        super().__init__(client)
        self.status = status

    def vc_api(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST to the VC API with the relying party's API key (it needs one unless opened)."""
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)


@pytest.fixture
def make_harness(make_settings: Callable[..., VerifierSettings], clock: Clock) -> Callable[..., Harness]:
    def build(cfg: Any = None, **settings: Any) -> Harness:
        status = StatusServer()
        http = httpx.Client(transport=httpx.MockTransport(status.handle))
        app = create_app(make_settings(**settings), config=cfg or config(), http_client=http, now=clock)
        return Harness(TestClient(app), status)

    return build


@pytest.fixture
def h(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


def bound(vc: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda r: presentation(vc, challenge=r["nonce"], domain=r["client_id"])


def code_of(result: dict[str, Any]) -> str:
    assert result["status"] == "rejected", result
    assert "claims" not in result
    return str(result["verdict"]["code"])


# --- OpenID4VP sessions with ldp_vc ------------------------------------------------------------------


def test_verified_ldp_session(h: Harness) -> None:
    session_id, request = h.start()
    assert request["client_metadata"]["vp_formats_supported"]["ldp_vc"]
    assert h.answer(request, bound(credential())(request)).status_code == 200
    result = h.result(session_id)
    verdict = result["verdict"]
    assert result["status"] == "verified", verdict
    assert [c["check"] for c in verdict["checks"]] == [
        "format",
        "data_model",
        "signature",
        "issuer_trust",
        "validity_period",
        "status",
        "holder_binding",
        "requested_claims",
    ]
    assert verdict["format"] == "ldp_vp" and verdict["issuer"] == ISSUER and verdict["holder"] == HOLDER
    assert "just fetched" in verdict["checks"][5]["message"]
    assert result["claims"] == {"bc": {"credentialSubject": {"givenName": "Amara", "birthDate": "2019-01-10"}}}
    assert "bc: credentialSubject.familyName" in verdict["extra_disclosed_paths"]
    assert "Okafor" not in json.dumps(result)  # extra claims are reported by path, never stored
    assert h.status.hits == 2  # one fetch per list ...
    h.run(bound(credential()))
    assert h.status.hits == 2  # ... then cached


@pytest.mark.parametrize(("idx", "code"), [(7, "revoked"), (8, "suspended")])
def test_ldp_revoked_and_suspended(h: Harness, idx: int, code: str) -> None:
    assert code_of(h.run(bound(credential(idx=idx)))) == code


def test_ldp_status_unreachable(h: Harness) -> None:
    h.status.up = False
    assert code_of(h.run(bound(credential()))) == "status_unavailable"


def test_ldp_status_list_signed_by_another_key(h: Harness) -> None:
    h.status.signer = OTHER_KEY  # claims the issuer's verification method, signed with another key
    h.status.lists = {
        url: h.status._list(url, purpose, {})
        for url, purpose in ((REVOCATION_LIST, "revocation"), (SUSPENSION_LIST, "suspension"))
    }
    assert code_of(h.run(bound(credential()))) in ("invalid_signature", "status_unavailable")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"challenge": "another-nonce"}, "challenge_mismatch"),
        ({"domain": "decentralized_identifier:did:key:z6Mkother"}, "domain_mismatch"),
        ({"key": OTHER_KEY}, "invalid_signature"),
    ],
)
def test_ldp_holder_binding_rejections(h: Harness, change: dict[str, Any], code: str) -> None:
    vc = credential()

    def vp(r: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {"challenge": r["nonce"], "domain": r["client_id"], **change}
        return presentation(vc, **args)

    result = h.run(vp)
    assert code_of(result) == code
    assert [c["check"] for c in result["verdict"]["checks"] if c["outcome"] == "failed"] == ["holder_binding"]


def test_ldp_copy_presented_by_someone_else_is_refused(h: Harness) -> None:
    """A validly signed presentation of a credential issued to another holder: a copy is not the credential."""
    vc = credential()  # issued to HOLDER

    def as_other(r: dict[str, Any]) -> dict[str, Any]:
        vp = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": OTHER,
            "verifiableCredential": [vc],
        }
        return data_integrity.sign(
            vp,
            signer=OTHER_KEY,
            verification_method=f"{OTHER}#{OTHER.removeprefix('did:key:')}",
            created=SIGNED_AT,
            proof_purpose="authentication",
            challenge=r["nonce"],
            domain=r["client_id"],
        )

    result = h.run(as_other)
    assert code_of(result) == "holder_binding_failed"
    assert [c["check"] for c in result["verdict"]["checks"] if c["outcome"] == "failed"] == ["holder_binding"]


def test_ldp_unsigned_presentation_is_refused(h: Harness) -> None:
    vc = credential()

    def unsigned(r: dict[str, Any]) -> dict[str, Any]:
        vp = presentation(vc, challenge=r["nonce"], domain=r["client_id"])
        del vp["proof"]
        return vp

    assert code_of(h.run(unsigned)) in ("holder_binding_failed", "missing_proof", "invalid_proof")


def test_ldp_tampered_credential(h: Harness) -> None:
    vc = credential()
    vc["credentialSubject"]["birthDate"] = "2000-01-01"
    assert code_of(h.run(bound(vc))) == "invalid_signature"


def test_ldp_untrusted_issuer(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(config(trusted=OTHER))
    assert code_of(h.run(bound(credential()))) == "untrusted_issuer"


def test_ldp_expired(h: Harness) -> None:
    vc = credential(validUntil="2025-06-01T00:00:00Z")
    assert code_of(h.run(bound(vc))) == "expired"


def test_ldp_missing_claims(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    vc = credential()
    vc = {k: v for k, v in vc.items() if k != "proof"}
    del vc["credentialSubject"]["birthDate"]
    resigned = data_integrity.sign(vc, signer=ISSUER_KEY, verification_method=ISSUER_VM, created=SIGNED_AT)
    result = h.run(bound(resigned))
    assert code_of(result) == "missing_claims"
    assert "birthDate" in result["verdict"]["checks"][-1]["message"]


def test_ldp_sd_jwt_answer_to_an_ldp_query(h: Harness) -> None:
    assert code_of(h.run(lambda r: "eyJhbGciOiJFZERTQSJ9.e30.AA~")) in ("malformed", "invalid_credential")


# --- VC API ------------------------------------------------------------------------------------------


def test_vc_api_credential_verify(h: Harness) -> None:
    ok = h.vc_api("/credentials/verify", json={"verifiableCredential": credential(), "options": {}})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["verified"] is True and body["errors"] == []
    assert {c["check"]: c["outcome"] for c in body["checks"]}["status"] == "passed"
    tampered = credential()
    tampered["credentialSubject"]["givenName"] = "Eve"
    bad = h.vc_api("/credentials/verify", json={"verifiableCredential": tampered})
    assert bad.status_code == 422
    assert bad.json()["verified"] is False and bad.json()["errors"][0]["code"] == "invalid_signature"
    revoked = h.vc_api("/credentials/verify", json={"verifiableCredential": credential(idx=7)})
    assert revoked.status_code == 422 and revoked.json()["errors"][0]["code"] == "revoked"
    # the VC API serves test suites with their own issuers: the trust registry is not applied
    other = h.vc_api("/credentials/verify", json={"verifiableCredential": credential(key=OTHER_KEY, issuer=OTHER)})
    assert other.status_code == 422 and other.json()["errors"][0]["code"] in ("status_list_mismatch",)


def test_vc_api_presentation_verify(h: Harness) -> None:
    vp = presentation(credential(), challenge="c-123", domain="https://rp.example")
    ok = h.vc_api(
        "/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": "c-123", "domain": "https://rp.example"}},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["verified"] is True
    wrong = h.vc_api("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "other"}})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "challenge_mismatch"
    stale = copy.deepcopy(vp)
    stale["verifiableCredential"][0]["credentialSubject"]["familyName"] = "X"
    bad = h.vc_api("/presentations/verify", json={"verifiablePresentation": stale, "options": {}})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"verifiableCredential": "a string"}',
        b'{"verifiableCredential": {}, "options": []}',
        b'{"verifiableCredential": {}, "verifiableCredential": {}}',
    ],
)
def test_vc_api_malformed_bodies(h: Harness, body: bytes) -> None:
    response = h.vc_api("/credentials/verify", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] in ("malformed", "duplicate_key")


def test_vc_api_presentation_options_must_be_strings(h: Harness) -> None:
    vp = presentation(credential(), challenge="c", domain=None)
    response = h.vc_api("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": 1}})
    assert response.status_code == 400


def test_vc_api_oversized_body(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(max_body_bytes=4096)
    response = h.vc_api("/credentials/verify", json={"verifiableCredential": {"x": "y" * 8000}})
    assert response.status_code == 413 and response.json()["error"] == "too_large"


@pytest.mark.parametrize("path", ["/credentials/verify", "/presentations/verify"])
@pytest.mark.parametrize("authorization", [None, "Bearer tsv_nope.nope", "Basic abc"])
def test_vc_api_needs_an_api_key(h: Harness, path: str, authorization: str | None) -> None:
    member = "verifiableCredential" if path.startswith("/credentials") else "verifiablePresentation"
    headers = {"Authorization": authorization} if authorization else {}
    response = h.client.post(path, json={member: credential()}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "A valid API key is required.",
        "reason": "unauthorized",
    }
    assert h.status.hits == 0  # nothing was fetched for an unauthenticated caller


def test_vc_api_is_checked_before_the_body_is_read(h: Harness) -> None:
    response = h.client.post("/credentials/verify", content=b"not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_vc_api_opened_in_the_settings_needs_no_key(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(vc_api_open=True)
    ok = h.client.post("/credentials/verify", json={"verifiableCredential": credential()})
    assert ok.status_code == 200, ok.text
    assert ok.json()["verified"] is True
    vp = presentation(credential(), challenge="c-1", domain="https://rp.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "https://rp.example"}}
    assert h.client.post("/presentations/verify", json=body).status_code == 200
    # the session API stays closed
    assert h.client.post("/sessions", json={"policy": "enrol"}).status_code == 401
