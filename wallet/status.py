"""Status checks for held credentials: IETF Token Status List (SD-JWT VC) and W3C Bitstring Status List (ldp_vc).

The wallet fetches the list the credential points to, checks that the list is signed by the credential's
own issuer, and reads the credential's entry. Results:

- ``valid`` — the list says so;
- ``unknown`` — no status entry, or the list could not be fetched or checked (offline is normal for a
  wallet; the person sees "unknown" with the time of the last successful check);
- a revoked or suspended credential raises ``revoked``/``suspended`` so receiving refuses it; refreshing a
  held credential records the result instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared import data_integrity, status_list
from shared.did import DidResolver
from shared.errors import TesseraError, VerificationError
from wallet.transport import Http

REFUSED = frozenset({"revoked", "suspended"})
FetchJson = Callable[[str], Any]


def _token_status(
    status: Mapping[str, Any],
    issuer: str,
    *,
    http: Http,
    resolver: DidResolver,
    now: datetime,
    fetch_json: FetchJson | None = None,
) -> None:
    from shared import sd_jwt_vc  # noqa: PLC0415

    ref = status_list.parse_status_claim(status)
    reply = http.expect(
        http.request("GET", ref.uri, headers={"Accept": "application/statuslist+jwt"}), ref.uri, "the status list"
    )
    token = reply.body.decode("ascii", "replace").strip()
    # an issuer named by its https URL signs its lists with a key of its JWT VC Issuer Metadata
    issuer_key = sd_jwt_vc.issuer_key_resolver(fetch_json=fetch_json) if fetch_json is not None else None
    signer, key = status_list.status_list_token_signer(
        token, resolve_method=resolver.resolve_method, issuer_key=issuer_key
    )
    if signer != issuer:
        raise VerificationError("the status list is not signed by the credential's issuer", code="key_mismatch")
    checked = status_list.verify_status_list_token(token, key=key, uri=ref.uri, now=int(now.timestamp()))
    status_list.raise_for_token_status(checked.status_of(ref))


def _bitstring_status(credential: Mapping[str, Any], *, http: Http, resolver: DidResolver, now: datetime) -> None:
    for entry in status_list.bitstring_entries(credential):
        url = entry.status_list_credential
        list_vc = http.get_json(url, "the status list")
        verified = data_integrity.verify(list_vc, resolve_method=resolver, now=now)
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        if verified.controller != issuer:
            raise VerificationError("the status list is not signed by the credential's issuer", code="key_mismatch")
        status_list.raise_for_bitstring_status(status_list.bitstring_status(entry, verified.document))


def check(
    fmt: str,
    claims: Mapping[str, Any],
    issuer: str,
    *,
    http: Http,
    resolver: DidResolver,
    now: datetime,
    fetch_json: FetchJson | None = None,
) -> str:
    """``valid`` or ``unknown``; raises ``revoked``/``suspended`` (and only those).

    ``ldp_vc`` and ``vc+sd-jwt`` (VCDM 2.0 documents) carry ``credentialStatus`` entries (Bitstring Status
    List); ``dc+sd-jwt`` a ``status`` claim (Token Status List). ``fetch_json`` fetches an https issuer's
    JWT VC Issuer Metadata, for status list tokens signed by an issuer named by URL."""
    try:
        if fmt == "ldp_vc" or (fmt == "vc+sd-jwt" and "credentialStatus" in claims):
            if "credentialStatus" not in claims:
                return "unknown"
            _bitstring_status(claims, http=http, resolver=resolver, now=now)
        else:
            status = claims.get("status")
            if not isinstance(status, Mapping):
                return "unknown"
            _token_status(status, issuer, http=http, resolver=resolver, now=now, fetch_json=fetch_json)
    except TesseraError as exc:
        if exc.code in REFUSED:
            raise
        return "unknown"
    return "valid"
