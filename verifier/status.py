"""Status checks for the verification pipeline (:mod:`verifier.pipeline`).

Status (design.md §5): lists are fetched through the injected :class:`~verifier.http.SafeFetch`, their
signatures verified, and cached in memory for ``status_cache_seconds`` (a cache only: any replica can
refetch). The status check's sentence says how old the list was. If a list cannot be fetched, a
cached copy no older than the policy's ``max_status_staleness_seconds`` is used; otherwise the check
fails with ``status_unavailable``.

Token Status Lists (``statuslist+jwt``) are verified with
:func:`shared.status_list.verify_status_list_token` (``typ``, signature, then the claims); the key is
the one the token's ``kid`` names (a DID URL) or, for an SD-JWT VC issuer named by its https URL, the
one its JWT VC Issuer Metadata gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import sd_jwt, status_list
from shared.did import DidResolver
from shared.encoding import loads_strict
from shared.errors import TesseraError, VerificationError
from verifier.http import SafeFetch
from verifier.settings import VerifierSettings


@dataclass(frozen=True)
class _Cached:
    fetched_at: float
    value: Any


class StatusCache:
    """URL → verified status list, with the time it was fetched. Thread-safe; per app, not global."""

    def __init__(self, *, ttl: float, now: Callable[[], float]) -> None:
        self.ttl = ttl
        self.now = now
        self._items: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def get(self, url: str, load: Callable[[], Any], *, max_stale: float) -> tuple[Any, float]:
        """The list and its age in seconds. Refetches after ``ttl``; on failure falls back to a copy
        no older than ``max_stale``, else raises ``status_unavailable``."""
        now = self.now()
        with self._lock:
            cached = self._items.get(url)
        if cached is not None and now - cached.fetched_at < self.ttl:
            return cached.value, now - cached.fetched_at
        try:
            value = load()
        except TesseraError as exc:
            if exc.code in ("revoked", "suspended", "status_list_mismatch", "invalid_signature"):
                raise
            if cached is not None and now - cached.fetched_at <= max_stale:
                return cached.value, now - cached.fetched_at
            raise VerificationError(
                f"The status list at {url[:200]} could not be fetched or read: {exc.message}", code="status_unavailable"
            ) from exc
        with self._lock:
            self._items[url] = _Cached(now, value)
        return value, 0.0


def _age(seconds: float) -> str:
    return "just fetched" if seconds < 1 else f"fetched {int(seconds)} s ago"


class StatusChecker:
    def __init__(
        self,
        *,
        fetch: SafeFetch,
        resolver: DidResolver,
        cache: StatusCache,
        settings: VerifierSettings,
        issuer_key: sd_jwt.ResolveIssuerKey | None = None,
    ):
        self.fetch = fetch
        self.resolver = resolver
        self.cache = cache
        self.settings = settings
        self.issuer_key = issuer_key  # for lists of SD-JWT VC issuers named by https URL (JWT VC Issuer Metadata)

    def _get(self, url: str, accept: str) -> bytes:
        return self.fetch(
            url, timeout=self.settings.fetch_timeout_seconds, max_bytes=self.settings.fetch_max_bytes, accept=accept
        )

    def token_status(self, status_claim: Any, issuer: str, *, now: int, max_stale: float) -> str:
        """IETF Token Status List: the referenced token's ``status`` claim, checked against its list."""
        ref = status_list.parse_status_claim(status_claim)

        def load() -> tuple[str, status_list.StatusListToken]:
            token = self._get(ref.uri, "application/statuslist+jwt").decode("ascii", "replace").strip()
            signer, key = status_list.status_list_token_signer(
                token, resolve_method=self.resolver.resolve_method, issuer_key=self.issuer_key
            )
            return signer, status_list.verify_status_list_token(token, key=key, uri=ref.uri, now=now)

        # the signer is checked on every use, not only on fetch: the cache is keyed by URL alone
        (signer, token), age = self.cache.get(ref.uri, load, max_stale=max_stale)
        if signer != issuer:
            raise VerificationError("the status list is not signed by the issuer", code="status_list_mismatch")
        status_list.raise_for_token_status(token.status_of(ref))
        return f"The credential has not been revoked or suspended (status list {_age(age)})."

    def bitstring_status(self, credential: Mapping[str, Any], *, now: datetime, max_stale: float) -> str:
        """W3C Bitstring Status List entries of a Data Integrity credential."""
        from shared import data_integrity  # noqa: PLC0415 - pulls in JSON-LD; only ldp_vc needs it

        entries = status_list.bitstring_entries(credential)
        if not entries:
            return "The credential has no status entry."
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        oldest = 0.0
        for entry in entries:

            def load(url: str = entry.status_list_credential) -> tuple[str | None, dict[str, Any]]:
                doc = loads_strict(self._get(url, "application/vc+ld+json, application/json"))
                verified = data_integrity.verify(doc, resolve_method=self.resolver, now=now)
                return verified.controller, dict(doc)

            (signer, doc), age = self.cache.get(entry.status_list_credential, load, max_stale=max_stale)
            if signer != issuer:  # checked on every use: the cache is keyed by URL alone
                raise VerificationError("the status list is not signed by the issuer", code="status_list_mismatch")
            status_list.raise_for_bitstring_status(status_list.bitstring_status(entry, doc))
            oldest = max(oldest, age)
        return f"The credential has not been revoked or suspended (status list {_age(oldest)})."
