"""The packed status array shared by both status list formats (shared/status_bits.py)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.bitstring_status import MIN_BITSTRING_ENTRIES, decode_bitstring, encode_bitstring
from shared.errors import MalformedError, TesseraError
from shared.status_bits import LSB_FIRST, MSB_FIRST, StatusList, absolute_uri
from shared.status_list import decode_token_list, encode_token_list

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


@pytest.mark.parametrize("value", ["https://x.example/1", "urn:uuid:6a1d", "did:web:x.example"])
def test_absolute_uri_accepts(value: str) -> None:
    assert absolute_uri(value, "uri") == value


@pytest.mark.parametrize("value", [None, 7, "", "relative/path", "https://x/ has space", "https://x/" + "a" * 3000])
def test_absolute_uri_rejects(value: Any) -> None:
    with pytest.raises(MalformedError):
        absolute_uri(value, "uri")
