"""SD-JWT VC and VC-JOSE-COSE (VCDM 2.0 + SD-JWT) profiles; issuer key discovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import jose, sd_jwt, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey, P256PrivateKey, random_bytes
from shared.did import DidResolver, did_jwk_from_public_key, did_key_from_public_key
from shared.errors import TesseraError
from shared.keys import key_from_jwk, private_key_from_jwk, public_jwk
from tests.conftest import load_vector

KEYS = load_vector("sd-jwt", "keys.json")
SPEC_ISSUER_PUB = key_from_jwk(KEYS["issuer_key"])
NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = P256PrivateKey(bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"))
AUD, NONCE = "https://school.example", "nonce-1"
ISS = "https://civil-registry.example/tenant"
CLAIMS: dict[str, Any] = {
    "iss": ISS,
    "vct": "https://credentials.example/birth-certificate",
    "exp": NOW_S + 86400,
    "status": {"status_list": {"idx": 7, "uri": "https://civil-registry.example/status/1"}},
    "given_name": "Amara",
    "birthdate": "2026-01-10",
}
VCDM: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:5b0a3d4e-0c51-4c1c-9f37-9d7d2f1e2a10",
    "type": ["VerifiableCredential", "BirthCertificate"],
    "issuer": ISS,
    "validFrom": "2026-01-12T00:00:00Z",
    "validUntil": "2036-01-12T00:00:00Z",
    "credentialStatus": {"id": "https://civil-registry.example/status/1#7", "type": "BitstringStatusListEntry"},
    "credentialSubject": {"givenName": "Amara", "birthDate": "2026-01-10", "age_over_18": False},
}


def _key(_h: dict[str, Any], _p: dict[str, Any]) -> Any:
    return ISSUER.public_key


def _issue(claims: dict[str, Any] | None = None, disclosable: Any = ("given_name", "birthdate"), **kw: Any) -> Any:
    return sd_jwt_vc.issue_sd_jwt_vc(
        claims or CLAIMS,
        disclosable=disclosable,
        signer=ISSUER,
        holder_key=HOLDER.public_key,
        now=NOW,
        random_bytes=random_bytes,
        **kw,
    )


def _present(issued: Any, reveal: Any = ("given_name",)) -> str:
    return sd_jwt.present(issued, reveal=reveal, holder_signer=HOLDER, audience=AUD, nonce=NONCE, now=NOW)


def _verify(text: str, fn: Any = sd_jwt_vc.verify_sd_jwt_vc, **kw: Any) -> sd_jwt_vc.VerifiedCredential:
    args: dict[str, Any] = {"resolve_issuer_key": _key, "now": NOW, "audience": AUD, "nonce": NONCE, "require_kb": True}
    args.update(kw)
    result: sd_jwt_vc.VerifiedCredential = fn(text, **args)
    return result


def _code(text: str, fn: Any = sd_jwt_vc.verify_sd_jwt_vc, **kw: Any) -> str:
    with pytest.raises(TesseraError) as info:
        _verify(text, fn, **kw)
    return info.value.code


# --- the draft's examples --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sd-jwt-vc-2.3-identity-credential.json", "sd-jwt-vc-A.1-pid.json"])
def test_draft_examples(name: str) -> None:
    vec = load_vector("sd-jwt-vc", name)
    for artifact in vec["artifacts"]:
        kb = "kb_jwt_payload" in artifact
        now = datetime.fromtimestamp(artifact["kb_jwt_payload"]["iat"] if kb else 1787325881, UTC)
        out = sd_jwt_vc.verify_sd_jwt_vc(
            artifact["compact"],
            resolve_issuer_key=lambda _h, _p: SPEC_ISSUER_PUB,
            now=now,
            audience="https://example.com/verifier",
            nonce="1234567890",
            require_kb=kb,
        )
        assert out.profile == "dc+sd-jwt"
        assert out.sd.header == artifact["issuer_jwt_header"]
        assert out.types == (artifact["issuer_jwt_payload"]["vct"],)
        assert {d.text for d in out.sd.disclosures} == set(artifact["disclosures_included"])
        if kb:
            assert out.claims == artifact["processed_payload"]
            assert out.sd.kb_payload == artifact["kb_jwt_payload"]
        else:
            # the draft's processed-payload figure for the first issuance is not exact (VERIFICATION.log);
            # the always-visible claims and the set of claim names must match
            plain = [k for k in artifact["issuer_jwt_payload"] if not k.startswith("_")]
            assert {k: out.claims[k] for k in plain} == {k: artifact["processed_payload"][k] for k in plain}
            assert set(out.claims) == set(artifact["processed_payload"])


def test_issuer_metadata_figure() -> None:
    figures = load_vector("sd-jwt-vc", "sd-jwt-vc-other-figures.json")["figures_by_section"]
    metadata = figures["4.2 JWT VC Issuer Metadata Response"][0]
    vec = load_vector("sd-jwt-vc", "sd-jwt-vc-2.3-identity-credential.json")
    artifact = vec["artifacts"][0]
    fetched: list[str] = []

    def fetch_json(url: str) -> Any:
        fetched.append(url)
        return {**metadata, "issuer": "https://example.com/issuer"}

    resolve = sd_jwt_vc.issuer_key_resolver(fetch_json=fetch_json)
    out = sd_jwt_vc.verify_sd_jwt_vc(artifact["compact"], resolve_issuer_key=resolve, now=NOW)
    assert out.issuer == "https://example.com/issuer"
    assert fetched == ["https://example.com/.well-known/jwt-vc-issuer/issuer"]


# --- SD-JWT VC -------------------------------------------------------------------------------


def test_round_trip() -> None:
    issued = _issue()
    assert issued.header == {"alg": "EdDSA", "typ": "dc+sd-jwt"}
    out = _verify(_present(issued))
    assert out.claims["given_name"] == "Amara" and "birthdate" not in out.claims
    assert out.issuer == ISS and out.types == (CLAIMS["vct"],)
    assert out.status == CLAIMS["status"]
    assert out.valid_until == NOW + timedelta(days=1)
    assert out.sd.holder_key == HOLDER.public_key


@pytest.mark.parametrize("name", ["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"])
def test_never_disclosable_refused_on_issue(name: str) -> None:
    claims = {**CLAIMS, "nbf": NOW_S, "vct#integrity": "sha256-abc"}
    if name == "cnf":
        claims["cnf"] = {"jwk": public_jwk(HOLDER)}
    with pytest.raises(TesseraError):
        sd_jwt_vc.issue_sd_jwt_vc(
            claims, disclosable=[name], signer=ISSUER, holder_key=None, now=NOW, random_bytes=random_bytes
        )
    with pytest.raises(TesseraError):
        _issue(disclosable=[(name, "x")] if name in ("cnf", "status") else [name])


@pytest.mark.parametrize("name", ["iss", "cnf", "status", "vct", "exp"])
def test_never_disclosable_rejected_on_verify(name: str) -> None:
    claims = {k: v for k, v in CLAIMS.items()}
    holder_key = HOLDER.public_key
    if name == "cnf":
        claims["cnf"] = {"jwk": public_jwk(HOLDER)}
        holder_key = None
    issued = sd_jwt.issue(
        claims, disclosable=[name], signer=ISSUER, holder_key=holder_key, now=NOW, random_bytes=random_bytes
    )
    text = sd_jwt.present(issued, reveal=[name])
    assert _code(text, require_kb=False) in {"disclosure_mismatch", "malformed", "holder_binding_failed"}
    if name in ("iss", "status"):
        assert _code(text, require_kb=False) == "disclosure_mismatch"


def test_vct_required_and_types() -> None:
    with pytest.raises(TesseraError):
        _issue(claims={k: v for k, v in CLAIMS.items() if k != "vct"})
    with pytest.raises(TesseraError):
        _issue(claims={**CLAIMS, "exp": "soon"})
    no_vct = sd_jwt.issue(
        {"iss": ISS, "a": 1}, disclosable=[], signer=ISSUER, holder_key=None, now=NOW, random_bytes=random_bytes
    )
    assert _code(sd_jwt.present(no_vct, reveal=[]), require_kb=False) == "malformed"


def test_time_checks() -> None:
    assert _code(_present(_issue(claims={**CLAIMS, "exp": NOW_S - 100}))) == "expired"
    assert _code(_present(_issue(claims={**CLAIMS, "nbf": NOW_S + 3600}))) == "not_yet_valid"


def test_legacy_typ_accepted_and_wrong_typ_refused() -> None:
    legacy = sd_jwt.issue(
        CLAIMS, disclosable=["given_name"], signer=ISSUER, holder_key=HOLDER.public_key, now=NOW,
        random_bytes=random_bytes, typ="vc+sd-jwt",
    )  # fmt: skip
    assert _verify(_present(legacy)).claims["given_name"] == "Amara"
    assert _verify(_present(legacy), sd_jwt_vc.verify_credential).profile == "dc+sd-jwt"
    other = sd_jwt.issue(
        CLAIMS, disclosable=[], signer=ISSUER, holder_key=HOLDER.public_key, now=NOW, random_bytes=random_bytes,
        typ="example+sd-jwt",
    )  # fmt: skip
    assert _code(_present(other, [])) == "unsupported_format"


def test_wrong_kb_audience_nonce() -> None:
    text = _present(_issue())
    assert _code(text, audience="https://bank.example") == "audience_mismatch"
    assert _code(text, nonce="other") == "nonce_mismatch"


# --- issuer key discovery --------------------------------------------------------------------


def test_metadata_url() -> None:
    assert sd_jwt_vc.metadata_url("https://a.example") == "https://a.example/.well-known/jwt-vc-issuer"
    assert sd_jwt_vc.metadata_url("https://a.example/t/1/") == "https://a.example/.well-known/jwt-vc-issuer/t/1"
    for bad in ("http://a.example", "https://a.example?x=1", "https://a.example#f", "https://u@a.example", "a"):
        with pytest.raises(TesseraError):
            sd_jwt_vc.metadata_url(bad)


def _metadata_resolver(metadata: Any, jwks: Any = None) -> Any:
    def fetch_json(url: str) -> Any:
        if url == "https://civil-registry.example/.well-known/jwt-vc-issuer/tenant":
            return metadata
        if url == "https://civil-registry.example/jwks.json":
            return jwks
        raise AssertionError(url)

    return sd_jwt_vc.issuer_key_resolver(fetch_json=fetch_json)


def test_issuer_metadata_inline_and_by_uri() -> None:
    jwk = {**public_jwk(ISSUER), "kid": "k1"}
    other = {**public_jwk(HOLDER), "kid": "k2"}
    issued = _issue(kid="k1")
    text = _present(issued)
    jwks = {"keys": [other, jwk]}
    _verify(text, resolve_issuer_key=_metadata_resolver({"issuer": ISS, "jwks": jwks}))
    uri = {"issuer": ISS, "jwks_uri": "https://civil-registry.example/jwks.json"}
    _verify(text, resolve_issuer_key=_metadata_resolver(uri, jwks))
    # failures
    assert _code(text, resolve_issuer_key=_metadata_resolver({"issuer": "https://x.example", "jwks": jwks})) == (
        "key_mismatch"
    )
    assert _code(text, resolve_issuer_key=_metadata_resolver({"issuer": ISS, "jwks": jwks, **uri})) == "unknown_key"
    assert _code(text, resolve_issuer_key=_metadata_resolver({"issuer": ISS, "jwks": {"keys": [other]}})) == (
        "unknown_key"
    )
    wrong_alg = {"keys": [{**jwk, "alg": "ES256"}]}
    assert _code(text, resolve_issuer_key=_metadata_resolver({"issuer": ISS, "jwks": wrong_alg})) == "key_mismatch"
    assert _code(text, resolve_issuer_key=sd_jwt_vc.issuer_key_resolver()) == "unknown_key"


@pytest.mark.parametrize("method", ["key", "jwk"])
def test_issuer_did_kid(method: str) -> None:
    did = did_key_from_public_key(ISSUER) if method == "key" else did_jwk_from_public_key(ISSUER.public_key)
    kid = f"{did}#{did.removeprefix('did:key:')}" if method == "key" else f"{did}#0"
    resolve = sd_jwt_vc.issuer_key_resolver(resolve_method=DidResolver())
    issued = _issue(claims={**CLAIMS, "iss": did}, kid=kid)
    assert _verify(_present(issued), resolve_issuer_key=resolve).issuer == did
    # the kid must belong to the iss DID
    other = did_key_from_public_key(Ed25519PrivateKey(bytes(range(1, 33))))
    mismatched = _issue(claims={**CLAIMS, "iss": other}, kid=kid)
    assert _code(_present(mismatched), resolve_issuer_key=resolve) == "key_mismatch"
    # a DID issuer without a kid
    bare = _issue(claims={**CLAIMS, "iss": did})
    assert _code(_present(bare), resolve_issuer_key=resolve) == "unknown_key"
    # a key in the DID document that is not the signer's
    forged = sd_jwt_vc.issue_sd_jwt_vc(
        {**CLAIMS, "iss": did}, disclosable=[], signer=Ed25519PrivateKey(bytes(range(1, 33))),
        holder_key=HOLDER.public_key, now=NOW, random_bytes=random_bytes, kid=kid,
    )  # fmt: skip
    assert _code(_present(forged, []), resolve_issuer_key=resolve) == "invalid_signature"


# --- VC-JOSE-COSE ------------------------------------------------------------------------------


def _issue_vcdm(doc: dict[str, Any] | None = None, disclosable: Any = None) -> Any:
    paths = disclosable or [("credentialSubject", "givenName"), ("credentialSubject", "birthDate"),
                            ("credentialSubject", "age_over_18")]  # fmt: skip
    return sd_jwt_vc.issue_vcdm(
        doc or VCDM, disclosable=paths, signer=ISSUER, holder_key=HOLDER.public_key, now=NOW, random_bytes=random_bytes
    )


def test_vcdm_round_trip() -> None:
    issued = _issue_vcdm()
    assert issued.header == {"alg": "EdDSA", "typ": "vc+sd-jwt", "cty": "vc"}
    out = _verify(_present(issued, [("credentialSubject", "age_over_18")]), sd_jwt_vc.verify_vcdm)
    assert out.profile == "vc+sd-jwt"
    assert out.claims["credentialSubject"] == {"age_over_18": False}
    assert out.types == ("VerifiableCredential", "BirthCertificate")
    assert out.issuer == ISS and out.status == VCDM["credentialStatus"]
    assert out.valid_from == datetime(2026, 1, 12, tzinfo=UTC)
    assert _verify(_present(issued, []), sd_jwt_vc.verify_credential).profile == "vc+sd-jwt"
    # the SD-JWT VC verifier does not take a VCDM document
    assert _code(_present(issued, [])) == "unsupported_format"


@pytest.mark.parametrize(
    "path", ["@context", "type", "issuer", "id", "validFrom", "validUntil", "credentialStatus", "credentialSubject"]
)
def test_vcdm_always_disclosed(path: str) -> None:
    with pytest.raises(TesseraError):
        _issue_vcdm(disclosable=[path])
    forged = sd_jwt.issue(
        VCDM, disclosable=[path], signer=ISSUER, holder_key=HOLDER.public_key, now=NOW, random_bytes=random_bytes,
        typ="vc+sd-jwt",
    )  # fmt: skip
    assert _code(_present(forged, [path]), sd_jwt_vc.verify_vcdm) in {"disclosure_mismatch", "malformed"}


def test_vcdm_validity_and_shape() -> None:
    assert _code(_present(_issue_vcdm({**VCDM, "validUntil": "2026-01-31T00:00:00Z"}), []), sd_jwt_vc.verify_vcdm) == (
        "expired"
    )
    assert _code(_present(_issue_vcdm({**VCDM, "validFrom": "2027-01-01T00:00:00Z"}), []), sd_jwt_vc.verify_vcdm) == (
        "not_yet_valid"
    )
    for bad in (
        {**VCDM, "@context": ["https://www.w3.org/2018/credentials/v1"]},
        {**VCDM, "type": ["BirthCertificate"]},
        {**VCDM, "issuer": {"name": "x"}},
        {**VCDM, "validFrom": "yesterday"},
        {k: v for k, v in VCDM.items() if k != "credentialSubject"},
    ):
        with pytest.raises(TesseraError):
            _issue_vcdm(bad, disclosable=[])


def test_vcdm_cty() -> None:
    forged = sd_jwt.issue(
        VCDM, disclosable=[], signer=ISSUER, holder_key=HOLDER.public_key, now=NOW, random_bytes=random_bytes,
        typ="vc+sd-jwt", extra_header={"cty": "json"},
    )  # fmt: skip
    assert _code(_present(forged, []), sd_jwt_vc.verify_vcdm) == "unsupported_format"


def test_spec_key_reads() -> None:
    # the holder key from the vectors signs a P-256 KB-JWT that our verifier accepts (ES256 holder keys)
    holder = private_key_from_jwk(KEYS["holder_key"])
    issued = sd_jwt_vc.issue_sd_jwt_vc(
        CLAIMS, disclosable=["given_name"], signer=ISSUER, holder_key=holder.public_key, now=NOW,
        random_bytes=random_bytes,
    )  # fmt: skip
    text = sd_jwt.present(issued, reveal=["given_name"], holder_signer=holder, audience=AUD, nonce=NONCE, now=NOW)
    assert _verify(text).sd.kb_header == {"alg": "ES256", "typ": "kb+jwt"}
    assert jose.decode_unverified(text.rpartition("~")[2]).header["alg"] == "ES256"
