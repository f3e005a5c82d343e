"""Compact JWS: sign/verify, the algorithm chosen by the key, explicit typ, crit, strict parsing."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import jose
from shared.crypto import Ed25519PrivateKey, P256PrivateKey
from shared.errors import TesseraError

ED = Ed25519PrivateKey(bytes(range(32)))
P256 = P256PrivateKey(bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"))
PAYLOAD = {"sub": "https://status.example/1", "iat": 1700000000, "name": "Möbius"}


def _b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _code(token: Any, **kw: Any) -> str:
    kw.setdefault("key", ED.public_key)
    kw.setdefault("typ", "example+jwt")
    with pytest.raises(TesseraError) as info:
        jose.verify_compact(token, **kw)
    return info.value.code


@pytest.mark.parametrize("signer", [ED, P256], ids=["EdDSA", "ES256"])
def test_round_trip(signer: Any) -> None:
    token = jose.sign_compact({"typ": "example+jwt", "kid": "k1"}, PAYLOAD, signer)
    header, payload = jose.verify_compact(token, key=signer.public_key, typ="example+jwt")
    assert header == {"alg": signer.alg, "typ": "example+jwt", "kid": "k1"}
    assert payload == PAYLOAD
    decoded = jose.decode_unverified(token)
    assert decoded.signing_input == token.rpartition(".")[0].encode()
    assert len(decoded.signature) == 64


def test_compact_serialization_has_alg_first_and_no_spaces() -> None:
    token = jose.sign_compact({"typ": "example+jwt"}, {"a": 1}, ED)
    assert jose.b64d(token.split(".")[0]) == b'{"alg":"EdDSA","typ":"example+jwt"}'
    assert jose.b64d(token.split(".")[1]) == b'{"a":1}'


def test_typ_is_explicit_and_compared_as_a_media_type() -> None:
    token = jose.sign_compact({"typ": "Example+JWT"}, PAYLOAD, ED)
    jose.verify_compact(token, key=ED.public_key, typ="application/example+jwt")
    jose.verify_compact(token, key=ED.public_key, typ=("other", "example+jwt"))
    assert _code(token, typ="kb+jwt") == "unsupported_format"
    untyped = f"{_b64({'alg': 'EdDSA'})}.{_b64(PAYLOAD)}.AAAA"
    assert _code(untyped) == "unsupported_format"
    with pytest.raises(TesseraError):
        jose.sign_compact({}, PAYLOAD, ED)


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS256", "ES384", "PS256", "eddsa", ""])
def test_only_allowed_algorithms(alg: str) -> None:
    token = f"{_b64({'alg': alg, 'typ': 'example+jwt'})}.{_b64(PAYLOAD)}."
    assert _code(token) == "unsupported_algorithm"
    assert _code(token + "AAAA") == "unsupported_algorithm"


def test_algorithm_is_chosen_by_the_key() -> None:
    es = jose.sign_compact({"typ": "example+jwt"}, PAYLOAD, P256)
    ed = jose.sign_compact({"typ": "example+jwt"}, PAYLOAD, ED)
    assert _code(es, key=ED.public_key) == "unsupported_algorithm"
    assert _code(ed, key=P256.public_key) == "unsupported_algorithm"
    assert _code(ed, algs={"ES256"}) == "unsupported_algorithm"
    with pytest.raises(TesseraError) as info:
        jose.sign_compact({"typ": "example+jwt", "alg": "ES256"}, PAYLOAD, ED)
    assert info.value.code == "unsupported_algorithm"


def test_bad_signature() -> None:
    token = jose.sign_compact({"typ": "example+jwt"}, PAYLOAD, ED)
    other = Ed25519PrivateKey(bytes(range(1, 33)))
    assert _code(token, key=other.public_key) == "invalid_signature"
    h, p, s = token.split(".")
    assert _code(f"{h}.{p}.{s[:-4]}") in {"invalid_signature", "malformed"}
    assert _code(f"{h}.{_b64({'sub': 'x'})}.{s}") == "invalid_signature"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"crit": ["exp"], "exp": 1}, "unsupported_format"),
        ({"crit": []}, "malformed"),
        ({"crit": "exp", "exp": 1}, "malformed"),
        ({"crit": ["alg"]}, "malformed"),
        ({"crit": ["x", "x"], "x": 1}, "malformed"),
        ({"crit": ["missing"]}, "malformed"),
        ({"b64": False, "crit": ["b64"]}, "unsupported_format"),
        ({"b64": True}, "unsupported_format"),
    ],
)
def test_crit(extra: dict[str, Any], code: str) -> None:
    header = {"alg": "EdDSA", "typ": "example+jwt", **extra}
    signing_input = f"{_b64(header)}.{_b64(PAYLOAD)}"
    token = signing_input + "." + jose.b64e(ED.sign(signing_input.encode()))
    assert _code(token) == code


def test_understood_crit_passes() -> None:
    header = {"alg": "EdDSA", "typ": "example+jwt", "crit": ["x"], "x": 1}
    signing_input = f"{_b64(header)}.{_b64(PAYLOAD)}"
    token = signing_input + "." + jose.b64e(ED.sign(signing_input.encode()))
    jose.verify_compact(token, key=ED.public_key, typ="example+jwt", understood_crit={"x"})


def test_header_urls_are_never_followed() -> None:
    # jku/x5u/jwk in the header change nothing: the caller's key decides
    header = {"typ": "example+jwt", "jku": "https://attacker.example/jwks", "jwk": {"kty": "OKP"}}
    token = jose.sign_compact(header, PAYLOAD, ED)
    assert jose.verify_compact(token, key=ED.public_key, typ="example+jwt")[0]["jku"] == header["jku"]
    other = Ed25519PrivateKey(bytes(range(1, 33)))
    assert _code(jose.sign_compact(header, PAYLOAD, other)) == "invalid_signature"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "malformed"),
        ("a.b", "malformed"),
        ("a.b.c.d", "malformed"),
        (f"{_b64({'alg': 'EdDSA'})}=.{_b64(PAYLOAD)}.AAAA", "malformed"),
        (f"{_b64(b'[1]')}.{_b64(PAYLOAD)}.AAAA", "malformed"),
        (f"{_b64(b'not json')}.{_b64(PAYLOAD)}.AAAA", "malformed"),
        (f"{_b64({'alg': 'EdDSA', 'typ': 'example+jwt'})}.{_b64(b'[]')}.AAAA", "malformed"),
        (_b64(b'{"alg":"EdDSA","alg":"none"}') + "." + _b64(PAYLOAD) + ".AAAA", "duplicate_key"),
        (_b64(b'{"a":NaN}') + "." + _b64(PAYLOAD) + ".AAAA", "malformed"),
        (_b64(b"\xff\xfe") + "." + _b64(PAYLOAD) + ".AAAA", "malformed"),
        (f"{_b64({'alg': 'EdDSA', 'typ': 'example+jwt'})}.{_b64(b'[' * 100 + b']' * 100)}.AAAA", "too_deep"),
        ("x" * 300_000, "too_large"),
        (None, "malformed"),
        (b"a.b.c", "malformed"),
    ],
)
def test_strict_parsing(token: Any, code: str) -> None:
    assert _code(token) == code


def test_size_cap_is_configurable() -> None:
    token = jose.sign_compact({"typ": "example+jwt"}, {"blob": "x" * 5000}, ED)
    assert _code(token, max_bytes=1000) == "too_large"
    jose.verify_compact(token, key=ED.public_key, typ="example+jwt", max_bytes=10_000)


@given(st.binary(max_size=200))
def test_base64url_round_trip(data: bytes) -> None:
    text = jose.b64e(data)
    assert text == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert jose.b64d(text) == data


@given(st.binary(min_size=1, max_size=40))
def test_base64url_is_canonical(data: bytes) -> None:
    text = jose.b64e(data)
    for bad in (text + "=", text.replace("-", "+").replace("_", "/") if ("-" in text or "_" in text) else text + "+"):
        with pytest.raises(TesseraError):
            jose.b64d(bad)
    # another last character either decodes to other bytes or is refused (never the same bytes)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for ch in alphabet:
        if ch == text[-1]:
            continue
        with contextlib.suppress(TesseraError):
            assert jose.b64d(text[:-1] + ch) != data


def test_header_memo_hands_out_copies() -> None:
    token = jose.sign_compact({"typ": "example+jwt"}, PAYLOAD, ED)
    header, _ = jose.verify_compact(token, key=ED.public_key, typ="example+jwt")
    header["typ"] = "changed"
    assert jose.verify_compact(token, key=ED.public_key, typ="example+jwt")[0]["typ"] == "example+jwt"
