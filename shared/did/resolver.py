"""One DID resolver for Tessera: did:key and did:jwk offline, did:web through an injected fetch.

``DidResolver`` is frozen configuration plus a bounded TTL cache of resolved documents (keys in a
cached document are built once and reused, which matters as much as the verification itself).
The clock is injected (``now``, seconds, monotonic by default) so expiry is testable.

``resolve_method`` dereferences a DID URL to a verification method (DID Core §7.2): the DID URL's
fragment names the method; a bare did:key or did:jwk, which has exactly one signing key, resolves
to it. A ``DidResolver`` is itself a :data:`~shared.did.document.ResolveMethod`.

Errors (stable codes): ``invalid_did`` (syntax), ``unsupported_did_method``, ``did_resolution_failed``
(fetch failed, wrong id, bad document), ``unknown_key`` (no such method), ``unsupported_key_type``
(the method exists but its key cannot verify signatures in Tessera), ``invalid_key``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from shared.did.document import DidDocument, VerificationMethod, parse_did, parse_did_url
from shared.did.jwk import resolve_did_jwk
from shared.did.key import resolve_did_key
from shared.did.web import DEFAULT_TIMEOUT, MAX_DOCUMENT_BYTES, Fetch, resolve_did_web
from shared.errors import KeyResolutionError, UnsupportedError

OFFLINE_METHODS: Final = frozenset({"key", "jwk"})


class TtlCache:
    """A small thread-safe LRU cache whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, *, ttl: float, max_entries: int, now: Callable[[], float]) -> None:
        if ttl < 0 or max_entries < 0:
            raise ValueError("ttl and max_entries must not be negative")
        self._ttl, self._max, self._now = ttl, max_entries, now
        self._items: OrderedDict[str, tuple[float, DidDocument]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> DidDocument | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if self._now() >= item[0]:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value: DidDocument) -> None:
        if self._max == 0 or self._ttl == 0:
            return
        with self._lock:
            self._items[key] = (self._now() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class DidResolver:
    """Resolve DIDs and DID URLs. ``fetch`` is required for did:web only; without it did:web is unsupported.

    ``allow_private`` lifts the did:web SSRF guards (for tests and local demos only).
    """

    fetch: Fetch | None = None
    now: Callable[[], float] = time.monotonic
    methods: frozenset[str] = frozenset({"key", "jwk", "web"})
    allow_private: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = MAX_DOCUMENT_BYTES
    cache_ttl: float = 300.0
    cache_size: int = 256
    cache: TtlCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", TtlCache(ttl=self.cache_ttl, max_entries=self.cache_size, now=self.now))

    def resolve(self, did: str) -> DidDocument:
        """The DID document of a DID (no fragment)."""
        method = parse_did(did).method
        if method not in self.methods:
            raise UnsupportedError(f"did:{method} is not supported", code="unsupported_did_method")
        cached = self.cache.get(did)
        if cached is not None:
            return cached
        if method == "key":
            doc = resolve_did_key(did)
        elif method == "jwk":
            doc = resolve_did_jwk(did)
        elif method == "web" and self.fetch is not None:
            doc = resolve_did_web(
                did, fetch=self.fetch, timeout=self.timeout, max_bytes=self.max_bytes, allow_private=self.allow_private
            )
        else:
            raise UnsupportedError(f"did:{method} cannot be resolved offline", code="unsupported_did_method")
        self.cache.put(did, doc)
        return doc

    def resolve_method(self, did_url: str) -> VerificationMethod:
        """The verification method a DID URL names (DID Core §7.2)."""
        url = parse_did_url(did_url)
        doc = self.resolve(url.did)
        if url.fragment is None:
            if url.method not in OFFLINE_METHODS:
                raise KeyResolutionError("the DID URL must name a key with a #fragment", code="unknown_key")
            if len(doc.methods) == 1:
                return doc.methods[0]
            if doc.unsupported:
                raise UnsupportedError("the DID's key cannot verify signatures", code="unsupported_key_type")
            raise KeyResolutionError("the DID has no signing key", code="unknown_key")
        vm = doc.method(str(url))
        if vm is not None:
            return vm
        if str(url) in doc.unsupported:
            raise UnsupportedError(f"{did_url[:200]!r} is not a key type Tessera verifies", code="unsupported_key_type")
        raise KeyResolutionError(f"{did_url[:200]!r} is not in the DID document", code="unknown_key")

    def __call__(self, did_url: str) -> VerificationMethod:
        return self.resolve_method(did_url)
