"""Status lists: IETF Token Status List and W3C Bitstring Status List 1.0 (shared/status_list.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.crypto import Ed25519PrivateKey, P256PublicKey
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.status_list import (
    LSB_FIRST,
    MIN_BITSTRING_ENTRIES,
    MSB_FIRST,
    BitstringStatusListEntry,
    StatusList,
    StatusReference,
    TokenStatus,
    bitstring_entries,
    bitstring_status,
    build_status_list_credential,
    decode_bitstring,
    decode_token_list,
    encode_bitstring,
    encode_token_list,
    parse_bitstring_entry,
    parse_status_claim,
    raise_for_bitstring_status,
    raise_for_token_status,
    read_status_list_token,
    status_list_token_claims,
    status_list_token_header,
)
from tests.conftest import load_vector

TSL = load_vector("token-status-list", "token-status-list-vectors.json")
BSL = load_vector("bitstring-status-list", "bitstring-status-list-vectors.json")
LIST_URI = "https://example.com/statuslists/1"
NOW = 1_700_000_000


def _jwt_part(token: str, n: int) -> Any:
    return json.loads(b64url_decode(token.split(".")[n]))


def _u(raw: bytes) -> str:
    return "u" + b64url_encode(raw)


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


# --- the shared StatusList model -----------------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("order", [LSB_FIRST, MSB_FIRST])
def test_round_trip_each_bit_size(bits: int, order: Any) -> None:
    rng = random.Random(bits)
    size = MIN_BITSTRING_ENTRIES
    values = {rng.randrange(size): rng.randrange(1, 1 << bits) for _ in range(500)}
    sl = StatusList.zeros(size, bits=bits, order=order).with_values(values)
    assert sl.nonzero() == values
    if order == LSB_FIRST:
        again = decode_token_list(json.loads(json.dumps(encode_token_list(sl))))
    else:
        again = decode_bitstring(encode_bitstring(sl), status_size=bits)
    assert again == sl
    assert all(again.get(i) == v for i, v in values.items())


@given(
    st.sampled_from([(1, "lsb"), (2, "lsb"), (4, "lsb"), (8, "lsb"), *((b, "msb") for b in range(1, 9))]),
    st.dictionaries(st.integers(0, 199), st.integers(0, 255), max_size=40),
)
def test_with_values_property(shape: tuple[int, Any], raw: dict[int, int]) -> None:
    bits, order = shape
    updates = {i: v % (1 << bits) for i, v in raw.items()}
    base = StatusList.zeros(200, bits=bits, order=order)
    sl = base.with_values(updates)
    assert [sl.get(i) for i in range(200)] == [updates.get(i, 0) for i in range(200)]
    assert sl.nonzero() == {i: v for i, v in updates.items() if v}
    assert base.nonzero() == {}  # the original never changes


def test_bit_order_differs_between_formats() -> None:
    lsb = StatusList.zeros(16, bits=1, order=LSB_FIRST).with_values({0: 1, 1: 1})
    msb = StatusList.zeros(16, bits=1, order=MSB_FIRST).with_values({0: 1, 1: 1})
    assert lsb.data[0] == 0b0000_0011
    assert msb.data[0] == 0b1100_0000
    # The same bytes read in the other order name other entries.
    assert StatusList(1, lsb.data, MSB_FIRST).nonzero() == {6: 1, 7: 1}
    two = StatusList(2, bytes.fromhex("c944f9"), LSB_FIRST)
    assert [two.get(i) for i in range(4)] == [1, 2, 0, 3]
    assert [StatusList(2, two.data, MSB_FIRST).get(i) for i in range(4)] == [3, 0, 2, 1]


def test_msb_entries_may_straddle_bytes() -> None:
    sl = StatusList.zeros(10, bits=3, order=MSB_FIRST).with_values({2: 0b101, 5: 0b111})
    # entry 2 occupies bits 6..8, entry 5 bits 15..17: both cross a byte boundary.
    assert sl.data.hex() == "0281c000"  # 000000 101 000000 111 00000000000000
    assert sl.nonzero() == {2: 5, 5: 7}


@pytest.mark.parametrize(
    ("bits", "order"),
    [(3, LSB_FIRST), (0, MSB_FIRST), (9, MSB_FIRST), (True, LSB_FIRST), (1, "big"), ("1", MSB_FIRST)],
)
def test_status_list_rejects_bad_shapes(bits: Any, order: Any) -> None:
    with pytest.raises(TesseraError):
        StatusList.zeros(8, bits=bits, order=order)


@pytest.mark.parametrize("idx", [-1, 16, 2**70, True, "3", 1.0])
def test_bad_index(idx: Any) -> None:
    sl = StatusList.zeros(16, bits=1, order=LSB_FIRST)
    with pytest.raises(MalformedError) as err:
        sl.get(idx)
    assert err.value.code == "status_index_out_of_range"
    with pytest.raises(MalformedError):
        sl.with_value(idx, 1)


@pytest.mark.parametrize("value", [-1, 4, True, "1", None])
def test_value_must_fit(value: Any) -> None:
    with pytest.raises(MalformedError):
        StatusList.zeros(16, bits=2, order=LSB_FIRST).with_value(0, value)


def test_size_caps() -> None:
    with pytest.raises(MalformedError) as err:
        StatusList.zeros(16 * 1024 * 1024 * 8 + 8, bits=1, order=MSB_FIRST)
    assert err.value.code == "too_large"
    with pytest.raises(MalformedError):
        StatusList.zeros(-1, bits=1, order=MSB_FIRST)
    with pytest.raises(MalformedError):
        encode_token_list(StatusList.zeros(8, bits=1, order=MSB_FIRST))
    with pytest.raises(MalformedError):
        encode_bitstring(StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=LSB_FIRST))


# --- W3C Bitstring Status List: vectors ----------------------------------------------------------


def test_bitstring_spec_encoded_list() -> None:
    vec = BSL["spec_encodedList_decoded"]
    assert b64url_decode(vec["encodedList"][1:]).hex() == vec["gzip_hex"]
    sl = decode_bitstring(vec["encodedList"])
    assert len(sl.data) == vec["uncompressed_length_bytes"]
    assert sl.size == MIN_BITSTRING_ENTRIES
    assert sl.nonzero() == {}


def test_bitstring_generated_1bit_vector() -> None:
    vec = BSL["generated_1bit_list"]
    sl = decode_bitstring(vec["encodedList"])
    assert sl.size == vec["length_bits"]
    assert sorted(sl.nonzero()) == vec["set_indices"]
    assert sl.data[:2].hex() == vec["uncompressed_first_two_bytes_hex"]
    assert hashlib.sha256(sl.data).hexdigest() == vec["uncompressed_sha256_hex"]
    built = StatusList.zeros(vec["length_bits"], bits=1, order=MSB_FIRST).with_values(
        (i, 1) for i in vec["set_indices"]
    )
    assert built == sl
    # GZIP bytes may differ between encoders; ours is deterministic (level 9, mtime 0).
    assert decode_bitstring(encode_bitstring(built)) == sl
    assert encode_bitstring(built) == encode_bitstring(built)


def test_bitstring_generated_2bit_vector() -> None:
    vec = BSL["generated_2bit_list"]
    sl = decode_bitstring(vec["encodedList"], status_size=2)
    assert sl.size == vec["length_entries"]
    assert sl.nonzero() == {int(k): v for k, v in vec["values"].items()}
    assert sl.data[:1].hex() == vec["uncompressed_first_byte_hex"]
    # Read as a 1-bit list the same bytes are twice as long and name other entries.
    assert decode_bitstring(vec["encodedList"]).nonzero()[1] == 1


def _spec_example(example_id: str) -> dict[str, Any]:
    return next(e["json"] for e in BSL["spec_examples"] if e["id"] == example_id)


def test_bitstring_entries_of_spec_examples() -> None:
    doc = _spec_example("example-example-statuslistcredential-using-simple-entries")
    revocation, suspension = bitstring_entries(doc)
    assert revocation == BitstringStatusListEntry(
        "revocation",
        94567,
        "https://example.com/credentials/status/3",
        id="https://example.com/credentials/status/3#94567",
    )
    assert (suspension.status_purpose, suspension.status_list_index) == ("suspension", 23452)
    assert [e.to_json() for e in (revocation, suspension)] == doc["credentialStatus"]
    assert bitstring_entries({"credentialStatus": {"type": "SomethingElse"}}) == ()
    assert bitstring_entries({}) == ()


def test_bitstring_status_against_spec_list_credential() -> None:
    entry = bitstring_entries(_spec_example("example-a-revocable-verifiable-credential"))[0]
    result = bitstring_status(entry, _spec_example("example-a-status-list-verifiable-credential"))
    assert (result.status, result.purpose, result.valid, result.message) == (0, "revocation", True, None)
    raise_for_bitstring_status(result)


# --- W3C Bitstring Status List: issuing and checking ---------------------------------------------

LIST_URL = "https://issuer.example/status/7"
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _list_credential(sl: StatusList, purpose: Any = "revocation", **kw: Any) -> dict[str, Any]:
    return build_status_list_credential(
        sl, id=LIST_URL, issuer="did:example:issuer", status_purpose=purpose, valid_from=T0, **kw
    )


def test_build_status_list_credential_shape() -> None:
    sl = StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=MSB_FIRST).with_value(42, 1)
    doc = _list_credential(sl, valid_until=T0 + timedelta(days=1), ttl_ms=300_000)
    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (doc["validFrom"], doc["validUntil"]) == ("2025-01-02T03:04:05Z", "2025-01-03T03:04:05Z")
    subject = doc["credentialSubject"]
    assert (subject["id"], subject["type"], subject["statusPurpose"], subject["ttl"]) == (
        LIST_URL + "#list",
        "BitstringStatusList",
        "revocation",
        300_000,
    )
    assert subject["encodedList"].startswith("uH4sI")  # multibase u + GZIP magic 1f 8b
    with pytest.raises(MalformedError):
        _list_credential(sl, valid_until=datetime(2025, 1, 1))  # naive on purpose
    with pytest.raises(MalformedError):
        _list_credential(sl, ttl_ms=-1)


@pytest.mark.parametrize(("purpose", "code"), [("revocation", "revoked"), ("suspension", "suspended")])
def test_bitstring_revocation_and_suspension(purpose: str, code: str) -> None:
    sl = StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=MSB_FIRST).with_value(94567, 1)
    doc = _list_credential(sl, purpose)
    set_entry = BitstringStatusListEntry(purpose, 94567, LIST_URL)
    result = bitstring_status(set_entry, doc)
    assert (result.status, result.valid) == (1, False)
    with pytest.raises(VerificationError) as err:
        raise_for_bitstring_status(result)
    assert err.value.code == code
    assert bitstring_status(BitstringStatusListEntry(purpose, 94566, LIST_URL), doc).valid
    # Reinstating (suspension lifted) is a new list with the bit cleared.
    assert bitstring_status(set_entry, _list_credential(sl.with_value(94567, 0), purpose)).valid


def test_bitstring_message_purpose_with_status_size_2() -> None:
    messages = [
        {"status": f"0x{v:x}", "message": m} for v, m in enumerate(["pending", "accepted", "rejected", "undefined"])
    ]
    entry = parse_bitstring_entry(
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "message",
            "statusListIndex": "492847",
            "statusSize": 2,
            "statusListCredential": LIST_URL,
            "statusMessage": messages,
        }
    )
    assert entry.to_json()["statusMessage"] == messages
    sl = StatusList.zeros(600_000, bits=2, order=MSB_FIRST).with_value(492847, 2)
    result = bitstring_status(entry, _list_credential(sl, ["message", "revocation"]))
    assert (result.status, result.valid, result.message) == (2, False, "rejected")
    raise_for_bitstring_status(result)  # message lists inform; they do not revoke


# --- W3C Bitstring Status List: errors -----------------------------------------------------------

ZEROS_GZ = gzip.compress(bytes(16384), mtime=0)


@pytest.mark.parametrize(
    ("encoded", "code"),
    [
        ("z" + "1" * 40, "unsupported_format"),  # base58btc is not allowed here
        ("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", "unsupported_format"),  # no prefix
        ("", "malformed"),
        (None, "malformed"),
        ("u", "malformed"),
        ("u!!!!", "malformed"),
        (_u(ZEROS_GZ[:-4]), "malformed"),  # truncated
        (_u(ZEROS_GZ + ZEROS_GZ), "malformed"),  # second member / trailing bytes
        (_u(zlib.compress(bytes(16384))), "malformed"),  # ZLIB is the IETF format
        (_u(gzip.compress(bytes(16383))), "status_list_too_short"),
        (_u(gzip.compress(bytes(17 * 1024 * 1024))), "too_large"),  # bomb: ~17 KB inflating to 17 MiB
    ],
)
def test_decode_bitstring_rejects(encoded: Any, code: str) -> None:
    with pytest.raises(MalformedError) as err:
        decode_bitstring(encoded)
    assert err.value.code == code


def test_short_list_is_a_status_list_length_error() -> None:
    with pytest.raises(MalformedError) as err:
        decode_bitstring(_u(ZEROS_GZ), status_size=2)  # 16 KB holds only 65,536 two-bit entries
    assert err.value.detail["spec_error"] == "STATUS_LIST_LENGTH_ERROR"
    with pytest.raises(MalformedError) as err:
        encode_bitstring(StatusList.zeros(MIN_BITSTRING_ENTRIES - 8, bits=1, order=MSB_FIRST))
    assert err.value.code == "status_list_too_short"
    assert decode_bitstring(_u(gzip.compress(bytes(16)))[:], min_entries=128).size == 128


def test_bitstring_status_errors() -> None:
    sl = StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=MSB_FIRST)
    doc = _list_credential(sl)
    with pytest.raises(MalformedError) as err:
        bitstring_status(BitstringStatusListEntry("revocation", MIN_BITSTRING_ENTRIES, LIST_URL), doc)
    assert (err.value.code, err.value.detail["spec_error"]) == ("status_index_out_of_range", "RANGE_ERROR")
    with pytest.raises(VerificationError) as err2:
        bitstring_status(BitstringStatusListEntry("suspension", 1, LIST_URL), doc)
    assert (err2.value.code, err2.value.detail["spec_error"]) == ("status_list_mismatch", "STATUS_VERIFICATION_ERROR")
    with pytest.raises(VerificationError) as err2:
        bitstring_status(BitstringStatusListEntry("revocation", 1, "https://elsewhere.example/list"), doc)
    assert err2.value.code == "status_list_mismatch"
    entry = BitstringStatusListEntry("revocation", 1, LIST_URL)
    for broken in (
        doc | {"type": ["VerifiableCredential"]},
        doc | {"credentialSubject": [doc["credentialSubject"]]},
        doc | {"credentialSubject": doc["credentialSubject"] | {"type": "StatusList2021"}},
        doc | {"credentialSubject": doc["credentialSubject"] | {"ttl": "soon"}},
        doc | {"credentialSubject": doc["credentialSubject"] | {"encodedList": 5}},
    ):
        with pytest.raises(MalformedError):
            bitstring_status(entry, broken)


GOOD_ENTRY = {
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": LIST_URL,
}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"type": "StatusList2021Entry"}, MalformedError),
        ({"statusPurpose": ""}, MalformedError),
        ({"statusPurpose": None}, MalformedError),
        ({"statusListIndex": 94567}, MalformedError),  # a number, not a string
        ({"statusListIndex": "-1"}, MalformedError),
        ({"statusListIndex": " 1"}, MalformedError),
        ({"statusListIndex": "0x10"}, MalformedError),
        ({"statusListIndex": "9" * 16}, MalformedError),
        ({"statusListCredential": "relative/path"}, MalformedError),
        ({"id": LIST_URL}, MalformedError),  # the entry id must not be the list URL
        ({"statusSize": 0}, MalformedError),
        ({"statusSize": True}, MalformedError),
        ({"statusSize": 9}, UnsupportedError),
        ({"statusSize": 2}, MalformedError),  # statusMessage is then required
        ({"statusSize": 1, "statusMessage": [{"status": "0x0", "message": "ok"}]}, MalformedError),
        ({"statusMessage": [{"status": "0x0", "message": "a"}, {"status": "0x0", "message": "b"}]}, MalformedError),
        ({"statusMessage": [{"status": "0x0", "message": "a"}, {"status": "0x2", "message": "b"}]}, MalformedError),
        ({"statusMessage": [{"status": "1", "message": "a"}, {"status": "0x0", "message": "b"}]}, MalformedError),
        ({"statusMessage": [{"status": "0x1", "message": 1}, {"status": "0x0", "message": "b"}]}, MalformedError),
        ({"statusMessage": ["0x0", "0x1"]}, MalformedError),
    ],
)
def test_bitstring_entry_rejected(changes: dict[str, Any], error: type[TesseraError]) -> None:
    with pytest.raises(error):
        parse_bitstring_entry(GOOD_ENTRY | changes)


def test_bitstring_entry_accepts_optional_one_bit_messages() -> None:
    entry = parse_bitstring_entry(
        GOOD_ENTRY | {"statusMessage": [{"status": "0x1", "message": "revoked"}, {"status": "0x0", "message": "valid"}]}
    )
    assert entry.status_messages == ((0, "valid"), (1, "revoked"))


def test_list_credential_signs_and_verifies_with_data_integrity() -> None:
    di = pytest.importorskip("shared.data_integrity")
    from shared.crypto import Ed25519PrivateKey
    from shared.did.key import did_key_from_public_key, resolve_did_key

    key = Ed25519PrivateKey(bytes(range(32)))
    did = did_key_from_public_key(key)
    sl = StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=MSB_FIRST).with_value(7, 1)
    doc = build_status_list_credential(
        sl, id=LIST_URL, issuer=did, status_purpose=["revocation", "suspension"], valid_from=T0, ttl_ms=60_000
    )

    def resolve(url: str) -> Any:
        return resolve_did_key(url.split("#", maxsplit=1)[0]).method(url)

    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        signed = di.sign(
            doc, signer=key, verification_method=f"{did}#{did.split(':')[2]}", cryptosuite=suite, created=T0
        )
        di.verify(signed, resolve_method=resolve, now=T0 + timedelta(days=1))
        result = bitstring_status(BitstringStatusListEntry("suspension", 7, LIST_URL), signed)
        assert (result.status, result.valid, result.ttl_ms) == (1, False, 60_000)


@pytest.mark.parametrize("purpose", ["", [], ["revocation", ""], [3]])
def test_build_rejects_bad_purposes(purpose: Any) -> None:
    with pytest.raises(MalformedError):
        _list_credential(StatusList.zeros(MIN_BITSTRING_ENTRIES, bits=1, order=MSB_FIRST), purpose)
