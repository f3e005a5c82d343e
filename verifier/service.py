"""The verifier's use-cases: API keys, sessions, request objects, wallet responses, results.

Routers translate HTTP to these calls and back; everything here is independent of FastAPI. Time and
randomness are injected (``now``, ``random_bytes``) so tests can move the clock and fix values.

Data minimization (design.md §1.2): a response is verified in memory; what is stored is the verdict
(checks and codes, issuer, types, and the *paths* of extra disclosed claims) and the values of the
claims the policy asked for, until the policy's retention ends. The presentation itself and the
values of claims nobody asked for are never written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import apikeys, oid4vp
from shared.crypto import RandomBytes
from shared.encoding import b64url_encode
from shared.errors import TesseraError
from shared.verification import Verdict
from verifier.auth import ApiKeyCheck
from verifier.identity import Identity
from verifier.policy import Policy, VerifierConfig
from verifier.settings import VerifierSettings
from verifier.store import Store
from verifier.store.db import SessionRecord, require_open
from verifier.store.models import SessionRow

API_KEY_PREFIX = "tsv"
CLIENT_ID_PREFIXES = (oid4vp.DID_PREFIX, oid4vp.REDIRECT_URI_PREFIX)
# how long an unanswered session's row is kept after it expired (so "expired" can be reported)
EXPIRED_GRACE_SECONDS = 3600
PURGE_EVERY_SECONDS = 60

# (policy, the wallet's vp_token, the session) -> verdict, requested claims, extra claim paths
VerifyResponse = Callable[[Policy, Mapping[str, tuple[oid4vp.Presentation, ...]], SessionRecord], "Outcome"]


def create_api_key(store: Store, random_bytes: RandomBytes, now: int) -> str:
    """A new API key; only its hash is stored, the key is returned to be shown once."""
    key = apikeys.generate(API_KEY_PREFIX, random_bytes)
    store.add_api_key(key.key_id, key.key_hash, now)
    return key.key


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    requested: dict[str, Any]  # query id -> the requested claims' values (what is stored)
    extra_paths: tuple[str, ...] = ()  # disclosed but not asked for: reported by path, values dropped


@dataclass(frozen=True)
class CreatedSession:
    session_id: str
    link: str
    request_uri: str | None
    status_url: str
    view_url: str
    qr_png_url: str
    qr_svg_url: str
    expires_at: int
    client_id: str

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class VerifierService:
    def __init__(
        self,
        *,
        settings: VerifierSettings,
        store: Store,
        config: VerifierConfig,
        identity: Identity,
        verify_response: VerifyResponse,
        sign_request: Callable[[dict[str, Any], dict[str, Any]], str],
        now: Callable[[], float] = time.time,
        random_bytes: RandomBytes,
    ) -> None:
        self.settings = settings
        self.store = store
        self.config = config
        self.identity = identity
        self.verify_response = verify_response
        self.sign_request = sign_request
        self.now = now
        self.random_bytes = random_bytes
        self.api_keys = ApiKeyCheck(store.api_key_hash, prefix=API_KEY_PREFIX, now=now)
        self._last_purge = 0

    def _token(self, n: int = 32) -> str:
        return b64url_encode(self.random_bytes(n))

    def _identifier(self) -> str:
        """A session id, typed as an argument of ``tessera verifier session show``: never starting with '-',
        which argparse would take for an option."""
        text = self._token()
        return "_" + text[1:] if text.startswith("-") else text

    def _clock(self) -> int:
        return int(self.now())

    # --- API keys ----------------------------------------------------------------------------

    def create_api_key(self) -> str:
        return create_api_key(self.store, self.random_bytes, self._clock())

    def authenticate(self, authorization: str | None) -> None:
        """Raise ``unauthorized`` unless ``Authorization`` carries a valid API key (see :mod:`verifier.auth`)."""
        self.api_keys.check(authorization)

    # --- sessions ----------------------------------------------------------------------------

    def _urls(self, session_id: str, request_id: str) -> dict[str, str]:
        base = self.settings.base_url
        return {
            "status_url": f"{base}/sessions/{session_id}",
            "view_url": f"{base}/sessions/{session_id}/view",
            "qr_png_url": f"{base}/sessions/{session_id}/qr.png",
            "qr_svg_url": f"{base}/sessions/{session_id}/qr.svg",
            "request_uri": f"{base}/requests/{request_id}",
            "response_uri": f"{base}/responses/{request_id}",
        }

    def create_session(self, policy_name: str, client_id_prefix: str = oid4vp.DID_PREFIX) -> CreatedSession:
        policy = self.config.policy(policy_name)
        if client_id_prefix not in CLIENT_ID_PREFIXES:
            raise TesseraError(f"client_id_prefix must be one of {CLIENT_ID_PREFIXES}", code="malformed")
        now = self._clock()
        self._purge(now)
        session_id, request_id = self._identifier(), self._token(16)
        urls = self._urls(session_id, request_id)
        if client_id_prefix == oid4vp.DID_PREFIX:
            client_id = self.identity.client_id
        else:
            client_id = oid4vp.redirect_uri_client_id(urls["response_uri"])
        expires_at = now + self.settings.session_ttl_seconds
        row = SessionRow(
            id=session_id,
            policy=policy.name,
            request_id=request_id,
            client_id=client_id,
            nonce=self._token(),
            state=self._token(16),
            status="pending",
            created_at=now,
            expires_at=expires_at,
            purge_at=expires_at + EXPIRED_GRACE_SECONDS,
        )
        self.store.add_session(row)
        record = SessionRecord.of_mapping(row)
        if client_id_prefix == oid4vp.DID_PREFIX:
            link = oid4vp.build_link(client_id, urls["request_uri"])
            request_uri: str | None = urls["request_uri"]
        else:
            link = oid4vp.build_link_by_value(self._request(record, policy, signed=False))
            request_uri = None
        return CreatedSession(
            session_id=session_id,
            link=link,
            request_uri=request_uri,
            status_url=urls["status_url"],
            view_url=urls["view_url"],
            qr_png_url=urls["qr_png_url"],
            qr_svg_url=urls["qr_svg_url"],
            expires_at=expires_at,
            client_id=client_id,
        )

    def _request(self, record: SessionRecord, policy: Policy, *, signed: bool) -> oid4vp.AuthorizationRequest:
        now = self._clock()
        return oid4vp.AuthorizationRequest(
            client_id=record.client_id,
            response_uri=self._urls(record.id, record.request_id)["response_uri"],
            nonce=record.nonce,
            state=record.state,
            dcql_query=policy.query.to_json(),
            client_metadata={
                **self.config.client_metadata_names(),
                "vp_formats_supported": oid4vp.vp_formats_supported(policy.formats),
            },
            aud=oid4vp.SELF_ISSUED_AUD if signed else None,
            iat=now if signed else None,
            exp=record.expires_at if signed else None,
        )

    def session(self, session_id: str) -> SessionRecord:
        record = self.store.get_session(session_id)
        if record is None:
            raise TesseraError("there is no such session", code="unknown_session")
        return record

    def link(self, session_id: str) -> str:
        record = self.session(session_id)
        if record.client_id.startswith(oid4vp.DID_PREFIX + ":"):
            return oid4vp.build_link(record.client_id, self._urls(record.id, record.request_id)["request_uri"])
        return oid4vp.build_link_by_value(self._request(record, self.config.policy(record.policy), signed=False))

    def status(self, session_id: str) -> dict[str, Any]:
        record = self.session(session_id)
        status = record.status
        if status in ("pending", "fetched") and record.expires_at <= self._clock():
            status = "expired"
        out: dict[str, Any] = {
            "session_id": record.id,
            "policy": record.policy,
            "status": status,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        if record.completed_at is not None:
            out["completed_at"] = record.completed_at
        if record.verdict is not None:
            out["verdict"] = record.verdict
        if record.claims is not None:
            out["claims"] = record.claims
        return out

    # --- the wallet's side -------------------------------------------------------------------

    def request_object(self, request_id: str) -> str:
        """The signed request object (``oauth-authz-req+jwt``) for a session's request_uri."""
        now = self._clock()
        record = self.store.fetch_signed_request(request_id, now)  # and marks it fetched
        if record is None:  # say why: unknown, answered or expired; else open but not signed by reference
            require_open(self.store.session_by_request(request_id), now)
            raise TesseraError("this session's request is passed by value", code="malformed")
        policy = self.config.policy(record.policy)
        # No ``iss`` (to_claims adds none by default): RFC 9101 §4 only says SHOULD, and the prefixed client_id
        # there breaks wallets that require the kid's DID to start with ``iss`` (@openid4vc/openid4vp 0.4.6,
        # measured in tests/interop/test_verifier_interop.py); the signer is named by ``kid`` and ``client_id``.
        claims = self._request(record, policy, signed=True).to_claims()
        claims["purpose"] = dict(policy.purpose)  # an extension: see verifier.policy
        header = {"alg": "EdDSA", "typ": oid4vp.REQUEST_OBJECT_TYP, "kid": self.identity.kid}
        return self.sign_request(header, claims)

    def respond(self, request_id: str, body: bytes) -> dict[str, Any]:
        """Take the wallet's direct_post (§8.2). Returns the JSON to answer the wallet with.

        The response is verified first and stored with one conditional UPDATE that only an open,
        unexpired session passes (:meth:`Store.finish`): two posts racing for one session may both be
        verified, but only one outcome is stored and the other gets ``replayed``. A malformed body or
        a wrong ``state`` does not use the session up."""
        now = self._clock()
        record = require_open(self.store.session_by_request(request_id), now)
        response = oid4vp.parse_response(oid4vp.parse_form(body, max_bytes=self.settings.max_body_bytes))
        if response.state != record.state:
            raise TesseraError(code="state_mismatch")
        policy = self.config.policy(record.policy)
        purge_at = now + policy.retention_seconds
        if isinstance(response, oid4vp.ErrorResponse):
            verdict = {"verified": False, "code": "declined", "wallet_error": response.error, "checks": []}
            self._finish(record.id, status="declined", now=now, purge_at=purge_at, verdict=verdict, claims=None)
            return {}
        try:
            outcome = self.verify_response(policy, response.vp_token, record)
        except Exception:
            # an answer that could not be checked still uses the session up, as any answer does
            self.store.finish(record.id, status="rejected", now=now, purge_at=purge_at, verdict=None, claims=None)
            raise
        stored = {k: v for k, v in outcome.verdict.to_dict().items() if k not in ("disclosed", "extra_disclosed")}
        if outcome.extra_paths:
            stored["extra_disclosed_paths"] = list(outcome.extra_paths)
        status = "verified" if outcome.verdict.verified else "rejected"
        claims = outcome.requested if outcome.verdict.verified else None
        self._finish(record.id, status=status, now=now, purge_at=purge_at, verdict=stored, claims=claims)
        return {}

    def _finish(self, session_id: str, **outcome: Any) -> None:
        if not self.store.finish(session_id, **outcome):  # another post won, or the session expired meanwhile
            require_open(self.store.get_session(session_id), outcome["now"])
            raise TesseraError(code="replayed")

    def _purge(self, now: int) -> None:
        if now - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = now
            self.store.purge(now)
