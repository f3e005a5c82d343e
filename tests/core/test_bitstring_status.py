"""W3C Bitstring Status List 1.0: codec, entries, list credential, §3.2 validation (shared/bitstring_status.py)."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.bitstring_status import (
    MIN_BITSTRING_ENTRIES,
    BitstringStatusListEntry,
    bitstring_entries,
    bitstring_status,
    build_status_list_credential,
    decode_bitstring,
    encode_bitstring,
    parse_bitstring_entry,
    raise_for_bitstring_status,
)
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.status_bits import MSB_FIRST, StatusList
from tests.conftest import load_vector

BSL = load_vector("bitstring-status-list", "bitstring-status-list-vectors.json")


def _u(raw: bytes) -> str:
    return "u" + b64url_encode(raw)


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
