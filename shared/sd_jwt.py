"""Selective Disclosure for JWTs — SD-JWT (RFC 9901): issue, present, verify, Key Binding JWT.

One engine for both credential profiles of :mod:`shared.sd_jwt_vc`. Choices, with the sections
they come from:

- Claims are named by *paths*, tuples of object member names (``str``) and array indices (``int``),
  like DCQL claims paths (OpenID4VP §7): ``("address", "street_address")``, ``("nationalities", 0)``;
  a bare string is a top-level claim, and ``None`` in a path means "every element of this array".
  In ``issue(disclosable=...)`` each path becomes one Disclosure; naming a path *and* paths under it
  gives recursive disclosures (§6.3). In ``present(reveal=...)`` a path reveals everything at and
  under it plus the Disclosures its ancestors need to be reachable (§7.2 "nested claims").
- Disclosures (§4.2.1) are ``[salt, name, value]`` / ``[salt, value]`` in JSON with ``", "``
  separators and UTF-8 kept, the form of the RFC's own examples, so the vectors reproduce byte for byte.
  Salts are 128 bits (§9.3) from the injected ``random_bytes`` (one call per issuance, in Disclosure
  creation order: inner claims before the object that holds them).
- Digest order is hidden by sorting the ``_sd`` arrays (§4.2.4.1 allows sorting); decoy digests
  (§4.2.5) are SHA-256 over 128 random bits, up to ``decoys`` per object with disclosable members
  (the count drawn at random too). Array element order cannot be hidden and is kept.
- ``_sd_alg`` is always written and only ``sha-256`` is accepted (§4.1.1, §7.1 step 3).
- Verification (§7.1, §7.3) rejects: an unreferenced Disclosure, a digest seen twice, a Disclosure of
  the wrong shape for its place, reserved names (``_sd``, ``...``, ``_sd_alg``) as claim names, a
  claim name that already exists at its level, an ``exp``/``nbf`` outside ``now`` ± ``leeway``; and for
  the KB-JWT: a missing one when ``require_kb``, ``typ`` other than ``kb+jwt``, an ``alg`` that is not
  the ``cnf`` key's, a bad signature or ``sd_hash`` (``holder_binding_failed``), ``aud``/``nonce``
  other than expected, an ``iat`` older than ``kb_max_age`` or in the future beyond ``leeway``
  (``stale_kb``). Only ``cnf.jwk`` holder keys are supported (§4.1.2 leaves the method open).
- Limits: ``max_bytes`` for the whole text, ``max_disclosures`` Disclosures, and nesting through
  Disclosures capped at :data:`~shared.encoding.MAX_JSON_DEPTH` (``too_large`` / ``too_deep``).
- The JSON serialization (§8) is read by :func:`from_json_serialization`, which gives the equivalent
  compact form (first signature); the KB-JWT's ``sd_hash`` is over that form (§8.1).
- ``now`` is a timezone-aware :class:`~datetime.datetime`, as in :mod:`shared.data_integrity`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from hashlib import sha256
from typing import Any, Final, NamedTuple

from shared import jose
from shared.crypto import PublicKey, RandomBytes, Signer
from shared.encoding import MAX_JSON_DEPTH
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.keys import key_from_jwk, public_jwk

SD_ALG: Final = "sha-256"
KB_TYP: Final = "kb+jwt"
DEFAULT_TYP: Final = "dc+sd-jwt"
ACCEPTED_TYPS: Final = ("dc+sd-jwt", "vc+sd-jwt")
RESERVED: Final = frozenset({"_sd", "...", "_sd_alg"})
MAX_BYTES: Final = 1_000_000
MAX_DISCLOSURES: Final = 1_000
KB_MAX_AGE: Final = 300
LEEWAY: Final = 60

Path = tuple[str | int, ...]
PathLike = str | Sequence[str | int | None]
_ABSENT: Final = object()
ResolveIssuerKey = Callable[[dict[str, Any], dict[str, Any]], PublicKey]

# RFC 9901's generated examples use Python's json.dumps defaults (", " separators, \\u escapes); so do we.
_disclosure_json = json.JSONEncoder(allow_nan=False).encode
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


def epoch(now: datetime) -> int:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise MalformedError("now must be a timezone-aware datetime")
    return int(now.timestamp())


def _digest(text: str) -> str:
    return jose.b64e(sha256(text.encode("ascii")).digest())


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


def _value_json(value: Any) -> str:
    # The same text json.dumps gives, without building an encoder for the common scalar claims.
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    try:
        return _disclosure_json(value)
    except (TypeError, ValueError) as exc:
        raise MalformedError(f"claim value is not JSON: {exc}") from exc


def make_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    head = f"[{_quote(salt)}, " if name is None else f"[{_quote(salt)}, {_quote(name)}, "
    text = jose.b64e((head + _value_json(value) + "]").encode("ascii"))
    return Disclosure(text, _digest(text), salt, name, value)


def parse_disclosure(text: str) -> Disclosure:
    """A Disclosure from its base64url text, checked for shape (§7.1 step 3.2)."""
    value = jose.parse_json(jose.b64d(text, "disclosure"), "disclosure")
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise MalformedError("a Disclosure is [salt, name, value] or [salt, value]")
    if len(value) == 2:
        return Disclosure(text, _digest(text), value[0], None, value[1])
    name = value[1]
    if not isinstance(name, str):
        raise MalformedError("a Disclosure's claim name is a string")
    if name in RESERVED:
        raise _mismatch(f"a Disclosure may not name the reserved claim {name!r}")
    return Disclosure(text, _digest(text), value[0], name, value[2])


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


def process(
    payload: dict[str, Any], disclosures: Sequence[Disclosure], *, max_depth: int = MAX_JSON_DEPTH
) -> tuple[dict[str, Any], tuple[Placed, ...]]:
    """§7.1 steps 3–5: the claims with ``disclosures`` substituted, and where each one landed."""
    alg = payload.get("_sd_alg", SD_ALG)
    if alg != SD_ALG:
        raise UnsupportedError(f"_sd_alg {str(alg)[:32]!r} is not supported", code="unsupported_algorithm")
    by_digest = {d.digest: d for d in disclosures}
    if len(by_digest) != len(disclosures):
        raise _mismatch("a Disclosure is presented twice")
    walker = _Walk(by_digest, max_depth)
    claims = walker.obj(payload, (), None, 0)
    if len(walker.placed) != len(by_digest):
        raise _mismatch("a Disclosure is not referenced by the issuer-signed JWT")
    return claims, tuple(walker.placed)


# --- the SD-JWT -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SdJwt:
    """An SD-JWT (or SD-JWT+KB) as the holder keeps it. ``str()`` gives the compact form (§4)."""

    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]
    header: dict[str, Any] = field(repr=False)
    payload: dict[str, Any] = field(repr=False)
    kb_jwt: str | None = None

    def __str__(self) -> str:
        return "~".join([self.issuer_jwt, *(d.text for d in self.disclosures), self.kb_jwt or ""])

    @cached_property
    def _processed(self) -> tuple[dict[str, Any], tuple[Placed, ...]]:
        return process(self.payload, self.disclosures)

    @property
    def claims(self) -> dict[str, Any]:
        """All claims, every Disclosure applied (the holder's view)."""
        return self._processed[0]

    @property
    def placed(self) -> tuple[Placed, ...]:
        return self._processed[1]

    @property
    def disclosable(self) -> tuple[Path, ...]:
        """The paths the holder may choose to reveal or withhold."""
        return tuple(p.path for p in self._processed[1])


def split(text: str, *, max_bytes: int = MAX_BYTES, max_disclosures: int = MAX_DISCLOSURES) -> list[str]:
    """The ``~``-separated parts of a compact SD-JWT, with size and count caps (§4)."""
    if not isinstance(text, str):
        raise MalformedError("an SD-JWT is a string")
    if len(text) > max_bytes:
        raise MalformedError(f"the SD-JWT is longer than {max_bytes} bytes", code="too_large")
    if text.count("~") > max_disclosures + 1:
        raise MalformedError(f"more than {max_disclosures} Disclosures", code="too_large")
    parts = text.split("~")
    if len(parts) < 2 or not all(parts[:-1]):
        raise MalformedError("an SD-JWT is <JWT>~<Disclosure>~…~[<KB-JWT>]")
    return parts


def parse(text: str, *, max_bytes: int = MAX_BYTES, max_disclosures: int = MAX_DISCLOSURES) -> SdJwt:
    """Read a compact SD-JWT without verifying it (a holder re-reading what it already verified)."""
    parts = split(text, max_bytes=max_bytes, max_disclosures=max_disclosures)
    decoded = jose.decode_unverified(parts[0], max_bytes=max_bytes)
    disclosures = tuple(parse_disclosure(p) for p in parts[1:-1])
    return SdJwt(parts[0], disclosures, decoded.header, decoded.payload, parts[-1] or None)


def from_json_serialization(obj: Any) -> str:
    """The compact form of a flattened or general JWS JSON SD-JWT (§8); first signature for general."""
    if isinstance(obj, str):
        obj = jose.parse_json(obj.encode(), "SD-JWT JSON serialization")
    if not isinstance(obj, dict) or not isinstance(obj.get("payload"), str):
        raise MalformedError("an SD-JWT JSON serialization is an object with a payload")
    sigs = obj.get("signatures")
    sig: Any = obj if sigs is None else (sigs[0] if isinstance(sigs, list) and sigs else None)
    if (
        not isinstance(sig, dict)
        or not isinstance(sig.get("protected"), str)
        or not isinstance(sig.get("signature"), str)
    ):
        raise MalformedError("the JWS JSON serialization has no protected header and signature")
    unprotected = sig.get("header", {})
    disclosures = unprotected.get("disclosures", []) if isinstance(unprotected, dict) else None
    kb = unprotected.get("kb_jwt", "") if isinstance(unprotected, dict) else None
    if not isinstance(disclosures, list) or not all(isinstance(d, str) and d for d in disclosures):
        raise MalformedError("disclosures is an array of strings")
    if not isinstance(kb, str):
        raise MalformedError("kb_jwt is a string")
    return "~".join([f"{sig['protected']}.{obj['payload']}.{sig['signature']}", *disclosures, kb])


# --- issuance (§4, §5) ------------------------------------------------------------------------


def normalize_path(path: PathLike) -> tuple[str | int | None, ...]:
    """A claim path as a tuple; a bare string is a top-level claim."""
    if type(path) is str:
        return (path,)
    items: tuple[Any, ...] = path if type(path) is tuple else tuple(path)
    for i in items:
        kind = type(i)
        if not (kind is str or (kind is int and i >= 0) or i is None):
            raise MalformedError(f"a claim path is a non-empty tuple of names, indices and None: {path!r}")
    if not items:
        raise MalformedError("a claim path is not empty")
    return items


def expand(claims: Any, path: tuple[str | int | None, ...]) -> list[Path]:
    """The concrete paths ``path`` names in ``claims`` (``None`` spans an array); [] if none exist."""
    found: list[Path] = []
    stack: list[tuple[Any, Path, int]] = [(claims, (), 0)]
    while stack:
        node, prefix, i = stack.pop()
        if i == len(path):
            found.append(prefix)
            continue
        step = path[i]
        if step is None:
            if type(node) is list:
                stack.extend((v, (*prefix, n), i + 1) for n, v in enumerate(node))
            continue
        child: Any = _ABSENT
        if type(step) is str and type(node) is dict:
            child = node.get(step, _ABSENT)
        elif type(step) is int and type(node) is list and step < len(node):
            child = node[step]
        if child is not _ABSENT:
            stack.append((child, (*prefix, step), i + 1))
    return found


class _Builder:
    """Turns claims into the issuer-signed payload (§4.2), making Disclosures inner-first."""

    __slots__ = ("decoys", "made", "random_bytes", "salts", "targets", "under")

    def __init__(self, targets: set[Path], random_bytes: RandomBytes, decoys: int) -> None:
        self.targets = targets
        # every proper prefix of a target: only those containers need rebuilding
        self.under = {t[:n] for t in targets for n in range(len(t))}
        pool = random_bytes(16 * len(targets))
        if not isinstance(pool, bytes) or len(pool) != 16 * len(targets):
            raise MalformedError("random_bytes returned the wrong number of bytes")
        self.salts = iter([jose.b64e(pool[i : i + 16]) for i in range(0, len(pool), 16)])
        self.random_bytes = random_bytes
        self.decoys = decoys
        self.made: list[Disclosure] = []

    def build(self, node: Any, path: Path) -> Any:
        if len(path) > MAX_JSON_DEPTH:
            raise MalformedError("claims nested too deeply", code="too_deep")
        if type(node) is dict:
            out: dict[str, Any] = {}
            sd: list[str] = []
            for key, value in node.items():
                if type(key) is not str or key in RESERVED:
                    raise MalformedError(f"{key!r} is not a claim name an SD-JWT can carry")
                here = (*path, key)
                inner = self.build(value, here) if here in self.under else value
                if here in self.targets:
                    made = make_disclosure(next(self.salts), key, inner)
                    self.made.append(made)
                    sd.append(made.digest)
                else:
                    out[key] = inner
            if sd:
                count = self.random_bytes(1)[0] % (self.decoys + 1) if self.decoys else 0
                sd.extend(jose.b64e(sha256(self.random_bytes(16)).digest()) for _ in range(count))
                out["_sd"] = sorted(sd)
            return out
        if type(node) is list:
            items: list[Any] = []
            for n, value in enumerate(node):
                here = (*path, n)
                inner = self.build(value, here) if here in self.under else value
                if here in self.targets:
                    made = make_disclosure(next(self.salts), None, inner)
                    self.made.append(made)
                    items.append({"...": made.digest})
                else:
                    items.append(inner)
            return items
        return node


def _check_names(node: Any, depth: int = 0) -> None:
    """Reserved names anywhere in the claims would be misread by every verifier (§4.2.x)."""
    if depth > MAX_JSON_DEPTH:
        raise MalformedError("claims nested too deeply", code="too_deep")
    if type(node) is dict:
        for key, value in node.items():
            if type(key) is not str or key in RESERVED:
                raise MalformedError(f"{key!r} is not a claim name an SD-JWT can carry")
            if type(value) is dict or type(value) is list:
                _check_names(value, depth + 1)
    elif type(node) is list:
        for value in node:
            if type(value) is dict or type(value) is list:
                _check_names(value, depth + 1)


def issue(
    claims: dict[str, Any],
    *,
    disclosable: Iterable[PathLike],
    signer: Signer,
    holder_key: PublicKey | None = None,
    now: datetime,
    random_bytes: RandomBytes,
    typ: str = DEFAULT_TYP,
    kid: str | None = None,
    decoys: int = 0,
    extra_header: dict[str, Any] | None = None,
) -> SdJwt:
    """Issue an SD-JWT over ``claims`` with each ``disclosable`` path selectively disclosable.

    Adds ``iat`` (from ``now``) unless given, ``cnf.jwk`` for ``holder_key`` and ``_sd_alg``.
    The payload shares the claims' unchanged sub-objects: do not mutate ``claims`` afterwards.
    """
    if type(claims) is not dict:
        raise MalformedError("claims are a JSON object")
    if type(decoys) is not int or not 0 <= decoys <= 255:
        raise MalformedError("decoys is a count from 0 to 255")
    _check_names(claims)
    targets: set[Path] = set()
    for raw in disclosable:
        path = normalize_path(raw)
        node: Any = claims
        if all(type(step) is str for step in path):  # the usual case: names only, no expansion
            for step in path:
                node = node.get(step, _ABSENT) if type(node) is dict else _ABSENT
            found: list[Path] = [path] if node is not _ABSENT else []  # type: ignore[list-item]
        else:
            found = expand(claims, path)
        if not found:
            raise MalformedError(f"disclosable claim {raw!r} is not in the claims", code="missing_claims")
        targets.update(found)
    if len(targets) > MAX_DISCLOSURES:
        raise MalformedError(f"more than {MAX_DISCLOSURES} Disclosures", code="too_large")
    builder = _Builder(targets, random_bytes, decoys)
    payload: dict[str, Any] = builder.build(claims, ())
    payload.setdefault("iat", epoch(now))
    if holder_key is not None:
        if "cnf" in claims:
            raise MalformedError("claims carry cnf and a holder key is given too")
        payload["cnf"] = {"jwk": public_jwk(holder_key)}
    payload["_sd_alg"] = SD_ALG
    header: dict[str, Any] = {"typ": typ, **(extra_header or {})}
    if kid is not None:
        header["kid"] = kid
    jwt = jose.sign_compact(header, payload, signer)
    return SdJwt(jwt, tuple(builder.made), {"alg": signer.alg, **header}, payload)


# --- presentation (§4.3, §7.2) ----------------------------------------------------------------


def _matches(prefix: tuple[str | int | None, ...], path: Path) -> bool:
    if len(prefix) > len(path):
        return False
    return all(p == q or (p is None and type(q) is int) for p, q in zip(prefix, path, strict=False))


def present(
    sd_jwt: SdJwt | str,
    *,
    reveal: Iterable[PathLike],
    holder_signer: Signer | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> str:
    """The SD-JWT revealing exactly ``reveal`` (with what nested claims depend on), plus a KB-JWT
    when ``holder_signer`` is given (then ``audience``, ``nonce`` and ``now`` are required)."""
    sdj = parse(sd_jwt) if isinstance(sd_jwt, str) else sd_jwt
    claims, placed = sdj._processed
    chosen: set[int] = set()
    for raw in reveal:
        path = normalize_path(raw)
        size = len(path)
        if None in path:
            hits = [i for i, p in enumerate(placed) if _matches(path, p.path)]
        else:
            hits = [i for i, p in enumerate(placed) if p.path[:size] == path]
        if not hits and not expand(claims, path):
            raise MalformedError(f"the credential has no claim {raw!r}", code="missing_claims")
        for i in hits:
            at: int | None = i
            while at is not None and at not in chosen:
                chosen.add(at)
                at = placed[at].parent
    texts = [p.disclosure.text for i, p in enumerate(placed) if i in chosen]
    body = "~".join([sdj.issuer_jwt, *texts, ""])
    if holder_signer is None:
        return body
    if audience is None or nonce is None or now is None:
        raise MalformedError("a KB-JWT needs audience, nonce and now")
    cnf = sdj.payload.get("cnf")
    if not isinstance(cnf, dict) or cnf.get("jwk") != public_jwk(holder_signer.public_key):
        raise VerificationError("the holder key is not the credential's cnf key", code="holder_binding_failed")
    kb_payload = {"iat": epoch(now), "aud": audience, "nonce": nonce, "sd_hash": _digest(body)}
    return body + jose.sign_compact({"typ": KB_TYP}, kb_payload, holder_signer)


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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
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
    cnf = payload.get("cnf")
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise VerificationError("the credential names no holder key (cnf.jwk)", code="holder_binding_failed")
    try:
        return key_from_jwk(cnf["jwk"])
    except TesseraError as exc:
        raise VerificationError("the credential's cnf.jwk is not a usable key", code="holder_binding_failed") from exc


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
    disclosures = tuple(parse_disclosure(p) for p in parts[1:-1])
    claims, placed = process(decoded.payload, disclosures)
    check_validity(claims, now_s, leeway)
    kb_jwt = parts[-1]
    if not kb_jwt:
        if require_kb:
            raise VerificationError("a key binding JWT is required", code="holder_binding_failed")
        return VerifiedSdJwt(decoded.header, decoded.payload, claims, disclosures, tuple(p.path for p in placed), key)
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
        decoded.header,
        decoded.payload,
        claims,
        disclosures,
        tuple(p.path for p in placed),
        key,
        holder,
        kb_header,
        kb_payload,
    )
