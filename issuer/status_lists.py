"""Serving status lists, signed: a Token Status List token (``statuslist+jwt``) for SD-JWT VC
credentials, a BitstringStatusListCredential with a Data Integrity proof for VCDM credentials.

A list is signed at most once per change: the signed form is cached in its row with the version it
was made from, and re-made when the list changed (``version`` bumped by a status change) or when the
token is past half its lifetime, so verifiers' caches see a change within ``status_list_ttl_seconds``.
``ETag`` is the list id, purpose and version; ``Cache-Control`` tells caches how long to keep it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from issuer.credentials import sd_jwt_issuer
from issuer.http import ApiError
from issuer.identity import ActiveKey
from issuer.service import IssuerService
from issuer.store import status as status_store
from issuer.store.models import StatusListRow
from shared import data_integrity, jose
from shared.encoding import dumps_compact
from shared.status_list import (
    LSB_FIRST,
    MSB_FIRST,
    StatusList,
    build_status_list_credential,
    status_list_token_claims,
    status_list_token_header,
)


class StatusLists:
    def __init__(self, service: IssuerService) -> None:
        self.s = service

    def _url(self, row: StatusListRow) -> str:
        base = f"{self.s.settings.base_url}/status/{row.id}"
        return base if row.kind == status_store.TOKEN else f"{base}/{row.purpose}"

    def _sign(self, row: StatusListRow, now: int, key: ActiveKey) -> str:
        ttl = self.s.settings.status_list_ttl_seconds
        if row.kind == status_store.TOKEN:
            iss, kid = sd_jwt_issuer(self.s.settings.base_url, key)
            claims = status_list_token_claims(
                StatusList(row.bits, row.data, LSB_FIRST),
                sub=self._url(row),
                iat=now,
                exp=now + max(ttl * 2, 600),
                ttl=ttl or None,
                iss=iss,
            )
            return jose.sign_compact(status_list_token_header(alg="EdDSA", kid=kid), claims, key.key)
        moment = datetime.fromtimestamp(now, UTC)
        doc = build_status_list_credential(
            StatusList(row.bits, row.data, MSB_FIRST),
            id=self._url(row),
            issuer=key.did,
            status_purpose=row.purpose,
            valid_from=moment,
            valid_until=moment + timedelta(seconds=max(ttl * 2, 600)),
            ttl_ms=ttl * 1000 if ttl else None,
        )
        signed = data_integrity.sign(doc, signer=key.key, verification_method=key.verification_method, created=moment)
        return dumps_compact(signed)

    def get(self, list_id: str, purpose: str) -> tuple[str, str, dict[str, str]]:
        """(body, media type, headers) of a list, signing it anew only when it changed or is ageing.

        The common case is one read-only transaction. Signing happens outside any write transaction
        (on SQLite the writer lock is shared by every request); the signed form is then stored only if
        the list is still at the version it was made from, so a change racing with it is never hidden
        behind a stale signature — the next request signs the newer version."""
        now = int(self.s.now())
        ttl = self.s.settings.status_list_ttl_seconds
        with self.s.db.read() as session:
            row = status_store.get_list(session, list_id, purpose)
        if row is None:
            raise ApiError("not_found", "There is no such status list.", status=404)
        fresh = row.signed is not None and row.signed_version == row.version
        if fresh and row.signed_at is not None and now - row.signed_at > max(ttl, 300):
            fresh = False
        body = row.signed or ""
        if not fresh:
            body = self._sign(row, now, self.s.identity.active())
            with self.s.db.tx() as session:
                session.execute(
                    update(StatusListRow)
                    .where(
                        StatusListRow.id == row.id,
                        StatusListRow.purpose == purpose,
                        StatusListRow.version == row.version,
                    )
                    .values(signed=body, signed_version=row.version, signed_at=now)
                )
        media = "application/statuslist+jwt" if row.kind == status_store.TOKEN else "application/vc+ld+json"
        headers: dict[str, Any] = {
            "ETag": f'"{list_id}.{purpose}.{row.version}"',
            "Cache-Control": f"public, max-age={ttl}",
        }
        return body, media, headers
