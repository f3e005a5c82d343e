"""IETF Token Status List: JSON Status List codec, status claim, statuslist+jwt (shared/status_list.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from typing import Any

import pytest

from shared import bitstring_status, jose, status_bits, status_list
from shared.crypto import Ed25519PrivateKey, P256PrivateKey, P256PublicKey
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.status_list import (
    LSB_FIRST,
    StatusList,
    StatusReference,
    TokenStatus,
    decode_token_list,
    encode_token_list,
    parse_status_claim,
    raise_for_token_status,
    read_status_list_token,
    sign_status_list_token,
    status_list_token_claims,
    status_list_token_header,
    verify_status_list_token,
)
from tests.conftest import load_vector

TSL = load_vector("token-status-list", "token-status-list-vectors.json")
LIST_URI = "https://example.com/statuslists/1"
NOW = 1_700_000_000


def _jwt_part(token: str, n: int) -> Any:
    return json.loads(b64url_decode(token.split(".")[n]))


# --- Token Status List: vectors ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1bit", "2bit"])
def test_token_small_vectors(name: str) -> None:
    vec = TSL["examples"][name]
    decoded = decode_token_list(vec["status_list_json"])
    assert decoded.data.hex() == vec["uncompressed_byte_array_hex"]
    statuses = vec["statuses_by_index"]
    assert [decoded.get(i) for i in range(len(statuses))] == statuses
    built = StatusList.zeros(len(statuses), bits=decoded.bits, order=LSB_FIRST).with_values(enumerate(statuses))
    # Level-9 ZLIB reproduces the draft's bytes exactly.
    assert b64url_decode(encode_token_list(built)["lst"]).hex() == vec["zlib_deflate_hex"]
    assert encode_token_list(built) == vec["status_list_json"]


@pytest.mark.parametrize("name", ["1bit_long", "2bit_long", "4bit_long", "8bit_long"])
def test_token_long_vectors(name: str) -> None:
    vec = TSL["examples"][name]
    decoded = decode_token_list(vec["status_list_json"])
    assert decoded.size == vec["size_entries"]
    assert hashlib.sha256(decoded.data).hexdigest() == vec["uncompressed_sha256_hex"]
    expected = {int(k): v for k, v in vec["non_zero_statuses"].items()}
    assert decoded.nonzero() == expected
    built = StatusList.zeros(vec["size_entries"], bits=vec["bits"], order=LSB_FIRST).with_values(expected)
    assert encode_token_list(built) == vec["status_list_json"]


def test_token_jwt_vector_claims_signature_and_lookup() -> None:
    vec = TSL["examples"]["status_list_token_jwt"]
    token = vec["compact"]
    assert _jwt_part(token, 0) == vec["header"] == {"alg": "ES256", "kid": "12", "typ": "statuslist+jwt"}
    jwk = TSL["signing_key_jwk"]
    key = P256PublicKey.from_xy(b64url_decode(jwk["x"]), b64url_decode(jwk["y"]))
    head, body, sig = token.split(".")
    key.verify(f"{head}.{body}".encode(), b64url_decode(sig))
    checked = read_status_list_token(_jwt_part(token, 1), uri=LIST_URI, now=NOW)
    assert (checked.sub, checked.iat, checked.exp, checked.ttl, checked.iss) == (
        LIST_URI,
        1686920170,
        2291720170,
        43200,
        "https://example.com",
    )
    assert [checked.status_list.get(i) for i in range(16)] == vec["decoded_statuses_first_16"]
    # The referenced SD-JWT of the draft points at index 0, which the list marks INVALID.
    ref = parse_status_claim(TSL["examples"]["referenced_token_sd_jwt"]["issuer_jwt_payload"]["status"])
    assert ref == StatusReference(0, LIST_URI)
    assert checked.status_of(ref) == TokenStatus.INVALID
    with pytest.raises(VerificationError) as err:
        raise_for_token_status(checked.status_of(ref))
    assert err.value.code == "revoked"
    assert checked.status_of(StatusReference(1, LIST_URI)) == TokenStatus.VALID


def test_token_claims_round_trip_and_caching() -> None:
    sl = StatusList.zeros(1000, bits=2, order=LSB_FIRST).with_values({5: TokenStatus.SUSPENDED})
    claims = status_list_token_claims(sl, sub=LIST_URI, iat=NOW, exp=NOW + 86400, ttl=3600, iss="https://issuer")
    assert list(claims) == ["sub", "iat", "exp", "ttl", "iss", "status_list"]
    checked = read_status_list_token(json.loads(json.dumps(claims)), uri=LIST_URI, now=NOW + 10)
    assert checked.status_list == sl
    assert checked.refresh_after(NOW + 100) == NOW + 3700  # ttl counts from when it was fetched
    assert checked.refresh_after(NOW + 86000) == NOW + 86400  # never past exp
    with pytest.raises(VerificationError) as err:
        raise_for_token_status(checked.status_of(StatusReference(5, LIST_URI)))
    assert err.value.code == "suspended"
    no_limits = read_status_list_token(
        {"sub": LIST_URI, "iat": NOW, "status_list": encode_token_list(sl)}, uri=LIST_URI, now=NOW
    )
    assert no_limits.refresh_after(NOW) is None


def test_status_list_token_signed_as_compact_jws() -> None:
    # shared.jose signs for real; here the JWS is assembled by hand to keep this test about the claims.
    key = Ed25519PrivateKey(bytes(32))
    sl = StatusList.zeros(64, bits=1, order=LSB_FIRST).with_value(3, 1)
    header = status_list_token_header(alg=key.alg, kid="k1")
    assert header == {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": "k1"}
    signing_input = ".".join(
        b64url_encode(json.dumps(part).encode())
        for part in (header, status_list_token_claims(sl, sub=LIST_URI, iat=NOW))
    )
    token = f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"
    head, body, sig = token.split(".")
    key.public_key.verify(f"{head}.{body}".encode(), b64url_decode(sig))
    assert _jwt_part(token, 0)["typ"] == "statuslist+jwt"
    checked = read_status_list_token(_jwt_part(token, 1), uri=LIST_URI, now=NOW)
    assert checked.status_of(StatusReference(3, LIST_URI)) == TokenStatus.INVALID


@pytest.mark.parametrize("value", [3, 0x0C, 0x0F, 0xFF])
def test_token_application_specific_status_is_not_valid(value: int) -> None:
    with pytest.raises(VerificationError) as err:
        raise_for_token_status(value)
    assert err.value.code == "unknown_status"
    raise_for_token_status(0)


# --- Token Status List: errors -------------------------------------------------------------------

VALID_LST = TSL["examples"]["1bit"]["status_list_json"]["lst"]


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ("not an object", "malformed"),
        ({"bits": 3, "lst": VALID_LST}, "malformed"),
        ({"bits": "1", "lst": VALID_LST}, "malformed"),
        ({"bits": True, "lst": VALID_LST}, "malformed"),
        ({"bits": 16, "lst": VALID_LST}, "malformed"),
        ({"bits": 1}, "malformed"),
        ({"bits": 1, "lst": ""}, "malformed"),
        ({"bits": 1, "lst": VALID_LST + "="}, "malformed"),  # padding is not base64url
        ({"bits": 1, "lst": b64url_encode(zlib.compress(b"\xff\x00")[:-3])}, "malformed"),  # truncated
        ({"bits": 1, "lst": b64url_encode(zlib.compress(b"\xff") + b"junk")}, "malformed"),  # trailing bytes
        ({"bits": 1, "lst": b64url_encode(gzip.compress(b"\xff"))}, "malformed"),  # GZIP is the W3C format
        ({"bits": 1, "lst": b64url_encode(b"\x00\x01\x02")}, "malformed"),  # not compressed at all
        ({"bits": 1, "lst": VALID_LST, "aggregation_uri": 7}, "malformed"),
    ],
)
def test_token_list_rejects(obj: object, code: str) -> None:
    with pytest.raises(MalformedError) as err:
        decode_token_list(obj)
    assert err.value.code == code


def test_token_list_decompression_bomb_is_capped() -> None:
    bomb = zlib.compress(bytes(17 * 1024 * 1024), 9)  # 17 MiB of zeros in ~17 KB
    assert len(bomb) < 20_000
    with pytest.raises(MalformedError) as err:
        decode_token_list({"bits": 1, "lst": b64url_encode(bomb)})
    assert err.value.code == "too_large"
    with pytest.raises(MalformedError) as err:
        decode_token_list({"bits": 1, "lst": b64url_encode(zlib.compress(bytes(2000)))}, max_bytes=1000)
    assert err.value.code == "too_large"
    assert decode_token_list({"bits": 1, "lst": b64url_encode(zlib.compress(bytes(1000)))}, max_bytes=1000).size == 8000


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": LIST_URI,
        "iat": NOW,
        "exp": NOW + 60,
        "ttl": 30,
        "status_list": dict(TSL["examples"]["1bit"]["status_list_json"]),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        (_claims(sub="https://example.com/statuslists/2"), "status_list_mismatch"),
        (_claims(sub=None), "malformed"),
        (_claims(iat=None), "malformed"),
        (_claims(iat="yesterday"), "malformed"),
        (_claims(exp=NOW), "status_list_expired"),
        (_claims(exp=NOW - 1), "status_list_expired"),
        (_claims(exp=True), "malformed"),
        (_claims(ttl=0), "malformed"),
        (_claims(ttl=-5), "malformed"),
        (_claims(ttl=float("inf")), "malformed"),
        (_claims(iss=42), "malformed"),
        (_claims(status_list=None), "malformed"),
        (_claims(status_list={"bits": 1, "lst": "!!"}), "malformed"),
        (["not", "an", "object"], "malformed"),
    ],
)
def test_status_list_token_claims_rejected(claims: Any, code: str) -> None:
    with pytest.raises(TesseraError) as err:
        read_status_list_token(claims, uri=LIST_URI, now=NOW)
    assert err.value.code == code


def test_status_list_token_expiry_leeway() -> None:
    assert read_status_list_token(_claims(exp=NOW), uri=LIST_URI, now=NOW, leeway=5).exp == NOW


def test_status_of_checks_the_uri_and_the_range() -> None:
    checked = read_status_list_token(_claims(), uri=LIST_URI, now=NOW)
    with pytest.raises(VerificationError) as err:
        checked.status_of(StatusReference(0, "https://example.com/statuslists/2"))
    assert err.value.code == "status_list_mismatch"
    with pytest.raises(MalformedError) as err2:
        checked.status_of(StatusReference(16, LIST_URI))  # 2 bytes hold entries 0..15
    assert err2.value.code == "status_index_out_of_range"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("status", MalformedError),
        ({}, UnsupportedError),
        ({"status_list": []}, MalformedError),
        ({"status_list": {"idx": -1, "uri": LIST_URI}}, MalformedError),
        ({"status_list": {"idx": "0", "uri": LIST_URI}}, MalformedError),
        ({"status_list": {"idx": True, "uri": LIST_URI}}, MalformedError),
        ({"status_list": {"idx": 1.0, "uri": LIST_URI}}, MalformedError),
        ({"status_list": {"idx": 0}}, MalformedError),
        ({"status_list": {"idx": 0, "uri": "not a uri"}}, MalformedError),
        ({"status_list": {"idx": 0, "uri": "https://x/" + "a" * 3000}}, MalformedError),
    ],
)
def test_status_claim_rejected(status: object, error: type[TesseraError]) -> None:
    with pytest.raises(error):
        parse_status_claim(status)


# --- statuslist+jwt: sign_status_list_token / verify_status_list_token ---------------------------

ISSUER_KEY = Ed25519PrivateKey(bytes(range(32)))


def _signed(**changes: Any) -> str:
    sl = StatusList.zeros(64, bits=2, order=LSB_FIRST).with_values({3: TokenStatus.INVALID, 9: TokenStatus.SUSPENDED})
    kw: dict[str, Any] = {"sub": LIST_URI, "iat": NOW, "exp": NOW + 3600, "ttl": 300, "iss": "https://issuer"}
    kw.update(changes)
    return sign_status_list_token(sl, signer=ISSUER_KEY, kid="k1", **kw)


def test_sign_and_verify_status_list_token_round_trip() -> None:
    token = _signed()
    assert _jwt_part(token, 0) == {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": "k1"}
    checked = verify_status_list_token(token, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW + 10)
    assert (checked.sub, checked.iat, checked.exp, checked.ttl, checked.iss) == (
        LIST_URI,
        NOW,
        NOW + 3600,
        300,
        "https://issuer",
    )
    assert checked.status_list.nonzero() == {3: 1, 9: 2}
    assert checked.status_of(StatusReference(9, LIST_URI)) == TokenStatus.SUSPENDED
    minimal = sign_status_list_token(
        StatusList.zeros(8, bits=1, order=LSB_FIRST), signer=ISSUER_KEY, sub=LIST_URI, iat=NOW
    )
    assert "kid" not in _jwt_part(minimal, 0)
    assert list(_jwt_part(minimal, 1)) == ["sub", "iat", "status_list"]
    assert verify_status_list_token(minimal, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW).exp is None


def test_sign_and_verify_status_list_token_es256() -> None:
    key = P256PrivateKey.generate()
    token = sign_status_list_token(StatusList.zeros(8, bits=1, order=LSB_FIRST), signer=key, sub=LIST_URI, iat=NOW)
    assert _jwt_part(token, 0)["alg"] == "ES256"
    assert verify_status_list_token(token, key=key.public_key, uri=LIST_URI, now=NOW).sub == LIST_URI


def test_verify_status_list_token_wrong_key() -> None:
    other = Ed25519PrivateKey(bytes(32)).public_key
    with pytest.raises(VerificationError) as err:
        verify_status_list_token(_signed(), key=other, uri=LIST_URI, now=NOW)
    assert err.value.code == "invalid_signature"
    with pytest.raises(UnsupportedError) as err2:  # an ES256 key never accepts an EdDSA token
        verify_status_list_token(_signed(), key=P256PrivateKey.generate().public_key, uri=LIST_URI, now=NOW)
    assert err2.value.code == "unsupported_algorithm"


def test_verify_status_list_token_wrong_typ() -> None:
    claims = status_list_token_claims(StatusList.zeros(8, bits=1, order=LSB_FIRST), sub=LIST_URI, iat=NOW)
    for typ in ("JWT", "dc+sd-jwt", "kb+jwt"):
        token = jose.sign_compact({"typ": typ}, claims, ISSUER_KEY)
        with pytest.raises(UnsupportedError) as err:
            verify_status_list_token(token, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW)
        assert err.value.code == "unsupported_format"
    # RFC 7515 §4.1.9: the media type with its application/ prefix is the same typ
    prefixed = jose.sign_compact({"typ": "application/statuslist+jwt"}, claims, ISSUER_KEY)
    assert verify_status_list_token(prefixed, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW).sub == LIST_URI


def test_verify_status_list_token_sub_mismatch() -> None:
    with pytest.raises(VerificationError) as err:
        verify_status_list_token(_signed(), key=ISSUER_KEY.public_key, uri="https://example.com/statuslists/2", now=NOW)
    assert err.value.code == "status_list_mismatch"


def test_verify_status_list_token_expired() -> None:
    token = _signed(exp=NOW + 60)
    with pytest.raises(VerificationError) as err:
        verify_status_list_token(token, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW + 60)
    assert err.value.code == "status_list_expired"
    assert verify_status_list_token(token, key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW + 60, leeway=5).exp


def test_verify_status_list_token_tampered_payload() -> None:
    head, _, sig = _signed().split(".")
    forged = b64url_encode(json.dumps(_jwt_part(_signed(sub="https://example.com/statuslists/2"), 1)).encode())
    with pytest.raises(VerificationError) as err:
        verify_status_list_token(f"{head}.{forged}.{sig}", key=ISSUER_KEY.public_key, uri=LIST_URI, now=NOW)
    assert err.value.code == "invalid_signature"


def test_token_jwt_vector_verifies_through_verify_status_list_token() -> None:
    vec = TSL["examples"]["status_list_token_jwt"]
    jwk = TSL["signing_key_jwk"]
    key = P256PublicKey.from_xy(b64url_decode(jwk["x"]), b64url_decode(jwk["y"]))
    checked = verify_status_list_token(vec["compact"], key=key, uri=LIST_URI, now=NOW)
    assert (checked.sub, checked.iat, checked.exp, checked.ttl, checked.iss) == (
        LIST_URI,
        1686920170,
        2291720170,
        43200,
        "https://example.com",
    )
    assert [checked.status_list.get(i) for i in range(16)] == vec["decoded_statuses_first_16"]
    with pytest.raises(VerificationError) as err:
        verify_status_list_token(vec["compact"], key=key, uri=LIST_URI, now=2291720170)
    assert err.value.code == "status_list_expired"


# --- the split keeps every name importable from shared.status_list -------------------------------


def test_moved_names_are_re_exported_unchanged() -> None:
    moved = {
        "StatusList": status_bits,
        "LSB_FIRST": status_bits,
        "MSB_FIRST": status_bits,
        "MAX_LIST_BYTES": status_bits,
        "MAX_URI_CHARS": status_bits,
        "build_status_list_credential": bitstring_status,
        "bitstring_status": bitstring_status,
        "BitstringStatusListEntry": bitstring_status,
        "MIN_BITSTRING_ENTRIES": bitstring_status,
    }
    for name, home in moved.items():
        assert getattr(status_list, name) is getattr(home, name)
    assert all(hasattr(status_list, name) for name in status_list.__all__)
    assert len(set(status_list.__all__)) == len(status_list.__all__)


def test_status_list_token_signer_by_https_issuer_or_did_kid() -> None:
    """The signer is read before verifying: the issuer's https URL (key from its metadata) or a DID URL kid."""
    from shared.did import DidResolver
    from shared.did.key import did_key_from_public_key

    token = _signed()  # kid "k1", iss https://issuer
    seen: list[Any] = []

    def issuer_key(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        seen.append((header["kid"], payload["iss"]))
        return ISSUER_KEY.public_key

    def no_dids(vm: str) -> Any:
        raise AssertionError(vm)

    signer, key = status_list.status_list_token_signer(token, resolve_method=no_dids, issuer_key=issuer_key)
    assert (signer, seen) == ("https://issuer", [("k1", "https://issuer")]) and key == ISSUER_KEY.public_key
    with pytest.raises(VerificationError) as err:
        status_list.status_list_token_signer(token, resolve_method=no_dids)  # no metadata lookup given
    assert err.value.code == "status_list_mismatch"

    did = did_key_from_public_key(ISSUER_KEY.public_key)
    vm = f"{did}#{did.removeprefix('did:key:')}"
    sl = StatusList.zeros(8, bits=1, order=LSB_FIRST)
    by_did = sign_status_list_token(sl, signer=ISSUER_KEY, kid=vm, sub=LIST_URI, iat=NOW)
    signer, key = status_list.status_list_token_signer(by_did, resolve_method=DidResolver().resolve_method)
    assert signer == did and key == ISSUER_KEY.public_key
