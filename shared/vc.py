"""W3C Verifiable Credentials Data Model 2.0 (W3C Recommendation, 15 May 2025): structure and validity.

Pure checks on the JSON form of a credential or presentation; no JSON-LD expansion, no network,
no clock (``now`` is passed in). Each failure is a :class:`~shared.errors.MalformedError` with code
``invalid_credential`` or ``invalid_presentation`` and ``detail["field"]`` naming the JSON path;
the validity period raises :class:`~shared.errors.VerificationError` ``not_yet_valid``/``expired``.

Rules, by section of the Recommendation:

- §4.3 Contexts: ``@context`` is the base URL ``https://www.w3.org/ns/credentials/v2`` alone, or an
  array whose first item is that URL and whose other items are URLs or objects. What the contexts
  define is :mod:`shared.vc_context`'s job: it refuses a redefinition of a ``@protected`` term and
  inline term mappings that are not absolute IRIs, where a JSON reader can see a JSON-LD error coming.
- §4.4 Identifiers: ``id`` is one URL. "URL" follows the URL Standard, a little stricter: a scheme,
  no whitespace or control characters, and for http(s)/ws(s)/ftp a host.
- §4.5 Types: ``type`` is a string or a non-empty array of strings, each an absolute URL or a term
  some context defines (:mod:`shared.vc_context`; the final v2 context has no ``@vocab``); it includes
  ``VerifiableCredential`` / ``VerifiablePresentation``. The objects of §4.5's table
  (credentialStatus, credentialSchema, evidence, termsOfUse, refreshService, proof) need a type.
- §4.6 Names and Descriptions: a string, a language value object (``@value``, optional
  ``@language`` and ``@direction`` ltr/rtl, nothing else), or an array of them — on the credential
  and on an issuer object.
- §4.7 Issuer: a URL, or an object whose ``id`` is a URL. §4.8 Credential Subject: an object or
  a non-empty array of objects, each with at least one claim; ``id`` a URL if present.
- §4.9 Validity Period: XML Schema 1.1 ``dateTimeStamp`` (the time zone is mandatory);
  ``validFrom`` ≤ ``validUntil``. Years outside 0001–9999 are refused (Python cannot compare them).
- §4.10 Status (``id`` optional URL), §4.11 Data Schemas (``id`` URL required), §5.3 Integrity of
  Related Resources (``id`` URL and ``digestSRI`` and/or ``digestMultibase``), §5.4 Refreshing,
  §5.5 Terms of Use, §5.6 Evidence.
- §4.13 Verifiable Presentations: ``holder`` a URL or an object with a URL ``id``;
  ``verifiableCredential`` one or more objects (never strings), each a credential checked as above
  or an ``EnvelopedVerifiableCredential`` (§4.13.1: base context, ``data:`` URL ``id``).
  §4.13.4 Holder claims: a credential with no proof of its own inside a presentation that carries
  a proof is self-asserted; its issuer must be the holder (:func:`check_holder_claims`, run by
  :func:`check_presentation` when the presentation has a ``proof``).
- ``@id``/``@type`` keyword forms are refused where the aliases ``id``/``type`` are defined: a
  JSON reader and a JSON-LD reader must see the same identifier.

Choices for the W3C test-suite inputs (tests/vectors/vcdm2-test-suite-inputs): ``*-fail-or-inject``
inputs (no base context) are **refused** by issuer and verifier alike — Tessera never rewrites a
document it is asked to sign. The harness-completed inputs (``issuer`` filled in, dates replaced)
and the ``presentation-self-asserted-*`` files (no suffix: their outcome depends on proofs the
harness adds) are described in tests/core/test_vc.py.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from shared.encoding import multibase_decode
from shared.errors import MalformedError, TesseraError, VerificationError
from shared.vc_context import ContextTerms, apply_context, is_iri

V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
VC_TYPE: Final = "VerifiableCredential"
VP_TYPE: Final = "VerifiablePresentation"
ENVELOPED_VC_TYPE: Final = "EnvelopedVerifiableCredential"

_HOST_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_LANGUAGE: Final = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_SRI: Final = re.compile(r"(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}")
# XML Schema 1.1 Part 2 §3.4.28 dateTimeStamp lexical space, ASCII digits only
_DATETIME: Final = re.compile(
    r"(?P<y>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<mo>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<h>[01][0-9]|2[0-3]):(?P<mi>[0-5][0-9]):(?P<s>[0-5][0-9])(?P<f>\.[0-9]+)?|(?P<end>24:00:00(?:\.0+)?))"
    r"(?P<tz>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_VALUE_KEYS: Final = frozenset({"@value", "@language", "@direction"})


class _Path:
    """Where a check is (a JSON path prefix) and which code its failures carry."""

    def __init__(self, prefix: str, code: str) -> None:
        self.prefix, self.code = prefix, code

    def field(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, message: str) -> NoReturn:
        where = self.field(name) or "document"
        raise MalformedError(f"{where}: {message}", code=self.code, field=where)

    def sub(self, name: str) -> _Path:
        return _Path(self.field(name) + ".", self.code)


# --- values -------------------------------------------------------------------------------------


def is_url(value: Any) -> bool:
    """A URL in the sense of VCDM 2.0 §4.4 (absolute, with a scheme); see the module docstring."""
    if not isinstance(value, str) or not is_iri(value):
        return False
    scheme, _, rest = value.partition(":")
    if not rest:
        return False
    if scheme.lower() in _HOST_SCHEMES:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises on a malformed port
        except ValueError:
            return False
        return rest.startswith("//") and bool(parts.hostname)
    return True


def _object(value: Any, p: _Path, name: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        p.fail(name, f"must be {what} (a JSON object), not {type(value).__name__}")
    return value


def _objects(value: Any, p: _Path, name: str) -> list[dict[str, Any]]:
    """An object or a non-empty array of objects (the "one or more" of the Recommendation)."""
    items = value if isinstance(value, list) else [value]
    if not items:
        p.fail(name, "must not be an empty array")
    return [
        _object(item, p, f"{name}[{i}]" if isinstance(value, list) else name, "an object")
        for i, item in enumerate(items)
    ]


def _url(value: Any, p: _Path, name: str) -> str:
    if isinstance(value, list):
        p.fail(name, "must be a single URL, not an array")
    if not is_url(value):
        p.fail(name, f"must be a URL, got {_show(value)}")
    return str(value)


def _show(value: Any) -> str:
    return repr(value)[:80] if isinstance(value, str) else type(value).__name__


def _types(value: Any, p: _Path, name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(t, str) and t for t in items):
        p.fail(name, "must be a non-empty string or a non-empty array of non-empty strings")
    return tuple(items)


def _no_keyword_forms(obj: dict[str, Any], p: _Path, name: str = "") -> None:
    for key in ("@id", "@type"):
        if key in obj:
            p.fail(f"{name}{key}", f"use {key[1:]!r}, which the base context defines")


def _language_value(value: Any, p: _Path, name: str) -> None:
    if isinstance(value, str):
        return
    obj = _object(value, p, name, "a string or a language value object")
    extra = sorted(set(obj) - _VALUE_KEYS)
    if extra:
        p.fail(name, f"a language value object holds only @value, @language, @direction; found {extra}")
    if not isinstance(obj.get("@value"), str):
        p.fail(f"{name}.@value", "must be a string")
    if "@language" in obj and not (isinstance(obj["@language"], str) and _LANGUAGE.fullmatch(obj["@language"])):
        p.fail(f"{name}.@language", "must be a BCP 47 language tag")
    if "@direction" in obj and obj["@direction"] not in ("ltr", "rtl"):
        p.fail(f"{name}.@direction", "must be 'ltr' or 'rtl'")


def _names(obj: dict[str, Any], p: _Path) -> None:
    for key in ("name", "description"):
        if key in obj:
            values = obj[key] if isinstance(obj[key], list) else [obj[key]]
            if not values:
                p.fail(key, "must not be an empty array")
            for i, item in enumerate(values):
                _language_value(item, p, f"{key}[{i}]" if isinstance(obj[key], list) else key)


# --- §4.3 contexts ------------------------------------------------------------------------------


def _contexts(obj: dict[str, Any], p: _Path) -> tuple[tuple[str, ...], ContextTerms]:
    if "@context" not in obj:
        p.fail("@context", "is required")
    value = obj["@context"]
    items = value if isinstance(value, list) else [value]
    if not items or items[0] != V2_CONTEXT:
        p.fail("@context", f"the first item must be {V2_CONTEXT!r}")
    terms = ContextTerms({}, set())
    for i, item in enumerate(items):
        name = f"@context[{i}]"
        if isinstance(item, str):
            if not is_url(item):
                p.fail(name, f"must be a URL or an object, got {_show(item)}")
        elif not isinstance(item, dict):
            p.fail(name, f"must be a URL or an object, not {type(item).__name__}")
        apply_context(item, terms, p, name, inline=isinstance(item, dict))
    return tuple(i for i in items if isinstance(i, str)), terms


def _top_types(obj: dict[str, Any], terms: ContextTerms, p: _Path, required: str) -> tuple[str, ...]:
    if "type" not in obj:
        p.fail("type", "is required")
    types = _types(obj["type"], p, "type")
    for t in types:
        prefix, sep, _ = t.partition(":")
        known = terms.defined(t) if not sep else (terms.defs.get(prefix) is not None or is_url(t))
        if not known:
            p.fail("type", f"{t!r} is neither an absolute URL nor a term defined by the @context")
    if required not in types:
        p.fail("type", f"must include {required!r}")
    return types


# --- §4 credentials -----------------------------------------------------------------------------


def parse_datetime(value: Any, field: str = "dateTime", *, code: str = "invalid_credential") -> datetime:
    """An XML Schema ``dateTimeStamp`` (VCDM 2.0 §4.9) as an aware datetime in UTC."""
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedError(f"{field}: must be an XML Schema dateTimeStamp with a time zone", code=code, field=field)
    g = match.groupdict()
    try:
        offset = (
            timedelta(0)
            if g["tz"] == "Z"
            else int(g["tz"][0] + "1") * timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6]))
        )
        micro = int((g["f"] or ".0")[1:7].ljust(6, "0"))
        clock = (0, 0, 0, 0) if g["end"] else (int(g["h"]), int(g["mi"]), int(g["s"]), micro)
        stamp = datetime(int(g["y"]), int(g["mo"]), int(g["d"]), *clock, tzinfo=timezone(offset))
        return (stamp + timedelta(days=1 if g["end"] else 0)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedError(
            f"{field}: not a date Tessera can represent (day of month, or a year outside 0001-9999)",
            code=code,
            field=field,
        ) from None


def _validity(obj: dict[str, Any], p: _Path) -> tuple[datetime | None, datetime | None]:
    start = parse_datetime(obj["validFrom"], p.field("validFrom"), code=p.code) if "validFrom" in obj else None
    end = parse_datetime(obj["validUntil"], p.field("validUntil"), code=p.code) if "validUntil" in obj else None
    if start is not None and end is not None and end < start:
        p.fail("validUntil", "is earlier than validFrom")
    return start, end


def _typed_objects(obj: dict[str, Any], key: str, p: _Path, *, id_required: bool = False) -> list[dict[str, Any]]:
    if key not in obj:
        return []
    items = _objects(obj[key], p, key)
    for i, item in enumerate(items):
        name = f"{key}[{i}]" if isinstance(obj[key], list) else key
        if "type" not in item:
            p.fail(f"{name}.type", "is required")
        _types(item["type"], p, f"{name}.type")
        if id_required or "id" in item:
            _url(item.get("id"), p, f"{name}.id")
    return items


def _related(obj: dict[str, Any], p: _Path) -> None:
    if "relatedResource" not in obj:
        return
    for i, item in enumerate(_objects(obj["relatedResource"], p, "relatedResource")):
        name = f"relatedResource[{i}]"
        _url(item.get("id"), p, f"{name}.id")
        if "digestSRI" not in item and "digestMultibase" not in item:
            p.fail(name, "needs digestSRI or digestMultibase")
        if "digestSRI" in item and not (isinstance(item["digestSRI"], str) and _SRI.fullmatch(item["digestSRI"])):
            p.fail(f"{name}.digestSRI", "must be a Subresource Integrity value such as 'sha384-…'")
        if "digestMultibase" in item:
            _multihash(item["digestMultibase"], p, f"{name}.digestMultibase")
        if "mediaType" in item and not isinstance(item["mediaType"], str):
            p.fail(f"{name}.mediaType", "must be a string")


def _multihash(value: Any, p: _Path, name: str) -> None:
    try:
        raw = multibase_decode(value)
    except TesseraError:
        p.fail(name, "must be a multibase-encoded multihash")
    # <varint hash code><varint length><digest>; the codes in use are single-byte varints
    if len(raw) < 3 or raw[0] >= 0x80 or raw[1] != len(raw) - 2:
        p.fail(name, "must be a multibase-encoded multihash")


def _issuer(obj: dict[str, Any], p: _Path) -> str:
    if "issuer" not in obj:
        p.fail("issuer", "is required")
    value = obj["issuer"]
    if isinstance(value, dict):
        _no_keyword_forms(value, p, "issuer.")
        _names(value, p.sub("issuer"))
        return _url(value.get("id"), p, "issuer.id")
    return _url(value, p, "issuer")


def _subjects(obj: dict[str, Any], p: _Path) -> list[dict[str, Any]]:
    if "credentialSubject" not in obj:
        p.fail("credentialSubject", "is required")
    subjects = _objects(obj["credentialSubject"], p, "credentialSubject")
    for i, subject in enumerate(subjects):
        name = f"credentialSubject[{i}]" if isinstance(obj["credentialSubject"], list) else "credentialSubject"
        if not subject:
            p.fail(name, "must hold at least one claim")
        _no_keyword_forms(subject, p, f"{name}.")
        if "id" in subject:
            _url(subject["id"], p, f"{name}.id")
    return subjects


@dataclass(frozen=True)
class CredentialView:
    """The parts of a checked credential that later stages read (copies, not the caller's objects)."""

    types: tuple[str, ...]
    issuer: str
    subjects: tuple[dict[str, Any], ...]
    id: str | None = None
    contexts: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    status: tuple[dict[str, Any], ...] = ()
    has_proof: bool = False

    @property
    def subject_ids(self) -> tuple[str | None, ...]:
        return tuple(s.get("id") for s in self.subjects)


def _credential(doc: Any, p: _Path) -> CredentialView:
    obj = _object(doc, p, "", "a credential")
    contexts, terms = _contexts(obj, p)
    _no_keyword_forms(obj, p)
    cid = _url(obj["id"], p, "id") if "id" in obj else None
    types = _top_types(obj, terms, p, VC_TYPE)
    issuer = _issuer(obj, p)
    subjects = _subjects(obj, p)
    _names(obj, p)
    start, end = _validity(obj, p)
    status = _typed_objects(obj, "credentialStatus", p)
    _typed_objects(obj, "credentialSchema", p, id_required=True)
    for key in ("evidence", "termsOfUse", "refreshService", "proof"):
        _typed_objects(obj, key, p)
    _related(obj, p)
    return CredentialView(
        types,
        issuer,
        copy.deepcopy(tuple(subjects)),
        cid,
        contexts,
        start,
        end,
        copy.deepcopy(tuple(status)),
        "proof" in obj,
    )


def check_credential(doc: Any) -> None:
    """Raise ``invalid_credential`` unless ``doc`` follows VCDM 2.0 §4 (see the module docstring)."""
    _credential(doc, _Path("", "invalid_credential"))


def parse_credential(doc: Any) -> CredentialView:
    """:func:`check_credential`, then the view later stages read."""
    return _credential(doc, _Path("", "invalid_credential"))


def check_validity_period(doc: Any, now: datetime, *, leeway: timedelta = timedelta(0)) -> None:
    """VCDM 2.0 §4.9 against ``now`` (aware): ``not_yet_valid`` before validFrom, ``expired`` after validUntil.

    ``leeway`` tolerates clock skew between issuer, holder and verifier in both directions.
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise MalformedError("now must be a timezone-aware datetime")
    obj = _object(doc, _Path("", "invalid_credential"), "", "a credential")
    start, end = _validity(obj, _Path("", "invalid_credential"))
    if start is not None and now + leeway < start:
        raise VerificationError(code="not_yet_valid", valid_from=start.isoformat(), now=now.isoformat())
    if end is not None and now - leeway > end:
        raise VerificationError(code="expired", valid_until=end.isoformat(), now=now.isoformat())


# --- §4.13 presentations ------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentationView:
    types: tuple[str, ...]
    holder: str | None = None
    id: str | None = None
    credentials: tuple[CredentialView, ...] = ()
    enveloped: tuple[str, ...] = ()  # the data: URLs of enveloped credentials, still to be verified


def _envelope(item: dict[str, Any], p: _Path) -> str:
    _contexts(item, p)
    value = item.get("id")
    if not (is_url(value) and str(value).startswith("data:") and "," in str(value)):
        p.fail("id", "an enveloped credential's id must be a data: URL")
    return str(value)


def _holder(obj: dict[str, Any], p: _Path) -> str | None:
    if "holder" not in obj:
        return None
    value = obj["holder"]
    if isinstance(value, dict):
        _no_keyword_forms(value, p, "holder.")
        return _url(value.get("id"), p, "holder.id")
    return _url(value, p, "holder")


def _presentation(doc: Any, *, holder_claims: bool = False) -> PresentationView:
    p = _Path("", "invalid_presentation")
    obj = _object(doc, p, "", "a presentation")
    _, terms = _contexts(obj, p)
    _no_keyword_forms(obj, p)
    pid = _url(obj["id"], p, "id") if "id" in obj else None
    types = _top_types(obj, terms, p, VP_TYPE)
    holder = _holder(obj, p)
    credentials: list[CredentialView] = []
    enveloped: list[str] = []
    value = obj.get("verifiableCredential")
    for i, item in enumerate(_objects(value, p, "verifiableCredential") if "verifiableCredential" in obj else []):
        name = f"verifiableCredential[{i}]" if isinstance(value, list) else "verifiableCredential"
        kind = item.get("type")
        if kind == ENVELOPED_VC_TYPE or (isinstance(kind, list) and ENVELOPED_VC_TYPE in kind):
            enveloped.append(_envelope(item, p.sub(name)))
            continue
        credential = _credential(item, _Path(f"{name}.", "invalid_credential"))
        # §4.13.4: with no proof of its own, only the holder's proof vouches for the credential
        if (holder_claims or "proof" in obj) and not credential.has_proof and credential.issuer != holder:
            p.fail(
                f"{name}.issuer",
                "a credential without its own proof is the holder's claim: its issuer must be the holder",
            )
        credentials.append(credential)
    _typed_objects(obj, "proof", p)
    return PresentationView(types, holder, pid, tuple(credentials), tuple(enveloped))


def check_presentation(doc: Any) -> None:
    """Raise ``invalid_presentation`` (or ``invalid_credential`` for an embedded one) unless ``doc``
    follows VCDM 2.0 §4.13; holder claims are checked when the presentation carries a proof."""
    _presentation(doc)


def parse_presentation(doc: Any) -> PresentationView:
    return _presentation(doc)


def check_holder_claims(doc: Any) -> None:
    """VCDM 2.0 §4.13.4 for a presentation secured by its holder (with a proof, or to be signed):
    every embedded credential without its own proof must have the holder as its issuer."""
    _presentation(doc, holder_claims=True)
