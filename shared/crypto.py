"""Signature primitives. The only module that imports ``nacl`` or ``cryptography``.

- Ed25519 (EdDSA) signing and verification through PyNaCl (libsodium): the fastest here.
- P-256 (ES256) verification through ``cryptography``, because phone wallets keep holder keys
  in P-256 hardware; signing is provided too, for tests and for holders that use such keys.

Key objects wrap the library object, built once in ``__post_init__`` and reused: building a
libsodium or OpenSSL key costs as much as a verification. ``verify`` raises
:class:`~shared.errors.VerificationError` (``invalid_signature``); it never returns a bool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.errors import MalformedError, VerificationError

Alg = Literal["EdDSA", "ES256"]
RandomBytes = Callable[[int], bytes]


class PublicKey(Protocol):
    """A verification key. ``alg`` is the only JWS algorithm it accepts."""

    @property
    def alg(self) -> Alg: ...

    def verify(self, message: bytes, signature: bytes) -> None: ...


class Signer(Protocol):
    """Anything that signs: a private key in memory, or a wrapper around one kept elsewhere."""

    @property
    def alg(self) -> Alg: ...

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


# --- Ed25519 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ed25519PublicKey:
    raw: bytes
    _key: nacl.signing.VerifyKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != 32:
            raise MalformedError("an Ed25519 public key is 32 bytes", code="invalid_key")
        object.__setattr__(self, "_key", nacl.signing.VerifyKey(self.raw))

    @property
    def alg(self) -> Alg:
        return "EdDSA"

    def verify(self, message: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise VerificationError("an Ed25519 signature is 64 bytes", code="invalid_signature")
        try:
            self._key.verify(message, signature)
        except nacl.exceptions.BadSignatureError as exc:
            raise VerificationError(code="invalid_signature") from exc


@dataclass(frozen=True)
class Ed25519PrivateKey:
    seed: bytes = field(repr=False)
    _key: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)
    public_key: Ed25519PublicKey = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise MalformedError("an Ed25519 seed is 32 bytes", code="invalid_key")
        key = nacl.signing.SigningKey(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "public_key", Ed25519PublicKey(bytes(key.verify_key)))

    @classmethod
    def generate(cls, random_bytes: RandomBytes | None = None) -> Ed25519PrivateKey:
        return cls((random_bytes or nacl.bindings.randombytes)(32))

    @property
    def alg(self) -> Alg:
        return "EdDSA"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature


def ed25519_to_x25519_public(raw: bytes) -> bytes:
    """The X25519 public key birationally equivalent to an Ed25519 public key (RFC 7748 §4.1).

    did:key derives its keyAgreement key this way. libsodium rejects off-curve and small-order points.
    """
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise MalformedError("an Ed25519 public key is 32 bytes", code="invalid_key")
    try:
        return bytes(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(raw))
    except nacl.exceptions.CryptoError as exc:
        raise MalformedError("not a valid Ed25519 public key", code="invalid_key") from exc


# --- P-256 (ES256) -----------------------------------------------------------------------------

_P256 = ec.SECP256R1()
_ES256 = ec.ECDSA(hashes.SHA256())


@dataclass(frozen=True)
class P256PublicKey:
    """A P-256 public key, given as its uncompressed or compressed SEC1 point."""

    point: bytes
    _key: ec.EllipticCurvePublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, self.point)
        except (ValueError, TypeError) as exc:
            raise MalformedError("not a valid P-256 point", code="invalid_key") from exc
        # One key, one value: keep the uncompressed form so equal keys compare equal.
        object.__setattr__(self, "point", key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
        object.__setattr__(self, "_key", key)

    @classmethod
    def from_xy(cls, x: bytes, y: bytes) -> P256PublicKey:
        if len(x) != 32 or len(y) != 32:
            raise MalformedError("P-256 coordinates are 32 bytes each", code="invalid_key")
        return cls(b"\x04" + x + y)

    @property
    def alg(self) -> Alg:
        return "ES256"

    @property
    def xy(self) -> tuple[bytes, bytes]:
        numbers = self._key.public_numbers()
        return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")

    @property
    def compressed(self) -> bytes:
        x, y = self.xy
        return bytes([2 + (y[-1] & 1)]) + x

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a JWS ES256 signature: the raw 64-byte r || s form (RFC 7518 §3.4)."""
        if len(signature) != 64:
            raise VerificationError("an ES256 signature is 64 bytes", code="invalid_signature")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self._key.verify(der, message, _ES256)
        except InvalidSignature as exc:
            raise VerificationError(code="invalid_signature") from exc


@dataclass(frozen=True)
class P256PrivateKey:
    scalar: bytes = field(repr=False)
    _key: ec.EllipticCurvePrivateKey = field(init=False, repr=False, compare=False)
    public_key: P256PublicKey = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.scalar, bytes) or len(self.scalar) != 32:
            raise MalformedError("a P-256 private key is 32 bytes", code="invalid_key")
        try:
            key = ec.derive_private_key(int.from_bytes(self.scalar, "big"), _P256)
        except ValueError as exc:
            raise MalformedError("not a valid P-256 private key", code="invalid_key") from exc
        object.__setattr__(self, "_key", key)
        numbers = key.public_key().public_numbers()
        object.__setattr__(
            self, "public_key", P256PublicKey.from_xy(numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))
        )

    @classmethod
    def generate(cls) -> P256PrivateKey:
        value = ec.generate_private_key(_P256).private_numbers().private_value
        return cls(value.to_bytes(32, "big"))

    @property
    def alg(self) -> Alg:
        return "ES256"

    def sign(self, message: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(message, _ES256))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- hashing and randomness ------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def random_bytes(n: int) -> bytes:
    """Bytes from the operating system's CSPRNG (libsodium's randombytes)."""
    return bytes(nacl.bindings.randombytes(n))


def public_key_from(obj: Any) -> PublicKey:
    """The public half of a signer, or the key itself if it is already public."""
    pub = getattr(obj, "public_key", obj)
    if not isinstance(pub, (Ed25519PublicKey, P256PublicKey)):
        raise MalformedError("not a supported key", code="invalid_key")
    return pub
