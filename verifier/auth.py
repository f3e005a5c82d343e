"""API-key checks for the session API, with a short in-memory memory of keys that passed.

Every session costs two authenticated calls (create it, read its result), and a database lookup per
call was a round trip per call. A key that passed is remembered, by the SHA-256 the database stores
(the key itself is never kept), for :data:`REMEMBER_SECONDS`; a key that failed is never remembered,
so a key created a moment ago (``tessera verifier api-key create``) works at once.

Revocation bound: a key revoked in the database (``revoked`` set, or its row deleted) is refused by
every process at most :data:`REMEMBER_SECONDS` after the revocation; until then a process that
accepted it within that time may accept it again. Processes share nothing, so this holds per uvicorn
worker and per replica alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared import apikeys
from shared.errors import TesseraError

REMEMBER_SECONDS = 30
MAX_REMEMBERED = 1024  # keys per process; past that the memory starts over (a few more lookups)


class ApiKeyCheck:
    """``remembered(header)`` (memory only, never blocks) and ``check(header)`` (may look the key up)."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        *,
        prefix: str,
        now: Callable[[], float],
        ttl: float = REMEMBER_SECONDS,
    ) -> None:
        self.lookup = lookup  # key id -> stored hash, or None when unknown or revoked
        self.prefix = prefix
        self.now = now
        self.ttl = ttl
        self._until: dict[str, float] = {}  # SHA-256 of a key that passed -> when to look it up again
        self._lock = threading.Lock()

    def remembered(self, authorization: str | None) -> bool:
        token = apikeys.bearer_token(authorization)
        if token is None or not token.isascii():
            return False
        until = self._until.get(apikeys.hash_key(token))
        return until is not None and until > self.now()

    def check(self, authorization: str | None) -> None:
        """Pass, or raise ``unauthorized``."""
        if self.remembered(authorization):
            return
        token = apikeys.bearer_token(authorization)
        try:
            key_id = apikeys.key_id_of(token or "", self.prefix)
        except TesseraError:
            raise TesseraError(code="unauthorized") from None
        stored = self.lookup(key_id)
        if stored is None or token is None or not apikeys.check(token, stored):
            raise TesseraError(code="unauthorized")
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED:
                self._until.clear()
            self._until[stored] = self.now() + self.ttl
