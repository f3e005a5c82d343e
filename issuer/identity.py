"""The issuer's identity: its Ed25519 signing keys (sealed at rest, rotatable) and its DID.

- DID: ``did:web`` of the public URL when that URL is https (the DID document is served at
  ``/.well-known/did.json`` and lists every key, active and retired, so credentials signed before a
  rotation keep verifying); otherwise — local runs and tests — ``did:key`` of the active key, whose
  document is derived from the identifier itself (did:key §3.1.2). The document is served in both cases.
- Key ids: the RFC 7638 JWK thumbprint. The verification method is ``<did>#<kid>`` for did:web and the
  did:key's own ``<did>#<multikey>`` for did:key.
- SD-JWT VC issuers are identified by their https/http URL (``iss``), with keys published at
  ``/.well-known/jwt-vc-issuer`` (SD-JWT VC §5); those JWKs carry the same ``kid``.
- One active key at a time. Rotation retires it (it stays published) and creates a new one, under an
  advisory lock so two replicas rotating together cannot leave two active keys.
- The decrypted key (with its DID and verification method) is cached per process by kid — a kid names
  one key forever. Which kid is active is read from the database every time, inside the caller's
  transaction when there is one (one indexed read, no transaction of its own), so a rotation on one
  replica is seen by every other on its next signature. The published documents (JWKS, DID document)
  are rebuilt only when that read shows a different set of keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from issuer.sealing import Sealer
from issuer.settings import IssuerSettings
from issuer.store.db import Database, Executor
from issuer.store.models import SigningKeyRow, table_of
from shared.crypto import Ed25519PrivateKey, RandomBytes
from shared.did.key import did_key_document, did_key_from_public_key
from shared.did.web import did_web_from_url
from shared.keys import jwk_thumbprint, key_from_jwk, multikey_encode, public_jwk

KEY_LOCK = 7449
SEAL_CONTEXT = "issuer-signing-key"
_KEYS = table_of(SigningKeyRow)
_ACTIVE_KID = select(_KEYS.c.kid).where(_KEYS.c.retired_at.is_(None)).order_by(_KEYS.c.created_at.desc()).limit(1)
_SEALED = select(_KEYS.c.sealed).where(_KEYS.c.kid == bindparam("kid"))


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    key: Ed25519PrivateKey
    did: str
    verification_method: str


class Identity:
    def __init__(
        self,
        settings: IssuerSettings,
        db: Database,
        sealer: Sealer,
        now: Callable[[], float],
        random_bytes: RandomBytes,
    ) -> None:
        self.settings = settings
        self.db = db
        self.sealer = sealer
        self.now = now
        self.random_bytes = random_bytes
        # kid -> its decrypted key; a race decrypts twice, harmlessly (dict writes are atomic)
        self._keys: dict[str, ActiveKey] = {}
        self._documents: dict[tuple[str, Any], dict[str, Any]] = {}  # (document, key set) -> document

    # --- identifiers ---------------------------------------------------------------------------

    @property
    def uses_did_web(self) -> bool:
        return self.settings.base_url.startswith("https://")

    def did_for(self, key: Ed25519PrivateKey) -> str:
        return did_web_from_url(self.settings.base_url) if self.uses_did_web else did_key_from_public_key(key)

    def verification_method_for(self, kid: str, key: Ed25519PrivateKey) -> str:
        did = self.did_for(key)
        return f"{did}#{kid}" if self.uses_did_web else f"{did}#{multikey_encode(key)}"

    # --- keys ----------------------------------------------------------------------------------

    def _new_key(self, session: Session) -> SigningKeyRow:
        key = Ed25519PrivateKey.generate(self.random_bytes)
        row = SigningKeyRow(
            kid=jwk_thumbprint(key),
            alg="EdDSA",
            public_jwk=json.dumps(public_jwk(key)),
            sealed=self.sealer.seal(key.seed, SEAL_CONTEXT),
            created_at=int(self.now()),
            retired_at=None,
        )
        session.add(row)
        session.flush()
        return row

    def ensure_key(self) -> None:
        """Create the first signing key if there is none (at start-up, from any replica)."""
        with self.db.tx() as session:
            self.db.lock(session, KEY_LOCK)
            if session.scalar(select(SigningKeyRow.kid).where(SigningKeyRow.retired_at.is_(None))) is None:
                self._new_key(session)

    def rotate(self, session: Session) -> tuple[str | None, str]:
        """Retire the active key and create a new one, inside the caller's transaction: (old kid, new kid)."""
        self.db.lock(session, KEY_LOCK)
        old = session.scalar(select(SigningKeyRow.kid).where(SigningKeyRow.retired_at.is_(None)))
        session.execute(
            update(SigningKeyRow).where(SigningKeyRow.retired_at.is_(None)).values(retired_at=int(self.now()))
        )
        return old, self._new_key(session).kid

    def _active_in(self, executor: Executor) -> ActiveKey | None:
        kid = executor.execute(_ACTIVE_KID).scalar()
        if kid is None:
            return None
        known = self._keys.get(kid)
        if known is None:
            sealed = executor.execute(_SEALED, {"kid": kid}).scalar_one()
            key = Ed25519PrivateKey(self.sealer.open(sealed, SEAL_CONTEXT))
            known = ActiveKey(kid, key, self.did_for(key), self.verification_method_for(kid, key))
            self._keys[kid] = known
        return known

    def active(self, executor: Executor | None = None) -> ActiveKey:
        """The key new credentials are signed with: read in ``executor`` (the caller's transaction) when
        given, else in a read-only transaction of its own."""
        if executor is not None:
            found = self._active_in(executor)
            if found is None:  # ensure_key ran at start-up: someone retired every key by hand
                raise RuntimeError("the issuer has no active signing key; restart it to create one")
            return found
        with self.db.begin_read() as own:
            found = self._active_in(own)
        if found is None:
            self.ensure_key()
            return self.active()
        return found

    def published_keys(self) -> list[dict[str, Any]]:
        """Every key, active first: ``{"kid", "jwk", "created_at", "retired_at"}``."""
        with self.db.read() as session:
            rows = list(session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at.desc())))
        rows.sort(key=lambda r: r.retired_at is not None)
        return [
            {"kid": r.kid, "jwk": json.loads(r.public_jwk), "created_at": r.created_at, "retired_at": r.retired_at}
            for r in rows
        ]

    def _memo(self, name: str, keys: list[dict[str, Any]], build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A document built from ``keys``, rebuilt only when the set of keys changed."""
        version = (name, tuple((k["kid"], k["retired_at"]) for k in keys))
        document = self._documents.get(version)
        if document is None:
            if len(self._documents) > 64:  # rotations are rare; never let it grow
                self._documents.clear()
            document = self._documents[version] = build()
        return document

    # --- documents -----------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        keys = self.published_keys()
        return self._memo(
            "jwks",
            keys,
            lambda: {"keys": [{**k["jwk"], "kid": k["kid"], "alg": "EdDSA", "use": "sig"} for k in keys]},
        )

    def did_document(self) -> dict[str, Any]:
        if not self.uses_did_web:
            active = self.active()
            return did_key_document(active.did, key_agreement=False)
        keys = self.published_keys()
        return self._memo("did", keys, lambda: self._did_web_document(keys))

    def _did_web_document(self, keys: list[dict[str, Any]]) -> dict[str, Any]:
        did = did_web_from_url(self.settings.base_url)
        methods = []
        for k in keys:
            methods.append(
                {
                    "id": f"{did}#{k['kid']}",
                    "type": "Multikey",  # what eddsa-rdfc-2022 verifiers expect (EdDSA Cryptosuites §2.1.1)
                    "controller": did,
                    "publicKeyMultibase": multikey_encode(key_from_jwk(k["jwk"])),
                }
            )
        ids = [m["id"] for m in methods]
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "verificationMethod": methods,
            "assertionMethod": ids,
            "authentication": [ids[0]],
        }
