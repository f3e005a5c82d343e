"""Status lists: IETF Token Status List and W3C Bitstring Status List 1.0 (design.md §2 "Status").

Both formats are a packed array of fixed-width entries, compressed and base64url-encoded; they differ
in the details, and every difference is a place to get interop wrong:

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

The IETF text followed is draft-ietf-oauth-status-list-20; its sections are cited by title, as the numbering
moved between drafts: [SL] "Status List", [JSON] "Status List in JSON Format", [JWT] "Status List Token in
JWT Format", [REF] "Referenced Token in JOSE", [TYPES] "Status Types", [RULES] "Validation Rules". The W3C
text is the Bitstring Status List v1.0 Recommendation (2025), cited by section number.

Choices made here (and why):

- One frozen :class:`StatusList` (``bits``, ``data``, ``order``) serves both formats. Updates return a
  new list (:meth:`StatusList.with_values`); no mutable builder, because re-compressing and re-signing
  the list after a change costs far more than copying its ≤ 16 MiB of bytes, and a batch of changes
  is applied with one copy.
- Decompression is capped (:data:`MAX_LIST_BYTES`, 16 MiB) *while* inflating, so a small "bomb" never
  allocates more than the cap; trailing bytes after the compressed stream and truncated streams are
  rejected (one value, one encoding). Multi-member GZIP files are therefore refused.
- We compress at level 9 by default (the draft RECOMMENDS the highest level; it reproduces the draft's
  examples byte for byte) and write GZIP with ``mtime=0`` so a list always encodes to the same text.
  Level 9 costs ~70 ms for a 1,000,000-entry list with 1 % set (level 6: ~5 ms, ~15 % larger), so
  ``level`` is a parameter for issuers that republish often.
- W3C statusSize 1–8 is supported (entries may straddle bytes); larger sizes are refused as
  ``unsupported_format`` (REC §1.3 lets processors support size 1 only).
- A Bitstring list shorter than 131,072 entries is an error (``status_list_too_short``, the REC's
  STATUS_LIST_LENGTH_ERROR), both when generating and when validating.
- Signing stays with the signing modules, so this one needs neither: a Status List Token is
  ``jose.sign_compact(status_list_token_header(...), status_list_token_claims(...), signer)`` and is
  checked by ``jose.verify_compact(token, key=..., typ=STATUS_LIST_TYP)`` then
  :func:`read_status_list_token`; the Bitstring credential is built and read unsigned, and the caller
  secures / verifies it with :mod:`shared.data_integrity`.
  Validity periods of the list credential are VCDM checks, not repeated here.
- Beyond the texts: a list credential whose ``id`` differs from the entry's ``statusListCredential`` is
  refused (``status_list_mismatch``), so a genuine list cannot be replayed under another URL; which key
  may sign a Status List Token and how fresh ``iat`` must be are caller policy ([RULES] step 4).
- Random, unique index allocation belongs to the issuer service (it needs the database).
"""

from __future__ import annotations

import gzip
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Final, Literal

from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError, UnsupportedError, VerificationError

BitOrder = Literal["lsb", "msb"]
LSB_FIRST: Final[BitOrder] = "lsb"  # IETF Token Status List
MSB_FIRST: Final[BitOrder] = "msb"  # W3C Bitstring Status List

MAX_LIST_BYTES: Final = 16 * 1024 * 1024  # decompressed cap: 134M one-bit entries
# base64url text of a compressed list: DEFLATE never grows data by more than ~0.1 %, so this is generous.
MAX_ENCODED_CHARS: Final = (MAX_LIST_BYTES + MAX_LIST_BYTES // 64) * 4 // 3
TOKEN_BITS: Final = frozenset({1, 2, 4, 8})
MAX_STATUS_SIZE: Final = 8

_NONZERO = re.compile(rb"[^\x00]")


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


# --- compression ---------------------------------------------------------------------------------

_ZLIB_WBITS: Final = 15  # ZLIB wrapper only (RFC 1950): raw DEFLATE or GZIP are not Token Status Lists
_GZIP_WBITS: Final = 16 + 15  # GZIP wrapper only (RFC 1952)


def _inflate(data: bytes, *, wbits: int, max_bytes: int, what: str) -> bytes:
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


def _decode_text(text: object, *, what: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise MalformedError(f"{what} must be a non-empty string")
    if len(text) > MAX_ENCODED_CHARS:
        raise MalformedError(f"{what} is longer than {MAX_ENCODED_CHARS} characters", code="too_large")
    return b64url_decode(text)


# --- IETF Token Status List ----------------------------------------------------------------------


def encode_token_list(status_list: StatusList, *, aggregation_uri: str | None = None, level: int = 9) -> dict[str, Any]:
    """The JSON Status List ``{"bits", "lst"}`` ("Status List in JSON Format"), ZLIB at ``level``."""
    if status_list.order != LSB_FIRST:
        raise MalformedError("a Token Status List is packed least significant bit first")
    out: dict[str, Any] = {"bits": status_list.bits, "lst": b64url_encode(zlib.compress(status_list.data, level))}
    if aggregation_uri is not None:
        out["aggregation_uri"] = aggregation_uri
    return out


def decode_token_list(obj: object, *, max_bytes: int = MAX_LIST_BYTES) -> StatusList:
    """Parse a JSON Status List ([JSON]). Unknown members are ignored, as JSON claims are."""
    if not isinstance(obj, dict):
        raise MalformedError("status_list must be a JSON object")
    bits = obj.get("bits")
    if type(bits) is not int or bits not in TOKEN_BITS:
        raise MalformedError(f"status_list.bits must be 1, 2, 4 or 8, not {bits!r}")
    if "aggregation_uri" in obj and not isinstance(obj["aggregation_uri"], str):
        raise MalformedError("status_list.aggregation_uri must be a string")
    compressed = _decode_text(obj.get("lst"), what="status_list.lst")
    return StatusList(bits, _inflate(compressed, wbits=_ZLIB_WBITS, max_bytes=max_bytes, what="lst"), LSB_FIRST)


# --- W3C Bitstring Status List -------------------------------------------------------------------

MIN_BITSTRING_ENTRIES: Final = 131_072  # REC §3.2 step 9 and §6.1: the herd-privacy minimum


def _check_min_entries(status_list: StatusList, min_entries: int) -> None:
    if status_list.size < min_entries:
        raise MalformedError(
            f"the bitstring holds {status_list.size} entries of {status_list.bits} bits; the minimum is {min_entries}",
            code="status_list_too_short",
            spec_error="STATUS_LIST_LENGTH_ERROR",
        )


def encode_bitstring(status_list: StatusList, *, min_entries: int = MIN_BITSTRING_ENTRIES, level: int = 9) -> str:
    """Bitstring Generation Algorithm (REC §3.3): GZIP, then multibase base64url (``u``)."""
    if status_list.order != MSB_FIRST:
        raise MalformedError("a Bitstring Status List is packed most significant bit first")
    _check_min_entries(status_list, min_entries)
    return "u" + b64url_encode(gzip.compress(status_list.data, compresslevel=level, mtime=0))


def decode_bitstring(
    encoded: object,
    *,
    status_size: int = 1,
    max_bytes: int = MAX_LIST_BYTES,
    min_entries: int = MIN_BITSTRING_ENTRIES,
) -> StatusList:
    """Bitstring Expansion Algorithm (REC §3.4) plus the length check of §3.2 step 9."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedError(
            "encodedList must be multibase base64url (prefix 'u')",
            code="unsupported_format" if isinstance(encoded, str) and encoded else "malformed",
        )
    compressed = _decode_text(encoded[1:], what="encodedList")
    data = _inflate(compressed, wbits=_GZIP_WBITS, max_bytes=max_bytes, what="encodedList")
    status_list = StatusList(status_size, data, MSB_FIRST)
    _check_min_entries(status_list, min_entries)
    return status_list


# --- Token Status List: the referenced token and the status list token ---------------------------

STATUS_LIST_TYP: Final = "statuslist+jwt"  # [JWT]: the JWT "typ" header
MAX_URI_CHARS: Final = 2048


class TokenStatus(IntEnum):
    """Registered status values ([TYPES]); 0x03 and 0x0C–0x0F are application-specific."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


def _uri(value: object, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URI_CHARS or not _URI.fullmatch(value):
        raise MalformedError(f"{what} must be an absolute URI of at most {MAX_URI_CHARS} characters")
    return value


def _numeric_date(value: object, what: str, *, positive: bool = False) -> int | None:
    """A JWT NumericDate / number of seconds; fractions are dropped (an earlier expiry is the safe side)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MalformedError(f"{what} must be a number")
    if value < 0 or (positive and value <= 0):
        raise MalformedError(f"{what} must be a {'positive' if positive else 'non-negative'} number")
    return math.floor(value)


@dataclass(frozen=True)
class StatusReference:
    """``status.status_list`` of a Referenced Token ([REF]): where its status lives."""

    idx: int
    uri: str


def parse_status_claim(status: object) -> StatusReference:
    """Parse the ``status`` claim of a Referenced Token (JWT or SD-JWT VC, [REF])."""
    if not isinstance(status, dict):
        raise MalformedError("the status claim must be a JSON object")
    ref = status.get("status_list")
    if ref is None:
        raise UnsupportedError("the status claim has no status_list mechanism")
    if not isinstance(ref, dict):
        raise MalformedError("status.status_list must be a JSON object")
    idx = ref.get("idx")
    if type(idx) is not int or idx < 0:
        raise MalformedError("status.status_list.idx must be a non-negative integer")
    return StatusReference(idx, _uri(ref.get("uri"), "status.status_list.uri"))


def status_list_token_header(*, alg: str, kid: str | None = None) -> dict[str, Any]:
    """The protected header of a Status List Token ([JWT]): ``typ`` is ``statuslist+jwt``."""
    header: dict[str, Any] = {"alg": alg, "typ": STATUS_LIST_TYP}
    if kid is not None:
        header["kid"] = kid
    return header


def status_list_token_claims(
    status_list: StatusList,
    *,
    sub: str,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
    iss: str | None = None,
    aggregation_uri: str | None = None,
) -> dict[str, Any]:
    """The payload of a Status List Token ([JWT]); ``sub`` is the URI the list is served at."""
    claims: dict[str, Any] = {"sub": _uri(sub, "sub"), "iat": _numeric_date(iat, "iat")}
    if exp is not None:
        claims["exp"] = _numeric_date(exp, "exp")
    if ttl is not None:
        claims["ttl"] = _numeric_date(ttl, "ttl", positive=True)
    if iss is not None:
        claims["iss"] = iss
    claims["status_list"] = encode_token_list(status_list, aggregation_uri=aggregation_uri)
    return claims


@dataclass(frozen=True)
class StatusListToken:
    """The claims of a checked Status List Token. ``exp`` and ``ttl`` tell the caller how long to cache."""

    sub: str
    iat: int
    status_list: StatusList
    exp: int | None = None
    ttl: int | None = None
    iss: str | None = None

    def refresh_after(self, fetched_at: int) -> int | None:
        """When a cached copy fetched at ``fetched_at`` should be fetched again ([JWT] ``ttl``, ``exp``)."""
        limits = [t for t in (self.exp, None if self.ttl is None else fetched_at + self.ttl) if t is not None]
        return min(limits) if limits else None

    def status_of(self, ref: StatusReference) -> int:
        """The status value for ``ref``, after checking that this token is the list ``ref`` names."""
        if ref.uri != self.sub:
            raise VerificationError(
                "the status list token's sub is not the referenced uri", code="status_list_mismatch"
            )
        return self.status_list.get(ref.idx)


def read_status_list_token(payload: object, *, uri: str, now: int, leeway: int = 0) -> StatusListToken:
    """Check the claims of a Status List Token whose signature and ``typ`` were verified ([RULES] step 4)."""
    if not isinstance(payload, dict):
        raise MalformedError("the status list token payload must be a JSON object")
    sub = _uri(payload.get("sub"), "sub")
    if sub != uri:
        raise VerificationError(f"status list token sub {sub!r} is not {uri!r}", code="status_list_mismatch")
    iat = _numeric_date(payload.get("iat"), "iat")
    if iat is None:
        raise MalformedError("a status list token must carry iat")
    exp = _numeric_date(payload.get("exp"), "exp")
    if exp is not None and now >= exp + leeway:
        raise VerificationError(code="status_list_expired", exp=exp)
    iss = payload.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise MalformedError("iss must be a string")
    if "status_list" not in payload:
        raise MalformedError("a status list token must carry status_list")
    return StatusListToken(
        sub=sub,
        iat=iat,
        status_list=decode_token_list(payload["status_list"]),
        exp=exp,
        ttl=_numeric_date(payload.get("ttl"), "ttl", positive=True),
        iss=iss,
    )


def raise_for_token_status(value: int) -> None:
    """Pass on VALID; raise ``revoked`` (INVALID), ``suspended`` or ``unknown_status`` otherwise."""
    if value == TokenStatus.VALID:
        return
    if value == TokenStatus.INVALID:
        raise VerificationError(code="revoked", status=value)
    if value == TokenStatus.SUSPENDED:
        raise VerificationError(code="suspended", status=value)
    raise VerificationError(f"status value 0x{value:02x} is not recognised", code="unknown_status", status=value)


# --- W3C Bitstring Status List: entries, the list credential, the validate algorithm -------------

ENTRY_TYPE: Final = "BitstringStatusListEntry"
CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
SUBJECT_TYPE: Final = "BitstringStatusList"
VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"  # defines every Bitstring term (REC §5.2)
MAX_INDEX_DIGITS: Final = 15  # beyond any list MAX_LIST_BYTES allows; keeps int() cheap
_INDEX = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x[0-9a-fA-F]{1,2}")


@dataclass(frozen=True)
class BitstringStatusListEntry:
    """A ``credentialStatus`` entry (REC §2.1). ``status_messages`` maps each value to its message."""

    status_purpose: str
    status_list_index: int
    status_list_credential: str
    status_size: int = 1
    status_messages: tuple[tuple[int, str], ...] = ()
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out |= {
            "type": ENTRY_TYPE,
            "statusPurpose": self.status_purpose,
            "statusListIndex": str(self.status_list_index),  # a base-10 string, not a number (REC §2.1)
            "statusListCredential": self.status_list_credential,
        }
        if self.status_size != 1:
            out["statusSize"] = self.status_size
        if self.status_messages:
            out["statusMessage"] = [{"status": f"0x{v:x}", "message": m} for v, m in self.status_messages]
        return out


def parse_bitstring_entry(obj: object) -> BitstringStatusListEntry:
    """Validate one ``BitstringStatusListEntry`` against the data model rules of REC §2.1."""
    if not isinstance(obj, dict) or obj.get("type") != ENTRY_TYPE:
        raise MalformedError(f"a status entry must be an object of type {ENTRY_TYPE}")
    purpose, index, list_url = obj.get("statusPurpose"), obj.get("statusListIndex"), obj.get("statusListCredential")
    if not isinstance(purpose, str) or not purpose:
        raise MalformedError("statusPurpose must be a non-empty string")
    if not isinstance(index, str) or len(index) > MAX_INDEX_DIGITS or not _INDEX.fullmatch(index):
        raise MalformedError("statusListIndex must be a base-10 integer written as a string")
    list_url = _uri(list_url, "statusListCredential")
    entry_id = obj.get("id")
    if entry_id is not None and (_uri(entry_id, "id") == list_url):
        raise MalformedError("a status entry's id must not be the status list's URL")
    size = obj.get("statusSize", 1)
    if type(size) is not int or size < 1:
        raise MalformedError("statusSize must be an integer greater than zero")
    if size > MAX_STATUS_SIZE:
        raise UnsupportedError(f"statusSize {size} is larger than the {MAX_STATUS_SIZE} supported")
    messages = _status_messages(obj.get("statusMessage"), size)
    return BitstringStatusListEntry(purpose, int(index), list_url, size, messages, entry_id)


def _status_messages(raw: object, size: int) -> tuple[tuple[int, str], ...]:
    if raw is None:
        if size > 1:
            raise MalformedError("statusMessage must be present when statusSize is greater than 1")
        return ()
    if not isinstance(raw, list) or len(raw) != 1 << size:
        raise MalformedError(f"statusMessage must list exactly {1 << size} messages for statusSize {size}")
    out: dict[int, str] = {}
    for item in raw:
        status, message = (item.get("status"), item.get("message")) if isinstance(item, dict) else (None, None)
        if not isinstance(status, str) or not _HEX_STATUS.fullmatch(status) or not isinstance(message, str):
            raise MalformedError('each statusMessage is {"status": "0x…", "message": "…"}')
        value = int(status, 16)
        if value >= 1 << size or value in out:
            raise MalformedError(f"statusMessage value {status} is repeated or does not fit statusSize {size}")
        out[value] = message
    return tuple(sorted(out.items()))


def bitstring_entries(credential: Mapping[str, Any]) -> tuple[BitstringStatusListEntry, ...]:
    """Every ``BitstringStatusListEntry`` of a credential; other status types are left to their own code."""
    status = credential.get("credentialStatus")
    items = status if isinstance(status, list) else [] if status is None else [status]
    return tuple(parse_bitstring_entry(s) for s in items if isinstance(s, dict) and s.get("type") == ENTRY_TYPE)


def _xsd_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise MalformedError("timestamps must carry a time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_status_list_credential(
    status_list: StatusList,
    *,
    id: str,
    issuer: str,
    status_purpose: str | list[str],
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (REC §2.2) for :mod:`shared.data_integrity` to sign.

    ``status_purpose`` may list several purposes (REC §2.2) when one list serves them all.
    """
    purposes = [status_purpose] if isinstance(status_purpose, str) else status_purpose
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise MalformedError("statusPurpose must be a non-empty string or list of them")
    subject: dict[str, Any] = {
        "id": f"{_uri(id, 'id')}#list",
        "type": SUBJECT_TYPE,
        "statusPurpose": status_purpose,
        "encodedList": encode_bitstring(status_list),
    }
    if ttl_ms is not None:
        if type(ttl_ms) is not int or ttl_ms < 0:
            raise MalformedError("ttl is a non-negative number of milliseconds")
        subject["ttl"] = ttl_ms
    doc: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": _xsd_datetime(valid_from),
    }
    if valid_until is not None:
        doc["validUntil"] = _xsd_datetime(valid_until)
    doc["credentialSubject"] = subject
    return doc


@dataclass(frozen=True)
class BitstringStatusResult:
    """The result map of the REC §3.2 validate algorithm: status value, purpose, valid, message."""

    status: int
    purpose: str
    valid: bool
    message: str | None = None
    ttl_ms: int | None = None


def bitstring_status(
    entry: BitstringStatusListEntry,
    list_credential: Mapping[str, Any],
    *,
    max_bytes: int = MAX_LIST_BYTES,
    min_entries: int = MIN_BITSTRING_ENTRIES,
) -> BitstringStatusResult:
    """REC §3.2 from step 5 on, for a list credential whose proofs the caller has already verified."""
    types = list_credential.get("type")
    if not isinstance(types, list) or CREDENTIAL_TYPE not in types:
        raise MalformedError(f"the status list credential must have type {CREDENTIAL_TYPE}")
    # The REC does not require it, but a list served under another URL than its own id is a substitution.
    if list_credential.get("id", entry.status_list_credential) != entry.status_list_credential:
        raise VerificationError("the status list credential's id is not the entry's URL", code="status_list_mismatch")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != SUBJECT_TYPE:
        raise MalformedError(f"the status list credential's subject must be a {SUBJECT_TYPE}")
    purposes = subject.get("statusPurpose")
    purposes = [purposes] if isinstance(purposes, str) else purposes
    if not isinstance(purposes, list) or entry.status_purpose not in purposes:
        raise VerificationError(
            f"the status list does not serve the purpose {entry.status_purpose!r}",
            code="status_list_mismatch",
            spec_error="STATUS_VERIFICATION_ERROR",
        )
    ttl = subject.get("ttl")
    if ttl is not None and (type(ttl) is not int or ttl < 0):
        raise MalformedError("ttl is a non-negative number of milliseconds")
    bitstring = decode_bitstring(
        subject.get("encodedList"), status_size=entry.status_size, max_bytes=max_bytes, min_entries=min_entries
    )
    value = bitstring.get(entry.status_list_index)
    message = dict(entry.status_messages).get(value)
    return BitstringStatusResult(value, entry.status_purpose, value == 0, message, ttl)


def raise_for_bitstring_status(result: BitstringStatusResult) -> None:
    """``revoked`` / ``suspended`` for a set revocation / suspension entry; other purposes inform only."""
    if result.status and result.purpose == "revocation":
        raise VerificationError(code="revoked", status=result.status)
    if result.status and result.purpose == "suspension":
        raise VerificationError(code="suspended", status=result.status)
