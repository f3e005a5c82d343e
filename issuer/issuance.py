"""OpenID4VCI 1.0 (pre-authorized code flow): metadata, token, nonce and credential endpoints.

Sections cited are OpenID4VCI 1.0 (final). Choices:

- Token (§6): the pre-authorized code is redeemed by one conditional UPDATE (``status = 'pending'``),
  so of any number of parallel redemptions exactly one gets an access token; a wrong ``tx_code`` counts
  an attempt and the offer is invalidated after ``tx_code_max_attempts`` (§6.1, and Security
  Considerations on ``tx_code`` brute force). Every failure is ``invalid_grant`` (§6.3).
- Nonce (§7): a ``c_nonce`` is its expiry and 16 random bytes, authenticated with a MAC under a key
  derived from the key-encryption key (shared by replicas) — nothing is stored when it is handed out,
  so the unauthenticated nonce endpoint costs no write and cannot fill the database. It is recorded
  (hashed, with its expiry) when a credential request uses it, by an INSERT that the primary key
  lets succeed once: 50 parallel credential requests with one nonce yield one credential. Used nonces
  are purged once expired, when the MAC check alone refuses them.
- Credential (§8): one request per credential configuration of the offer (the offer row is locked while
  issuing, so two requests cannot both issue it); ``proofs.jwt`` (§8.2, Appendix F.1) with ``typ``
  ``openid4vci-proof+jwt``, ``alg`` EdDSA or ES256, the holder key as ``jwk`` in the header, ``aud`` =
  the credential issuer, ``iat`` within ``proof_max_age_seconds`` (and not in the future beyond the
  clock skew), ``nonce`` a live ``c_nonce``. Batch issuance (§8.2): up to ``batch_size`` proofs, each
  a *different* key — one holder key per credential, so verifiers cannot link presentations by key.
- Claims leave the database once every configuration of the offer has been issued (unless retention
  is on, in which case the record keeps its own sealed copy).
"""

from __future__ import annotations

import functools
import hmac
import json
from datetime import UTC, datetime
from typing import Any, Final

from issuer.catalogue import claims_metadata, display_metadata
from issuer.credentials import StatusRef, build, valid_until
from issuer.http import ApiError
from issuer.service import PRE_AUTH_GRANT, IssuerService, constant_time_equal, sha256_hex
from issuer.store import statements as sql
from issuer.store import status as status_store
from shared import jose
from shared.crypto import PublicKey
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import TesseraError
from shared.keys import jwk_thumbprint, key_from_jwk

PROOF_TYP: Final = "openid4vci-proof+jwt"
NONCE_CONTEXT: Final = "issuer-c-nonce"
NONCE_TAG: Final = 16  # bytes of the MAC kept in a c_nonce: 128 bits
NO_STORE: Final = {"Cache-Control": "no-store"}


def _grant_error(description: str) -> ApiError:
    return ApiError("invalid_grant", description, headers=NO_STORE)


def _proof_error(description: str) -> ApiError:
    return ApiError("invalid_proof", description)


class Issuance:
    def __init__(self, service: IssuerService) -> None:
        self.s = service

    @property
    def base(self) -> str:
        return self.s.settings.base_url

    # --- metadata (§12.2, RFC 8414) ------------------------------------------------------------------

    @functools.cached_property
    def _issuer_metadata(self) -> dict[str, Any]:
        configs: dict[str, Any] = {}
        proof_types = {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}}
        for ctype in self.s.catalogue.types.values():
            meta = {"display": display_metadata(ctype), "claims": claims_metadata(ctype)}
            for fmt in ctype.formats:
                entry: dict[str, Any] = {"format": fmt, "scope": ctype.name}
                if fmt == "dc+sd-jwt":
                    entry |= {"vct": ctype.vct, "cryptographic_binding_methods_supported": ["jwk"]}
                    entry["credential_signing_alg_values_supported"] = ["EdDSA"]
                else:
                    contexts = ["https://www.w3.org/ns/credentials/v2", *([ctype.context] if ctype.context else [])]
                    entry["credential_definition"] = {
                        "@context": contexts,
                        "type": ["VerifiableCredential", ctype.name],
                    }
                    entry["cryptographic_binding_methods_supported"] = ["jwk" if fmt == "vc+sd-jwt" else "did:jwk"]
                    entry["credential_signing_alg_values_supported"] = (
                        [ctype.cryptosuite] if fmt == "ldp_vc" else ["EdDSA"]
                    )
                entry["proof_types_supported"] = proof_types
                entry["credential_metadata"] = meta
                configs[ctype.configuration_id(fmt)] = entry
        return {
            "credential_issuer": self.base,
            "credential_endpoint": f"{self.base}/credential",
            "nonce_endpoint": f"{self.base}/nonce",
            "batch_credential_issuance": {"batch_size": self.s.settings.batch_size},
            "display": [{"name": self.s.settings.issuer_name, "locale": "en"}],
            "credential_configurations_supported": configs,
        }

    def issuer_metadata(self) -> dict[str, Any]:
        """Built once: it depends on the settings and the catalogue only, both fixed for a process."""
        return self._issuer_metadata

    @functools.cached_property
    def _as_metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.base,
            "token_endpoint": f"{self.base}/token",
            "grant_types_supported": [PRE_AUTH_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "response_types_supported": [],
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        return self._as_metadata

    # --- token (§6) -----------------------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != PRE_AUTH_GRANT:
            raise ApiError(
                "unsupported_grant_type", "Only the pre-authorized code grant is supported.", headers=NO_STORE
            )
        code = form.get("pre-authorized_code")
        if not code or len(code) > 200:
            raise ApiError("invalid_request", "pre-authorized_code is required.", headers=NO_STORE)
        now = int(self.s.now())
        tx_code = form.get("tx_code")
        refusal: ApiError | None = None
        # PostgreSQL: autocommit, two round trips — the read, then one statement that redeems the code
        # and stores the token (or counts the attempt); SQLite: one write transaction, as ever
        with self.s.db.write() as connection:
            offer = connection.execute(sql.OFFER_BY_CODE, {"code_hash": sha256_hex(code)}).first()
            if offer is None or offer.status != "pending" or offer.expires_at <= now:
                raise _grant_error("The pre-authorized code is not valid, has expired or was already used.")
            right = offer.tx_code_hash is None or (
                tx_code is not None and constant_time_equal(sha256_hex(f"{offer.id}:{tx_code}"), offer.tx_code_hash)
            )
            if not right:
                dead = offer.tx_attempts + 1 >= self.s.settings.tx_code_max_attempts
                then = "invalidated" if dead else "pending"
                connection.execute(sql.COUNT_ATTEMPT, {"offer_id": offer.id, "then": then})
                # the attempt must count even though the request fails: refused after the commit
                refusal = _grant_error(
                    "The transaction code is not correct." + (" The offer is now invalid." if dead else "")
                )
            else:
                access_token = self.s.token(32)
                ttl = self.s.settings.access_token_ttl_seconds
                row = {"token_hash": sha256_hex(access_token), "offer_id": offer.id, "expires_at": now + ttl}
                if not sql.redeem(connection, at=now, **row):
                    raise _grant_error("The pre-authorized code was already used.")
        if refusal is not None:
            raise refusal
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl}

    # --- nonce (§7) -----------------------------------------------------------------------------------

    def nonce(self) -> dict[str, Any]:
        """A fresh ``c_nonce`` (no I/O: see the module notes)."""
        expires = int(self.s.now()) + self.s.settings.nonce_ttl_seconds
        body = expires.to_bytes(8, "big") + self.s.random_bytes(16)
        return {"c_nonce": b64url_encode(body + self.s.sealer.mac(body, NONCE_CONTEXT)[:NONCE_TAG])}

    def _nonce_expiry(self, nonce: str) -> int | None:
        """When a ``c_nonce`` of ours expires; None if it is not one (forged, altered, malformed)."""
        try:
            raw = b64url_decode(nonce) if len(nonce) <= 64 else b""
        except (TesseraError, ValueError):
            return None
        if len(raw) != 24 + NONCE_TAG:
            return None
        body, tag = raw[:24], raw[24:]
        if not hmac.compare_digest(tag, self.s.sealer.mac(body, NONCE_CONTEXT)[:NONCE_TAG]):
            return None
        return int.from_bytes(body[:8], "big")

    # --- credential (§8) ------------------------------------------------------------------------------

    def _holder_keys(self, proofs: Any) -> tuple[list[tuple[PublicKey, str]], str]:
        """The holder keys of the proofs (checked but for the nonce) with their JWK thumbprints, and the
        one nonce they all carry."""
        if not isinstance(proofs, dict) or set(proofs) != {"jwt"} or not isinstance(proofs["jwt"], list):
            raise ApiError("invalid_credential_request", 'proofs must be {"jwt": [ … ]}')
        jwts = proofs["jwt"]
        if not 1 <= len(jwts) <= self.s.settings.batch_size:
            raise ApiError("invalid_credential_request", f"send 1 to {self.s.settings.batch_size} proofs")
        now = self.s.now()
        keys, nonces, prints = [], set(), set()
        for text in jwts:
            if not isinstance(text, str):
                raise _proof_error("each proof is a compact JWT")
            try:
                decoded = jose.decode_unverified(text, max_bytes=8192)
                if "jwk" not in decoded.header or any(h in decoded.header for h in ("kid", "x5c", "trust_chain")):
                    raise _proof_error("the proof names its key with exactly one jwk header")
                key = key_from_jwk(decoded.header["jwk"])
                jose.verify_decoded(decoded, key=key, typ=PROOF_TYP)
            except TesseraError as exc:
                raise _proof_error(f"the proof is not valid: {exc.message}") from exc
            claims = decoded.payload
            if claims.get("aud") != self.base:
                raise _proof_error("the proof's aud is not this credential issuer")
            iat = claims.get("iat")
            skew, max_age = self.s.settings.clock_skew_seconds, self.s.settings.proof_max_age_seconds
            if not isinstance(iat, int) or isinstance(iat, bool) or not now - max_age <= iat <= now + skew:
                raise _proof_error("the proof's iat is missing, too old or in the future")
            nonce = claims.get("nonce")
            if not isinstance(nonce, str):
                raise ApiError("invalid_nonce", "the proof carries no c_nonce; get one from the nonce endpoint")
            nonces.add(nonce)
            thumb = jwk_thumbprint(key)
            if thumb in prints:
                raise _proof_error("each credential of a batch needs its own holder key")
            prints.add(thumb)
            keys.append((key, thumb))
        if len(nonces) != 1:
            raise ApiError("invalid_nonce", "all proofs of one request carry the same c_nonce")
        return keys, nonces.pop()

    def _status_kind(self, config_id: str) -> str:
        """The kind of status list a configuration's credentials go in; "" for an unknown configuration."""
        try:
            _, fmt = self.s.catalogue.configuration(config_id)
        except TesseraError:
            return ""
        return status_store.TOKEN if fmt == "dc+sd-jwt" else status_store.BITSTRING

    def credential(self, authorization: str | None, body: Any) -> dict[str, Any]:
        token = authorization[7:].strip() if authorization and authorization[:7].lower() == "bearer " else None
        if not token:
            raise ApiError(
                "invalid_token", "An access token is required.", status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        if not isinstance(body, dict):
            raise ApiError("invalid_credential_request", "the request is a JSON object")
        config_id = body.get("credential_configuration_id")
        if not isinstance(config_id, str):
            raise ApiError("invalid_credential_request", "credential_configuration_id is required")
        keys, nonce = self._holder_keys(body.get("proofs"))
        moment = int(self.s.now())
        now = datetime.fromtimestamp(moment, UTC)
        nonce_expires = self._nonce_expiry(nonce)
        invalid_token = ApiError(
            "invalid_token",
            "The access token is not valid or has expired.",
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        invalid_nonce = ApiError("invalid_nonce", "The c_nonce is not valid, has expired or was already used.")
        nonce_row = {"nonce_hash": sha256_hex(nonce), "expires_at": nonce_expires, "used_at": moment}
        size = self.s.settings.status_list_size
        first_id = self.s.token(16)  # the first credential's id: its status index may be drawn early
        first_index: tuple[str, int] | None = None
        offer: Any  # rows: the offer (with the token's expiry on PostgreSQL), the record
        record: Any
        done: set[str]
        with self.s.db.begin() as connection:
            if connection.dialect.name == "postgresql":
                # three statements in all: the token with its offer locked; then (seeing whatever the
                # holder of that lock committed) the nonce used, the record and the formats issued read,
                # the first status index drawn; at last everything written
                offer = connection.execute(sql.PG_TOKEN_OFFER_LOCKED, {"hash": sha256_hex(token)}).first()
                if offer is None or offer.token_expires <= moment:
                    raise invalid_token
                if nonce_expires is None or nonce_expires <= moment:
                    raise invalid_nonce
                allowed = json.loads(offer.configuration_ids)
                kind = self._status_kind(config_id) if config_id in allowed else ""
                start = connection.execute(
                    sql.PG_ISSUE_START,
                    {f"n_{k}": v for k, v in nonce_row.items()}
                    | {
                        "record_id": offer.record_id,
                        "kind": kind,
                        "purpose": status_store.PURPOSES[kind][0] if kind else "",
                        "size": size,
                        "idx": status_store.random_index(size, self.s.random_bytes),
                        "credential_id": first_id,
                    },
                ).one()
                if not start.won:
                    raise invalid_nonce
                record = start if start.id is not None else None
                done = set(start.formats or ())
                if start.list_id is not None:
                    first_index = (start.list_id, start.idx)
            else:
                tok = connection.execute(sql.TOKEN, {"hash": sha256_hex(token)}).first()
                if tok is None or tok.expires_at <= moment:
                    raise invalid_token
                use = sql.USE_NONCE[connection.dialect.name]
                if (
                    nonce_expires is None
                    or nonce_expires <= moment
                    or connection.execute(use, nonce_row).first() is None
                ):
                    raise invalid_nonce
                offer = connection.execute(sql.OFFER_LOCKED, {"offer_id": tok.offer_id}).one()
                allowed = json.loads(offer.configuration_ids)
                record = connection.execute(sql.RECORD, {"record_id": offer.record_id}).first()
                done = set()
                if record is not None:
                    done = set(connection.execute(sql.FORMATS_ISSUED, {"record_id": record.id}).scalars())
            if config_id not in allowed:
                raise ApiError("unknown_credential_configuration", "The offer does not include this credential.")
            ctype, fmt = self.s.catalogue.configuration(config_id)
            if record is None or record.status == "revoked" or offer.claims_sealed is None:
                raise ApiError("invalid_credential_request", "This offer can no longer be used.")
            if fmt in done:
                raise ApiError("invalid_credential_request", "This credential was already issued for this offer.")
            claims = self.s.open_json(offer.claims_sealed)
            active = self.s.identity.active(connection)  # read here: a rotation by any replica counts at once
            kind = status_store.TOKEN if fmt == "dc+sd-jwt" else status_store.BITSTRING
            until = valid_until(ctype, now)
            issued: list[Any] = []
            rows: list[dict[str, Any]] = []
            for holder, thumbprint in keys:
                cred_id = first_id if not rows else self.s.token(16)
                if first_index is not None and not rows:
                    list_id, idx = first_index
                else:
                    list_id, idx = status_store.allocate(
                        connection,
                        kind=kind,
                        credential_id=cred_id,
                        size=size,
                        now=moment,
                        random_bytes=self.s.random_bytes,
                    )
                issued.append(
                    build(
                        fmt,
                        ctype,
                        claims,
                        key=active,
                        holder=holder,
                        status=StatusRef(list_id, idx),
                        base_url=self.base,
                        now=now,
                        random_bytes=self.s.random_bytes,
                    )
                )
                rows.append(
                    {
                        "id": cred_id,
                        "record_id": record.id,
                        "format": fmt,
                        "status_list_id": list_id,
                        "status_idx": idx,
                        "holder_thumbprint": thumbprint,
                        "issued_at": moment,
                        "valid_until": int(until.timestamp()) if until else None,
                    }
                )
            first = record.status == "offered"
            then, issued_at = ("issued", moment) if first else (record.status, record.issued_at)
            finished = done | {fmt} >= {self.s.catalogue.configuration(c)[1] for c in allowed}
            if connection.dialect.name == "postgresql":
                values: dict[str, Any] = {f"c_{name}": [r[name] for r in rows] for name in rows[0]}
                values |= {"issued_record": record.id, "issued_offer": offer.id, "finished": finished}
                connection.execute(sql.PG_ISSUED, values | {"then": then, "issued": issued_at, "at": moment})
            else:
                connection.execute(sql.NEW_CREDENTIAL, rows)
                values = {"record_id": record.id, "then": then, "issued": issued_at, "at": moment}
                connection.execute(sql.RECORD_ISSUED, values)
                if finished:
                    connection.execute(sql.OFFER_ISSUED, {"offer_id": offer.id})
        return {"credentials": [{"credential": c} for c in issued]}
