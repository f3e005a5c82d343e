"""The packed status array both status list formats share: :class:`StatusList`, its caps, the capped
decompression and the URI check (design.md §2 "Status").

The two formats built on it live in their own modules:

- :mod:`shared.status_list`: IETF Token Status List (draft-ietf-oauth-status-list-20), the ``statuslist+jwt``;
- :mod:`shared.bitstring_status`: W3C Bitstring Status List v1.0 (Recommendation, 2025).

Both are a packed array of fixed-width entries, compressed and base64url-encoded; they differ in the
details, and every difference is a place to get interop wrong:

==================  ================================================  ==================================
                    Token Status List (draft-ietf-oauth-status-list)  Bitstring Status List 1.0 (W3C REC)
==================  ================================================  ==================================
entry width         ``bits`` ∈ {1, 2, 4, 8} [SL]                      ``statusSize`` ≥ 1, default 1 (§2.1)
bit order           least significant bit first [SL]                  most significant bit first (§3.1)
compression         DEFLATE in the ZLIB format, RFC 1950 [SL]         GZIP, RFC 1952 (§3.3)
text form           ``lst``: base64url, no padding [JSON]             ``encodedList``: multibase ``u`` (§2.2)
minimum length      none                                              131,072 entries (§3.2 step 9)
carried in          ``statuslist+jwt`` token, ``sub`` = list URI      BitstringStatusListCredential (VC)
==================  ================================================  ==================================

Choices made here (and why):

- One frozen :class:`StatusList` (``bits``, ``data``, ``order``) serves both formats. Updates return a
  new list (:meth:`StatusList.with_values`); no mutable builder, because re-compressing and re-signing
  the list after a change costs far more than copying its ≤ 16 MiB of bytes, and a batch of changes
  is applied with one copy.
- Decompression is capped (:data:`MAX_LIST_BYTES`, 16 MiB) *while* inflating (:func:`inflate`), so a
  small "bomb" never allocates more than the cap; trailing bytes after the compressed stream and
  truncated streams are rejected (one value, one encoding). Multi-member GZIP files are therefore refused.
- W3C statusSize 1–8 is supported (entries may straddle bytes); larger sizes are refused as
  ``unsupported_format`` (REC §1.3 lets processors support size 1 only).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from shared.encoding import b64url_decode
from shared.errors import MalformedError, UnsupportedError

BitOrder = Literal["lsb", "msb"]
LSB_FIRST: Final[BitOrder] = "lsb"  # IETF Token Status List
MSB_FIRST: Final[BitOrder] = "msb"  # W3C Bitstring Status List

MAX_LIST_BYTES: Final = 16 * 1024 * 1024  # decompressed cap: 134M one-bit entries
# base64url text of a compressed list: DEFLATE never grows data by more than ~0.1 %, so this is generous.
MAX_ENCODED_CHARS: Final = (MAX_LIST_BYTES + MAX_LIST_BYTES // 64) * 4 // 3
TOKEN_BITS: Final = frozenset({1, 2, 4, 8})
MAX_STATUS_SIZE: Final = 8
MAX_URI_CHARS: Final = 2048

_NONZERO = re.compile(rb"[^\x00]")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


def _is_int(value: object) -> bool:
    """An integer, but not a bool (JSON ``true`` must never be read as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _index_error(idx: int, size: int) -> MalformedError:
    return MalformedError(
        f"status index {idx} is outside the list of {size} entries",
        code="status_index_out_of_range",
        spec_error="RANGE_ERROR",
    )


@dataclass(frozen=True)
class StatusList:
    """A packed list of ``bits``-wide status entries, in the bit ``order`` of its format.

    ``size`` counts whole entries; unused bits at the end of the last byte are padding.
    """

    bits: int
    data: bytes
    order: BitOrder

    def __post_init__(self) -> None:
        if self.order not in (LSB_FIRST, MSB_FIRST):
            raise MalformedError(f"unknown bit order {self.order!r}")
        if type(self.bits) is not int or not 1 <= self.bits <= MAX_STATUS_SIZE:
            raise UnsupportedError(f"status entries of {self.bits!r} bits are not supported")
        if self.order == LSB_FIRST and self.bits not in TOKEN_BITS:
            raise MalformedError(f"a Token Status List has 1, 2, 4 or 8 bits per entry, not {self.bits}")
        if not isinstance(self.data, (bytes, bytearray)):
            raise MalformedError("status list data must be bytes")
        if len(self.data) > MAX_LIST_BYTES:
            raise MalformedError(f"status list larger than {MAX_LIST_BYTES} bytes", code="too_large")
        object.__setattr__(self, "data", bytes(self.data))

    @classmethod
    def zeros(cls, size: int, *, bits: int, order: BitOrder) -> StatusList:
        """A list of ``size`` entries, all 0 (VALID)."""
        cls(bits, b"", order)  # validates bits and order before sizing anything
        if type(size) is not int or size < 0:
            raise MalformedError("a status list size is a non-negative integer")
        if size * bits > MAX_LIST_BYTES * 8:
            raise MalformedError(f"status list larger than {MAX_LIST_BYTES} bytes", code="too_large")
        return cls(bits, bytes(math.ceil(size * bits / 8)), order)

    @property
    def size(self) -> int:
        return len(self.data) * 8 // self.bits

    def _locate(self, idx: int) -> tuple[int, int, int]:
        """(first byte, byte count, shift of the entry inside those bytes read big-endian)."""
        if not _is_int(idx) or not 0 <= idx < self.size:
            raise _index_error(idx, self.size)
        if self.order == LSB_FIRST:  # widths divide 8: an entry never straddles a byte
            per_byte = 8 // self.bits
            return idx // per_byte, 1, (idx % per_byte) * self.bits
        first, offset = divmod(idx * self.bits, 8)
        span = 2 if offset + self.bits > 8 else 1
        return first, span, span * 8 - offset - self.bits

    def get(self, idx: int) -> int:
        """The status value at ``idx``; raises ``status_index_out_of_range`` outside the list."""
        first, span, shift = self._locate(idx)
        window = self.data[first] if span == 1 else int.from_bytes(self.data[first : first + span], "big")
        return (window >> shift) & ((1 << self.bits) - 1)

    def with_values(self, updates: Mapping[int, int] | Iterable[tuple[int, int]]) -> StatusList:
        """A copy with each ``idx -> value`` applied (later pairs win); one copy for the whole batch."""
        buf = bytearray(self.data)
        mask = (1 << self.bits) - 1
        for idx, value in updates.items() if isinstance(updates, Mapping) else updates:
            if not _is_int(value) or not 0 <= value <= mask:
                raise MalformedError(f"status value {value!r} does not fit in {self.bits} bits")
            first, span, shift = self._locate(idx)
            window = int.from_bytes(buf[first : first + span], "big")
            window = (window & ~(mask << shift)) | (int(value) << shift)
            buf[first : first + span] = window.to_bytes(span, "big")
        return StatusList(self.bits, bytes(buf), self.order)

    def with_value(self, idx: int, value: int) -> StatusList:
        return self.with_values(((idx, value),))

    def nonzero(self) -> dict[int, int]:
        """Every entry whose value is not 0, found by scanning only the non-zero bytes."""
        out: dict[int, int] = {}
        for match in _NONZERO.finditer(self.data):
            bit = match.start() * 8
            for idx in range(bit // self.bits, min((bit + 7) // self.bits + 1, self.size)):
                if idx not in out and (value := self.get(idx)):
                    out[idx] = value
        return out


# --- what both formats read the same way ----------------------------------------------------------


def inflate(data: bytes, *, wbits: int, max_bytes: int, what: str) -> bytes:
    """Decompress one whole ZLIB or GZIP stream (``wbits`` picks which), refusing more than ``max_bytes``."""
    inflater = zlib.decompressobj(wbits)
    try:
        # max_length stops inflating one byte past the cap: a bomb never allocates more than that.
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedError(f"{what} is not valid compressed data: {exc}") from exc
    if len(out) > max_bytes:
        raise MalformedError(f"{what} inflates to more than {max_bytes} bytes", code="too_large")
    if not inflater.eof:
        raise MalformedError(f"{what} is truncated")
    if inflater.unused_data:
        raise MalformedError(f"{what} has bytes after the compressed data")
    return out


def decode_list_text(text: object, *, what: str) -> bytes:
    """The compressed bytes of a list's base64url text, its length capped by :data:`MAX_ENCODED_CHARS`."""
    if not isinstance(text, str) or not text:
        raise MalformedError(f"{what} must be a non-empty string")
    if len(text) > MAX_ENCODED_CHARS:
        raise MalformedError(f"{what} is longer than {MAX_ENCODED_CHARS} characters", code="too_large")
    return b64url_decode(text)


def absolute_uri(value: object, what: str) -> str:
    """``value`` if it is an absolute URI of at most :data:`MAX_URI_CHARS` characters; ``malformed`` otherwise."""
    if not isinstance(value, str) or len(value) > MAX_URI_CHARS or not _URI.fullmatch(value):
        raise MalformedError(f"{what} must be an absolute URI of at most {MAX_URI_CHARS} characters")
    return value
