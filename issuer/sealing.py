"""Encryption at rest for the issuer's secrets (signing-key seeds, claims of pending offers).

XSalsa20-Poly1305 (libsodium ``crypto_secretbox`` through PyNaCl's ``SecretBox``) with a random 24-byte
nonce per message, prefixed to the ciphertext. The 32-byte key comes from the settings
(``TESSERA_ISSUER_KEY_ENCRYPTION_KEY``, base64url) or from a key file created with mode 0600 in the
data directory on first use. A sealed value also authenticates a ``context`` label (bound in as the
first bytes of the plaintext), so a sealed seed cannot be swapped into a claims column or vice versa.

The same key also authenticates values the issuer hands out and takes back without storing them (the
``c_nonce``): :meth:`Sealer.mac` is HMAC-SHA-256 under a subkey derived per context, so replicas that
share the key-encryption key accept each other's values.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import nacl.exceptions
import nacl.secret
import nacl.utils

from issuer.settings import IssuerSettings
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError

KEY_BYTES = nacl.secret.SecretBox.KEY_SIZE


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise MalformedError(f"the key-encryption key must be {KEY_BYTES} bytes", code="invalid_key")
        self._box = nacl.secret.SecretBox(key)
        self._key = key
        self._mac_keys: dict[str, bytes] = {}

    def seal(self, plaintext: bytes, context: str) -> bytes:
        label = context.encode() + b"\x00"
        return bytes(self._box.encrypt(label + plaintext))

    def open(self, sealed: bytes, context: str) -> bytes:
        label = context.encode() + b"\x00"
        try:
            plain = self._box.decrypt(sealed)
        except nacl.exceptions.CryptoError as exc:
            message = "a sealed value cannot be opened with this key-encryption key"
            raise MalformedError(message, code="invalid_key") from exc
        if not plain.startswith(label):
            raise MalformedError("a sealed value was made for another purpose", code="invalid_key")
        return plain[len(label) :]

    def mac(self, message: bytes, context: str) -> bytes:
        """HMAC-SHA-256 of ``message`` under this key's subkey for ``context`` (never the key itself)."""
        subkey = self._mac_keys.get(context)
        if subkey is None:
            subkey = hmac.digest(self._key, b"tessera-mac\x00" + context.encode(), hashlib.sha256)
            self._mac_keys[context] = subkey
        return hmac.digest(subkey, message, hashlib.sha256)


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = nacl.utils.random(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(b64url_encode(key) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        message = f"cannot read the key-encryption key file {path}: {exc.strerror}"
        raise MalformedError(message, code="invalid_key") from exc
    return b64url_decode(text)


class LazySealer(Sealer):
    """A :class:`Sealer` that finds its key on first use, so commands that seal nothing (``api-key
    create``, ``audit verify``) never create a key file."""

    def __init__(self, settings: IssuerSettings) -> None:  # the box is made on first use
        self._settings = settings
        self._inner: Sealer | None = None

    def _get(self) -> Sealer:
        if self._inner is None:
            self._inner = load_sealer(self._settings)
        return self._inner

    def seal(self, plaintext: bytes, context: str) -> bytes:
        return self._get().seal(plaintext, context)

    def open(self, sealed: bytes, context: str) -> bytes:
        return self._get().open(sealed, context)

    def mac(self, message: bytes, context: str) -> bytes:
        return self._get().mac(message, context)


def load_sealer(settings: IssuerSettings) -> Sealer:
    if settings.key_encryption_key:
        return Sealer(b64url_decode(settings.key_encryption_key))
    path = settings.resolved_key_file
    return Sealer(_read_key_file(path) if path.exists() else _create_key_file(path))
