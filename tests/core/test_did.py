"""DIDs: did:key, did:jwk, did:web, DID document parsing and the resolver (vectors in tests/vectors/did)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.crypto import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    P256PrivateKey,
    P256PublicKey,
    ed25519_to_x25519_public,
)
from shared.did import (
    DidResolver,
    address_allowed,
    check_url,
    did_jwk_from_public_key,
    did_key_from_public_key,
    did_web_from_url,
    did_web_to_url,
    parse_did,
    parse_did_document,
    parse_did_url,
    public_key_from_did_key,
    resolve_did_jwk,
    resolve_did_key,
    resolve_did_web,
)
from shared.did.jwk import did_jwk_document, jwk_from_did_jwk
from shared.did.key import did_key_document
from shared.encoding import b58_decode, b58_encode, b64url_decode, b64url_encode, multibase_decode
from shared.errors import KeyResolutionError, MalformedError, TesseraError, UnsupportedError
from shared.keys import key_from_jwk, private_jwk, public_jwk
from tests.conftest import Clock, load_vector

ED_VECTORS = load_vector("did", "did-key-ed25519.json")["vectors"]
OLD_ED = load_vector("did", "did-method-key-test-vectors", "ed25519-x25519.json")
NIST = load_vector("did", "did-method-key-test-vectors", "nist-curves.json")
JWK_EXAMPLES = load_vector("did", "did-jwk.json")["examples"]
SIGNING = {"authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"}
ALL_RELS = SIGNING | {"keyAgreement"}


def raises_code(code: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TesseraError:
    with pytest.raises(TesseraError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


# --- did:key vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", ED_VECTORS, ids=lambda v: v["did"][8:20])
def test_did_key_ed25519_vectors(vector: dict[str, Any]) -> None:
    key = Ed25519PrivateKey(bytes.fromhex(vector["ed25519_seed_hex"]))
    assert key.public_key.raw.hex() == vector["ed25519_public_key_hex"]
    did = did_key_from_public_key(key)
    assert did == vector["did"] == did_key_from_public_key(key.public_key)
    assert did == "did:key:" + vector["publicKeyMultibase"]
    # secretKeyMultibase: 0x8026 + seed (checked, not used by the resolver)
    assert multibase_decode(vector["secretKeyMultibase"]) == b"\x80\x26" + key.seed
    # the whole document, including the derived X25519 key agreement method
    assert did_key_document(did) == vector["did_document_multikey"]
    assert public_key_from_did_key(did) == key.public_key

    doc = resolve_did_key(did)
    assert doc.id == did
    (vm,) = doc.methods
    assert vm.id == f"{did}#{vector['publicKeyMultibase']}"
    assert vm.type == "Multikey" and vm.controller == did
    assert vm.public_key == key.public_key
    assert vm.relationships == SIGNING
    ka = vector["did_document_multikey"]["keyAgreement"][0]
    assert doc.unsupported == {ka["id"]}
    if "x25519_public_key_hex" in vector:
        assert ed25519_to_x25519_public(key.public_key.raw).hex() == vector["x25519_public_key_hex"]
        assert ka["publicKeyMultibase"] == vector["x25519_publicKeyMultibase"]


@pytest.mark.parametrize("did", sorted(OLD_ED), ids=lambda d: d[8:20])
def test_did_key_matches_the_2022_ed25519_x25519_vectors(did: str) -> None:
    vector = OLD_ED[did]
    key = Ed25519PrivateKey(bytes.fromhex(vector["seed"]))
    assert did_key_from_public_key(key) == did
    ours = resolve_did_key(did)
    # the old document shape (Ed25519VerificationKey2018 + X25519KeyAgreementKey2019) reads to the same key
    old = parse_did_document(vector["didDocument"], did=did)
    assert [m.public_key for m in old.methods] == [ours.methods[0].public_key]
    assert old.methods[0].id == ours.methods[0].id and old.methods[0].relationships == SIGNING
    ka = vector["keyAgreementKeyPair"]
    ka_id = did + ka["id"] if ka["id"].startswith("#") else ka["id"]  # the file mixes relative and absolute ids
    assert old.unsupported == {ka_id} == ours.unsupported
    x25519 = ed25519_to_x25519_public(key.public_key.raw)
    if "publicKeyJwk" in ka:
        assert b64url_encode(x25519) == ka["publicKeyJwk"]["x"]
    else:
        assert b58_encode(x25519) == ka["publicKeyBase58"]


P256_DIDS = [d for d in NIST if d.startswith("did:key:zDn")]
OTHER_NIST = [d for d in NIST if not d.startswith("did:key:zDn")]


@pytest.mark.parametrize("did", P256_DIDS, ids=lambda d: d[8:20])
def test_did_key_p256_vectors(did: str) -> None:
    vector = NIST[did]
    key = public_key_from_did_key(did)
    assert isinstance(key, P256PublicKey)
    vm_vector = vector["verificationMethod"]
    if "publicKeyJwk" in vm_vector:
        assert key == key_from_jwk(vm_vector["publicKeyJwk"])
        private = vm_vector["privateKeyJwk"]
        assert P256PrivateKey(b64url_decode(private["d"])).public_key == key
    else:  # P256Key2021: publicKeyBase58 is the compressed point
        assert b58_decode(vm_vector["publicKeyBase58"]) == key.compressed
    assert did_key_from_public_key(key) == did

    doc = resolve_did_key(did)
    (vm,) = doc.methods
    assert vm.type == "Multikey" and vm.relationships == SIGNING and vm.public_key == key
    assert "keyAgreement" not in doc.document and doc.unsupported == frozenset()
    # the vector's own (JsonWebKey2020 / P256Key2021) document: the JWK form reads to the same key
    vector_doc = parse_did_document(vector["didDocument"], did=did)
    if "publicKeyJwk" in vm_vector:
        assert vector_doc.methods[0].public_key == key
        assert vector_doc.methods[0].relationships == ALL_RELS
    else:
        assert vector_doc.methods == () and len(vector_doc.unsupported) == 1


@pytest.mark.parametrize("did", OTHER_NIST, ids=lambda d: d[8:20])
def test_did_key_p384_p521_are_unsupported(did: str) -> None:
    raises_code("unsupported_key_type", public_key_from_did_key, did)
    raises_code("unsupported_key_type", DidResolver().resolve, did)


@pytest.mark.parametrize(
    ("file", "pick"),
    [("secp256k1.json", None), ("bls12381.json", None), ("rsa.json", None), ("x25519.json", "didDocument")],
)
def test_did_key_other_key_types_are_unsupported(file: str, pick: str | None) -> None:
    data = load_vector("did", "did-method-key-test-vectors", file)
    dids = list(data[pick] if pick else data)
    assert dids
    for did in dids:
        raises_code("unsupported_key_type", public_key_from_did_key, did)


def test_did_key_without_key_agreement() -> None:
    did = ED_VECTORS[0]["did"]
    doc = resolve_did_key(did, key_agreement=False)
    assert "keyAgreement" not in doc.document and doc.unsupported == frozenset()


# --- did:key errors --------------------------------------------------------------------------


def _did_key(raw: bytes) -> str:
    return "did:key:z" + b58_encode(raw)


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:key:", "invalid_did"),
        ("did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "invalid_did"),  # no multibase prefix
        ("did:key:uAAAA", "invalid_did"),  # multibase, but not base58btc
        ("did:key:z0OIl", "invalid_did"),  # not base58btc
        ("did:key:1.0:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "invalid_did"),  # version form
        (_did_key(b"\xed\x01" + bytes(31)), "invalid_key"),
        (_did_key(b"\xed\x01" + bytes(33)), "invalid_key"),
        (_did_key(b"\x80\x24" + P256PrivateKey(bytes(31) + b"\x07").public_key.point), "invalid_key"),  # uncompressed
        (_did_key(b"\x80\x24\x02" + b"\xff" * 32), "invalid_key"),  # not on the curve
        (_did_key(b"\x80\x24\x05" + bytes(32)), "invalid_key"),  # bad point prefix
        (_did_key(b"\xed\x01\x01" + bytes(31)), "invalid_key"),  # small-order point: no X25519 key
        (_did_key(b"\xe7\x01" + bytes(33)), "unsupported_key_type"),  # secp256k1
        (_did_key(b"\x01"), "unsupported_key_type"),
        ("did:jwk:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "unsupported_did_method"),
    ],
)
def test_did_key_errors(did: str, code: str) -> None:
    raises_code(code, resolve_did_key, did)


def test_small_order_ed25519_key_resolves_without_key_agreement() -> None:
    # the spec derives X25519 only when asked; the signing key alone is still well-formed
    doc = resolve_did_key(_did_key(b"\xed\x01\x01" + bytes(31)), key_agreement=False)
    assert len(doc.methods) == 1


# --- did:jwk ---------------------------------------------------------------------------------


@pytest.mark.parametrize("example", JWK_EXAMPLES, ids=["p256", "x25519", "ed25519"])
def test_did_jwk_vectors(example: dict[str, Any]) -> None:
    did = example["did"]
    assert jwk_from_did_jwk(did) == example["jwk"]
    assert b64url_decode(did.removeprefix("did:jwk:")).decode() == example["decoded_json_string"]
    if "did_document" in example:
        assert did_jwk_document(did) == example["did_document"]
    doc = resolve_did_jwk(did)
    assert doc.id == did
    if example["jwk"]["crv"] == "X25519":
        assert doc.methods == () and doc.unsupported == {example["did_url"]}
        raises_code("unsupported_key_type", DidResolver().resolve_method, example["did_url"])
        raises_code("unsupported_key_type", DidResolver().resolve_method, did)
    else:
        (vm,) = doc.methods
        assert vm.id == example["did_url"] and vm.type == "JsonWebKey2020"
        assert vm.relationships == ALL_RELS  # no "use": all five
        assert vm.public_key == key_from_jwk(example["jwk"])
        assert did_jwk_from_public_key(vm.public_key) == did  # ours are JCS, as the constructed vector


def test_did_jwk_use_selects_relationships() -> None:
    jwk = public_jwk(Ed25519PrivateKey(bytes(32)))
    for use, rels in (("sig", SIGNING), ("enc", {"keyAgreement"})):
        did = "did:jwk:" + b64url_encode(json.dumps({**jwk, "use": use}).encode())
        assert resolve_did_jwk(did).methods[0].relationships == rels


def _jwk_did(value: Any, raw: bytes | None = None) -> str:
    return "did:jwk:" + b64url_encode(raw if raw is not None else json.dumps(value).encode())


ED_JWK = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(Ed25519PrivateKey(bytes(32)).public_key.raw)}


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:jwk:", "invalid_did"),
        ("did:jwk:eyJ!", "invalid_did"),
        ("did:jwk:" + "eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5In0=", "invalid_did"),  # padding is not idchar-free
        (_jwk_did(None, b"not json"), "invalid_did"),
        (_jwk_did(None, b'{"kty":"OKP","kty":"OKP"}'), "invalid_did"),  # duplicate member
        (_jwk_did([ED_JWK]), "invalid_did"),
        (_jwk_did({**ED_JWK, "d": ED_JWK["x"]}), "invalid_key"),
        (_jwk_did({**ED_JWK, "use": "wrap"}), "invalid_key"),
        (_jwk_did({**ED_JWK, "x": "AAAA"}), "invalid_key"),
        (_jwk_did({"kty": "OKP", "crv": "X25519", "x": "AAAA"}), "invalid_key"),
        (_jwk_did({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), "unsupported_key_type"),
        (_jwk_did({"kty": ["OKP"], "crv": {"a": 1}, "x": "AA"}), "unsupported_key_type"),  # no TypeError
        (_jwk_did({"kty": "oct", "k": "AAAA"}), "invalid_key"),
        ("did:key:" + b64url_encode(json.dumps(ED_JWK).encode()), "unsupported_did_method"),
    ],
)
def test_did_jwk_errors(did: str, code: str) -> None:
    raises_code(code, resolve_did_jwk, did)


# --- round trips -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=64))
def test_round_trip_ed25519(seed: bytes, message: bytes) -> None:
    key = Ed25519PrivateKey(seed)
    resolver = DidResolver()
    for did in (did_key_from_public_key(key), did_jwk_from_public_key(key)):
        vm = resolver(did)  # a bare did:key / did:jwk names its only key
        assert vm.public_key == key.public_key and vm.allows("assertionMethod")
        vm.public_key.verify(message, key.sign(message))
        assert resolver.resolve_method(vm.id) is vm


def test_round_trip_p256() -> None:
    key = P256PrivateKey.generate()
    resolver = DidResolver()
    for did in (did_key_from_public_key(key), did_jwk_from_public_key(key)):
        vm = resolver.resolve_method(did)
        assert vm.public_key == key.public_key
        vm.public_key.verify(b"hello", key.sign(b"hello"))


# --- DID syntax ------------------------------------------------------------------------------


def test_parse_did_url() -> None:
    url = parse_did_url("did:web:example.com%3A8443:a#key-1")
    assert (url.did, url.method, url.method_specific_id, url.fragment) == (
        "did:web:example.com%3A8443:a",
        "web",
        "example.com%3A8443:a",
        "key-1",
    )
    assert str(url) == "did:web:example.com%3A8443:a#key-1"
    assert parse_did("did:example:123").fragment is None


@pytest.mark.parametrize(
    "text",
    [
        None,
        42,
        "",
        "did:",
        "did:key",
        "did:key:",
        "DID:key:z6Mk",
        "did:Key:z6Mk",
        "did:key:z6Mk#",
        "did:key:z6Mk# x",
        "did:web:example.com/path",
        "did:web:example.com?versionId=1",
        "did:web:example.com%zz",
        "did:web:exa mple.com",
        "did:web:example.com:",
        "did:key:" + "z" * 5000,
    ],
)
def test_invalid_did_syntax(text: Any) -> None:
    raises_code("invalid_did", parse_did_url, text)
    raises_code("invalid_did", DidResolver().resolve_method, text)


def test_a_bare_did_is_required_where_a_did_is_expected() -> None:
    raises_code("invalid_did", parse_did, "did:example:123#frag")
    raises_code("invalid_did", DidResolver().resolve, "did:example:123#frag")


# --- DID documents ---------------------------------------------------------------------------

DOC_DID = "did:web:example.com"
ED_KEY = Ed25519PrivateKey(bytes(range(32)))
P_KEY = P256PrivateKey(bytes(31) + b"\x05")


def _doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": DOC_DID,
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": DOC_DID,
                "publicKeyMultibase": did_key_from_public_key(ED_KEY).removeprefix("did:key:"),
            },
            {"id": f"{DOC_DID}#jwk", "type": "JsonWebKey", "controller": DOC_DID, "publicKeyJwk": public_jwk(P_KEY)},
        ],
        "assertionMethod": ["#key-1", f"{DOC_DID}#jwk", "did:example:other#k"],
        "authentication": [
            {
                "id": f"{DOC_DID}#embedded",
                "type": "Ed25519VerificationKey2020",
                "controller": DOC_DID,
                "publicKeyMultibase": did_key_from_public_key(ED_KEY).removeprefix("did:key:"),
            },
            "#key-1",
        ],
        "keyAgreement": [{"id": "#x", "type": "X25519KeyAgreementKey2020", "controller": DOC_DID}],
    }
    doc.update(extra)
    return doc


def test_parse_did_document_relative_ids_embedded_methods_and_relationships() -> None:
    doc = parse_did_document(_doc(), did=DOC_DID)
    assert [m.id for m in doc.methods] == [f"{DOC_DID}#key-1", f"{DOC_DID}#jwk", f"{DOC_DID}#embedded"]
    key1, jwk, embedded = doc.methods
    assert key1.relationships == {"assertionMethod", "authentication"} and key1.public_key == ED_KEY.public_key
    assert jwk.relationships == {"assertionMethod"} and jwk.public_key == P_KEY.public_key
    assert embedded.relationships == {"authentication"} and embedded.type == "Ed25519VerificationKey2020"
    assert doc.unsupported == {f"{DOC_DID}#x"}  # an unknown type is skipped, not fatal
    assert doc.method(f"{DOC_DID}#nope") is None


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: [], "malformed"),
        (lambda d: {**d, "id": "not a did"}, "invalid_did"),
        (lambda d: {**d, "id": "did:web:other.example"}, "malformed"),
        (lambda d: {**d, "verificationMethod": {}}, "malformed"),
        (lambda d: {**d, "assertionMethod": "#key-1"}, "malformed"),
        (lambda d: {**d, "assertionMethod": ["#missing"]}, "malformed"),
        (lambda d: {**d, "assertionMethod": [f"{DOC_DID}"]}, "malformed"),  # reference without fragment
        (lambda d: {**d, "assertionMethod": [7]}, "malformed"),
        (lambda d: {**d, "verificationMethod": [*d["verificationMethod"], d["verificationMethod"][0]]}, "malformed"),
        (lambda d: {**d, "verificationMethod": ["#key-1"]}, "malformed"),
        (lambda d: {**d, "verificationMethod": [{**d["verificationMethod"][0], "controller": None}]}, "invalid_did"),
        (lambda d: {**d, "verificationMethod": [{**d["verificationMethod"][0], "type": 3}]}, "malformed"),
        (
            lambda d: {**d, "verificationMethod": [{**d["verificationMethod"][0], "publicKeyMultibase": 3}]},
            "invalid_key",
        ),
        (
            lambda d: {
                **d,
                "verificationMethod": [{**d["verificationMethod"][1], "publicKeyJwk": private_jwk(P_KEY)}],
                "assertionMethod": [],
                "authentication": [],
            },
            "invalid_key",
        ),
        (
            lambda d: {  # an Ed25519VerificationKey2020 holding a P-256 key
                **d,
                "authentication": [
                    {**d["authentication"][0], "publicKeyMultibase": did_key_from_public_key(P_KEY)[8:]}
                ],
            },
            "invalid_key",
        ),
        (
            lambda d: {
                **d,
                "verificationMethod": [{**d["verificationMethod"][0], "id": f"#k{i}"} for i in range(65)],
                "assertionMethod": [],
                "authentication": [],
            },
            "too_large",
        ),
    ],
)
def test_parse_did_document_errors(mutate: Callable[[dict[str, Any]], Any], code: str) -> None:
    raises_code(code, parse_did_document, mutate(_doc()), did=DOC_DID)


# --- did:web: URLs and guards ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_web_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com%2Fevil",
        "did:web:user%40example.com",
        "did:web:exa_mple.com",
        "did:web:-example.com",
        "did:web:example.com%3A0",
        "did:web:example.com%3A99999",
        "did:web:example.com%3Ahttps",
        "did:web:example.com::a",
        "did:web:example.com:..",
        "did:web:example.com:%2E%2E",
        "did:web:example.com:a%2Fb",
        "did:web:2130706433",  # 127.0.0.1 to inet_aton
        "did:web:127.1",
        "did:web:0x7f.0x0.0x0.0x1",
        "did:web:%5B%3A%3A1",
        "did:web:%5Bnot-v6%5D",
        "did:web:%FF.example",
        "did:web:example.com:%FF",
        "did:web:http%3A%2F%2Fexample.com",
    ],
)
def test_did_web_invalid(did: str) -> None:
    raises_code("invalid_did", did_web_to_url, did)
    raises_code("invalid_did", resolve_did_web, did, fetch=_never_fetch, allow_private=True)


def _never_fetch(url: str, *, timeout: float, max_bytes: int) -> bytes:
    raise AssertionError("must not fetch")


@pytest.mark.parametrize(
    "did",
    [
        "did:web:10.0.0.1",
        "did:web:127.0.0.1",
        "did:web:127.0.0.1%3A8443",
        "did:web:%5B%3A%3A1%5D",
        "did:web:169.254.169.254",
        "did:web:192.168.1.1",
        "did:web:8.8.8.8",  # did:web §3.1: no IP addresses at all
        "did:web:localhost",
        "did:web:localhost%3A8000",
        "did:web:api.localhost",
        "did:web:printer.local",
        "did:web:metadata.google.internal",
        "did:web:intranet",
    ],
)
def test_did_web_ssrf_guard(did: str) -> None:
    err = raises_code("did_resolution_failed", resolve_did_web, did, fetch=_never_fetch)
    assert err.detail["reason"] == "host_not_allowed"
    raises_code("did_resolution_failed", DidResolver(fetch=_never_fetch).resolve, did)


def test_did_web_allow_private_lifts_the_host_guard() -> None:
    did = "did:web:127.0.0.1%3A8443"
    fetch = FakeFetch({"https://127.0.0.1:8443/.well-known/did.json": _doc_bytes(did)})
    doc = resolve_did_web(did, fetch=fetch, allow_private=True)
    assert doc.id == did and fetch.calls == ["https://127.0.0.1:8443/.well-known/did.json"]
    did6 = "did:web:%5B%3A%3A1%5D"
    fetch6 = FakeFetch({"https://[::1]/.well-known/did.json": _doc_bytes(did6)})
    assert DidResolver(fetch=fetch6, allow_private=True).resolve(did6).id == did6


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/.well-known/did.json", "scheme_not_allowed"),
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("https://user@example.com/did.json", "invalid_url"),
        ("https://example.com:0/did.json", "invalid_url"),
        ("https://example.com:99999/did.json", "invalid_url"),
        ("https:///did.json", "invalid_url"),
        ("https://exa_mple.com/did.json", "invalid_url"),
        ("https://127.0.0.1/did.json", "host_not_allowed"),
        ("https://[::ffff:127.0.0.1]/did.json", "host_not_allowed"),
        ("https://localhost:8443/did.json", "host_not_allowed"),
    ],
)
def test_check_url(url: str, reason: str) -> None:
    err = raises_code("did_resolution_failed", check_url, url)
    assert err.detail["reason"] == reason


def test_check_url_accepts_public_https() -> None:
    check_url("https://example.com/.well-known/did.json")
    check_url("https://example.com:8443/a/did.json")
    check_url("https://127.0.0.1:8443/did.json", allow_private=True)


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("[::1]", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("2001:db8::1", False),
        ("not an ip", False),
        ("", False),
    ],
)
def test_address_allowed(ip: str, allowed: bool) -> None:
    assert address_allowed(ip) is allowed
    if ip not in ("not an ip", ""):
        assert address_allowed(ip, allow_private=True)


def test_address_allowed_rejects_non_strings() -> None:
    assert address_allowed(2130706433) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://example.com", "did:web:example.com"),
        ("https://example.com/", "did:web:example.com"),
        ("https://example.com/.well-known/did.json", "did:web:example.com"),
        ("https://example.com:8443/issuers/civil~registry", "did:web:example.com%3A8443:issuers:civil%7Eregistry"),
        ("https://example.com/user/alice/did.json", "did:web:example.com:user:alice"),
        ("https://[::1]:8443", "did:web:%5B%3A%3A1%5D%3A8443"),
    ],
)
def test_did_web_from_url(url: str, did: str) -> None:
    assert did_web_from_url(url) == did
    assert did_web_to_url(did).startswith(
        url.rstrip("/").removesuffix("/.well-known/did.json").removesuffix("/did.json")
    )


@pytest.mark.parametrize("url", ["http://example.com", "https://example.com/?q=1", "https://u@example.com", "x"])
def test_did_web_from_url_errors(url: str) -> None:
    raises_code("invalid_did", did_web_from_url, url)


# --- did:web: fetching -----------------------------------------------------------------------


class FakeFetch:
    def __init__(self, responses: dict[str, bytes | Exception | object]) -> None:
        self.responses = responses
        self.calls: list[str] = []
        self.args: list[tuple[float, int]] = []

    def __call__(self, url: str, *, timeout: float, max_bytes: int) -> bytes:
        self.calls.append(url)
        self.args.append((timeout, max_bytes))
        value = self.responses[url]
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[return-value]


def _doc_bytes(did: str, **extra: Any) -> bytes:
    doc = {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": public_jwk(ED_KEY),
            }
        ],
        "assertionMethod": ["#key-1"],
        **extra,
    }
    return json.dumps(doc).encode()


WEB_DID = "did:web:issuer.example:civil"
WEB_URL = "https://issuer.example/civil/did.json"


def test_resolve_did_web() -> None:
    fetch = FakeFetch({WEB_URL: _doc_bytes(WEB_DID)})
    resolver = DidResolver(fetch=fetch, timeout=2.5, max_bytes=10_000)
    vm = resolver.resolve_method(WEB_DID + "#key-1")
    assert vm.public_key == ED_KEY.public_key and vm.relationships == {"assertionMethod"}
    assert fetch.calls == [WEB_URL] and fetch.args == [(2.5, 10_000)]
    raises_code("unknown_key", resolver.resolve_method, WEB_DID + "#key-2")
    raises_code("unknown_key", resolver.resolve_method, WEB_DID)  # did:web needs a fragment
    assert fetch.calls == [WEB_URL]  # the cache answered


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (OSError("connection refused"), "fetch_failed"),
        (TimeoutError("timed out"), "fetch_failed"),
        (MalformedError("body too big", code="too_large"), "fetch_failed"),
        ("a str, not bytes", "fetch_failed"),
        (b" " * 300_000, "too_large"),
        (b"{not json", "malformed"),
        (b'{"id": "did:web:issuer.example:civil", "id": "did:web:issuer.example:civil"}', "duplicate_key"),
        (b"[]", "id_mismatch"),
        (_doc_bytes("did:web:issuer.example"), "id_mismatch"),
        (_doc_bytes("did:web:evil.example:civil"), "id_mismatch"),
        (_doc_bytes(WEB_DID, assertionMethod=["#nope"]), "malformed"),
        (_doc_bytes(WEB_DID, verificationMethod="x"), "malformed"),
    ],
)
def test_resolve_did_web_failures(body: Any, reason: str) -> None:
    fetch = FakeFetch({WEB_URL: body})
    err = raises_code("did_resolution_failed", DidResolver(fetch=fetch).resolve, WEB_DID)
    assert isinstance(err, KeyResolutionError)
    assert err.detail["reason"] == reason and err.detail["url"] == WEB_URL


def test_oversized_document_is_refused_even_if_fetch_ignores_the_cap() -> None:
    fetch = FakeFetch({WEB_URL: _doc_bytes(WEB_DID, padding="x" * 2000)})
    err = raises_code("did_resolution_failed", resolve_did_web, WEB_DID, fetch=fetch, max_bytes=1000)
    assert err.detail["reason"] == "too_large" and fetch.args == [(5.0, 1000)]


# --- resolver --------------------------------------------------------------------------------


def test_cache_hit_and_expiry_with_a_fake_clock() -> None:
    clock = Clock(1000.0)
    fetch = FakeFetch({WEB_URL: _doc_bytes(WEB_DID)})
    resolver = DidResolver(fetch=fetch, now=clock, cache_ttl=60)
    first = resolver.resolve(WEB_DID)
    clock.t += 59.9
    assert resolver.resolve(WEB_DID) is first
    assert len(fetch.calls) == 1
    clock.t += 0.1
    again = resolver.resolve(WEB_DID)
    assert len(fetch.calls) == 2 and again is not first and again.methods == first.methods


def test_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    dids = [f"did:web:issuer{i}.example" for i in range(3)]
    fetch = FakeFetch({did_web_to_url(d): _doc_bytes(d) for d in dids})
    resolver = DidResolver(fetch=fetch, now=Clock(1000.0), cache_size=2)
    resolver.resolve(dids[0])
    resolver.resolve(dids[1])
    resolver.resolve(dids[0])  # refresh 0: 1 is now the oldest
    resolver.resolve(dids[2])
    assert len(resolver.cache) == 2
    resolver.resolve(dids[0])
    assert len(fetch.calls) == 3
    resolver.resolve(dids[1])
    assert len(fetch.calls) == 4


def test_failures_are_not_cached() -> None:
    fetch = FakeFetch({WEB_URL: OSError("down")})
    resolver = DidResolver(fetch=fetch, now=Clock(1000.0))
    raises_code("did_resolution_failed", resolver.resolve, WEB_DID)
    fetch.responses[WEB_URL] = _doc_bytes(WEB_DID)
    assert resolver.resolve(WEB_DID).id == WEB_DID
    assert len(fetch.calls) == 2


def test_cache_can_be_disabled() -> None:
    fetch = FakeFetch({WEB_URL: _doc_bytes(WEB_DID)})
    resolver = DidResolver(fetch=fetch, cache_size=0)
    resolver.resolve(WEB_DID)
    resolver.resolve(WEB_DID)
    assert len(fetch.calls) == 2


def test_offline_documents_are_cached_too() -> None:
    resolver = DidResolver(now=Clock(1000.0))
    did = ED_VECTORS[0]["did"]
    assert resolver.resolve(did) is resolver.resolve(did)


def test_unsupported_methods() -> None:
    raises_code("unsupported_did_method", DidResolver().resolve, "did:example:123")
    raises_code("unsupported_did_method", DidResolver().resolve, WEB_DID)  # no fetch: offline
    only_key = DidResolver(methods=frozenset({"key"}))
    raises_code("unsupported_did_method", only_key.resolve, JWK_EXAMPLES[0]["did"])
    assert only_key.resolve(ED_VECTORS[0]["did"]).id == ED_VECTORS[0]["did"]


def test_resolve_method_errors() -> None:
    resolver = DidResolver()
    did = ED_VECTORS[0]["did"]
    raises_code("unknown_key", resolver.resolve_method, did + "#nope")
    ka = ED_VECTORS[0]["did_document_multikey"]["keyAgreement"][0]["id"]
    raises_code("unsupported_key_type", resolver.resolve_method, ka)  # X25519: not a signing key
    raises_code("unknown_key", resolver.resolve_method, JWK_EXAMPLES[0]["did"] + "#1")  # did:jwk is always #0
    assert resolver.resolve_method(JWK_EXAMPLES[0]["did_url"]).id == JWK_EXAMPLES[0]["did_url"]


def test_error_classes() -> None:
    with pytest.raises(MalformedError):
        parse_did("nope")
    with pytest.raises(UnsupportedError):
        DidResolver().resolve("did:example:1")
    with pytest.raises(KeyResolutionError):
        DidResolver().resolve_method(ED_VECTORS[0]["did"] + "#nope")


def test_public_key_types() -> None:
    assert isinstance(public_key_from_did_key(ED_VECTORS[0]["did"]), Ed25519PublicKey)
