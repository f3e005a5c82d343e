"""Use-cases of the issuer's admin side: API keys, offers, issuance records, status changes, key rotation,
audit. Routers translate HTTP to these calls; every state change is one transaction, and every admin
action writes its audit entry in that same transaction.

The OpenID4VCI protocol side (token, nonce, credential) is :mod:`issuer.issuance`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from issuer.access import API_KEY_PREFIX, ApiKeyCheck
from issuer.catalogue import Catalogue, validate_claims
from issuer.http import ApiError
from issuer.identity import Identity
from issuer.sealing import Sealer
from issuer.settings import IssuerSettings
from issuer.store import audit
from issuer.store import statements as sql
from issuer.store import status as status_store
from issuer.store.db import Database, Executor
from issuer.store.models import AccessTokenRow, ApiKeyRow, CredentialRow, NonceRow, OfferRow, RecordRow
from shared import apikeys, qr
from shared.crypto import RandomBytes
from shared.encoding import b64url_encode, dumps_compact
from shared.errors import MalformedError

SCOPES: Final = ("issue", "revoke", "admin")
PRE_AUTH_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME: Final = "openid-credential-offer://"
CLAIMS_CONTEXT: Final = "issuer-claims"
CODE_CONTEXT: Final = "issuer-pre-authorized-code"
PURGE_INTERVAL: Final = 60


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def conflict(description: str) -> ApiError:
    return ApiError("conflict", description, status=409)


def not_found(what: str) -> ApiError:
    return ApiError("not_found", f"There is no such {what}.", status=404)


@dataclass
class IssuerService:
    settings: IssuerSettings
    db: Database
    sealer: Sealer
    identity: Identity
    catalogue: Catalogue
    now: Callable[[], float]
    random_bytes: RandomBytes
    _last_purge: float = 0.0  # a per-process throttle, not state: every replica purges on its own
    api_keys: ApiKeyCheck = field(init=False)

    def __post_init__(self) -> None:
        self.api_keys = ApiKeyCheck(self.db, self.settings.api_key_cache_seconds)

    # --- helpers ---------------------------------------------------------------------------------

    def token(self, n: int = 32) -> str:
        return b64url_encode(self.random_bytes(n))

    def identifier(self, n: int = 16) -> str:
        """A random id an operator may type as a command-line argument: never starting with '-', which
        argparse would take for an option (the swap keeps it unique and random in all other characters)."""
        text = self.token(n)
        return "_" + text[1:] if text.startswith("-") else text

    def record_audit(self, executor: Executor, actor: str, action: str, target: str | None, **detail: Any) -> None:
        audit.append(self.db, executor, at=int(self.now()), actor=actor, action=action, target=target, detail=detail)

    def seal_json(self, value: Any) -> bytes:
        return self.sealer.seal(dumps_compact(value).encode("utf-8"), CLAIMS_CONTEXT)

    def open_json(self, sealed: bytes) -> Any:
        return json.loads(self.sealer.open(sealed, CLAIMS_CONTEXT))

    # --- API keys ---------------------------------------------------------------------------------

    def create_api_key(self, scopes: list[str], label: str | None = None, *, actor: str = "cli") -> str:
        unknown = [s for s in scopes if s not in SCOPES]
        if not scopes or unknown:
            raise MalformedError(f"scopes must be some of {', '.join(SCOPES)}")
        key = apikeys.generate(API_KEY_PREFIX, self.random_bytes)
        with self.db.tx() as session:
            session.add(
                ApiKeyRow(
                    key_id=key.key_id,
                    key_hash=key.key_hash,
                    scopes=" ".join(sorted(set(scopes))),
                    label=label,
                    created_at=int(self.now()),
                    revoked_at=None,
                )
            )
            self.record_audit(session, actor, "api_key.create", key.key_id, scopes=sorted(set(scopes)))
        return key.key

    def authenticate(self, authorization: str | None, scope: str | tuple[str, ...]) -> str:
        """The key id of a valid API key holding ``scope`` — or one of them, given a tuple (``admin``
        holds every scope). Cached per process for ``api_key_cache_seconds``: see :mod:`issuer.access`."""
        return self.api_keys.check(authorization, (scope,) if isinstance(scope, str) else scope)

    # --- offers -----------------------------------------------------------------------------------

    def _tx_code(self) -> str:
        digits: list[str] = []
        while len(digits) < self.settings.tx_code_length:
            b = self.random_bytes(1)[0]
            if b < 250:  # rejection sampling: 250 is a multiple of 10, so every digit is equally likely
                digits.append(str(b % 10))
        return "".join(digits)

    def offer_json(self, configuration_ids: list[str], code: str, with_tx_code: bool) -> dict[str, Any]:
        """A Credential Offer (OpenID4VCI 1.0 §4.1.1) for the pre-authorized code flow."""
        grant: dict[str, Any] = {"pre-authorized_code": code}
        if with_tx_code:
            grant["tx_code"] = {
                "input_mode": "numeric",
                "length": self.settings.tx_code_length,
                "description": "Enter the code the registry gave you with this offer.",
            }
        return {
            "credential_issuer": self.settings.base_url,
            "credential_configuration_ids": configuration_ids,
            "grants": {PRE_AUTH_GRANT: grant},
        }

    def create_offer(
        self,
        actor: str,
        type_name: str,
        claims: Any,
        *,
        formats: list[str] | None = None,
        tx_code: bool = True,
        inline_qr: bool = False,
    ) -> dict[str, Any]:
        if self.now() - self._last_purge > PURGE_INTERVAL:
            self.purge_expired()
        ctype = self.catalogue.get(type_name)
        chosen = formats or list(ctype.formats)
        bad = [f for f in chosen if f not in ctype.formats]
        if bad or len(set(chosen)) != len(chosen):
            offered = ", ".join(ctype.formats)
            raise ApiError("invalid_request", f"{type_name} is offered as {offered}, not {bad or chosen}")
        claims = validate_claims(ctype, claims)
        now = int(self.now())
        offer_id, record_id, code = self.token(16), self.identifier(16), self.token(32)
        code_tx = self._tx_code() if tx_code else None
        config_ids = [ctype.configuration_id(f) for f in chosen]
        record = {
            "id": record_id,
            "credential_type": ctype.name,
            "status": "offered",
            "offer_id": offer_id,
            "issued_by": actor,
            "created_at": now,
            "issued_at": None,
            "updated_at": now,
            "claims_sealed": self.seal_json(claims) if self.settings.retain_claims else None,
        }
        offer_row = {
            "id": offer_id,
            "code_hash": sha256_hex(code),
            "code_sealed": self.sealer.seal(code.encode("ascii"), CODE_CONTEXT),
            "record_id": record_id,
            "credential_type": ctype.name,
            "configuration_ids": json.dumps(config_ids),
            "claims_sealed": self.seal_json(claims),
            "tx_code_hash": sha256_hex(f"{offer_id}:{code_tx}") if code_tx else None,
            "tx_attempts": 0,
            "status": "pending",
            "created_at": now,
            "expires_at": now + self.settings.offer_ttl_seconds,
            "redeemed_at": None,
        }
        with self.db.begin() as connection:  # Core: this runs for every offer
            locked = connection.dialect.name == "postgresql"
            if locked:  # one statement: both rows, and the audit log's lock (audit.append is then one more)
                rows = {f"r_{k}": v for k, v in record.items()} | {f"o_{k}": v for k, v in offer_row.items()}
                connection.execute(sql.PG_NEW_OFFER, rows)
            else:
                connection.execute(sql.NEW_RECORD, record)
                connection.execute(sql.NEW_OFFER, offer_row)
            audit.append(
                self.db,
                connection,
                at=now,
                actor=actor,
                action="offer.create",
                target=record_id,
                detail={"type": ctype.name, "configurations": config_ids},
                locked=locked,
            )
        offer = self.offer_json(config_ids, code, code_tx is not None)
        offer_uri = f"{self.settings.base_url}/offers/{offer_id}"
        link = f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}"
        admin = f"{self.settings.base_url}/admin/offers/{offer_id}"
        result = {
            "record_id": record_id,
            "offer_id": offer_id,
            "credential_offer": offer,
            "offer_uri": offer_uri,
            "offer_link": link,
            "offer_link_by_value": f"{OFFER_SCHEME}?credential_offer={quote(dumps_compact(offer), safe='')}",
            "tx_code": code_tx,
            "expires_at": now + self.settings.offer_ttl_seconds,
            "qr_png_url": f"{admin}/qr.png",
            "qr_svg_url": f"{admin}/qr.svg",
        }
        if inline_qr:  # ~20 ms of pure-Python drawing: only when asked, so bulk issuance stays fast
            result["qr_svg"] = qr.to_svg(link, title="Credential offer")
            result["qr_png_base64"] = b64url_encode(qr.to_png(link, scale=6))
        return result

    def _pending_offer(self, offer_id: str) -> OfferRow:
        with self.db.read() as session:
            row = session.get(OfferRow, offer_id)
        if row is None or row.status != "pending" or row.expires_at <= int(self.now()):
            raise not_found("offer (it may have expired or been used)")
        return row

    def offer_document(self, offer_id: str) -> dict[str, Any]:
        """The offer served at its ``credential_offer_uri`` (OpenID4VCI 1.0 §4.1.3) while it is pending."""
        row = self._pending_offer(offer_id)
        code = self.sealer.open(row.code_sealed, CODE_CONTEXT).decode("ascii")
        return self.offer_json(json.loads(row.configuration_ids), code, row.tx_code_hash is not None)

    def offer_link(self, offer_id: str) -> str:
        self._pending_offer(offer_id)
        return f"{OFFER_SCHEME}?credential_offer_uri={quote(f'{self.settings.base_url}/offers/{offer_id}', safe='')}"

    # --- records ----------------------------------------------------------------------------------

    def _record_json(self, row: RecordRow, credentials: list[CredentialRow], *, with_claims: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id,
            "type": row.credential_type,
            "status": row.status,
            "issued_by": row.issued_by,
            "created_at": row.created_at,
            "issued_at": row.issued_at,
            "updated_at": row.updated_at,
            "credentials": [
                {
                    "id": c.id,
                    "format": c.format,
                    "status_list": c.status_list_id,
                    "status_index": c.status_idx,
                    "holder_key_thumbprint": c.holder_thumbprint,
                    "issued_at": c.issued_at,
                    "valid_until": c.valid_until,
                }
                for c in credentials
            ],
        }
        if with_claims and row.claims_sealed is not None:
            out["claims"] = self.open_json(row.claims_sealed)
        return out

    def list_records(
        self,
        *,
        type_name: str | None = None,
        status: str | None = None,
        issued_by: str | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        query = select(RecordRow).order_by(RecordRow.created_at.desc(), RecordRow.id)
        if type_name:
            query = query.where(RecordRow.credential_type == type_name)
        if status:
            query = query.where(RecordRow.status == status)
        if issued_by:
            query = query.where(RecordRow.issued_by == issued_by)
        if created_after is not None:
            query = query.where(RecordRow.created_at >= created_after)
        if created_before is not None:
            query = query.where(RecordRow.created_at < created_before)
        with self.db.read() as session:
            rows = list(session.scalars(query.limit(limit).offset(offset)))
            creds: dict[str, list[CredentialRow]] = {r.id: [] for r in rows}
            if rows:
                for c in session.scalars(select(CredentialRow).where(CredentialRow.record_id.in_(list(creds)))):
                    creds[c.record_id].append(c)
        records = [self._record_json(r, creds[r.id], with_claims=False) for r in rows]
        return {"records": records, "limit": limit, "offset": offset}

    def get_record(self, record_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.get(RecordRow, record_id)
            if row is None:
                raise not_found("issuance record")
            creds = list(session.scalars(select(CredentialRow).where(CredentialRow.record_id == record_id)))
        return self._record_json(row, creds, with_claims=True)

    def change_status(self, actor: str, record_id: str, action: str) -> dict[str, Any]:
        """``revoke`` (permanent), ``suspend`` or ``reinstate`` every credential of a record."""
        target = {"revoke": "revoked", "suspend": "suspended", "reinstate": "issued"}[action]
        now = int(self.now())
        with self.db.tx() as session:
            row = session.scalars(select(RecordRow).where(RecordRow.id == record_id).with_for_update()).first()
            if row is None:
                raise not_found("issuance record")
            if row.status == "revoked":
                raise conflict("The record is revoked; revocation is permanent.")
            if action == "suspend" and row.status != "issued":
                raise conflict(f"Only issued credentials can be suspended; this record is {row.status}.")
            if action == "reinstate" and row.status != "suspended":
                raise conflict(f"Only suspended credentials can be reinstated; this record is {row.status}.")
            if row.status == "offered":  # nothing issued yet: the offer dies with the record
                session.execute(
                    update(OfferRow)
                    .where(OfferRow.record_id == record_id)
                    .values(status="invalidated", claims_sealed=None)
                )
            creds = list(session.scalars(select(CredentialRow).where(CredentialRow.record_id == record_id)))
            self._write_status(session, creds, action)
            previous = row.status
            row.status, row.updated_at = target, now
            self.record_audit(session, actor, f"record.{action}", record_id, previous=previous, credentials=len(creds))
        return {"id": record_id, "status": target, "previous": previous}

    def _write_status(self, session: Session, creds: list[CredentialRow], action: str) -> None:
        by_list: dict[tuple[str, str], dict[int, int]] = {}
        for c in creds:
            if c.status_list_id.startswith("t"):
                value = {"revoke": status_store.TOKEN_INVALID, "suspend": status_store.TOKEN_SUSPENDED}.get(action, 0)
                by_list.setdefault((c.status_list_id, "status"), {})[c.status_idx] = value
            else:
                purpose = "revocation" if action == "revoke" else "suspension"
                by_list.setdefault((c.status_list_id, purpose), {})[c.status_idx] = 0 if action == "reinstate" else 1
        for (list_id, purpose), values in sorted(by_list.items()):  # a fixed order: no lock-order deadlocks
            status_store.set_entries(session, list_id, purpose, values)

    # --- housekeeping -----------------------------------------------------------------------------

    def purge_expired(self) -> dict[str, int]:
        """Data minimization: wipe the claims of offers that expired unissued, and drop spent or expired
        nonces and access tokens. Idempotent; any replica may run it (``create_offer`` does, at most once
        a minute per process)."""
        now = int(self.now())
        with self.db.tx() as session:
            offers = session.execute(
                update(OfferRow)
                .where(OfferRow.expires_at <= now, OfferRow.claims_sealed.is_not(None))
                .values(claims_sealed=None, status="expired")
            )
            nonces = session.execute(delete(NonceRow).where(NonceRow.expires_at <= now))
            tokens = session.execute(delete(AccessTokenRow).where(AccessTokenRow.expires_at <= now))
        self._last_purge = now
        return {
            "offers": getattr(offers, "rowcount", 0),
            "nonces": getattr(nonces, "rowcount", 0),
            "access_tokens": getattr(tokens, "rowcount", 0),
        }

    # --- keys and audit ---------------------------------------------------------------------------

    def rotate_keys(self, actor: str) -> dict[str, Any]:
        with self.db.tx() as session:
            old, new = self.identity.rotate(session)
            self.record_audit(session, actor, "keys.rotate", new, retired=old)
        return {"active": new, "retired": old}

    def audit_entries(self, *, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        return audit.entries(self.db, limit=limit, before=before)

    def audit_verify(self) -> audit.ChainReport:
        return audit.verify(self.db)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
