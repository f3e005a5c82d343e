"""Encodings: base64url, base58btc, multibase, JCS, strict JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.encoding import (
    b58_decode,
    b58_encode,
    b64url_decode,
    b64url_encode,
    jcs,
    json_depth,
    loads_strict,
    multibase_decode,
    multibase_encode,
)
from shared.errors import MalformedError, TesseraError


@given(st.binary(max_size=200))
def test_base64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize("bad", ["a", "ab=", "a+b/", "ab cd", "AB\n", "ab==", 42, None])
def test_base64url_rejects_non_canonical_or_foreign_alphabet(bad: object) -> None:
    with pytest.raises(MalformedError) as err:
        b64url_decode(bad)  # type: ignore[arg-type]
    assert err.value.code == "malformed"


def test_base64url_rejects_nonzero_trailing_bits() -> None:
    # "AB" decodes to 0x00 with non-zero unused bits; the canonical encoding of 0x00 is "AA".
    with pytest.raises(MalformedError):
        b64url_decode("AB")


@given(st.binary(max_size=100))
def test_base58_round_trip_keeps_leading_zeros(data: bytes) -> None:
    assert b58_decode(b58_encode(data)) == data


def test_base58_known_value() -> None:
    # "Hello World!" in base58btc (draft-msporny-base58 §5).
    assert b58_encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert b58_decode("2NEpo7TZRRrLZSi2U") == b"Hello World!"
    assert b58_encode(b"\0\0\x28\x7f\xb4\xcd") == "11233QC4"


@pytest.mark.parametrize("bad", ["0OIl", "abc!"])
def test_base58_rejects_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(MalformedError):
        b58_decode(bad)


def test_multibase_prefixes() -> None:
    data = bytes(range(10))
    assert multibase_decode(multibase_encode(data, "z")) == data
    assert multibase_decode(multibase_encode(data, "u")) == data
    with pytest.raises(MalformedError) as err:
        multibase_decode("f00ff")
    assert err.value.code == "unsupported_format"
    with pytest.raises(MalformedError):
        multibase_decode("")


def test_jcs_matches_rfc8785_examples() -> None:
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001], "b": "€", "a": 1}
    assert jcs(value) == b'{"a":1,"b":"\xe2\x82\xac","numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'


def test_jcs_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(MalformedError):
        jcs({"x": float("nan")})


def test_strict_json_accepts_ordinary_documents() -> None:
    assert loads_strict('{"a": [1, 2, {"b": null}], "c": "é"}') == {"a": [1, 2, {"b": None}], "c": "é"}
    assert loads_strict(b'{"a": true}') == {"a": True}


def test_strict_json_rejects_duplicate_member_names() -> None:
    with pytest.raises(MalformedError) as err:
        loads_strict('{"a": 1, "b": {"c": 1, "c": 2}}')
    assert err.value.code == "duplicate_key"
    assert isinstance(err.value, ValueError)


def test_strict_json_rejects_oversized_input() -> None:
    with pytest.raises(MalformedError) as err:
        loads_strict('"' + "x" * 2000 + '"', max_bytes=1000)
    assert err.value.code == "too_large"


@pytest.mark.parametrize("depth", [65, 5000, 100_000])
def test_strict_json_rejects_over_deep_input(depth: int) -> None:
    with pytest.raises(MalformedError) as err:
        loads_strict("[" * depth + "]" * depth, max_bytes=10_000_000)
    assert err.value.code == "too_deep"


@pytest.mark.parametrize("bad", ["{", "NaN", '{"a": Infinity}', "[1,]", b"\xff\xfe", "1" * 5000])
def test_strict_json_rejects_malformed_input(bad: str | bytes) -> None:
    with pytest.raises(TesseraError) as err:
        loads_strict(bad)
    assert err.value.code == "malformed"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_strict_json_round_trips_what_json_dumps_writes(value: object) -> None:
    if json_depth(value) <= 64:
        assert loads_strict(json.dumps(value)) == value
