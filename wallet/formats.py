"""The wallet's two uses of each credential format, delegated to the shared core (never re-implemented here):

- :func:`verify_received`: check a credential the issuer sent before it is stored — issuer signature,
  issuer identity (the credential's issuer is the one the offer came from), validity period, and that it is
  bound to the holder key the wallet generated for it;
- :func:`present`: build a presentation of exactly the chosen claims, bound to the verifier:
  SD-JWT with a KB-JWT (``aud`` = the verifier's ``client_id``, ``nonce``; SD-JWT §4.3, OpenID4VP 1.0
  Appendix B.3.6) or a Data Integrity VP signed by the holder with ``challenge`` = nonce and ``domain`` =
  client_id (OpenID4VP 1.0 Appendix B.1.3.2).

``dc+sd-jwt`` is IETF SD-JWT VC; ``vc+sd-jwt`` is a VCDM 2.0 document secured with SD-JWT (VC-JOSE-COSE);
``ldp_vc`` is VCDM 2.0 with an ``eddsa-rdfc-2022``/``eddsa-jcs-2022`` proof. Status is checked by the
client (it needs the network) and recorded on the record, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared import data_integrity
from shared.dcql import ClaimPath
from shared.did import DidResolver, did_jwk_from_public_key, did_key_from_public_key, did_web_to_url
from shared.errors import UnsupportedError, VerificationError
from shared.keys import PrivateKey, jwk_thumbprint, public_jwk
from wallet.model import SD_JWT_FORMATS, CredentialRecord


@dataclass(frozen=True)
class Verified:
    issuer: str
    types: tuple[str, ...]
    claims: dict[str, Any]
    disclosable: tuple[ClaimPath, ...] = ()
    valid_from: str | None = None
    valid_until: str | None = None
    status: dict[str, Any] | None = None


def holder_did(key: PrivateKey) -> str:
    """The holder DID of a key: did:key, one per credential (unlinkable across credentials)."""
    return did_key_from_public_key(key.public_key)


def holder_method(key: PrivateKey) -> str:
    did = holder_did(key)
    return f"{did}#{did.removeprefix('did:key:')}"


def holder_dids(key: PrivateKey) -> tuple[str, str]:
    """The DIDs an ``ldp_vc`` may name as its subject for this key: the wallet's did:key, or the key's
    did:jwk (what Tessera's issuer binds to; issuers choose, both name the same key)."""
    return holder_did(key), did_jwk_from_public_key(key.public_key)


def _presenting_method(record: CredentialRecord, key: PrivateKey) -> tuple[str, str]:
    """(holder DID, verification method) for a VP: the DID the credential's subject names, if it is the key's."""
    subject = record.raw.get("credentialSubject") if isinstance(record.raw, dict) else None
    bound = subject.get("id") if isinstance(subject, dict) else None
    if isinstance(bound, str) and bound.startswith("did:jwk:") and bound == holder_dids(key)[1]:
        return bound, f"{bound}#0"  # did:jwk has one verification method, #0
    return holder_did(key), holder_method(key)


def _types(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(t for t in value if isinstance(t, str))
    return ()


def _issuer_id(doc: dict[str, Any]) -> str:
    issuer = doc.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _check_issuer(actual: str, credential_issuer: str | None) -> None:
    """The credential's issuer must be the credential issuer the offer came from, where that can be told.

    An https issuer must be that URL; a did:web must be on that host. A did:key or did:jwk names no host,
    so it cannot be tied to the URL here: whether to trust it is the verifier's trust list's decision.
    """
    if credential_issuer is None or not actual:
        return
    if actual.startswith("https://") or actual.startswith("http://"):
        ok = actual.rstrip("/") == credential_issuer.rstrip("/")
    elif actual.startswith("did:web:"):
        ok = urlsplit(did_web_to_url(actual)).netloc == urlsplit(credential_issuer).netloc
    else:
        ok = True
    if not ok:
        raise VerificationError(
            f"the credential names {actual[:120]!r} as issuer, not {credential_issuer[:120]!r}", code="key_mismatch"
        )


def verify_received(
    fmt: str,
    raw: Any,
    *,
    resolver: DidResolver,
    now: datetime,
    holder_key: PrivateKey,
    expected_issuer: str | None = None,
    fetch_json: Callable[[str], Any] | None = None,
) -> Verified:
    """Verify a freshly issued credential; raises a :class:`TesseraError` with a reason code.

    ``fetch_json`` lets an SD-JWT issuer identified by an https URL be verified: its key comes from JWT VC
    Issuer Metadata (SD-JWT VC §4) fetched through it; without it only DID issuers verify."""
    if fmt in SD_JWT_FORMATS:
        return _verify_sd_jwt(
            fmt, raw, resolver=resolver, now=now, holder_key=holder_key, expected=expected_issuer, fetch_json=fetch_json
        )
    if fmt == "ldp_vc":
        return _verify_ldp(raw, resolver=resolver, now=now, holder_key=holder_key, expected=expected_issuer)
    raise UnsupportedError(f"the wallet does not hold {fmt!r} credentials", code="unsupported_format")


def _verify_ldp(
    raw: Any, *, resolver: DidResolver, now: datetime, holder_key: PrivateKey, expected: str | None
) -> Verified:
    from shared.verify_ldp import verify_ldp  # noqa: PLC0415 - imports the JSON-LD stack only when needed

    verdict = verify_ldp(raw, resolve_method=resolver, now=now)
    if not verdict.verified:
        failure = verdict.failures[0]
        raise VerificationError(failure.message, code=failure.code)
    doc: dict[str, Any] = raw
    _check_issuer(_issuer_id(doc), expected)
    subject = doc.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if subject_id is not None and subject_id not in holder_dids(holder_key):
        raise VerificationError("the credential is about another holder", code="holder_binding_failed")
    claims = {k: v for k, v in doc.items() if k != "proof"}
    return Verified(
        issuer=_issuer_id(doc),
        types=_types(doc.get("type")),
        claims=claims,
        valid_from=doc.get("validFrom"),
        valid_until=doc.get("validUntil"),
        status=doc.get("credentialStatus") if isinstance(doc.get("credentialStatus"), dict) else None,
    )


def _verify_sd_jwt(
    fmt: str,
    raw: Any,
    *,
    resolver: DidResolver,
    now: datetime,
    holder_key: PrivateKey,
    expected: str | None,
    fetch_json: Callable[[str], Any] | None = None,
) -> Verified:
    from wallet import bridge  # noqa: PLC0415 - the SD-JWT core loads only when needed

    result = bridge.verify_issued(fmt, raw, resolver=resolver, now=now, fetch_json=fetch_json)
    cnf = result.cnf_jwk
    if cnf is None or jwk_thumbprint(cnf) != jwk_thumbprint(public_jwk(holder_key)):
        raise VerificationError("the credential is not bound to the wallet's key", code="holder_binding_failed")
    _check_issuer(result.issuer, expected)
    return Verified(
        issuer=result.issuer,
        types=result.types,
        claims=result.claims,
        disclosable=result.disclosable,
        valid_from=result.valid_from,
        valid_until=result.valid_until,
        status=result.status,
    )


def present(
    record: CredentialRecord,
    paths: Sequence[ClaimPath],
    holder_key: PrivateKey,
    *,
    client_id: str,
    nonce: str,
    now: datetime,
) -> str | dict[str, Any]:
    """One presentation of ``record`` revealing ``paths`` only, bound to ``client_id`` and ``nonce``."""
    if record.format in SD_JWT_FORMATS:
        from wallet import bridge  # noqa: PLC0415

        return bridge.present(record.raw, paths, holder_key, audience=client_id, nonce=nonce, now=now)
    if record.format == "ldp_vc":
        holder, method = _presenting_method(record, holder_key)
        vp = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": holder,
            "verifiableCredential": [record.raw],
        }
        return data_integrity.sign(
            vp,
            signer=holder_key,
            verification_method=method,
            created=now,
            proof_purpose="authentication",
            challenge=nonce,
            domain=client_id,
        )
    raise UnsupportedError(f"the wallet cannot present {record.format!r}", code="unsupported_format")
