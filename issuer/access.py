"""Checking the API keys of the admin API, with a short per-process cache.

Every admin request presents an API key (``Authorization: Bearer tsi_…``); checking it is one indexed
read of ``issuer_api_keys`` plus a SHA-256. A clerk's tool issuing hundreds of offers a second presents
the same key each time, so a successful check is remembered for ``api_key_cache_seconds`` (default 5),
under the SHA-256 of the presented key — never the key itself.

The bound: a key revoked in the database (``revoked_at`` set, or the row deleted) is refused by every
process at most ``api_key_cache_seconds`` after the revocation committed; 0 turns the cache off, so
each request reads the database. Scopes are re-read with the key, so a change of scopes has the same
bound. Failures are never cached: a wrong key always costs a lookup, and random keys cannot fill the
cache (which is also capped, and simply emptied when full).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam, select

from issuer.http import ApiError, unauthorized
from issuer.store.db import Database
from issuer.store.models import ApiKeyRow, table_of
from shared import apikeys

API_KEY_PREFIX: Final = "tsi"
MAX_ENTRIES: Final = 1024
_KEYS = table_of(ApiKeyRow)
_KEY = select(_KEYS.c.key_hash, _KEYS.c.scopes, _KEYS.c.revoked_at).where(_KEYS.c.key_id == bindparam("key_id"))


@dataclass(frozen=True)
class _Checked:
    key_id: str
    scopes: frozenset[str]
    until: float


class ApiKeyCheck:
    def __init__(self, db: Database, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.clock = clock  # monotonic, not the service's clock: tests move that one by hours
        self._checked: dict[str, _Checked] = {}

    @staticmethod
    def _presented(authorization: str | None) -> tuple[str, str]:
        presented = apikeys.bearer_token(authorization)
        if presented is None:
            raise unauthorized()
        try:
            return presented, apikeys.key_id_of(presented, API_KEY_PREFIX)
        except ValueError:
            raise unauthorized("The API key is not valid.") from None

    @staticmethod
    def _allow(checked: _Checked, wanted: tuple[str, ...]) -> str:
        """``admin`` holds every scope; otherwise the key needs one of ``wanted``."""
        if checked.scopes.intersection(wanted) or "admin" in checked.scopes:
            return checked.key_id
        names = " ".join(wanted)
        raise ApiError(
            "insufficient_scope",
            f"This API key needs the scope {' or '.join(wanted)}.",
            status=403,
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{names}"'},
        )

    def cached(self, authorization: str | None, scopes: tuple[str, ...]) -> str | None:
        """The key id when the cache vouches for the key (no I/O, safe on the event loop); None when
        the database must be asked. Raises for a missing or malformed key or a missing scope."""
        presented, _ = self._presented(authorization)
        checked = self._checked.get(apikeys.hash_key(presented))
        if checked is None or checked.until < self.clock():
            return None
        return self._allow(checked, scopes)

    def check(self, authorization: str | None, scopes: tuple[str, ...]) -> str:
        """The key id of a valid API key holding one of ``scopes``, from the cache or the database."""
        found = self.cached(authorization, scopes)
        if found is not None:
            return found
        presented, key_id = self._presented(authorization)
        with self.db.begin_read() as connection:
            row = connection.execute(_KEY, {"key_id": key_id}).first()
        if row is None or row.revoked_at is not None or not apikeys.check(presented, row.key_hash):
            raise unauthorized("The API key is not valid.")
        checked = _Checked(key_id, frozenset(row.scopes.split()), self.clock() + self.ttl)
        if self.ttl > 0:
            if len(self._checked) >= MAX_ENTRIES:
                self._checked.clear()
            self._checked[row.key_hash] = checked
        return self._allow(checked, scopes)
