"""Key representations: JWK (RFC 7517/8037), Multikey (Controlled Identifiers 1.0 §2.2.2),
RFC 7638 thumbprints, and key files on disk.

Multikey values are multibase base58btc (``z``) over a multicodec prefix:
``0xed 0x01`` for an Ed25519 public key, ``0x80 0x24`` for a compressed P-256 public key.
A key file is a private JWK in JSON, written with mode 0600.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from shared.crypto import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    P256PrivateKey,
    P256PublicKey,
    PublicKey,
    sha256,
)
from shared.encoding import b64url_decode, b64url_encode, jcs, loads_strict, multibase_decode, multibase_encode
from shared.errors import MalformedError

ED25519_PUB_PREFIX: Final = b"\xed\x01"
P256_PUB_PREFIX: Final = b"\x80\x24"

PrivateKey = Ed25519PrivateKey | P256PrivateKey


# --- JWK -------------------------------------------------------------------------------------


def public_jwk(key: PublicKey | PrivateKey) -> dict[str, str]:
    """The public JWK of a key, with only the members RFC 7638 needs (plus nothing private)."""
    pub = key.public_key if isinstance(key, (Ed25519PrivateKey, P256PrivateKey)) else key
    if isinstance(pub, Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(pub.raw)}
    if isinstance(pub, P256PublicKey):
        x, y = pub.xy
        return {"kty": "EC", "crv": "P-256", "x": b64url_encode(x), "y": b64url_encode(y)}
    raise MalformedError("not a supported key", code="invalid_key")


def private_jwk(key: PrivateKey) -> dict[str, str]:
    jwk = public_jwk(key)
    jwk["d"] = b64url_encode(key.seed if isinstance(key, Ed25519PrivateKey) else key.scalar)
    return jwk


def _member(jwk: dict[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise MalformedError(f"JWK member {name!r} is missing or not a string", code="invalid_key")
    return b64url_decode(value)


def _check_jwk(jwk: Any) -> tuple[str, str]:
    if not isinstance(jwk, dict):
        raise MalformedError("a JWK must be a JSON object", code="invalid_key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if not isinstance(kty, str) or not isinstance(crv, str) or (kty, crv) not in {("OKP", "Ed25519"), ("EC", "P-256")}:
        raise MalformedError(f"unsupported JWK kty/crv {kty!r}/{crv!r}", code="invalid_key")
    return str(kty), str(crv)


def key_from_jwk(jwk: Any) -> PublicKey:
    """A public key from an OKP/Ed25519 or EC/P-256 JWK. A private member is ignored here."""
    kty, _ = _check_jwk(jwk)
    if kty == "OKP":
        return Ed25519PublicKey(_member(jwk, "x"))
    return P256PublicKey.from_xy(_member(jwk, "x"), _member(jwk, "y"))


def private_key_from_jwk(jwk: Any) -> PrivateKey:
    kty, _ = _check_jwk(jwk)
    priv: PrivateKey = Ed25519PrivateKey(_member(jwk, "d")) if kty == "OKP" else P256PrivateKey(_member(jwk, "d"))
    if public_jwk(priv) != {k: jwk[k] for k in public_jwk(priv)}:
        raise MalformedError("the JWK's public part does not match its private part", code="invalid_key")
    return priv


def jwk_thumbprint(key: PublicKey | PrivateKey | dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url."""
    jwk = public_jwk(key_from_jwk(key)) if isinstance(key, dict) else public_jwk(key)
    return b64url_encode(sha256(jcs(jwk)))


# --- Multikey --------------------------------------------------------------------------------


def multikey_encode(key: PublicKey | PrivateKey) -> str:
    pub = key.public_key if isinstance(key, (Ed25519PrivateKey, P256PrivateKey)) else key
    if isinstance(pub, Ed25519PublicKey):
        return multibase_encode(ED25519_PUB_PREFIX + pub.raw, "z")
    if isinstance(pub, P256PublicKey):
        return multibase_encode(P256_PUB_PREFIX + pub.compressed, "z")
    raise MalformedError("not a supported key", code="invalid_key")


def multikey_decode(value: str) -> PublicKey:
    if not isinstance(value, str) or not value.startswith("z"):
        raise MalformedError("a Multikey is a base58btc multibase string", code="invalid_key")
    data = multibase_decode(value)
    if data.startswith(ED25519_PUB_PREFIX):
        return Ed25519PublicKey(data[2:])
    if data.startswith(P256_PUB_PREFIX):
        return P256PublicKey(data[2:])
    raise MalformedError("unsupported Multikey codec", code="invalid_key")


# --- key files -------------------------------------------------------------------------------


def write_key_file(path: str | os.PathLike[str], key: PrivateKey) -> None:
    """Write a private key as a JWK, readable by the owner only, without a window of wider access."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(private_jwk(key), fh)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_key_file(path: str | os.PathLike[str]) -> PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MalformedError(f"cannot read key file: {exc.strerror}", code="invalid_key") from exc
    return private_key_from_jwk(loads_strict(data, max_bytes=16_384))


def read_public_key_file(path: str | os.PathLike[str]) -> PublicKey:
    """A public key from a key file or a public JWK file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MalformedError(f"cannot read key file: {exc.strerror}", code="invalid_key") from exc
    return key_from_jwk(loads_strict(data, max_bytes=16_384))
