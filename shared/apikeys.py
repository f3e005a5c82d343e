"""API keys for the services' admin and session APIs: generate, hash for storage, check.

A key is ``<prefix>_<id>_<secret>``: ``id`` (8 random bytes, base64url) names the stored row so a
check is one indexed lookup, and ``secret`` (32 random bytes, base64url) is what proves possession.
Only ``id`` and SHA-256 of the whole key are stored; the key itself is shown once.

SHA-256 rather than a password hash (Argon2id, scrypt): the secret has 256 bits of entropy, so
there is nothing to brute-force and a slow hash would only slow every request down. Comparison is
constant-time (:func:`hmac.compare_digest`). Randomness is injected so tests are reproducible.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from shared.encoding import b64url_encode
from shared.errors import MalformedError

RandomBytes = Callable[[int], bytes]
ID_BYTES: Final = 8
SECRET_BYTES: Final = 32
_KEY_RE = re.compile(r"([a-z]{2,16})_([A-Za-z0-9_-]{11})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    key: str = ""  # the full key, shown to its owner once; never stored
    key_id: str = ""
    key_hash: str = ""  # hex SHA-256 of the full key: what is stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def generate(prefix: str, random_bytes: RandomBytes) -> ApiKey:
    """A new key with the given prefix (``tsv`` for the verifier, ``tsi`` for the issuer)."""
    if not re.fullmatch(r"[a-z]{2,16}", prefix):
        raise MalformedError("an API key prefix is 2 to 16 lower-case letters")
    key_id = b64url_encode(random_bytes(ID_BYTES))
    secret = b64url_encode(random_bytes(SECRET_BYTES))
    key = f"{prefix}_{key_id}_{secret}"
    # base64url may itself contain "_"; the fixed lengths keep the split unambiguous
    return ApiKey(key=key, key_id=key_id, key_hash=hash_key(key))


def key_id_of(key: str, prefix: str) -> str:
    """The id part of a presented key; ``malformed`` if the key cannot be one of ours."""
    match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None or match.group(1) != prefix:
        raise MalformedError("not an API key of this service")
    return match.group(2)


def check(key: str, stored_hash: str) -> bool:
    """Whether ``key`` hashes to ``stored_hash``, compared in constant time."""
    try:
        candidate = hash_key(key)
    except (UnicodeEncodeError, AttributeError):
        return False
    return hmac.compare_digest(candidate, stored_hash)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (RFC 6750 §2.1), or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
