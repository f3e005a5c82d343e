"""W3C Bitstring Status List v1.0 (Recommendation, 2025): the list codec, ``credentialStatus`` entries, the
list credential and the §3.2 validate algorithm (design.md §2 "Status"). Sections are the REC's.

The packed array, its caps and the capped GZIP inflation are :mod:`shared.status_bits` (shared with the IETF
Token Status List of :mod:`shared.status_list`; its docstring tabulates where the two formats differ).

Choices made here (and why):

- Bit order is most significant bit first (§3.1); compression is GZIP (§3.3), written with ``mtime=0``
  so a list always encodes to the same text, at level 9 by default (``level`` is a parameter for
  issuers that republish often); the text form is multibase base64url, prefix ``u`` (§2.2).
- A list shorter than 131,072 entries is an error (``status_list_too_short``, the REC's
  STATUS_LIST_LENGTH_ERROR), both when generating and when validating (§3.2 step 9, §6.1 herd privacy).
- The list credential is built and read unsigned: the caller secures / verifies it with
  :mod:`shared.data_integrity`. Validity periods of the list credential are VCDM checks, not repeated here.
- Beyond the text: a list credential whose ``id`` differs from the entry's ``statusListCredential`` is
  refused (``status_list_mismatch``), so a genuine list cannot be replayed under another URL.
- Random, unique index allocation belongs to the issuer service (it needs the database).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from shared.encoding import b64url_encode
from shared.errors import MalformedError, UnsupportedError, VerificationError
from shared.status_bits import (
    MAX_LIST_BYTES,
    MAX_STATUS_SIZE,
    MSB_FIRST,
    StatusList,
    absolute_uri,
    decode_list_text,
    inflate,
)

# --- the bitstring: generation and expansion (§3.3, §3.4) ----------------------------------------

_GZIP_WBITS: Final = 16 + 15  # GZIP wrapper only (RFC 1952)
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
    compressed = decode_list_text(encoded[1:], what="encodedList")
    data = inflate(compressed, wbits=_GZIP_WBITS, max_bytes=max_bytes, what="encodedList")
    status_list = StatusList(status_size, data, MSB_FIRST)
    _check_min_entries(status_list, min_entries)
    return status_list


# --- entries (§2.1), the list credential (§2.2), the validate algorithm (§3.2) --------------------

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
    list_url = absolute_uri(list_url, "statusListCredential")
    entry_id = obj.get("id")
    if entry_id is not None and (absolute_uri(entry_id, "id") == list_url):
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
        "id": f"{absolute_uri(id, 'id')}#list",
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
