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
- The decrypted key is cached per process by kid; the database says which kid is active, so a
  rotation on one replica is seen by every other on its next signature.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.sealing import Sealer
from issuer.settings import IssuerSettings
from issuer.store.db import Database
from issuer.store.models import SigningKeyRow
from shared.crypto import Ed25519PrivateKey, RandomBytes
from shared.did.key import did_key_document, did_key_from_public_key
from shared.did.web import did_web_from_url
from shared.keys import jwk_thumbprint, key_from_jwk, multikey_encode, public_jwk

KEY_LOCK = 7449
SEAL_CONTEXT = "issuer-signing-key"


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
        self._cache: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

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

    def _private(self, row: SigningKeyRow) -> Ed25519PrivateKey:
        with self._lock:
            key = self._cache.get(row.kid)
            if key is None:
                key = Ed25519PrivateKey(self.sealer.open(row.sealed, SEAL_CONTEXT))
                self._cache[row.kid] = key
            return key

    def active(self) -> ActiveKey:
        with self.db.tx() as session:
            row = session.scalars(
                select(SigningKeyRow)
                .where(SigningKeyRow.retired_at.is_(None))
                .order_by(SigningKeyRow.created_at.desc())
            ).first()
        if row is None:
            self.ensure_key()
            return self.active()
        key = self._private(row)
        return ActiveKey(row.kid, key, self.did_for(key), self.verification_method_for(row.kid, key))

    def published_keys(self) -> list[dict[str, Any]]:
        """Every key, active first: ``{"kid", "jwk", "created_at", "retired_at"}``."""
        with self.db.tx() as session:
            rows = list(session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at.desc())))
        rows.sort(key=lambda r: r.retired_at is not None)
        return [
            {"kid": r.kid, "jwk": json.loads(r.public_jwk), "created_at": r.created_at, "retired_at": r.retired_at}
            for r in rows
        ]

    # --- documents -----------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**k["jwk"], "kid": k["kid"], "alg": "EdDSA", "use": "sig"} for k in self.published_keys()]}

    def did_document(self) -> dict[str, Any]:
        active = self.active()
        if not self.uses_did_web:
            return did_key_document(active.did, key_agreement=False)
        did = active.did
        methods = []
        for k in self.published_keys():
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
