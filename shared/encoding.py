"""Byte and text encodings used on the wire.

- base64url without padding (RFC 7515 §2 / RFC 4648 §5), strict: no padding, no stray characters;
- base58btc (Bitcoin alphabet) and multibase prefixes ``z`` (base58btc) and ``u`` (base64url);
- JSON Canonicalization Scheme (RFC 8785) through the ``rfc8785`` package;
- a strict JSON reader: duplicate member names, NaN/Infinity, over-deep nesting and oversized
  input are rejected with a :class:`~shared.errors.MalformedError` and a specific code.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

import rfc8785

from shared.errors import MalformedError

MAX_JSON_BYTES: Final = 1_000_000
MAX_JSON_DEPTH: Final = 64

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}


# --- base64url -------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; anything else (padding, '+', '/', whitespace) is malformed."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedError("not valid base64url", code="malformed")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("not valid base64url", code="malformed") from exc
    # Reject non-canonical encodings (unused trailing bits set): one value, one encoding.
    if b64url_encode(data) != text:
        raise MalformedError("non-canonical base64url", code="malformed")
    return data


# --- base58btc and multibase ---------------------------------------------------------------


def b58_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedError("base58 value must be a string")
    num = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise MalformedError(f"invalid base58btc character {char!r}")
        num = num * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + b58_encode(data)
    if base == "u":
        return "u" + b64url_encode(data)
    raise MalformedError(f"unsupported multibase prefix {base!r}", code="unsupported_format")


def multibase_decode(text: str) -> bytes:
    """Decode a multibase string with prefix ``z`` (base58btc) or ``u`` (base64url)."""
    if not isinstance(text, str) or not text:
        raise MalformedError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return b58_decode(body)
    if prefix == "u":
        return b64url_decode(body)
    raise MalformedError(f"unsupported multibase prefix {prefix!r}", code="unsupported_format")


# --- JSON ------------------------------------------------------------------------------------


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes."""
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"value cannot be canonicalized: {exc}") from exc


def dumps_compact(value: Any) -> str:
    """Compact JSON text (no spaces, UTF-8 kept), as used in JWT segments."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedError(f"duplicate JSON member name {key!r}", code="duplicate_key")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise MalformedError(f"{name} is not valid JSON")


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (scalars are 0), computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    if json_depth(value) > max_depth:
        raise MalformedError(f"JSON nested deeper than {max_depth} levels", code="too_deep")


def loads_strict(data: str | bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON strictly. Raises MalformedError with code too_large, too_deep, duplicate_key or malformed."""
    if isinstance(data, str):
        size = len(data.encode("utf-8", "surrogatepass"))
    elif isinstance(data, (bytes, bytearray)):
        size = len(data)
    else:
        raise MalformedError("JSON input must be text or bytes")
    if size > max_bytes:
        raise MalformedError(f"JSON input of {size} bytes exceeds {max_bytes}", code="too_large")
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("JSON input is not UTF-8") from exc
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise MalformedError("JSON nested too deeply", code="too_deep") from exc
    except MalformedError:
        raise
    except ValueError as exc:  # JSONDecodeError, oversized integers
        raise MalformedError(f"invalid JSON: {exc}") from exc
    check_depth(value, max_depth)
    return value
