"""shared.data_integrity: every intermediate value of the W3C EdDSA vectors, proof sets and chains,
sign → verify round trips for credentials and presentations, and a negative test per reason code."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import data_integrity as di
from shared import jsonld
from shared.crypto import Ed25519PrivateKey, P256PrivateKey, sha256
from shared.did.document import VerificationMethod
from shared.did.key import did_key_from_public_key, resolve_did_key
from shared.encoding import multibase_decode
from shared.errors import KeyResolutionError, TesseraError
from shared.keys import multikey_decode, multikey_encode
from tests.conftest import load_vector

VECTOR_ISSUER = "https://vc.example/issuers/5678"
EMPLOY_ISSUER = "did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76"
VECTOR_CREATED = "2023-02-24T23:36:38Z"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CHALLENGE = "1f44d55f-f161-4938-a659-f8026467f126"
DOMAIN = "https://verifier.example"


def private_key(multibase: str) -> Ed25519PrivateKey:
    raw = multibase_decode(multibase)
    assert raw[:2] == b"\x80\x26"  # ed25519-priv multicodec
    return Ed25519PrivateKey(raw[2:])


def vm_id_of(key: Ed25519PrivateKey | P256PrivateKey) -> str:
    did = did_key_from_public_key(key)
    return f"{did}#{did.removeprefix('did:key:')}"


def did_key_resolver(controllers: dict[str, str] | None = None) -> Callable[[str], VerificationMethod]:
    """did:key methods; ``controllers`` maps a DID to the controller an issuer's document would name."""

    def resolve(vm_id: str) -> VerificationMethod:
        did = vm_id.split("#", 1)[0]
        method = resolve_did_key(did).method(vm_id)
        if method is None:
            raise KeyResolutionError(f"no method {vm_id}", code="unknown_key")
        if controllers and did in controllers:
            method = dataclasses.replace(method, controller=controllers[did])
        return method

    return resolve


VECTOR_KEY = private_key(load_vector("di-eddsa", "keyPair.json")["privateKeyMultibase"])
VECTOR_VM = vm_id_of(VECTOR_KEY)
VECTOR_DID = VECTOR_VM.split("#")[0]
MULTI = load_vector("di-eddsa", "proof-set-chain", "multiKeyPairs.json")
MULTI_KEYS = [private_key(MULTI[f"keyPair{i}"]["privateKeyMultibase"]) for i in range(1, 5)]
VECTOR_RESOLVER = did_key_resolver({vm_id_of(k).split("#")[0]: VECTOR_ISSUER for k in [VECTOR_KEY, *MULTI_KEYS]})

ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(32, 64)))
ISSUER_DID = did_key_from_public_key(ISSUER)
HOLDER_DID = did_key_from_public_key(HOLDER)
RESOLVER = did_key_resolver()


def test_vector_keys_match_their_public_keys() -> None:
    assert multikey_encode(VECTOR_KEY) == load_vector("di-eddsa", "keyPair.json")["publicKeyMultibase"]
    for i, key in enumerate(MULTI_KEYS, 1):
        assert multikey_encode(key) == MULTI[f"keyPair{i}"]["publicKeyMultibase"]
        assert multikey_decode(multikey_encode(key)) == key.public_key


# --- every intermediate value of the W3C vectors -------------------------------------------------

CASES = {
    # name: (unsigned document, folder, file suffix, suite, issuer the vector's key stands for)
    "rdfc": (("unsigned.json",), ("eddsa-rdfc-2022",), "DataInt", di.RDFC, VECTOR_ISSUER),
    "rdfc-employ": (("employmentAuth.json",), ("eddsa-rdfc-2022", "employ"), "DataInt", di.RDFC, EMPLOY_ISSUER),
    "jcs": (("unsigned.json",), ("eddsa-jcs-2022",), "JCS", di.JCS, VECTOR_ISSUER),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    unsigned, folder, suffix, suite, issuer = CASES[request.param]

    def vec(stem: str, ext: str = "txt") -> Any:
        return load_vector("di-eddsa", *folder, f"{stem}{suffix}.{ext}")

    return {"unsigned": load_vector("di-eddsa", *unsigned), "vec": vec, "suite": suite, "issuer": issuer}


def test_vector_transformation_and_document_hash(case: dict[str, Any]) -> None:
    canonical = di.transform(case["unsigned"], case["suite"])
    assert canonical.decode("utf-8") == case["vec"]("canonDoc")
    assert sha256(canonical).hex() == case["vec"]("docHash")


def test_vector_proof_configuration_and_hash(case: dict[str, Any]) -> None:
    options = case["vec"]("proofConfig", "json")
    canonical = di.proof_configuration(options, case["unsigned"]["@context"])
    assert canonical.decode("utf-8") == case["vec"]("proofCanon")
    assert sha256(canonical).hex() == case["vec"]("proofHash")


def test_vector_hash_data_signature_and_proof_value(case: dict[str, Any]) -> None:
    options = case["vec"]("proofConfig", "json")
    data = di.hash_data(
        di.transform(case["unsigned"], case["suite"]),
        di.proof_configuration(options, case["unsigned"]["@context"]),
    )
    assert data.hex() == case["vec"]("combinedHash")
    assert data[:32].hex() == case["vec"]("proofHash")  # the proof configuration hash comes first
    signature = di.serialize_proof(data, VECTOR_KEY)
    assert signature.hex() == case["vec"]("sigHex")
    assert "z" + di.multibase_encode(signature, "z")[1:] == case["vec"]("sigBTC58")
    di.verify_proof_value(data, di.decode_proof_value(case["vec"]("sigBTC58")), VECTOR_KEY.public_key)


def test_vector_sign_reproduces_the_signed_document(case: dict[str, Any]) -> None:
    signed = di.sign(
        case["unsigned"], signer=VECTOR_KEY, verification_method=VECTOR_VM, cryptosuite=case["suite"],
        created=VECTOR_CREATED,
    )  # fmt: skip
    assert signed == case["vec"]("signed", "json")


def test_vector_signed_document_verifies(case: dict[str, Any]) -> None:
    signed = case["vec"]("signed", "json")
    resolver = did_key_resolver({VECTOR_DID: case["issuer"]})
    result = di.verify(signed, resolve_method=resolver, now=NOW)
    assert result.document == case["unsigned"]
    assert result.verification_methods == (VECTOR_VM,)
    assert result.controller == case["issuer"]
    assert result.proofs == (signed["proof"],)
    # with the plain did:key document the key's controller is the did:key, not the issuer
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "key_mismatch"


def test_legacy_ed25519signature2020_values_and_refusal() -> None:
    """Ed25519Signature2020 is not verified as a proof (unsupported_cryptosuite); its hashes and
    signature are the same construction and are checked with the stage functions."""
    folder = ("di-eddsa", "Ed25519Signature2020")
    signed = load_vector(*folder, "signedEdSig.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    canonical_doc = jsonld.canonicalize(unsigned).encode()
    canonical_proof = jsonld.canonicalize(load_vector(*folder, "proofConfigEdSig.json")).encode()
    assert sha256(canonical_doc).hex() + sha256(canonical_proof).hex() != load_vector(*folder, "combinedHashEdSig.txt")
    data = di.hash_data(canonical_doc, canonical_proof)
    assert data.hex() == load_vector(*folder, "combinedHashEdSig.txt")
    assert di.serialize_proof(data, VECTOR_KEY).hex() == load_vector(*folder, "sigHexEdSig.txt")
    assert code(lambda: di.verify(signed, resolve_method=VECTOR_RESOLVER, now=NOW)) == "unsupported_cryptosuite"


# --- proof sets and chains -----------------------------------------------------------------------


def chain_vector(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_vector("di-eddsa", "proof-set-chain", f"{name}.json"))


@pytest.mark.parametrize("name", ["signedProofSet1", "signedProofSet2", "signedProofChain1", "signedProofChain2"])
def test_proof_set_and_chain_vectors_verify(name: str) -> None:
    doc = chain_vector(name)
    result = di.verify(doc, resolve_method=VECTOR_RESOLVER, now=NOW)
    proofs = doc["proof"] if isinstance(doc["proof"], list) else [doc["proof"]]
    assert result.verification_methods == tuple(p["verificationMethod"] for p in proofs)
    assert result.document == chain_vector("unsigned")


def test_proof_sets_and_chains_are_reproduced_step_by_step() -> None:
    def config(name: str) -> dict[str, Any]:
        return chain_vector(name)

    def add(doc: dict[str, Any], key: Ed25519PrivateKey, cfg: dict[str, Any]) -> dict[str, Any]:
        return di.sign(
            doc, signer=key, verification_method=cfg["verificationMethod"], created=cfg["created"],
            proof_id=cfg.get("id"), previous_proof=cfg.get("previousProof"),
        )  # fmt: skip

    set1 = add(chain_vector("unsigned"), MULTI_KEYS[0], config("proofSetConfig1"))
    assert set1 == chain_vector("signedProofSet1")
    set2 = add(set1, MULTI_KEYS[1], config("proofSetConfig2"))
    assert set2 == chain_vector("signedProofSet2")
    chain1 = add(set2, MULTI_KEYS[2], config("proofChainConfig1"))
    assert chain1 == chain_vector("signedProofChain1")
    assert chain1["proof"][-1] == chain_vector("proofChainConfigSigned1")
    chain2 = add(chain1, MULTI_KEYS[3], config("proofChainConfig2"))
    assert chain2 == chain_vector("signedProofChain2")
    # the document a chained proof covers: proof = the proofs it names
    temp = chain_vector("proofChainTempDoc2")
    assert temp["proof"] == [chain1["proof"][-1]]


def test_chain_to_a_missing_proof_is_invalid() -> None:
    doc = chain_vector("signedProofChain2")
    del doc["proof"][2]  # the proof the last one chains to
    assert code(lambda: di.verify(doc, resolve_method=VECTOR_RESOLVER, now=NOW)) == "invalid_proof"
    with pytest.raises(TesseraError) as info:
        di.sign(chain_vector("signedProofSet1"), signer=ISSUER, verification_method=vm_id_of(ISSUER),
                created=NOW, previous_proof="urn:uuid:nope")  # fmt: skip
    assert info.value.code == "invalid_proof"


def test_every_proof_of_a_set_must_verify() -> None:
    doc = chain_vector("signedProofSet2")
    doc["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    assert code(lambda: di.verify(doc, resolve_method=VECTOR_RESOLVER, now=NOW)) == "invalid_signature"
    doc = chain_vector("signedProofChain1")
    doc["proof"][0]["proofValue"] = chain_vector("signedProofSet2")["proof"][1]["proofValue"]
    assert code(lambda: di.verify(doc, resolve_method=VECTOR_RESOLVER, now=NOW)) == "invalid_signature"


def test_mixed_suite_proof_set_round_trip() -> None:
    credential = sample_credential()
    one = di.sign(credential, signer=ISSUER, verification_method=vm_id_of(ISSUER), created=NOW, proof_id="urn:p:1")
    two = di.sign(one, signer=ISSUER, verification_method=vm_id_of(ISSUER), cryptosuite=di.JCS, created=NOW,
                  previous_proof="urn:p:1")  # fmt: skip
    assert [p["cryptosuite"] for p in two["proof"]] == [di.RDFC, di.JCS]
    assert len(di.verify(two, resolve_method=RESOLVER, now=NOW).proofs) == 2


# --- round trips ---------------------------------------------------------------------------------


def sample_credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://w3id.org/tessera/contexts/birth-certificate/v1",
        ],
        "id": "urn:uuid:0b9ba2a8-3f0c-4f5e-8a66-55f1b0d3f0a1",
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": {"id": ISSUER_DID, "name": "Enugu State Civil Registry"},
        "validFrom": "2026-01-15T00:00:00Z",
        "credentialSubject": {
            "id": HOLDER_DID,
            "type": "Person",
            "givenName": "Amara",
            "familyName": "Okafor",
            "birthDate": "2026-01-10",
            **subject,
        },
    }


def presentation(*credentials: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER_DID,
        "verifiableCredential": list(credentials),
    }


def sign_vc(suite: str = di.RDFC, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"created": NOW - timedelta(days=1), **kwargs}
    return di.sign(
        sample_credential(), signer=ISSUER, verification_method=vm_id_of(ISSUER), cryptosuite=suite, **options
    )


def sign_vp(suite: str = di.RDFC, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"challenge": CHALLENGE, "domain": DOMAIN, "created": NOW, **kwargs}
    return di.sign(
        presentation(sign_vc(suite)), signer=HOLDER, verification_method=vm_id_of(HOLDER), cryptosuite=suite,
        proof_purpose="authentication", **options,
    )  # fmt: skip


def verify_vp(vp: dict[str, Any], **kwargs: Any) -> di.VerifiedDocument:
    options: dict[str, Any] = {"challenge": CHALLENGE, "domain": DOMAIN, **kwargs}
    return di.verify(vp, resolve_method=RESOLVER, now=NOW, expected_proof_purpose="authentication", **options)


def code(call: Callable[[], Any]) -> str:
    with pytest.raises(TesseraError) as info:
        call()
    return info.value.code


SUITES = pytest.mark.parametrize("suite", [di.RDFC, di.JCS])


@SUITES
def test_credential_round_trip(suite: str) -> None:
    credential = sample_credential()
    signed = sign_vc(suite)
    assert credential == sample_credential()  # the input is untouched
    assert signed["proof"]["proofValue"].startswith("z")
    assert ("@context" in signed["proof"]) is (suite == di.JCS)
    result = di.verify(signed, resolve_method=RESOLVER, now=NOW)
    assert result.document == credential
    assert result.controller == ISSUER_DID
    assert result.verification_methods == (vm_id_of(ISSUER),)


@SUITES
def test_presentation_round_trip_with_embedded_credential(suite: str) -> None:
    vp = sign_vp(suite)
    assert vp["proof"]["challenge"] == CHALLENGE and vp["proof"]["domain"] == DOMAIN
    result = verify_vp(vp)
    assert result.controller == HOLDER_DID
    embedded = result.document["verifiableCredential"][0]
    assert di.verify(embedded, resolve_method=RESOLVER, now=NOW).controller == ISSUER_DID
    # the holder's proof covers the embedded credential
    bad = copy.deepcopy(vp)
    bad["verifiableCredential"][0]["credentialSubject"]["birthDate"] = "2006-01-10"
    assert code(lambda: verify_vp(bad)) == "invalid_signature"
    assert code(lambda: di.verify(bad["verifiableCredential"][0], resolve_method=RESOLVER, now=NOW)) == (
        "invalid_signature"
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=40), suite=st.sampled_from([di.RDFC, di.JCS]))
def test_property_round_trip_and_tamper_detection(name: str, suite: str) -> None:
    credential = sample_credential(givenName=name)
    signed = di.sign(credential, signer=ISSUER, verification_method=vm_id_of(ISSUER), cryptosuite=suite, created=NOW)
    assert di.verify(signed, resolve_method=RESOLVER, now=NOW).document == credential
    signed["credentialSubject"]["givenName"] = name + "!"
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "invalid_signature"


def test_created_accepts_datetimes_and_strings() -> None:
    when = datetime(2026, 1, 15, 9, 30, 0, 250000, tzinfo=UTC)
    assert sign_vc(created=when)["proof"]["created"] == "2026-01-15T09:30:00.25Z"
    assert sign_vc(created="2026-01-15T10:30:00+01:00")["proof"]["created"] == "2026-01-15T10:30:00+01:00"
    assert "created" not in sign_vc(created=None)["proof"]
    di.verify(sign_vc(created="2026-01-15T10:30:00+01:00"), resolve_method=RESOLVER, now=NOW)
    assert code(lambda: sign_vc(created=datetime(2026, 1, 15))) == "malformed"  # naive datetime
    assert code(lambda: sign_vc(created="2026-01-15T09:30:00")) == "invalid_proof"  # no time zone


# --- negative tests, one per reason code ---------------------------------------------------------


@SUITES
def test_tampered_claim(suite: str) -> None:
    signed = sign_vc(suite)
    signed["credentialSubject"]["familyName"] = "Okafor-Smith"
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "invalid_signature"


@SUITES
def test_tampered_proof_options(suite: str) -> None:
    signed = sign_vc(suite)
    signed["proof"]["created"] = "2026-01-31T12:00:01Z"
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "invalid_signature"


@SUITES
def test_tampered_proof_value(suite: str) -> None:
    signed = sign_vc(suite)
    value = signed["proof"]["proofValue"]
    i = len(value) // 2
    signed["proof"]["proofValue"] = value[:i] + ("2" if value[i] != "2" else "3") + value[i + 1 :]
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "invalid_signature"


def test_wrong_key() -> None:
    signed = sign_vc()
    other = Ed25519PrivateKey(bytes(range(64, 96))).public_key

    def resolver(vm_id: str) -> VerificationMethod:
        return dataclasses.replace(RESOLVER(vm_id), public_key=other)

    assert code(lambda: di.verify(signed, resolve_method=resolver, now=NOW)) == "invalid_signature"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "unsupported_cryptosuite"),
        ({"cryptosuite": None}, "unsupported_cryptosuite"),
        ({"cryptosuite": ["eddsa-rdfc-2022"]}, "unsupported_cryptosuite"),
        ({"type": "Ed25519Signature2020"}, "unsupported_cryptosuite"),
        ({"type": None}, "unsupported_cryptosuite"),
        ({"proofValue": None}, "invalid_proof"),
        ({"proofValue": "u" + "A" * 86}, "invalid_proof"),
        ({"proofValue": "z0OIl"}, "invalid_proof"),
        ({"proofValue": "z" + "2" * 80}, "invalid_proof"),
        ({"proofValue": "z3"}, "invalid_proof"),
        ({"proofValue": 12}, "invalid_proof"),
        ({"verificationMethod": None}, "invalid_proof"),
        ({"verificationMethod": {"id": "did:x"}}, "invalid_proof"),
        ({"proofPurpose": None}, "invalid_proof"),
        ({"created": "yesterday"}, "invalid_proof"),
        ({"created": "2026-02-30T00:00:00Z"}, "invalid_proof"),
        ({"created": "2026-01-15T09:30:00"}, "invalid_proof"),
        ({"expires": 1767225600}, "invalid_proof"),
        ({"challenge": 5}, "invalid_proof"),
        ({"previousProof": 5}, "invalid_proof"),
    ],
)
def test_malformed_proofs(change: dict[str, Any], expected: str) -> None:
    signed = sign_vc()
    for name, value in change.items():
        if value is None:
            signed["proof"].pop(name, None)
        else:
            signed["proof"][name] = value
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == expected


@pytest.mark.parametrize("proof", [None, "z123", [], [1], [{}] * 17])
def test_malformed_proof_containers(proof: Any) -> None:
    doc = {**sample_credential(), "proof": proof}
    assert code(lambda: di.verify(doc, resolve_method=RESOLVER, now=NOW)) in {
        "invalid_proof",
        "unsupported_cryptosuite",
    }


def test_missing_proof() -> None:
    assert code(lambda: di.verify(sample_credential(), resolve_method=RESOLVER, now=NOW)) == "missing_proof"
    assert code(lambda: di.verify([], resolve_method=RESOLVER, now=NOW)) == "malformed"  # type: ignore[arg-type]


@SUITES
def test_undefined_term_added_after_signing(suite: str) -> None:
    # the REC VC 2.0 context has no @vocab: the new term would be dropped, unsigned
    signed = sign_vc(suite)
    signed["credentialSubject"]["favouriteColour"] = "blue"
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "data_loss"
    # with the undefined-terms context it resolves, but only to an issuer-dependent IRI
    signed = sign_vc(suite)
    signed["@context"] = [*signed["@context"], "https://www.w3.org/ns/credentials/undefined-terms/v2"]
    signed["credentialSubject"]["favouriteColour"] = "blue"
    if suite == di.JCS:
        signed["proof"]["@context"] = signed["@context"]
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "undefined_term"


def test_undefined_terms_are_not_signed_in_strict_mode() -> None:
    credential = sample_credential(favouriteColour="blue")
    credential["@context"].append("https://www.w3.org/ns/credentials/undefined-terms/v2")
    options: dict[str, Any] = {"signer": ISSUER, "verification_method": vm_id_of(ISSUER), "created": NOW}
    assert code(lambda: di.sign(credential, **options)) == "undefined_term"
    signed = di.sign(credential, strict=False, **options)
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "undefined_term"
    di.verify(signed, resolve_method=RESOLVER, now=NOW, strict=False)


@SUITES
def test_unknown_context_url(suite: str) -> None:
    signed = sign_vc(suite)
    signed["@context"] = [*signed["@context"], "https://evil.example/context"]
    if suite == di.JCS:
        signed["proof"]["@context"] = signed["@context"]
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "context_not_allowed"


def test_jcs_proof_context_must_prefix_the_document_context() -> None:
    signed = sign_vc(di.JCS)
    signed["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "invalid_proof"


def test_expired_proof() -> None:
    signed = sign_vc(expires=NOW)
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "expired"
    di.verify(signed, resolve_method=RESOLVER, now=NOW - timedelta(seconds=1))


def test_proof_created_in_the_future() -> None:
    signed = sign_vc(created=NOW + timedelta(minutes=6))
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "not_yet_valid"
    # within the clock skew allowance
    di.verify(sign_vc(created=NOW + timedelta(minutes=4)), resolve_method=RESOLVER, now=NOW)
    call = lambda: di.verify(  # noqa: E731
        sign_vc(created=NOW + timedelta(minutes=4)), resolve_method=RESOLVER, now=NOW, max_clock_skew=timedelta(0)
    )
    assert code(call) == "not_yet_valid"


def test_naive_now_is_refused() -> None:
    assert code(lambda: di.verify(sign_vc(), resolve_method=RESOLVER, now=datetime(2026, 2, 1))) == "malformed"


@SUITES
def test_presentation_challenge_and_domain(suite: str) -> None:
    vp = sign_vp(suite)
    assert code(lambda: verify_vp(vp, challenge="another")) == "challenge_mismatch"
    assert code(lambda: verify_vp(vp, domain="https://elsewhere.example")) == "domain_mismatch"
    no_challenge = sign_vp(suite, challenge=None)
    assert code(lambda: verify_vp(no_challenge)) == "challenge_mismatch"
    verify_vp(no_challenge, challenge=None)
    # a changed challenge in the proof breaks the signature, even when the verifier asks for it
    bad = copy.deepcopy(vp)
    bad["proof"]["challenge"] = "another"
    assert code(lambda: verify_vp(bad, challenge="another")) == "invalid_signature"


def test_domain_may_be_a_list() -> None:
    vp = sign_vp(domain=[DOMAIN, "https://other.example"])
    assert vp["proof"]["domain"] == [DOMAIN, "https://other.example"]
    verify_vp(vp)
    verify_vp(vp, domain="https://other.example")
    assert code(lambda: verify_vp(vp, domain="https://third.example")) == "domain_mismatch"


def test_wrong_proof_purpose() -> None:
    vp = sign_vp()
    # a presentation proof is not an assertion
    assert code(lambda: di.verify(vp, resolve_method=RESOLVER, now=NOW, challenge=CHALLENGE)) == (
        "proof_purpose_mismatch"
    )
    assert code(lambda: verify_vp(sign_vc())) == "proof_purpose_mismatch"


def test_method_not_controlled_by_the_issuer() -> None:
    credential = sample_credential()
    signed = di.sign(credential, signer=HOLDER, verification_method=vm_id_of(HOLDER), created=NOW)
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "key_mismatch"
    credential["issuer"] = "did:example:someone-else"
    signed = di.sign(credential, signer=ISSUER, verification_method=vm_id_of(ISSUER), created=NOW)
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "key_mismatch"
    del credential["issuer"]
    signed = di.sign(credential, signer=ISSUER, verification_method=vm_id_of(ISSUER), created=NOW)
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "key_mismatch"


def test_presentation_key_must_be_the_holders() -> None:
    vp = presentation(sign_vc())
    vp["holder"] = {"id": ISSUER_DID}
    signed = di.sign(vp, signer=HOLDER, verification_method=vm_id_of(HOLDER), proof_purpose="authentication",
                     challenge=CHALLENGE, domain=DOMAIN, created=NOW)  # fmt: skip
    assert code(lambda: verify_vp(signed)) == "key_mismatch"


def test_method_not_listed_for_the_purpose() -> None:
    signed = sign_vc()

    def resolver(vm_id: str) -> VerificationMethod:
        return dataclasses.replace(RESOLVER(vm_id), relationships=frozenset({"authentication"}))

    assert code(lambda: di.verify(signed, resolve_method=resolver, now=NOW)) == "key_mismatch"


def test_resolver_failures_are_unknown_key() -> None:
    signed = sign_vc()

    def failing(vm_id: str) -> VerificationMethod:
        raise KeyResolutionError(code="did_resolution_failed")

    def crashing(vm_id: str) -> VerificationMethod:
        raise KeyError(vm_id)

    def other_method(vm_id: str) -> VerificationMethod:
        return RESOLVER(vm_id_of(HOLDER))

    for resolver in (failing, crashing, other_method):
        assert code(lambda r=resolver: di.verify(signed, resolve_method=r, now=NOW)) == "unknown_key"  # type: ignore[misc]


def test_non_ed25519_keys() -> None:
    p256 = P256PrivateKey(bytes(31) + b"\x07")
    assert code(lambda: di.sign(sample_credential(), signer=p256, verification_method=vm_id_of(p256), created=NOW)) == (
        "unsupported_algorithm"
    )
    signed = sign_vc()

    def p256_method(vm_id: str) -> VerificationMethod:
        return dataclasses.replace(RESOLVER(vm_id), public_key=p256.public_key)

    assert code(lambda: di.verify(signed, resolve_method=p256_method, now=NOW)) == "unsupported_key_type"


def test_sign_refuses_bad_arguments() -> None:
    options: dict[str, Any] = {"signer": ISSUER, "verification_method": vm_id_of(ISSUER), "created": NOW}
    assert code(lambda: di.sign(sample_credential(), cryptosuite="eddsa-2022", **options)) == "unsupported_cryptosuite"
    assert code(lambda: di.sign([], **options)) == "malformed"  # type: ignore[arg-type]
    assert code(lambda: di.sign(sample_credential(), **{**options, "verification_method": ""})) == "malformed"


# --- oversized and poisoned documents --------------------------------------------------------------


def poisoned(n: int) -> dict[str, Any]:
    credential = sample_credential()
    credential["https://example.org/blob"] = {
        "@graph": [
            {"@id": f"_:n{i}", "https://example.org/p": [{"@id": f"_:n{j}"} for j in range(n) if j != i]}
            for i in range(n)
        ]
    }
    return credential


def test_poisoned_document_cannot_be_signed_or_verified() -> None:
    options: dict[str, Any] = {"signer": ISSUER, "verification_method": vm_id_of(ISSUER), "created": NOW}
    assert code(lambda: di.sign(poisoned(8), **options)) == "canonicalization_limit"
    # a poisoned document slipped under a valid proof is refused before any signature check
    signed = sign_vc()
    signed["https://example.org/blob"] = poisoned(8)["https://example.org/blob"]
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "canonicalization_limit"


def test_oversized_document() -> None:
    signed = sign_vc()
    signed["credentialSubject"]["givenName"] = "A" * 1_000_001
    assert code(lambda: di.verify(signed, resolve_method=RESOLVER, now=NOW)) == "canonicalization_limit"
