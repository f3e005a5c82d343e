"""Whole OpenID4VP sessions with dc+sd-jwt presentations, on SQLite and PostgreSQL: the verified
flow, and every rejection with its reason code."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared import jose, sd_jwt, status_list
from shared.crypto import Ed25519PrivateKey, P256PrivateKey, random_bytes
from shared.did import did_key_from_public_key
from verifier.app import create_app
from verifier.policy import parse_config
from verifier.settings import VerifierSettings

from .conftest import Clock
from .sessions import SessionClient

VCT = "https://w3id.org/tessera/vct/birth-certificate/v1"
ISSUER_KEY = Ed25519PrivateKey(b"\x31" * 32)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
KID = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
OTHER_KEY = Ed25519PrivateKey(b"\x32" * 32)
OTHER = did_key_from_public_key(OTHER_KEY.public_key)
LIST_URL = "https://status.example/lists/1"
CLAIMS = {
    "givenName": "Amara",
    "familyName": "Okafor",
    "birthDate": "2008-01-10",
    "age_over_18": True,
    "nationality": "NG",
}


def config(trusted: str = ISSUER, **policy: Any) -> Any:
    doc = {
        "trust": {"issuers": [{"did": trusted, "name": "Test Registry", "types": [VCT]}]},
        "policies": {
            "age": {
                "purpose": {"en": "Over 18?", "fr": "Plus de 18 ans ?"},
                "max_status_staleness_seconds": 0,
                "retention_days": 1,
                "dcql": {
                    "credentials": [
                        {
                            "id": "bc",
                            "format": "dc+sd-jwt",
                            "meta": {"vct_values": [VCT]},
                            "claims": [{"path": ["age_over_18"], "values": [True]}],
                        }
                    ]
                },
                **policy,
            }
        },
    }
    return parse_config(doc)


class StatusServer:
    def __init__(self) -> None:
        self.up = True
        self.values = {7: 1, 8: 2}  # 7 revoked, 8 suspended

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            return httpx.Response(503)
        lst = status_list.StatusList.zeros(1024, bits=2, order=status_list.LSB_FIRST).with_values(self.values)
        header = status_list.status_list_token_header(alg="EdDSA", kid=KID)
        claims = status_list.status_list_token_claims(lst, sub=LIST_URL, iat=1_760_000_000)
        return httpx.Response(200, content=jose.sign_compact(header, claims, ISSUER_KEY).encode())


class Harness(SessionClient):
    policy = "age"

    def __init__(self, client: TestClient, clock: Clock, status: StatusServer) -> None:
        super().__init__(client)
        self.clock = clock
        self.status = status
        self.holder = Ed25519PrivateKey(b"\x41" * 32)

    def credential(self, *, idx: int = 3, key: Ed25519PrivateKey = ISSUER_KEY, kid: str = KID, **extra: Any) -> Any:
        claims = {"iss": ISSUER, "vct": VCT, "iat": int(self.clock()), **CLAIMS, **extra}
        claims["status"] = {"status_list": {"idx": idx, "uri": LIST_URL}}
        return sd_jwt.issue(
            claims,
            disclosable=list(CLAIMS),
            signer=key,
            holder_key=self.holder.public_key,
            now=datetime.fromtimestamp(self.clock(), UTC),
            random_bytes=random_bytes,
            kid=kid,
        )

    def present(self, credential: Any, request: dict[str, Any], **changes: Any) -> str:
        args = {
            "reveal": ["age_over_18"],
            "holder_signer": self.holder,
            "audience": request["client_id"],
            "nonce": request["nonce"],
            "now": datetime.fromtimestamp(self.clock(), UTC),
        }
        args.update(changes)
        return sd_jwt.present(credential, **args)


@pytest.fixture
def make_harness(make_settings: Callable[..., VerifierSettings], clock: Clock) -> Callable[..., Harness]:
    def build(cfg: Any = None, **settings: Any) -> Harness:
        status = StatusServer()
        http = httpx.Client(transport=httpx.MockTransport(status.handle))
        app = create_app(make_settings(**settings), config=cfg or config(), http_client=http, now=clock)
        return Harness(TestClient(app), clock, status)

    return build


@pytest.fixture
def h(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


def test_verified_session(h: Harness) -> None:
    credential = h.credential()
    result = h.run(lambda r: h.present(credential, r, reveal=["age_over_18", "givenName"]))
    verdict = result["verdict"]
    assert result["status"] == "verified", verdict
    assert [c["check"] for c in verdict["checks"]] == [
        "format",
        "signature",
        "issuer_trust",
        "validity_period",
        "status",
        "holder_binding",
        "requested_claims",
    ]
    assert "just fetched" in verdict["checks"][4]["message"]
    assert verdict["issuer"] == ISSUER and verdict["types"] == [VCT]
    assert result["claims"] == {"bc": {"age_over_18": True}}
    assert verdict["extra_disclosed_paths"] == ["bc: givenName"]
    assert "Amara" not in json.dumps(result)  # extra claims are reported by name, never stored


def test_es256_holder_key(h: Harness) -> None:
    h.holder = P256PrivateKey(b"\x07" * 32)  # type: ignore[assignment]
    credential = h.credential()
    assert h.run(lambda r: h.present(credential, r))["status"] == "verified"


def code_of(result: dict[str, Any]) -> str:
    assert result["status"] == "rejected", result
    assert "claims" not in result
    return str(result["verdict"]["code"])


def test_tampered_disclosure(h: Harness) -> None:
    credential = h.credential()

    def tampered(r: dict[str, Any]) -> str:
        text = h.present(credential, r, holder_signer=None)
        first, disclosure, _ = text.split("~")
        forged = sd_jwt.make_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "age_over_18", True).text
        assert forged != disclosure
        return f"{first}~{forged}~"

    assert code_of(h.run(tampered)) in ("disclosure_mismatch", "malformed")


def test_tampered_issuer_jwt(h: Harness) -> None:
    credential = h.credential()

    def tampered(r: dict[str, Any]) -> str:
        text = h.present(credential, r)
        head, payload, _sig = text.split("~")[0].split(".")
        body = json.loads(jose.b64d(payload))
        body["vct"] = VCT + "x"
        return text.replace(f"{head}.{payload}.", f"{head}.{jose.b64e(jose.dumps(body).encode())}.", 1)

    assert code_of(h.run(tampered)) == "invalid_signature"


def test_wrong_issuer_key(h: Harness) -> None:
    credential = h.credential(key=OTHER_KEY)  # signed by another key, claiming the issuer's kid
    assert code_of(h.run(lambda r: h.present(credential, r))) == "invalid_signature"


def test_untrusted_issuer(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(config(trusted=OTHER))
    credential = h.credential()
    assert code_of(h.run(lambda r: h.present(credential, r))) == "untrusted_issuer"


def test_expired(h: Harness) -> None:
    credential = h.credential(exp=int(h.clock()) - 3600)
    assert code_of(h.run(lambda r: h.present(credential, r))) == "expired"


@pytest.mark.parametrize(("idx", "code"), [(7, "revoked"), (8, "suspended")])
def test_revoked_and_suspended(h: Harness, idx: int, code: str) -> None:
    credential = h.credential(idx=idx)
    assert code_of(h.run(lambda r: h.present(credential, r))) == code


def test_status_unreachable(h: Harness) -> None:
    h.status.up = False
    credential = h.credential()
    assert code_of(h.run(lambda r: h.present(credential, r))) == "status_unavailable"


def test_stale_status_allowed_by_policy(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(config(max_status_staleness_seconds=3600), status_cache_seconds=60)
    credential = h.credential()
    assert h.run(lambda r: h.present(credential, r))["status"] == "verified"
    h.status.up = False
    h.clock.advance(120)
    result = h.run(lambda r: h.present(credential, r))
    assert result["status"] == "verified" and "fetched 120 s ago" in result["verdict"]["checks"][4]["message"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"audience": "decentralized_identifier:did:key:z6Mkother"}, "audience_mismatch"),
        ({"nonce": "another-nonce"}, "nonce_mismatch"),
        ({"holder_signer": None}, "holder_binding_failed"),
    ],
)
def test_kb_jwt_rejections(h: Harness, change: dict[str, Any], code: str) -> None:
    credential = h.credential()
    assert code_of(h.run(lambda r: h.present(credential, r, **change))) == code


def test_kb_jwt_aud_must_be_the_full_client_id(h: Harness) -> None:
    credential = h.credential()

    def bare_did(r: dict[str, Any]) -> str:
        return h.present(credential, r, audience=r["client_id"].removeprefix("decentralized_identifier:"))

    assert code_of(h.run(bare_did)) == "audience_mismatch"


def test_kb_jwt_stale_iat(h: Harness) -> None:
    credential = h.credential()
    old = datetime.fromtimestamp(h.clock() - 3600, UTC)
    assert code_of(h.run(lambda r: h.present(credential, r, now=old))) == "stale_kb"


def test_kb_jwt_wrong_sd_hash(h: Harness) -> None:
    credential = h.credential()

    def swapped(r: dict[str, Any]) -> str:
        text = h.present(credential, r, reveal=["age_over_18", "givenName"])
        parts = text.split("~")
        return "~".join([parts[0], parts[1], parts[-1]])  # a disclosure dropped after signing

    assert code_of(h.run(swapped)) == "holder_binding_failed"


def test_missing_claims(h: Harness) -> None:
    credential = h.credential()
    result = h.run(lambda r: h.present(credential, r, reveal=["givenName"]))
    assert code_of(result) == "missing_claims"
    assert "bc: age_over_18" in result["verdict"]["checks"][-1]["message"]


def test_values_must_match(h: Harness) -> None:
    credential = h.credential(age_over_18=False)
    assert code_of(h.run(lambda r: h.present(credential, r))) == "missing_claims"


def test_answer_for_a_query_never_asked(h: Harness) -> None:
    credential = h.credential()
    session_id, request = h.start()
    h.answer(request, h.present(credential, request), query_id="other")
    assert code_of(h.result(session_id)) == "malformed"


def test_replayed_presentation_is_refused(h: Harness) -> None:
    credential = h.credential()
    _session_id, request = h.start()
    presentation = h.present(credential, request)
    assert h.answer(request, presentation).status_code == 200
    again = h.answer(request, presentation)
    assert again.status_code == 400 and again.json()["reason"] == "replayed"
    # and the same presentation sent to a fresh session fails on the nonce
    session2, other = h.start()
    h.answer(other, presentation)
    assert code_of(h.result(session2)) == "nonce_mismatch"


# --- VCDM 2.0 secured with SD-JWT (vc+sd-jwt): the VCDM validity period -------------------------------

BIRTH_CONTEXT = "https://w3id.org/tessera/contexts/birth-certificate/v1"


def vcdm_config() -> Any:
    return parse_config(
        {
            "trust": {"issuers": [{"did": ISSUER, "name": "Test Registry", "types": ["BirthCertificate"]}]},
            "policies": {
                "age": {
                    "purpose": {"en": "Name?"},
                    "require_status": False,
                    "dcql": {
                        "credentials": [
                            {
                                "id": "bc",
                                "format": "vc+sd-jwt",
                                "meta": {"type_values": [["BirthCertificate"]]},
                                "claims": [{"path": ["credentialSubject", "givenName"]}],
                            }
                        ]
                    },
                }
            },
        }
    )


def vcdm_credential(h: Harness, **dates: str) -> Any:
    from shared import sd_jwt_vc

    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": ISSUER,
        **dates,
        "credentialSubject": {"givenName": "Amara", "familyName": "Okafor"},
    }
    return sd_jwt_vc.issue_vcdm(
        doc,
        disclosable=[("credentialSubject", "givenName"), ("credentialSubject", "familyName")],
        signer=ISSUER_KEY,
        holder_key=h.holder.public_key,
        now=datetime.fromtimestamp(h.clock(), UTC),
        random_bytes=random_bytes,
        kid=KID,
    )


@pytest.mark.parametrize(
    ("dates", "code"),
    [
        ({"validFrom": "2025-01-01T00:00:00Z"}, None),
        ({"validFrom": "2025-01-01T00:00:00Z", "validUntil": "2025-06-01T00:00:00Z"}, "expired"),
        ({"validFrom": "2030-01-01T00:00:00Z"}, "not_yet_valid"),
    ],
)
def test_vc_sd_jwt_validity_period(make_harness: Callable[..., Harness], dates: dict[str, str], code: str) -> None:
    h = make_harness(vcdm_config())
    credential = vcdm_credential(h, **dates)
    result = h.run(lambda r: h.present(credential, r, reveal=[("credentialSubject", "givenName")]))
    if code is None:
        assert result["status"] == "verified", result
        assert result["claims"] == {"bc": {"credentialSubject": {"givenName": "Amara"}}}
        assert result["verdict"]["types"] == ["VerifiableCredential", "BirthCertificate"]
    else:
        assert code_of(result) == code
        failed = [c["check"] for c in result["verdict"]["checks"] if c["outcome"] == "failed"]
        assert failed == ["validity_period"]


def test_vc_sd_jwt_fixed_members_must_not_be_disclosures(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(vcdm_config())
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": ISSUER,
        "validUntil": "2020-01-01T00:00:00Z",  # expired, but hidden in a Disclosure
        "credentialSubject": {"givenName": "Amara"},
    }
    credential = sd_jwt.issue(  # the raw engine: the profile's issue_vcdm refuses this
        doc,
        disclosable=["validUntil", ("credentialSubject", "givenName")],
        signer=ISSUER_KEY,
        holder_key=h.holder.public_key,
        now=datetime.fromtimestamp(h.clock(), UTC),
        random_bytes=random_bytes,
        typ="vc+sd-jwt",
        kid=KID,
    )
    reveal = [("credentialSubject", "givenName"), "validUntil"]
    assert code_of(h.run(lambda r: h.present(credential, r, reveal=reveal))) == "disclosure_mismatch"
