"""IETF Token Status List (draft-ietf-oauth-status-list-20) for SD-JWT VCs (design.md §2 "Status"): the
JSON Status List codec, the ``status`` claim of a Referenced Token, and the Status List Token (``statuslist+jwt``).

The draft's sections are cited by title, as the numbering moved between drafts: [SL] "Status List",
[JSON] "Status List in JSON Format", [JWT] "Status List Token in JWT Format", [REF] "Referenced Token in
JOSE", [TYPES] "Status Types", [RULES] "Validation Rules".

The packed array both formats share is :mod:`shared.status_bits` (its docstring tabulates how the IETF and
W3C formats differ); the W3C Bitstring Status List is :mod:`shared.bitstring_status`. Every public name of
those two that this module offered before the split is re-exported here (see ``__all__``).

Choices made here (and why):

- Entries are packed least significant bit first, 1, 2, 4 or 8 bits wide [SL]; the list is DEFLATE in
  the ZLIB format, base64url without padding [JSON]. We compress at level 9 by default (the draft
  RECOMMENDS the highest level; it reproduces the draft's examples byte for byte). Level 9 costs ~70 ms
  for a 1,000,000-entry list with 1 % set (level 6: ~5 ms, ~15 % larger), so ``level`` is a parameter
  for issuers that republish often.
- :func:`sign_status_list_token` / :func:`verify_status_list_token` wrap :mod:`shared.jose`: the JWS
  ``typ`` is ``statuslist+jwt`` [JWT] and is checked before the claims (RFC 8725 §3.11); the claims are
  then checked by :func:`read_status_list_token` ([RULES] step 4), which callers holding an already
  verified payload may use directly.
- Beyond the text: which key may sign a Status List Token and how fresh ``iat`` must be are caller
  policy ([RULES] step 4); ``sub`` must be the URI the Referenced Token named (``status_list_mismatch``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from shared import jose
from shared.bitstring_status import (
    CREDENTIAL_TYPE,
    ENTRY_TYPE,
    MAX_INDEX_DIGITS,
    MIN_BITSTRING_ENTRIES,
    SUBJECT_TYPE,
    VC_V2_CONTEXT,
    BitstringStatusListEntry,
    BitstringStatusResult,
    bitstring_entries,
    bitstring_status,
    build_status_list_credential,
    decode_bitstring,
    encode_bitstring,
    parse_bitstring_entry,
    raise_for_bitstring_status,
)
from shared.crypto import PublicKey, Signer
from shared.did.document import ResolveMethod, parse_did_url
from shared.encoding import b64url_encode
from shared.errors import MalformedError, UnsupportedError, VerificationError
from shared.status_bits import (
    LSB_FIRST,
    MAX_ENCODED_CHARS,
    MAX_LIST_BYTES,
    MAX_STATUS_SIZE,
    MAX_URI_CHARS,
    MSB_FIRST,
    TOKEN_BITS,
    BitOrder,
    StatusList,
    absolute_uri,
    decode_list_text,
    inflate,
)

# defined here: the IETF Token Status List
__all__ = [
    "STATUS_LIST_TYP",
    "StatusListToken",
    "StatusReference",
    "TokenStatus",
    "decode_token_list",
    "encode_token_list",
    "parse_status_claim",
    "raise_for_token_status",
    "read_status_list_token",
    "sign_status_list_token",
    "status_list_token_claims",
    "status_list_token_header",
    "verify_status_list_token",
]
# moved to shared.status_bits (the packed array both formats share), re-exported
__all__ += [
    "LSB_FIRST",
    "MAX_ENCODED_CHARS",
    "MAX_LIST_BYTES",
    "MAX_STATUS_SIZE",
    "MAX_URI_CHARS",
    "MSB_FIRST",
    "TOKEN_BITS",
    "BitOrder",
    "StatusList",
]
# moved to shared.bitstring_status (W3C Bitstring Status List), re-exported
__all__ += [
    "CREDENTIAL_TYPE",
    "ENTRY_TYPE",
    "MAX_INDEX_DIGITS",
    "MIN_BITSTRING_ENTRIES",
    "SUBJECT_TYPE",
    "VC_V2_CONTEXT",
    "BitstringStatusListEntry",
    "BitstringStatusResult",
    "bitstring_entries",
    "bitstring_status",
    "build_status_list_credential",
    "decode_bitstring",
    "encode_bitstring",
    "parse_bitstring_entry",
    "raise_for_bitstring_status",
]

_ZLIB_WBITS: Final = 15  # ZLIB wrapper only (RFC 1950): raw DEFLATE or GZIP are not Token Status Lists


# --- the JSON Status List ([JSON]) ---------------------------------------------------------------


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
    compressed = decode_list_text(obj.get("lst"), what="status_list.lst")
    return StatusList(bits, inflate(compressed, wbits=_ZLIB_WBITS, max_bytes=max_bytes, what="lst"), LSB_FIRST)


# --- Token Status List: the referenced token and the status list token ---------------------------

STATUS_LIST_TYP: Final = "statuslist+jwt"  # [JWT]: the JWT "typ" header


class TokenStatus(IntEnum):
    """Registered status values ([TYPES]); 0x03 and 0x0C–0x0F are application-specific."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


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
    return StatusReference(idx, absolute_uri(ref.get("uri"), "status.status_list.uri"))


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
    claims: dict[str, Any] = {"sub": absolute_uri(sub, "sub"), "iat": _numeric_date(iat, "iat")}
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
    sub = absolute_uri(payload.get("sub"), "sub")
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


# --- the Status List Token as a signed JWT ([JWT], [RULES]) --------------------------------------


def sign_status_list_token(
    sl: StatusList,
    *,
    signer: Signer,
    sub: str,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
    iss: str | None = None,
    kid: str | None = None,
) -> str:
    """A compact ``statuslist+jwt`` ([JWT]) for the list served at ``sub``, signed by ``signer``."""
    header = status_list_token_header(alg=signer.alg, kid=kid)
    claims = status_list_token_claims(sl, sub=sub, iat=iat, exp=exp, ttl=ttl, iss=iss)
    return jose.sign_compact(header, claims, signer)


def status_list_token_signer(
    token: str,
    *,
    resolve_method: ResolveMethod,
    issuer_key: Callable[[dict[str, Any], dict[str, Any]], PublicKey] | None = None,
) -> tuple[str, PublicKey]:
    """Who signed a ``statuslist+jwt`` and with which key, read before it is verified: a DID URL ``kid``
    through ``resolve_method``; an issuer named by its https URL (``iss``) through ``issuer_key`` (its JWT VC
    Issuer Metadata). The caller compares the signer with the credential's issuer, then verifies with the key.
    """
    decoded = jose.decode_unverified(token)
    kid, iss = decoded.header.get("kid"), decoded.payload.get("iss")
    if isinstance(kid, str) and kid.startswith("did:"):
        return parse_did_url(kid).did, resolve_method(kid).public_key
    if isinstance(iss, str) and iss.startswith("https://") and issuer_key is not None:
        return iss, issuer_key(decoded.header, decoded.payload)
    raise VerificationError(
        "the status list is signed neither by a DID key nor by an https issuer", code="status_list_mismatch"
    )


def verify_status_list_token(token: str, *, key: PublicKey, uri: str, now: int, leeway: int = 0) -> StatusListToken:
    """Verify a ``statuslist+jwt`` made with ``key`` and check its claims ([RULES] step 4).

    ``uri`` is the one the Referenced Token named. Raises like :func:`shared.jose.verify_compact`
    (``invalid_signature``, ``unsupported_format`` for another ``typ`` …), then like
    :func:`read_status_list_token` (``status_list_mismatch``, ``status_list_expired``, ``malformed``).
    """
    _, payload = jose.verify_compact(token, key=key, typ=STATUS_LIST_TYP)
    return read_status_list_token(payload, uri=uri, now=now, leeway=leeway)
