"""The verifier's own identifier and signing key.

- Identifier: ``did:web`` of the public URL when it is https (wallets resolve it over the web), else
  a ``did:key`` (local runs and tests: nothing to host). Request objects are signed with ``kid`` =
  the DID URL of the key, and carry ``client_id`` = ``decentralized_identifier:<did>`` (OpenID4VP §5.9.3).
- Key: Ed25519, created on first start and stored in the database sealed with a PyNaCl SecretBox
  (XSalsa20-Poly1305) under a 32-byte secret that never enters the database: from settings
  (``TESSERA_VERIFIER_KEY_SECRET``), a secret file, or — for local runs — a file created beside
  the SQLite database with mode 0600. Replicas must share the secret (settings), not a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
from sqlalchemy.engine import make_url

from shared.crypto import Ed25519PrivateKey, RandomBytes
from shared.did import did_key_from_public_key, did_web_from_url
from shared.did.key import did_key_document
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import MalformedError
from shared.keys import multikey_encode, public_jwk
from verifier.settings import VerifierSettings
from verifier.store import Store
from verifier.store.models import SigningKeyRow

KEY_ROW = "primary"


@dataclass(frozen=True)
class Identity:
    did: str
    kid: str  # DID URL of the signing key
    key: Ed25519PrivateKey
    document: dict[str, Any]  # the DID document (served at /.well-known/did.json for did:web)

    @property
    def client_id(self) -> str:
        return f"decentralized_identifier:{self.did}"


def _secret_path(settings: VerifierSettings) -> Path:
    if settings.key_secret_file is not None:
        return settings.key_secret_file
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".key")
    return Path("tessera-verifier.key")


def key_secret(settings: VerifierSettings, random_bytes: RandomBytes) -> bytes:
    """The 32-byte secret that seals the signing key."""
    if settings.key_secret:
        secret = b64url_decode(settings.key_secret)
    else:
        path = _secret_path(settings)
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(b64url_encode(random_bytes(32)) + "\n")
        secret = b64url_decode(path.read_text().strip())
    if len(secret) != nacl.secret.SecretBox.KEY_SIZE:
        raise MalformedError("the key secret must be 32 bytes, base64url-encoded", code="invalid_key")
    return secret


def seal(seed: bytes, secret: bytes, random_bytes: RandomBytes) -> bytes:
    box = nacl.secret.SecretBox(secret)
    return bytes(box.encrypt(seed, random_bytes(nacl.secret.SecretBox.NONCE_SIZE)))


def unseal(sealed: bytes, secret: bytes) -> bytes:
    try:
        return bytes(nacl.secret.SecretBox(secret).decrypt(sealed))
    except nacl.exceptions.CryptoError as exc:
        raise MalformedError("the signing key cannot be opened with this key secret", code="invalid_key") from exc


def _web_document(did: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    vm = f"{did}#key-1"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": vm, "type": "Multikey", "controller": did, "publicKeyMultibase": multikey_encode(key)}
        ],
        "authentication": [vm],
        "assertionMethod": [vm],
    }


def load_identity(settings: VerifierSettings, store: Store, random_bytes: RandomBytes) -> Identity:
    """Open (or on first start create) the signing key and derive the identifier."""
    secret = key_secret(settings, random_bytes)
    row = store.signing_key(KEY_ROW)
    if row is None:
        fresh = Ed25519PrivateKey.generate(random_bytes)
        row = store.add_signing_key_once(
            SigningKeyRow(
                id=KEY_ROW,
                alg="EdDSA",
                public_jwk=json.dumps(public_jwk(fresh)),
                sealed=seal(fresh.seed, secret, random_bytes),
                created_at=0,
            )
        )
    key = Ed25519PrivateKey(unseal(row.sealed, secret))
    public = settings.public_url
    if public and public.startswith("https://"):
        did = did_web_from_url(public)
        return Identity(did, f"{did}#key-1", key, _web_document(did, key))
    did = did_key_from_public_key(key.public_key)
    return Identity(did, f"{did}#{did.removeprefix('did:key:')}", key, did_key_document(did, key_agreement=False))
