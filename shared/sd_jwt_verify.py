"""Reading and verifying SD-JWTs (RFC 9901 §7): Disclosures, processing, the Key Binding JWT, ``verify``.

The lower half of the SD-JWT engine: :mod:`shared.sd_jwt` (issue, present, the holder's
:class:`~shared.sd_jwt.SdJwt`) builds on it and re-exports every public name here, so
``sd_jwt.verify`` and friends keep working. Choices, with the sections they come from:

- Only ``_sd_alg`` ``sha-256`` is accepted (§4.1.1, §7.1 step 3); an absent ``_sd_alg`` means it.
- Verification (§7.1, §7.3) rejects: an unreferenced Disclosure, a digest seen twice, a Disclosure of
  the wrong shape for its place, reserved names (``_sd``, ``...``, ``_sd_alg``) as claim names, a
  claim name that already exists at its level, an ``exp``/``nbf`` outside ``now`` ± ``leeway``; and for
  the KB-JWT: a missing one when ``require_kb``, ``typ`` other than ``kb+jwt``, an ``alg`` that is not
  the ``cnf`` key's, a bad signature or ``sd_hash`` (``holder_binding_failed``), ``aud``/``nonce``
  other than expected, an ``iat`` older than ``kb_max_age`` or in the future beyond ``leeway``
  (``stale_kb``). Only ``cnf.jwk`` holder keys are supported (§4.1.2 leaves the method open).
- Limits: ``max_bytes`` for the whole text, ``max_disclosures`` Disclosures, and nesting through
  Disclosures capped at :data:`~shared.encoding.MAX_JSON_DEPTH` (``too_large`` / ``too_deep``).
- Holder keys built from ``cnf.jwk`` are memoized (:data:`_HOLDER_KEYS`): building one costs as much as
  the rest of the KB-JWT checks. Only immutable public-key objects are kept, at most 256 (the memo is
  emptied when full); single dict operations are atomic under CPython's GIL, so concurrent threads at
  worst rebuild a key. Every other check runs on every call.
- ``now`` is a timezone-aware :class:`~datetime.datetime`, as in :mod:`shared.data_integrity`.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any, Final, NamedTuple

from shared import jose
from shared.crypto import PublicKey
from shared.encoding import MAX_JSON_DEPTH
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.keys import key_from_jwk

__all__ = [
    "ACCEPTED_TYPS",
    "KB_MAX_AGE",
    "KB_TYP",
    "LEEWAY",
    "MAX_BYTES",
    "MAX_DISCLOSURES",
    "RESERVED",
    "SD_ALG",
    "Disclosure",
    "Path",
    "Placed",
    "ResolveIssuerKey",
    "VerifiedSdJwt",
    "check_sd_alg",
    "check_validity",
    "digest_of",
    "disclosure_parts",
    "epoch",
    "holder_key_of",
    "parse_disclosure",
    "process",
    "read_disclosure",
    "split",
    "verify",
    "verify_kb",
]

SD_ALG: Final = "sha-256"
KB_TYP: Final = "kb+jwt"
ACCEPTED_TYPS: Final = ("dc+sd-jwt", "vc+sd-jwt")
RESERVED: Final = frozenset({"_sd", "...", "_sd_alg"})
MAX_BYTES: Final = 1_000_000
MAX_DISCLOSURES: Final = 1_000
KB_MAX_AGE: Final = 300
LEEWAY: Final = 60

Path = tuple[str | int, ...]
ResolveIssuerKey = Callable[[dict[str, Any], dict[str, Any]], PublicKey]

_b2a = binascii.b2a_base64
_TO_URL: Final = bytes.maketrans(b"+/", b"-_")
_HOLDER_KEYS: dict[tuple[Any, ...], PublicKey] = {}


def epoch(now: datetime) -> int:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise MalformedError("now must be a timezone-aware datetime")
    return int(now.timestamp())


def digest_of(data: bytes) -> str:
    """base64url(SHA-256(data)) (§4.2.3): 43 characters, the padding ``=`` cut off."""
    return _b2a(sha256(data).digest(), newline=False)[:43].translate(_TO_URL).decode("ascii")


def _digest(text: str) -> str:
    return _b2a(sha256(text.encode("ascii")).digest(), newline=False)[:43].translate(_TO_URL).decode("ascii")


def _mismatch(message: str) -> VerificationError:
    return VerificationError(message, code="disclosure_mismatch")


# --- Disclosures ------------------------------------------------------------------------------


class Disclosure(NamedTuple):
    """One Disclosure (§4.2.1). ``name`` is None for an array element. (A NamedTuple: immutable,
    and cheaper to build than a frozen dataclass on the verification hot path.)"""

    text: str
    digest: str
    salt: str
    name: str | None
    value: Any


def disclosure_parts(value: Any) -> tuple[str, str | None, Any]:
    """(salt, name, value) of a parsed Disclosure, checked for shape (§7.1 step 3.2); name None for
    an array element."""
    if type(value) is not list or not 2 <= len(value) <= 3 or type(value[0]) is not str:
        raise MalformedError("a Disclosure is [salt, name, value] or [salt, value]")
    if len(value) == 2:
        return value[0], None, value[1]
    name = value[1]
    if type(name) is not str:
        raise MalformedError("a Disclosure's claim name is a string")
    if name in RESERVED:
        raise _mismatch(f"a Disclosure may not name the reserved claim {name!r}")
    return value[0], name, value[2]


def read_disclosure(text: str) -> tuple[str, str | None, Any]:
    """(salt, name, value) of a Disclosure's base64url text, read strictly, its digest not taken."""
    return disclosure_parts(jose.parse_json(jose.b64d(text, "disclosure"), "disclosure"))


def parse_disclosure(text: str) -> Disclosure:
    """A Disclosure from its base64url text, checked for shape (§7.1 step 3.2)."""
    salt, name, value = read_disclosure(text)
    return Disclosure(text, _digest(text), salt, name, value)


# --- processing (§7.1): shared by verify and by the holder's view ------------------------------


class Placed(NamedTuple):
    """Where a Disclosure landed in the processed claims, and which Disclosure (index) encloses it."""

    disclosure: Disclosure
    path: Path
    parent: int | None


class _Walk:
    __slots__ = ("by_digest", "max_depth", "placed", "seen")

    def __init__(self, by_digest: dict[str, Disclosure], max_depth: int) -> None:
        self.by_digest = by_digest
        self.max_depth = max_depth
        self.seen: set[str] = set()
        self.placed: list[Placed] = []

    def digest(self, value: Any) -> Disclosure | None:
        if type(value) is not str:
            raise MalformedError("a digest is a string")
        if value in self.seen:
            raise _mismatch("a digest appears more than once")
        self.seen.add(value)
        return self.by_digest.get(value)

    def digests(self, values: list[Any]) -> list[Disclosure]:
        """The Disclosures an ``_sd`` array names, in order; every digest counted as seen."""
        seen, before = self.seen, len(self.seen)
        for value in values:
            if type(value) is not str:
                raise MalformedError("a digest is a string")
        seen.update(values)
        if len(seen) != before + len(values):
            raise _mismatch("a digest appears more than once")
        by_digest = self.by_digest
        return [by_digest[v] for v in values if v in by_digest]

    def walk(self, node: Any, path: Path, parent: int | None, depth: int) -> Any:
        if depth > self.max_depth:
            raise MalformedError(f"claims nested deeper than {self.max_depth} levels", code="too_deep")
        kind = type(node)
        if kind is dict:
            return self.obj(node, path, parent, depth)
        if kind is list:
            return self.arr(node, path, parent, depth)
        return node

    def place(self, disclosure: Disclosure, path: Path, parent: int | None, depth: int) -> Any:
        self.placed.append(Placed(disclosure, path, parent))
        return self.walk(disclosure.value, path, len(self.placed) - 1, depth + 1)

    def obj(self, node: dict[str, Any], path: Path, parent: int | None, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in RESERVED:
                if key == "_sd" or (key == "_sd_alg" and depth == 0):
                    continue
                raise MalformedError(f"the reserved name {key!r} is out of place")
            kind = type(value)
            out[key] = self.walk(value, (*path, key), parent, depth + 1) if kind is dict or kind is list else value
        digests = node.get("_sd")
        if digests is None:
            return out
        if type(digests) is not list:
            raise MalformedError("_sd is an array of digests")
        for found in self.digests(digests):  # decoys and withheld claims are skipped
            if found.name is None:
                raise _mismatch("an array-element Disclosure is referenced from an object")
            if found.name in out:
                raise _mismatch(f"claim {found.name!r} is disclosed where it already exists")
            out[found.name] = self.place(found, (*path, found.name), parent, depth)
        return out

    def arr(self, node: list[Any], path: Path, parent: int | None, depth: int) -> list[Any]:
        out: list[Any] = []
        for item in node:
            if type(item) is dict and "..." in item:
                if len(item) != 1:
                    raise MalformedError("an array-element digest object has only the '...' member")
                found = self.digest(item["..."])
                if found is None:
                    continue
                if found.name is not None:
                    raise _mismatch("an object-property Disclosure is referenced from an array")
                out.append(self.place(found, (*path, len(out)), parent, depth))
            else:
                out.append(self.walk(item, (*path, len(out)), parent, depth + 1))
        return out


def check_sd_alg(payload: dict[str, Any]) -> None:
    alg = payload.get("_sd_alg", SD_ALG)
    if alg != SD_ALG:
        raise UnsupportedError(f"_sd_alg {str(alg)[:32]!r} is not supported", code="unsupported_algorithm")


def process(
    payload: dict[str, Any], disclosures: Sequence[Disclosure], *, max_depth: int = MAX_JSON_DEPTH
) -> tuple[dict[str, Any], tuple[Placed, ...]]:
    """§7.1 steps 3–5: the claims with ``disclosures`` substituted, and where each one landed."""
    check_sd_alg(payload)
    by_digest = {d.digest: d for d in disclosures}
    if len(by_digest) != len(disclosures):
        raise _mismatch("a Disclosure is presented twice")
    walker = _Walk(by_digest, max_depth)
    claims = walker.obj(payload, (), None, 0)
    if len(walker.placed) != len(by_digest):
        raise _mismatch("a Disclosure is not referenced by the issuer-signed JWT")
    return claims, tuple(walker.placed)


def split(text: str, *, max_bytes: int = MAX_BYTES, max_disclosures: int = MAX_DISCLOSURES) -> list[str]:
    """The ``~``-separated parts of a compact SD-JWT, with size and count caps (§4)."""
    if not isinstance(text, str):
        raise MalformedError("an SD-JWT is a string")
    if len(text) > max_bytes:
        raise MalformedError(f"the SD-JWT is longer than {max_bytes} bytes", code="too_large")
    parts = text.split("~", max_disclosures + 2)
    if len(parts) > max_disclosures + 2:
        raise MalformedError(f"more than {max_disclosures} Disclosures", code="too_large")
    if len(parts) < 2 or "" in parts[:-1]:
        raise MalformedError("an SD-JWT is <JWT>~<Disclosure>~…~[<KB-JWT>]")
    return parts


# --- verification (§7.1, §7.3) ----------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedSdJwt:
    """What a verified SD-JWT says: ``claims`` is the processed payload (§7.1 step 5)."""

    header: dict[str, Any]
    payload: dict[str, Any]
    claims: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    disclosed: tuple[Path, ...]
    issuer_key: PublicKey
    holder_key: PublicKey | None = None
    kb_header: dict[str, Any] | None = None
    kb_payload: dict[str, Any] | None = None

    @property
    def key_bound(self) -> bool:
        return self.kb_payload is not None


def _numeric(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    kind = type(value)
    if kind is not int and kind is not float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise MalformedError(f"{name} is a NumericDate")
    return float(value)


def check_validity(claims: dict[str, Any], now_s: int, leeway: int = LEEWAY) -> None:
    """``exp`` and ``nbf`` (RFC 7519 §4.1.4–5), with ``leeway`` seconds of clock skew."""
    exp, nbf = _numeric(claims, "exp"), _numeric(claims, "nbf")
    if exp is not None and now_s >= exp + leeway:
        raise VerificationError(code="expired", exp=exp)
    if nbf is not None and now_s + leeway < nbf:
        raise VerificationError(code="not_yet_valid", nbf=nbf)


def holder_key_of(payload: dict[str, Any]) -> PublicKey:
    """The ``cnf.jwk`` holder key (§4.1.2), memoized by its members (see the module docstring)."""
    cnf = payload.get("cnf")
    if type(cnf) is not dict or "jwk" not in cnf:
        raise VerificationError("the credential names no holder key (cnf.jwk)", code="holder_binding_failed")
    jwk = cnf["jwk"]
    memo = None
    if type(jwk) is dict:
        memo = (jwk.get("kty"), jwk.get("crv"), jwk.get("x"), jwk.get("y"))
        if all(type(v) is str or v is None for v in memo):
            key = _HOLDER_KEYS.get(memo)
            if key is not None:
                return key
        else:
            memo = None
    try:
        key = key_from_jwk(jwk)
    except TesseraError as exc:
        raise VerificationError("the credential's cnf.jwk is not a usable key", code="holder_binding_failed") from exc
    if memo is not None:
        if len(_HOLDER_KEYS) >= 256:
            _HOLDER_KEYS.clear()
        _HOLDER_KEYS[memo] = key
    return key


def verify_kb(
    kb_jwt: str,
    presented: str,
    payload: dict[str, Any],
    *,
    now_s: int,
    audience: str | None,
    nonce: str | None,
    kb_max_age: int = KB_MAX_AGE,
    leeway: int = LEEWAY,
) -> tuple[PublicKey, dict[str, Any], dict[str, Any]]:
    """§7.3 step 5: the KB-JWT over ``presented`` (everything before it), signed by ``cnf``."""
    holder = holder_key_of(payload)
    decoded = jose.decode_unverified(kb_jwt, max_bytes=16_384)
    try:
        jose.verify_decoded(decoded, key=holder, typ=KB_TYP)
    except VerificationError as exc:
        raise VerificationError("the KB-JWT is not signed by the holder key", code="holder_binding_failed") from exc
    kb = decoded.payload
    iat = _numeric(kb, "iat")
    if iat is None:
        raise MalformedError("the KB-JWT has no iat")
    if iat < now_s - kb_max_age or iat > now_s + leeway:
        raise VerificationError(code="stale_kb", iat=iat)
    aud = kb.get("aud")
    if audience is not None and not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise VerificationError(code="audience_mismatch")
    if nonce is not None and kb.get("nonce") != nonce:
        raise VerificationError(code="nonce_mismatch")
    if kb.get("sd_hash") != _digest(presented):
        raise VerificationError("the KB-JWT's sd_hash is for another presentation", code="holder_binding_failed")
    return holder, decoded.header, kb


def verify(
    text: str,
    *,
    resolve_issuer_key: ResolveIssuerKey,
    now: datetime,
    audience: str | None = None,
    nonce: str | None = None,
    require_kb: bool = False,
    typ: str | Collection[str] = ACCEPTED_TYPS,
    kb_max_age: int = KB_MAX_AGE,
    leeway: int = LEEWAY,
    max_bytes: int = MAX_BYTES,
    max_disclosures: int = MAX_DISCLOSURES,
) -> VerifiedSdJwt:
    """Verify an SD-JWT or SD-JWT+KB (§7.1, §7.3); raises a :class:`TesseraError` on any failure.

    ``resolve_issuer_key(header, payload)`` returns the trusted issuer key (it may raise). With
    ``require_kb``, a KB-JWT must be present and ``audience`` and ``nonce`` must be given.
    """
    if require_kb and (audience is None or nonce is None):
        raise ValueError("require_kb needs the expected audience and nonce")
    now_s = epoch(now)
    parts = split(text, max_bytes=max_bytes, max_disclosures=max_disclosures)
    decoded = jose.decode_unverified(parts[0], max_bytes=max_bytes)
    key = resolve_issuer_key(decoded.header, decoded.payload)
    jose.verify_decoded(decoded, key=key, typ=typ)
    disclosures = tuple([parse_disclosure(p) for p in parts[1:-1]])
    claims, placed = process(decoded.payload, disclosures)
    check_validity(claims, now_s, leeway)
    kb_jwt = parts[-1]
    disclosed = tuple([p.path for p in placed])
    if not kb_jwt:
        if require_kb:
            raise VerificationError("a key binding JWT is required", code="holder_binding_failed")
        return VerifiedSdJwt(decoded.header, decoded.payload, claims, disclosures, disclosed, key)
    holder, kb_header, kb_payload = verify_kb(
        kb_jwt,
        text[: len(text) - len(kb_jwt)],
        decoded.payload,
        now_s=now_s,
        audience=audience,
        nonce=nonce,
        kb_max_age=kb_max_age,
        leeway=leeway,
    )
    return VerifiedSdJwt(
        decoded.header, decoded.payload, claims, disclosures, disclosed, key, holder, kb_header, kb_payload
    )
