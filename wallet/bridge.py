"""The wallet's only contact with the JOSE and SD-JWT cores (:mod:`shared.jose`, :mod:`shared.sd_jwt`,
:mod:`shared.sd_jwt_vc`): signing proof JWTs, verifying request objects, verifying issued SD-JWTs and
presenting them with a KB-JWT. Keeping these calls in one module keeps the rest of the wallet independent
of their exact signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import oid4vp
from shared.dcql import ClaimPath
from shared.did import DidResolver, parse_did_url
from shared.errors import MalformedError, TesseraError, VerificationError
from shared.keys import PrivateKey


@dataclass(frozen=True)
class IssuedSdJwt:
    issuer: str
    types: tuple[str, ...]
    claims: dict[str, Any]
    disclosable: tuple[ClaimPath, ...]
    cnf_jwk: dict[str, Any] | None
    valid_from: str | None
    valid_until: str | None
    status: dict[str, Any] | None


def sign_jwt(header: dict[str, Any], claims: dict[str, Any], key: PrivateKey) -> str:
    from shared import jose  # noqa: PLC0415

    return jose.sign_compact(header, claims, key)


def verify_request_object(token: str, *, client_id: str, resolver: DidResolver, now: int) -> dict[str, Any]:
    """Verify a signed request object (RFC 9101, OpenID4VP 1.0 §5.9.3 ``decentralized_identifier``)."""
    from shared import jose  # noqa: PLC0415

    client = oid4vp.parse_client_id(client_id)
    if client.prefix != oid4vp.DID_PREFIX:
        raise TesseraError("only decentralized_identifier clients may send signed requests", code="invalid_request")
    kid = jose.decode_unverified(token).header.get("kid")
    if not isinstance(kid, str) or parse_did_url(kid).did != client.identifier:
        raise VerificationError("the request is not signed with a key of the verifier's DID", code="key_mismatch")
    method = resolver.resolve_method(kid)
    _, claims = jose.verify_compact(token, key=method.public_key, typ=oid4vp.REQUEST_OBJECT_TYP)
    exp = claims.get("exp")
    if isinstance(exp, int) and exp < now:
        raise VerificationError("the request has expired", code="expired")
    aud = claims.get("aud")
    if aud is not None and aud != oid4vp.SELF_ISSUED_AUD:
        raise VerificationError("the request is addressed to another audience", code="audience_mismatch")
    return claims


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def issuer_key_resolver(resolver: DidResolver) -> Any:
    """The issuer-key lookup used to verify SD-JWTs (DID URL ``kid`` through the wallet's resolver)."""
    from shared import sd_jwt_vc  # noqa: PLC0415

    return sd_jwt_vc.issuer_key_resolver(resolve_method=resolver.resolve_method)


def verify_issued(fmt: str, raw: Any, *, resolver: DidResolver, now: datetime, fetch_json: Any = None) -> IssuedSdJwt:
    """Verify an SD-JWT credential as issued (every Disclosure, no KB-JWT yet) with its profile's rules
    (:func:`shared.sd_jwt_vc.verify_credential`) and describe it for the record."""
    from shared import sd_jwt, sd_jwt_vc  # noqa: PLC0415

    if not isinstance(raw, str):
        raise MalformedError("an SD-JWT credential is a string")
    resolve = sd_jwt_vc.issuer_key_resolver(resolve_method=resolver.resolve_method, fetch_json=fetch_json)
    verified = sd_jwt_vc.verify_credential(raw, now=now, resolve_issuer_key=resolve)
    if verified.profile != fmt:
        raise TesseraError(f"the issuer sent {verified.profile}, not the {fmt} it offered", code="unsupported_format")
    cnf = verified.claims.get("cnf")
    cnf_jwk = cnf.get("jwk") if isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict) else None
    return IssuedSdJwt(
        issuer=verified.issuer or "",
        types=verified.types,
        claims=verified.claims,
        disclosable=tuple(tuple(p) for p in sd_jwt.parse(raw).disclosable),
        cnf_jwk=cnf_jwk,
        valid_from=_iso(verified.valid_from),
        valid_until=_iso(verified.valid_until),
        status=verified.status,
    )


def present(raw: Any, paths: Any, holder_key: PrivateKey, *, audience: str, nonce: str, now: datetime) -> str:
    """The SD-JWT with exactly ``paths`` revealed and a KB-JWT for ``audience``/``nonce`` (RFC 9901 §4.3)."""
    from shared import sd_jwt  # noqa: PLC0415

    return sd_jwt.present(raw, reveal=list(paths), holder_signer=holder_key, audience=audience, nonce=nonce, now=now)
