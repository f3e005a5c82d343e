"""SD-JWT VC interop with the OpenWallet Foundation's sd-jwt-js 0.19.0 (@sd-jwt/sd-jwt-vc), through
``sdjwt.mjs``.

Both ways: an SD-JWT VC we issue and present (Ed25519 issuer, key binding) verifies there; one they
issue and present (Ed25519 issuer; ES256 and Ed25519 holder keys) verifies here; tampering fails on
both sides. sd-jwt-js 0.19.0 does not itself reject unreferenced or repeated disclosures
(RFC 9901 §7.1); ``sdjwt.mjs`` adds those checks and labels their errors.

The Python side is reached only through the ``py_*`` adapters below, written against the API in
design §4; if shared/sd_jwt.py or shared/sd_jwt_vc.py settle on other names, adapt them there.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.crypto import Ed25519PrivateKey, P256PrivateKey, random_bytes
from shared.keys import PrivateKey, private_jwk, public_jwk

pytestmark = pytest.mark.interop

NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
AUDIENCE = "https://verifier.example"
NONCE = "n-0S6_WzA2Mj"
VCT = "https://credentials.example/birth-certificate"
ISSUER_URL = "https://civil-registry.example"

CLAIMS: dict[str, Any] = {
    "iss": ISSUER_URL,
    "iat": NOW_S,
    "vct": VCT,
    "given_name": "Amara",
    "family_name": "Okafor",
    "birthdate": "2026-01-10",
    "place_of_birth": {"locality": "Enugu", "country": "NG"},
    "nationality": "NG",
    "age_over_18": False,
}
DISCLOSABLE = ["given_name", "family_name", "birthdate", "place_of_birth", "nationality", "age_over_18"]
REVEAL = ["given_name", "birthdate"]

ISSUER_KEY = Ed25519PrivateKey(bytes(range(32)))
HOLDER_KEYS: dict[str, PrivateKey] = {
    "EdDSA": Ed25519PrivateKey(bytes(range(64, 96))),
    "ES256": P256PrivateKey(bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")),
}


@pytest.fixture(params=sorted(HOLDER_KEYS))
def holder_alg(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- the Python side (adapters over shared.sd_jwt / shared.sd_jwt_vc) -----------------------------


def py_issue(holder: PrivateKey) -> str:
    """An SD-JWT VC issued by Tessera: Ed25519 issuer, ``cnf`` = the holder's key."""
    from shared import sd_jwt

    issued = sd_jwt.issue(
        dict(CLAIMS),
        disclosable=DISCLOSABLE,
        signer=ISSUER_KEY,
        holder_key=holder.public_key,
        now=NOW,
        random_bytes=random_bytes,
    )
    return issued if isinstance(issued, str) else str(issued)


def py_present(text: str, holder: PrivateKey, *, reveal: list[str]) -> str:
    from shared import sd_jwt

    parsed = sd_jwt.parse(text) if hasattr(sd_jwt, "parse") else text
    return str(sd_jwt.present(parsed, reveal=reveal, holder_signer=holder, audience=AUDIENCE, nonce=NONCE, now=NOW))


def py_verify(text: str, *, nonce: str = NONCE, audience: str = AUDIENCE) -> dict[str, Any]:
    """Tessera's verdict: the disclosed claims, or a TesseraError."""
    from shared import sd_jwt

    verified = sd_jwt.verify(
        text,
        resolve_issuer_key=lambda *_args, **_kwargs: ISSUER_KEY.public_key,
        now=NOW,
        audience=audience,
        nonce=nonce,
        require_kb=True,
    )
    claims = getattr(verified, "claims", None)
    if claims is None:
        claims = getattr(verified, "payload", verified)
    assert isinstance(claims, dict)
    return claims


def assert_py_rejects(text: str, **kwargs: Any) -> None:
    from shared.errors import TesseraError

    with pytest.raises(TesseraError):
        py_verify(text, **kwargs)


# --- the JavaScript side -----------------------------------------------------------------------


def js_issue(oracle: Any, holder: PrivateKey, *, kid: str | None = None) -> str:
    request: dict[str, Any] = {
        "op": "issue",
        "issuerJwk": private_jwk(ISSUER_KEY),
        "holderJwk": public_jwk(holder),
        "claims": CLAIMS,
        "disclosable": DISCLOSABLE,
    }
    if kid is not None:
        request["kid"] = kid
    return str(oracle("sdjwt.mjs", request)["sdJwt"])


def js_present(oracle: Any, text: str, holder: PrivateKey, *, reveal: list[str]) -> str:
    request = {
        "op": "present",
        "sdJwt": text,
        "reveal": reveal,
        "holderJwk": private_jwk(holder),
        "audience": AUDIENCE,
        "nonce": NONCE,
        "iat": NOW_S,
    }
    return str(oracle("sdjwt.mjs", request)["sdJwt"])


def js_verify(oracle: Any, text: str, *, nonce: str = NONCE, audience: str = AUDIENCE, **extra: Any) -> dict[str, Any]:
    request = {
        "op": "verify",
        "sdJwt": text,
        "issuerJwk": public_jwk(ISSUER_KEY),
        "now": NOW_S,
        "nonce": nonce,
        "audience": audience,
        **extra,
    }
    result: dict[str, Any] = oracle("sdjwt.mjs", request)
    return result


# --- tampering (each changes one byte of the compact form) ----------------------------------------


def _flip(segment: str, index: int) -> str:
    ch = segment[index]
    return segment[:index] + ("A" if ch != "A" else "B") + segment[index + 1 :]


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def tamper_disclosure(text: str) -> str:
    parts = text.split("~")
    parts[1] = _flip(parts[1], len(parts[1]) // 2)
    return "~".join(parts)


def tamper_issuer_payload(text: str) -> str:
    parts = text.split("~")
    header, payload, signature = parts[0].split(".")
    parts[0] = ".".join([header, _flip(payload, len(payload) // 2), signature])
    return "~".join(parts)


def tamper_kb_signature(text: str) -> str:
    parts = text.split("~")
    header, payload, signature = parts[-1].split(".")
    parts[-1] = ".".join([header, payload, _flip(signature, 10)])
    return "~".join(parts)


def tamper_added_disclosure(text: str) -> str:
    """A disclosure the issuer never signed, smuggled in (the KB-JWT's sd_hash then no longer matches
    either; the unreferenced disclosure is the first thing the RFC says to reject)."""
    parts = text.split("~")
    forged = _b64(["bm90LWEtcmVhbC1zYWx0", "age_over_18", True])
    return "~".join([parts[0], *parts[1:-1], forged, parts[-1]])


TAMPERS = {
    "disclosure": tamper_disclosure,
    "issuer-payload": tamper_issuer_payload,
    "kb-signature": tamper_kb_signature,
    "added-disclosure": tamper_added_disclosure,
}


def disclosed(claims: dict[str, Any]) -> set[str]:
    return set(claims) & set(DISCLOSABLE)


# --- the oracle works (independent of our code) ---------------------------------------------------


def test_oracle_round_trip(oracle: Any, holder_alg: str) -> None:
    holder = HOLDER_KEYS[holder_alg]
    text = js_present(oracle, js_issue(oracle, holder), holder, reveal=REVEAL)
    result = js_verify(oracle, text)
    assert result["verified"] is True, result["errors"]
    assert result["kb"]["header"] == {"typ": "kb+jwt", "alg": holder_alg}
    assert disclosed(result["payload"]) == set(REVEAL)
    assert result["payload"]["cnf"] == {"jwk": public_jwk(holder)}
    assert result["header"]["typ"] == "dc+sd-jwt"

    assert js_verify(oracle, text, nonce="another-nonce")["verified"] is False
    assert js_verify(oracle, text, audience="https://elsewhere.example")["verified"] is False
    for name, tamper in TAMPERS.items():
        assert js_verify(oracle, tamper(text))["verified"] is False, name


def test_oracle_resolves_issuer_from_did_key_kid(oracle: Any) -> None:
    from shared.did import did_key_from_public_key

    did = did_key_from_public_key(ISSUER_KEY)
    holder = HOLDER_KEYS["EdDSA"]
    text = js_present(oracle, js_issue(oracle, holder, kid=f"{did}#{did.removeprefix('did:key:')}"), holder, reveal=[])
    request = {"op": "verify", "sdJwt": text, "now": NOW_S, "nonce": NONCE, "audience": AUDIENCE}
    result = oracle("sdjwt.mjs", request)
    assert result["verified"] is True, result["errors"]
    assert disclosed(result["payload"]) == set()


# --- ours → theirs --------------------------------------------------------------------------------


def test_we_issue_and_present_they_verify(oracle: Any, holder_alg: str) -> None:
    holder = HOLDER_KEYS[holder_alg]
    issued = py_issue(holder)
    # before presentation, every disclosure is there and their decoder reads the claims we issued
    decoded = oracle("sdjwt.mjs", {"op": "decode", "sdJwt": issued})
    assert {k: decoded["payload"][k] for k in CLAIMS} == CLAIMS
    assert {d["key"] for d in decoded["disclosures"]} == set(DISCLOSABLE)

    text = py_present(issued, holder, reveal=REVEAL)
    result = js_verify(oracle, text)
    assert result["verified"] is True, result["errors"]
    assert disclosed(result["payload"]) == set(REVEAL)
    assert {k: result["payload"][k] for k in REVEAL} == {k: CLAIMS[k] for k in REVEAL}
    assert result["kb"]["payload"]["aud"] == AUDIENCE
    assert result["kb"]["payload"]["nonce"] == NONCE


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_our_presentation_tampered_fails_both_sides(oracle: Any, tamper: str) -> None:
    holder = HOLDER_KEYS["EdDSA"]
    text = py_present(py_issue(holder), holder, reveal=REVEAL)
    assert js_verify(oracle, text)["verified"] is True
    py_verify(text)

    bad = TAMPERS[tamper](text)
    result = js_verify(oracle, bad)
    assert result["verified"] is False
    assert result["errors"]
    assert_py_rejects(bad)


# --- theirs → ours --------------------------------------------------------------------------------


def test_they_issue_and_present_we_verify(oracle: Any, holder_alg: str) -> None:
    holder = HOLDER_KEYS[holder_alg]
    text = js_present(oracle, js_issue(oracle, holder), holder, reveal=REVEAL)
    claims = py_verify(text)
    assert disclosed(claims) == set(REVEAL)
    assert {k: claims[k] for k in REVEAL} == {k: CLAIMS[k] for k in REVEAL}
    assert claims["vct"] == VCT
    assert claims["iss"] == ISSUER_URL


def test_they_issue_we_check_nonce_and_audience(oracle: Any, holder_alg: str) -> None:
    holder = HOLDER_KEYS[holder_alg]
    text = js_present(oracle, js_issue(oracle, holder), holder, reveal=REVEAL)
    assert_py_rejects(text, nonce="another-nonce")
    assert_py_rejects(text, audience="https://elsewhere.example")


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_their_presentation_tampered_fails_both_sides(oracle: Any, holder_alg: str, tamper: str) -> None:
    holder = HOLDER_KEYS[holder_alg]
    text = js_present(oracle, js_issue(oracle, holder), holder, reveal=REVEAL)
    bad = TAMPERS[tamper](text)
    assert js_verify(oracle, bad)["verified"] is False
    assert_py_rejects(bad)


def test_we_present_what_they_issued(oracle: Any, holder_alg: str) -> None:
    """A wallet (ours) holding a credential from another issuer stack (theirs)."""
    holder = HOLDER_KEYS[holder_alg]
    text = py_present(js_issue(oracle, holder), holder, reveal=REVEAL)
    result = js_verify(oracle, text)
    assert result["verified"] is True, result["errors"]
    assert disclosed(result["payload"]) == set(REVEAL)
    assert disclosed(py_verify(text)) == set(REVEAL)


def test_they_present_what_we_issued(oracle: Any, holder_alg: str) -> None:
    """Their wallet holding our credential; the presentation verifies on both sides."""
    holder = HOLDER_KEYS[holder_alg]
    text = js_present(oracle, py_issue(holder), holder, reveal=REVEAL)
    assert js_verify(oracle, text)["verified"] is True
    assert disclosed(py_verify(text)) == set(REVEAL)
