"""Two credential profiles over the one SD-JWT engine (:mod:`shared.sd_jwt`), and issuer key discovery.

**SD-JWT VC** (draft-ietf-oauth-sd-jwt-vc, editor's copy after -18; "[VC]" below):

- ``typ`` ``dc+sd-jwt`` (§2.2.1); on verification the legacy ``vc+sd-jwt`` is accepted too, as §2.2.1
  allows during the transition, when the payload is not a VCDM document (no ``@context``).
- ``vct`` is required, ``iss``, ``iat``, ``nbf``, ``exp``, ``cnf``, ``status`` optional (§2.2.2); ``iss``,
  ``nbf``, ``exp``, ``cnf``, ``vct``, ``vct#integrity`` and ``status`` MUST NOT be selectively disclosable
  (§2.2.2.x): :func:`issue_sd_jwt_vc` refuses such paths and :func:`verify_sd_jwt_vc` rejects a
  presentation carrying them as Disclosures (``disclosure_mismatch``). ``exp`` → ``expired``, ``nbf`` →
  ``not_yet_valid`` (checked by the engine, with its leeway).
- Issuer keys (§3.5, §4): a ``kid`` that is a DID URL is resolved through the injected DID resolver and
  must belong to the DID in ``iss`` and be an ``assertionMethod``; an ``https`` ``iss`` uses JWT VC Issuer
  Metadata at ``https://host/.well-known/jwt-vc-issuer/<path>`` (§4.1), whose ``issuer`` must equal
  ``iss`` and which carries ``jwks`` inline or a ``jwks_uri`` (not both, §4.2); the key is picked by
  ``kid``, or is the only key. Fetching is the injected ``fetch_json``'s job (with its own SSRF guards,
  caps and cache); ``x5c`` is not supported. :func:`issuer_key_resolver` builds the callable the engine takes.

**VC-JOSE-COSE with SD-JWT** (W3C VC-JOSE-COSE, §3.2 "With SD-JWT"; "[VCJC]"):

- ``typ`` ``vc+sd-jwt``, ``cty`` ``vc`` (§3.2.1); the payload is a VCDM 2.0 credential (``@context`` first
  entry ``https://www.w3.org/ns/credentials/v2``, ``type`` with ``VerifiableCredential``, an ``issuer``,
  ``credentialSubject``). ``@context``, ``type``, ``issuer``, ``id``, ``validFrom``, ``validUntil`` and
  ``credentialStatus`` always stay disclosed (refused on issue, ``disclosure_mismatch`` on verify), and
  ``credentialSubject`` itself too, while the claims inside it may be disclosable.
  ``validFrom``/``validUntil`` are checked against ``now`` (``not_yet_valid`` / ``expired``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from shared import jose, sd_jwt
from shared.crypto import PublicKey, RandomBytes, Signer
from shared.did.document import VerificationMethod
from shared.errors import KeyResolutionError, MalformedError, UnsupportedError, VerificationError
from shared.keys import key_from_jwk

DC_TYP: Final = "dc+sd-jwt"
VC_TYP: Final = "vc+sd-jwt"
VC_CTY: Final = "vc"
VCDM2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
NEVER_DISCLOSABLE: Final = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
VCDM_ALWAYS_DISCLOSED: Final = frozenset(
    {"@context", "type", "issuer", "id", "validFrom", "validUntil", "credentialStatus"}
)
METADATA_PATH: Final = "/.well-known/jwt-vc-issuer"
MAX_JWKS: Final = 32
_MIN_DATE: Final = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_DATE: Final = 253_402_300_800  # 10000-01-01T00:00:00Z, the first instant a datetime cannot hold

FetchJson = Callable[[str], Any]


@dataclass(frozen=True)
class VerifiedCredential:
    """A verified SD-JWT credential of either profile. ``types`` is ``(vct,)`` or the VCDM ``type``."""

    profile: str  # "dc+sd-jwt" or "vc+sd-jwt"
    issuer: str | None
    types: tuple[str, ...]
    claims: dict[str, Any]
    status: dict[str, Any] | None
    valid_from: datetime | None
    valid_until: datetime | None
    sd: sd_jwt.VerifiedSdJwt


def _refuse_paths(
    disclosable: Iterable[sd_jwt.PathLike], fixed: frozenset[str], *, whole: str | None = None
) -> list[tuple[str | int | None, ...]]:
    paths = [sd_jwt.normalize_path(p) for p in disclosable]
    for path in paths:
        if path[0] in fixed or (whole is not None and path == (whole,)):
            raise MalformedError(f"claim {path[0]!r} may not be selectively disclosable")
    return paths


def _reject_disclosed(verified: sd_jwt.VerifiedSdJwt, fixed: frozenset[str], *, whole: str | None = None) -> None:
    for path in verified.disclosed:
        if path[0] in fixed or (whole is not None and path == (whole,)):
            raise VerificationError(f"claim {path[0]!r} must not be a Disclosure", code="disclosure_mismatch")


def _check_date(value: Any, name: str) -> None:
    """``value`` is None or a NumericDate a datetime can hold (years 1 to 9999; NaN and ±inf are not)."""
    if value is not None and (
        type(value) is bool or not isinstance(value, (int, float)) or not _MIN_DATE <= value < _MAX_DATE
    ):
        raise MalformedError(f"{name} is a NumericDate")


def _instant(value: Any, name: str) -> datetime | None:
    _check_date(value, name)
    return None if value is None else datetime.fromtimestamp(value, UTC)


# --- SD-JWT VC ------------------------------------------------------------------------------


def issue_sd_jwt_vc(
    claims: dict[str, Any],
    *,
    disclosable: Iterable[sd_jwt.PathLike],
    signer: Signer,
    holder_key: PublicKey | None,
    now: datetime,
    random_bytes: RandomBytes,
    kid: str | None = None,
    decoys: int = 0,
) -> sd_jwt.SdJwt:
    """Issue an SD-JWT VC. ``claims`` carry ``vct`` (and usually ``iss``, ``exp``, ``status``)."""
    if not isinstance(claims, dict) or not isinstance(claims.get("vct"), str) or not claims["vct"]:
        raise MalformedError("an SD-JWT VC names its type in a vct string")
    if "iss" in claims and not isinstance(claims["iss"], str):
        raise MalformedError("iss is a string")
    for name in ("iat", "nbf", "exp"):
        if name in claims:
            _check_date(claims[name], name)  # checked only: issuing needs no datetime
    if "status" in claims and not isinstance(claims["status"], dict):
        raise MalformedError("status is a JSON object")
    return sd_jwt.issue(
        claims,
        disclosable=disclosable,
        signer=signer,
        holder_key=holder_key,
        now=now,
        random_bytes=random_bytes,
        typ=DC_TYP,
        kid=kid,
        decoys=decoys,
        never_disclosable=NEVER_DISCLOSABLE,  # the engine checks the paths once, on the way it reads them
    )


def _check_sd_jwt_vc(verified: sd_jwt.VerifiedSdJwt) -> VerifiedCredential:
    payload, claims = verified.payload, verified.claims
    if "@context" in payload:
        raise UnsupportedError("a VCDM document is not an SD-JWT VC", code="unsupported_format")
    _reject_disclosed(verified, NEVER_DISCLOSABLE)
    vct = payload.get("vct")
    if not isinstance(vct, str) or not vct:
        raise MalformedError("an SD-JWT VC carries a vct string")
    iss = payload.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise MalformedError("iss is a string")
    status = payload.get("status")
    if status is not None and not isinstance(status, dict):
        raise MalformedError("status is a JSON object")
    _instant(claims.get("iat"), "iat")
    return VerifiedCredential(
        DC_TYP,
        iss,
        (vct,),
        claims,
        status,
        _instant(payload.get("nbf"), "nbf"),
        _instant(payload.get("exp"), "exp"),
        verified,
    )


def verify_sd_jwt_vc(text: str, **kwargs: Any) -> VerifiedCredential:
    """Verify an SD-JWT VC; keyword arguments are those of :func:`shared.sd_jwt.verify` but ``typ``."""
    return _check_sd_jwt_vc(sd_jwt.verify(text, typ=(DC_TYP, VC_TYP), **kwargs))


# --- VC-JOSE-COSE: VCDM 2.0 secured with SD-JWT ------------------------------------------------


def _vcdm_issuer(doc: dict[str, Any]) -> str:
    issuer = doc.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise MalformedError("a VCDM credential names its issuer (a URL, or an object with an id)")
    return issuer


def _vcdm_types(doc: dict[str, Any]) -> tuple[str, ...]:
    context, types = doc.get("@context"), doc.get("type")
    if not isinstance(context, list) or not context or context[0] != VCDM2_CONTEXT:
        raise MalformedError(f"a VCDM 2.0 credential's @context starts with {VCDM2_CONTEXT}")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or "VerifiableCredential" not in types or not all(isinstance(t, str) for t in types):
        raise MalformedError("a VCDM credential's type includes VerifiableCredential")
    if not isinstance(doc.get("credentialSubject"), (dict, list)):
        raise MalformedError("a VCDM credential has a credentialSubject")
    return tuple(types)


def _xsd_datetime(doc: dict[str, Any], name: str) -> datetime | None:
    value = doc.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise MalformedError(f"{name} is an XML Schema dateTime with a time zone")
    return parsed


def issue_vcdm(
    document: dict[str, Any],
    *,
    disclosable: Iterable[sd_jwt.PathLike],
    signer: Signer,
    holder_key: PublicKey | None,
    now: datetime,
    random_bytes: RandomBytes,
    kid: str | None = None,
    decoys: int = 0,
) -> sd_jwt.SdJwt:
    """Secure a VCDM 2.0 credential with SD-JWT ([VCJC] §3.2): ``typ`` vc+sd-jwt, ``cty`` vc."""
    if not isinstance(document, dict):
        raise MalformedError("a credential is a JSON object")
    _vcdm_types(document)
    _vcdm_issuer(document)
    _xsd_datetime(document, "validFrom")
    _xsd_datetime(document, "validUntil")
    paths = _refuse_paths(disclosable, VCDM_ALWAYS_DISCLOSED, whole="credentialSubject")
    return sd_jwt.issue(
        document,
        disclosable=paths,
        signer=signer,
        holder_key=holder_key,
        now=now,
        random_bytes=random_bytes,
        typ=VC_TYP,
        kid=kid,
        decoys=decoys,
        extra_header={"cty": VC_CTY},
    )


def _check_vcdm(verified: sd_jwt.VerifiedSdJwt, now: datetime) -> VerifiedCredential:
    cty = verified.header.get("cty")
    if cty is not None and (not isinstance(cty, str) or jose.normalize_typ(cty) != VC_CTY):
        raise UnsupportedError("a vc+sd-jwt credential has cty vc", code="unsupported_format")
    _reject_disclosed(verified, VCDM_ALWAYS_DISCLOSED, whole="credentialSubject")
    doc = verified.claims
    types = _vcdm_types(doc)
    issuer = _vcdm_issuer(doc)
    valid_from, valid_until = _xsd_datetime(doc, "validFrom"), _xsd_datetime(doc, "validUntil")
    if valid_from is not None and now < valid_from:
        raise VerificationError(code="not_yet_valid", validFrom=doc["validFrom"])
    if valid_until is not None and now >= valid_until:
        raise VerificationError(code="expired", validUntil=doc["validUntil"])
    status = doc.get("credentialStatus")
    return VerifiedCredential(
        VC_TYP, issuer, types, doc, status if isinstance(status, dict) else None, valid_from, valid_until, verified
    )


def verify_vcdm(text: str, *, now: datetime, **kwargs: Any) -> VerifiedCredential:
    """Verify a VCDM 2.0 credential secured with SD-JWT; keywords as :func:`shared.sd_jwt.verify`."""
    return _check_vcdm(sd_jwt.verify(text, typ=VC_TYP, now=now, **kwargs), now)


def verify_credential(text: str, *, now: datetime, **kwargs: Any) -> VerifiedCredential:
    """Either profile: ``dc+sd-jwt``, or ``vc+sd-jwt`` read as VCDM when the payload has ``@context``
    and as a legacy SD-JWT VC otherwise."""
    verified = sd_jwt.verify(text, typ=(DC_TYP, VC_TYP), now=now, **kwargs)
    if "@context" in verified.payload and jose.normalize_typ(verified.header["typ"]) == VC_TYP:
        return _check_vcdm(verified, now)
    return _check_sd_jwt_vc(verified)


# --- issuer key discovery ([VC] §3.5, §4) --------------------------------------------------------


def metadata_url(iss: str) -> str:
    """Where the JWT VC Issuer Metadata of ``iss`` lives ([VC] §4.1)."""
    parts = urlsplit(iss)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise KeyResolutionError("iss must be an https URL without query or fragment", code="unknown_key")
    return f"https://{parts.netloc}{METADATA_PATH}{parts.path.rstrip('/')}"


def _pick_jwk(jwks: Any, header: dict[str, Any]) -> PublicKey:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or len(keys) > MAX_JWKS or not all(isinstance(k, dict) for k in keys):
        raise KeyResolutionError("the issuer's JWK Set is not valid", code="unknown_key")
    kid = header.get("kid")
    chosen = [k for k in keys if k.get("kid") == kid] if kid is not None else keys
    if len(chosen) != 1:
        raise KeyResolutionError("no single issuer key matches the kid", code="unknown_key")
    jwk = chosen[0]
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", header.get("alg")) != header.get("alg"):
        raise KeyResolutionError("the issuer key is not for this signature algorithm", code="key_mismatch")
    return key_from_jwk(jwk)


def issuer_key_resolver(
    *,
    resolve_method: Callable[[str], VerificationMethod] | None = None,
    fetch_json: FetchJson | None = None,
) -> sd_jwt.ResolveIssuerKey:
    """The ``resolve_issuer_key(header, payload)`` of :func:`shared.sd_jwt.verify` for SD-JWT VCs and
    VCDM credentials: DID URL ``kid`` through ``resolve_method``, https issuers through ``fetch_json``."""

    def resolve(header: dict[str, Any], payload: dict[str, Any]) -> PublicKey:
        iss = payload.get("iss")
        if iss is None and "@context" in payload:
            iss = _vcdm_issuer(payload)
        if iss is not None and not isinstance(iss, str):
            raise MalformedError("iss is a string")
        kid = header.get("kid")
        if isinstance(kid, str) and kid.startswith("did:"):
            did = kid.partition("#")[0]
            if resolve_method is None:
                raise KeyResolutionError("no DID resolver is configured", code="unknown_key")
            if iss is not None and iss != did:
                raise VerificationError("the kid is not a key of the issuer's DID", code="key_mismatch")
            method = resolve_method(kid)
            if method.id != kid or not method.allows("assertionMethod"):
                raise VerificationError("the key is not an assertion method of the issuer", code="key_mismatch")
            return method.public_key
        if iss is not None and iss.startswith("did:"):
            raise KeyResolutionError("a DID issuer names its key with a DID URL kid", code="unknown_key")
        if iss is None or fetch_json is None:
            raise KeyResolutionError("the issuer key cannot be discovered", code="unknown_key")
        metadata = fetch_json(metadata_url(iss))
        if not isinstance(metadata, dict) or metadata.get("issuer") != iss:
            raise VerificationError("the issuer metadata is for another issuer", code="key_mismatch")
        if ("jwks" in metadata) == ("jwks_uri" in metadata):
            raise KeyResolutionError("issuer metadata has exactly one of jwks and jwks_uri", code="unknown_key")
        jwks = metadata.get("jwks")
        if jwks is None:
            uri = metadata["jwks_uri"]
            if not isinstance(uri, str) or urlsplit(uri).scheme != "https":
                raise KeyResolutionError("jwks_uri must be an https URL", code="unknown_key")
            jwks = fetch_json(uri)
        return _pick_jwk(jwks, header)

    return resolve
