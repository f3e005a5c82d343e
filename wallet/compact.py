"""Compact payloads for QR codes: CBOR (RFC 8949) → zlib (RFC 1950) → Base45 (RFC 9285), with a prefix.

design.md §2 puts compact QR payloads in CBOR + zlib + Base45, as the EU Digital COVID Certificate
did (``HC1:`` + Base45(zlib(COSE))). ``shared/`` has no such codec yet, so this small one lives here,
used by the wallet only; it is pure (no I/O) and could move to ``shared/qr.py`` unchanged.

Why Base45: QR alphanumeric mode stores 45 symbols in 5.5 bits each, so Base45 text (3 characters per
2 bytes) fits about as much as byte mode does with raw binary, and it survives being read as text by a
phone's camera app. The prefix names the payload and its version (``TSR1:`` = Tessera credential
summary, version 1); it is made of Base45 alphabet characters, so the whole payload stays alphanumeric.

Decoding is strict and bounded: unknown prefix, a Base45 group out of range (RFC 9285 §4.2), a zlib
stream that is truncated, has trailing data or inflates beyond :data:`MAX_INFLATED` (a zlib bomb), and
CBOR that is not one map with integer or text keys are all ``malformed`` errors.

A credential *summary* is not a credential: it carries no signature and proves nothing. It lets a
person show, or keep on paper, what they hold (type, issuer, validity, status and when it was checked)
and, only when they ask for it, chosen claim values (data minimization: none by default).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import cbor2

from shared.dcql import format_path
from shared.errors import MalformedError
from wallet.model import CredentialRecord

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INDEX: Final = {ch: i for i, ch in enumerate(ALPHABET)}
SUMMARY_PREFIX: Final = "TSR1:"
MAX_INFLATED: Final = 16 * 1024
MAX_TEXT: Final = 4_296  # QR version 40-L alphanumeric capacity


# --- Base45 (RFC 9285) ---------------------------------------------------------------------------


def b45encode(data: bytes) -> str:
    """RFC 9285 §4: each 2 bytes ``[a, b]`` → ``n = a·256 + b`` → ``c + 45·d + 45²·e`` written ``c d e``;
    a last single byte → ``c d``."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """The inverse of :func:`b45encode`; anything RFC 9285 §4.2 calls invalid raises ``malformed``."""
    if len(text) % 3 == 1:
        raise MalformedError("Base45 text cannot have a length of 3n+1")
    try:
        values = [_INDEX[ch] for ch in text]
    except KeyError as exc:
        raise MalformedError(f"{exc.args[0]!r} is not a Base45 character") from exc
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 45 * 45
            if n > 0xFFFF:
                raise MalformedError("a Base45 group is larger than two bytes")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise MalformedError("the last Base45 group is larger than one byte")
            out.append(n)
    return bytes(out)


# --- CBOR + zlib + Base45 ------------------------------------------------------------------------


def encode(value: Mapping[Any, Any], *, prefix: str) -> str:
    """``prefix + Base45(zlib(CBOR(value)))``; CBOR in canonical form (RFC 8949 §4.2.1) so equal values
    give equal payloads."""
    if any(ch not in _INDEX for ch in prefix):
        raise ValueError("the prefix must use Base45 characters only")
    return prefix + b45encode(zlib.compress(cbor2.dumps(dict(value), canonical=True), 9))


def decode(text: str, *, prefix: str) -> dict[Any, Any]:
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise MalformedError("a compact payload is a string of at most one QR code", code="too_large")
    text = text.strip()
    if not text.startswith(prefix):
        raise MalformedError(f"not a {prefix!r} payload")
    packed = b45decode(text[len(prefix) :])
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, MAX_INFLATED)
    except zlib.error as exc:
        raise MalformedError("the payload is not a zlib stream") from exc
    if inflater.unconsumed_tail:
        raise MalformedError(f"the payload inflates beyond {MAX_INFLATED} bytes", code="too_large")
    if not inflater.eof or inflater.unused_data:
        raise MalformedError("the zlib stream is truncated or has trailing data")
    try:
        value = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedError("the payload is not CBOR") from exc
    if not isinstance(value, dict) or not all(isinstance(k, (str, int)) for k in value):
        raise MalformedError("the payload is not a CBOR map with integer or text keys")
    return value


# --- credential summaries ------------------------------------------------------------------------

# Integer keys and epoch seconds: every byte counts in a QR code (a summary should fit QR version 7,
# about 44 modules, which an 80x24 terminal shows whole). Absent values are left out, not sent as null.
V, FORMAT, TYPE, NAME, ISSUER, ISSUER_NAME, VALID_FROM, VALID_UNTIL, STATUS, CHECKED, CLAIMS = range(11)
LABELS: Final = {
    FORMAT: "format",
    TYPE: "type",
    NAME: "name",
    ISSUER: "issuer",
    ISSUER_NAME: "issuer name",
    VALID_FROM: "valid from",
    VALID_UNTIL: "valid until",
    STATUS: "status",
    CHECKED: "status checked at",
}
TIMES: Final = frozenset({VALID_FROM, VALID_UNTIL, CHECKED})


def _epoch(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def summary(record: CredentialRecord, *, lang: str = "en", claims: Iterable[Sequence[Any]] = ()) -> dict[int, Any]:
    """The summary of a held credential; claim values only for the paths given (none by default)."""
    from wallet import consent  # noqa: PLC0415 - consent imports the DCQL matcher, needed only here

    name = record.title(lang)
    issuer_name = record.issuer_title(lang)
    value: dict[int, Any] = {
        V: 1,
        FORMAT: record.format,
        TYPE: record.types[-1] if record.types and record.types[-1] != name else None,
        NAME: name,
        ISSUER: record.issuer,
        ISSUER_NAME: issuer_name if issuer_name != record.issuer else None,
        VALID_FROM: _epoch(record.valid_from),
        VALID_UNTIL: _epoch(record.valid_until),
        STATUS: record.status_result,
        CHECKED: _epoch(record.status_checked_at),
    }
    chosen = {format_path(p): consent.value_at(record, tuple(p)) for p in claims}
    if chosen:
        value[CLAIMS] = chosen
    return {k: v for k, v in value.items() if v not in (None, "")}


def encode_summary(value: Mapping[int, Any]) -> str:
    return encode(value, prefix=SUMMARY_PREFIX)


def decode_summary(text: str) -> dict[int, Any]:
    value = decode(text, prefix=SUMMARY_PREFIX)
    if value.get(V) != 1:
        raise MalformedError("unknown credential summary version")
    return value


def describe(value: Mapping[int, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` lines of a decoded summary, for printing; unknown keys are skipped."""
    out: list[tuple[str, str]] = []
    for key, item in value.items():
        if key in TIMES and isinstance(item, int):
            out.append((LABELS[key], datetime.fromtimestamp(item, UTC).isoformat().replace("+00:00", "Z")))
        elif key in LABELS:
            out.append((LABELS[key], str(item)))
    claims = value.get(CLAIMS)
    if isinstance(claims, dict):
        out += [(str(k), str(v)) for k, v in claims.items()]
    return out
