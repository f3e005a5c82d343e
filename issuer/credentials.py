"""Building and securing one credential in each offered format, through the core modules only.

- ``dc+sd-jwt`` (IETF SD-JWT VC): ``iss`` is the issuer's URL (keys at ``/.well-known/jwt-vc-issuer``,
  header ``kid`` the key's thumbprint), ``vct`` from the catalogue, ``cnf.jwk`` the holder key, ``status``
  a Token Status List reference; every claim the catalogue marks disclosable, and every ``age_over_NN``
  predicate, is its own Disclosure.
- ``vc+sd-jwt`` (W3C VC-JOSE-COSE): a VCDM 2.0 document secured with SD-JWT; ``issuer`` is the DID and
  ``kid`` its verification method; status is a BitstringStatusListEntry (the VCDM status mechanism).
- ``ldp_vc``: VCDM 2.0 with a Data Integrity proof (``eddsa-rdfc-2022``); the holder is bound through
  ``credentialSubject.id`` = the holder key's ``did:jwk``; status as above. No predicates (see
  :mod:`issuer.catalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from issuer.catalogue import CredentialType, age_predicates
from issuer.identity import ActiveKey
from shared import data_integrity, sd_jwt_vc
from shared.crypto import PublicKey, RandomBytes
from shared.did.jwk import did_jwk_from_public_key
from shared.status_list import BitstringStatusListEntry

VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class StatusRef:
    list_id: str
    idx: int


def _xsd(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_until(ctype: CredentialType, now: datetime) -> datetime | None:
    return now + timedelta(days=ctype.validity_days) if ctype.validity_days else None


def _bitstring_status(base_url: str, ref: StatusRef) -> list[dict[str, Any]]:
    return [
        BitstringStatusListEntry(
            status_purpose=purpose,
            status_list_index=ref.idx,
            status_list_credential=f"{base_url}/status/{ref.list_id}/{purpose}",
            id=f"{base_url}/status/{ref.list_id}/{purpose}#{ref.idx}",
        ).to_json()
        for purpose in ("revocation", "suspension")
    ]


def _vcdm(ctype: CredentialType, claims: dict[str, Any], issuer_did: str, now: datetime) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [VC_V2, *([ctype.context] if ctype.context else [])],
        "type": ["VerifiableCredential", ctype.name],
        "issuer": issuer_did,
        "validFrom": _xsd(now),
    }
    until = valid_until(ctype, now)
    if until is not None:
        doc["validUntil"] = _xsd(until)
    doc["credentialSubject"] = dict(claims)
    return doc


def _disclosable(ctype: CredentialType, claims: dict[str, Any]) -> list[str]:
    return [name for name, spec in ctype.claims.items() if spec.disclosable and name in claims]


def sd_jwt_issuer(base_url: str, key: ActiveKey) -> tuple[str, str]:
    """``iss`` and ``kid`` of the SD-JWTs this issuer signs (credentials and status list tokens).

    Served over https, the issuer is named by its URL and its keys come from JWT VC Issuer Metadata.
    On plain http (local runs and tests) that discovery is refused by wallets and verifiers, so the
    issuer is named by its did:key, which resolves without any fetch (SD-JWT VC allows either).
    """
    if base_url.startswith("https://"):
        return base_url, key.kid
    return key.did, key.verification_method


def build(
    fmt: str,
    ctype: CredentialType,
    claims: dict[str, Any],
    *,
    key: ActiveKey,
    holder: PublicKey,
    status: StatusRef,
    base_url: str,
    now: datetime,
    random_bytes: RandomBytes,
) -> str | dict[str, Any]:
    """One secured credential: the compact SD-JWT text, or the ``ldp_vc`` JSON document."""
    if fmt == "dc+sd-jwt":
        preds = age_predicates(ctype, claims, now.date())
        iss, kid = sd_jwt_issuer(base_url, key)
        payload: dict[str, Any] = {"iss": iss, "vct": ctype.vct, "iat": int(now.timestamp())}
        until = valid_until(ctype, now)
        if until is not None:
            payload["exp"] = int(until.timestamp())
        payload["status"] = {"status_list": {"idx": status.idx, "uri": f"{base_url}/status/{status.list_id}"}}
        payload.update(claims)
        payload.update(preds)
        issued = sd_jwt_vc.issue_sd_jwt_vc(
            payload,
            disclosable=[*_disclosable(ctype, claims), *preds],
            signer=key.key,
            holder_key=holder,
            now=now,
            random_bytes=random_bytes,
            kid=kid,
        )
        return str(issued)
    if fmt == "vc+sd-jwt":
        preds = age_predicates(ctype, claims, now.date())
        doc = _vcdm(ctype, {**claims, **preds}, key.did, now)
        doc["credentialStatus"] = _bitstring_status(base_url, status)
        issued = sd_jwt_vc.issue_vcdm(
            doc,
            disclosable=[("credentialSubject", name) for name in [*_disclosable(ctype, claims), *preds]],
            signer=key.key,
            holder_key=holder,
            now=now,
            random_bytes=random_bytes,
            kid=key.verification_method,
        )
        return str(issued)
    if fmt == "ldp_vc":
        doc = _vcdm(ctype, {"id": did_jwk_from_public_key(holder), **claims}, key.did, now)
        doc["credentialStatus"] = _bitstring_status(base_url, status)
        return data_integrity.sign(
            doc,
            signer=key.key,
            verification_method=key.verification_method,
            cryptosuite=ctype.cryptosuite,
            created=now,
        )
    raise AssertionError(f"unknown format {fmt}")
