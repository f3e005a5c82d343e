"""Selective Disclosure for JWTs — SD-JWT (RFC 9901): issue, present, and the holder's view.

One engine for both credential profiles of :mod:`shared.sd_jwt_vc`. Reading and verifying (Disclosure
parsing, §7.1 processing, the KB-JWT checks, :func:`verify`) live in :mod:`shared.sd_jwt_verify`; every
public name there is re-exported here, so ``sd_jwt.verify`` is the one entry point. Choices, with the
sections they come from:

- Claims are named by *paths*, tuples of object member names (``str``) and array indices (``int``),
  like DCQL claims paths (OpenID4VP §7): ``("address", "street_address")``, ``("nationalities", 0)``;
  a bare string is a top-level claim, and ``None`` in a path means "every element of this array".
  In ``issue(disclosable=...)`` each path becomes one Disclosure; naming a path *and* paths under it
  gives recursive disclosures (§6.3). In ``present(reveal=...)`` a path reveals everything at and
  under it plus the Disclosures its ancestors need to be reachable (§7.2 "nested claims").
- Disclosures (§4.2.1) are ``[salt, name, value]`` / ``[salt, value]`` in JSON with ``", "``
  separators and non-ASCII escaped as ``\\uXXXX`` — Python's ``json.dumps`` defaults, the form of the
  RFC's own examples, so the vectors reproduce byte for byte. Salts are 128 bits (§9.3) from the
  injected ``random_bytes`` (one call per issuance, in Disclosure creation order: inner claims first).
- Digest order is hidden by sorting the ``_sd`` arrays (§4.2.4.1 allows sorting); decoy digests
  (§4.2.5) are SHA-256 over 128 random bits, up to ``decoys`` per object with disclosable members
  (the count drawn at random too). Array element order cannot be hidden and is kept.
- ``_sd_alg`` is always written (§4.1.1).
- A presentation lists its Disclosures in processing order (§7.1: the payload's members first, then
  each ``_sd`` array in its sorted order, a Disclosure before the ones inside it), which says nothing
  about the order of issuance. :func:`present` on a *text* follows only the chosen paths when they are
  member names (:mod:`shared.sd_jwt_select`, which also makes the KB-JWT); the issuer JWT and every
  Disclosure are still read strictly.
- The JSON serialization (§8) is read by :func:`from_json_serialization`, which gives the equivalent
  compact form (first signature); the KB-JWT's ``sd_hash`` is over that form (§8.1).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from hashlib import sha256
from typing import Any, Final, TypeAlias, cast

from shared import jose, sd_jwt_select
from shared.crypto import PublicKey, RandomBytes, Signer
from shared.encoding import MAX_JSON_DEPTH
from shared.errors import MalformedError
from shared.keys import public_jwk
from shared.sd_jwt_select import *  # noqa: F403  (re-exported)
from shared.sd_jwt_select import check_holder, choose, expand, key_binding_jwt, normalize_path, select
from shared.sd_jwt_verify import *  # noqa: F403  (re-exported: sd_jwt is the engine's one public face)
from shared.sd_jwt_verify import (
    MAX_BYTES,
    MAX_DISCLOSURES,
    RESERVED,
    SD_ALG,
    Disclosure,
    Path,
    Placed,
    digest_of,
    epoch,
    parse_disclosure,
    process,
    split,
)

DEFAULT_TYP: Final = "dc+sd-jwt"
PathLike: TypeAlias = sd_jwt_select.PathLike
_STR_ONLY: Final = frozenset({str})
_CONTAINERS: Final = frozenset({dict, list})

# RFC 9901's generated examples use Python's json.dumps defaults (", " separators, \\u escapes); so do we.
# The C encoder json.dumps builds on every call, built once: without a markers dict it keeps no state
# between calls, and a circular value ends in RecursionError (caught) instead of ValueError.
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_disclosure_encoder: Any = jose._make_encoder(
    None, json.JSONEncoder().default, _quote, None, ": ", ", ", False, False, False
)
_b2a = binascii.b2a_base64
_TO_URL: Final = bytes.maketrans(b"+/", b"-_")


# --- Disclosures ------------------------------------------------------------------------------


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
        return "".join(_disclosure_encoder(value, 0))
    except (TypeError, ValueError, RecursionError) as exc:
        raise MalformedError(f"claim value is not JSON: {exc}") from exc


def make_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    head = f"[{_quote(salt)}, " if name is None else f"[{_quote(salt)}, {_quote(name)}, "
    encoded = _b2a((head + _value_json(value) + "]").encode("ascii"), newline=False).translate(_TO_URL).rstrip(b"=")
    return Disclosure(encoded.decode("ascii"), digest_of(encoded), salt, name, value)


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

    @cached_property
    def _under(self) -> dict[Path, list[int]]:
        """Each path prefix → the placed Disclosures at or under it, in processing order."""
        index: dict[Path, list[int]] = {}
        for i, placed in enumerate(self._processed[1]):
            path = placed.path
            for n in range(1, len(path) + 1):
                index.setdefault(path[:n], []).append(i)
        return index

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


def parse(text: str, *, max_bytes: int = MAX_BYTES, max_disclosures: int = MAX_DISCLOSURES) -> SdJwt:
    """Read a compact SD-JWT without verifying it (a holder re-reading what it already verified)."""
    parts = split(text, max_bytes=max_bytes, max_disclosures=max_disclosures)
    decoded = jose.decode_unverified(parts[0], max_bytes=max_bytes)
    disclosures = tuple([parse_disclosure(p) for p in parts[1:-1]])
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


_new_disclosure = tuple.__new__  # Disclosure(...) without the Python-level __new__ of a NamedTuple
_Todo: TypeAlias = list[tuple[int, str, str | None, Any]]  # (slot in made, salt, name, value)


class _Builder:
    """Turns claims into the issuer-signed payload (§4.2), making Disclosures inner-first.

    ``targets[p]`` and ``under[p]`` are the member names / indices of the container at ``p`` that
    become Disclosures / hold targets deeper down, so untouched members cost one set lookup. Member
    names were checked by :func:`_check_names` before. The Disclosures of one object or array are
    encoded and hashed together (:meth:`disclose`); each keeps its place in ``made`` and its salt."""

    __slots__ = ("decoys", "made", "random_bytes", "salts", "targets", "under")

    def __init__(self, targets: dict[Path, set[str | int]], count: int, random_bytes: RandomBytes, decoys: int) -> None:
        self.targets = targets
        self.under: dict[Path, set[str | int]] = {}
        for parent in targets:
            for n in range(len(parent)):
                self.under.setdefault(parent[:n], set()).add(parent[n])
        pool = random_bytes(16 * count)
        if not isinstance(pool, bytes) or len(pool) != 16 * count:
            raise MalformedError("random_bytes returned the wrong number of bytes")
        # 16 bytes are 22 base64url characters (§9.3: 128-bit salts). Two NULs after each make 18
        # bytes, whole 3-byte groups, so one encoding serves all and each salt's 22 characters are
        # those its own encoding gives (the last one's spare bits are zero either way).
        spaced = b"\0\0".join([pool[i : i + 16] for i in range(0, len(pool), 16)])
        text = _b2a(spaced, newline=False).translate(_TO_URL).decode("ascii")
        self.salts = iter([text[i : i + 22] for i in range(0, len(text), 24)])
        self.random_bytes = random_bytes
        self.decoys = decoys
        self.made: list[Any] = []  # Disclosures in creation order; a slot is None until filled

    def disclose(self, todo: _Todo) -> list[str]:
        """Make the Disclosures ``todo`` lists into their slots of ``made``; return their digests.

        Encoding, the "=" and "+/" fixes and the digests' encoding are done once for all of them."""
        jsons = [
            (f'["{salt}", ' if name is None else f'["{salt}", {_quote(name)}, ')  # salts need no escaping
            + (_quote(value) if type(value) is str else _value_json(value))
            + "]"
            for _, salt, name, value in todo
        ]
        # b2a_base64 ends each encoding with "\n"; one translate makes them all base64url, less "="
        encoded = b"".join([_b2a(j.encode("ascii")) for j in jsons]).translate(_TO_URL, b"=")
        texts = encoded.decode("ascii").split("\n")
        # the digests are over the base64url texts; 32 digest bytes and a NUL are 44 characters, the
        # first 43 of them the digest's own encoding
        raw = b"\0".join([sha256(blob).digest() for blob in encoded.split(b"\n")[:-1]])
        digests = _b2a(raw + b"\0", newline=False).translate(_TO_URL).decode("ascii")
        out = [digests[i : i + 43] for i in range(0, len(digests), 44)]
        made = self.made
        for (slot, salt, name, value), text, digest in zip(todo, texts, out, strict=False):
            made[slot] = _new_disclosure(Disclosure, (text, digest, salt, name, value))
        return out

    def build(self, node: Any, path: Path) -> Any:
        if len(path) > MAX_JSON_DEPTH:
            raise MalformedError("claims nested too deeply", code="too_deep")
        targets, under = self.targets.get(path, ()), self.under.get(path, ())
        made, salts = self.made, self.salts
        todo: _Todo = []
        if type(node) is dict:
            out: dict[str, Any] = {}
            for key, value in node.items():
                inner = self.build(value, (*path, key)) if key in under else value
                if key in targets:
                    todo.append((len(made), next(salts), key, inner))
                    made.append(None)
                else:
                    out[key] = inner
            if todo:
                sd = self.disclose(todo)
                count = self.random_bytes(1)[0] % (self.decoys + 1) if self.decoys else 0
                sd.extend(digest_of(self.random_bytes(16)) for _ in range(count))
                sd.sort()
                out["_sd"] = sd
            return out
        if type(node) is list:
            items: list[Any] = []
            spots: list[int] = []
            for n, value in enumerate(node):
                inner = self.build(value, (*path, n)) if n in under else value
                if n in targets:
                    todo.append((len(made), next(salts), None, inner))
                    made.append(None)
                    spots.append(n)
                items.append(inner)
            if todo:
                for n, digest in zip(spots, self.disclose(todo), strict=True):
                    items[n] = {"...": digest}
            return items
        return node


def _check_names(node: Any, depth: int = 0) -> None:
    """Reserved names anywhere in the claims would be misread by every verifier (§4.2.x)."""
    if depth > MAX_JSON_DEPTH:
        raise MalformedError("claims nested too deeply", code="too_deep")
    if type(node) is dict:
        if not RESERVED.isdisjoint(node) or not _STR_ONLY.issuperset(map(type, node)):
            bad = next(k for k in node if type(k) is not str or k in RESERVED)
            raise MalformedError(f"{bad!r} is not a claim name an SD-JWT can carry")
        values: Iterable[Any] = node.values()
    elif type(node) is list:
        values = node
    else:
        return
    if _CONTAINERS.isdisjoint(map(type, values)):  # all leaves: nothing deeper to look at
        return
    for value in values:
        if type(value) is dict or type(value) is list:
            _check_names(value, depth + 1)


def _targets(claims: dict[str, Any], disclosable: Iterable[PathLike]) -> tuple[dict[Path, set[str | int]], int]:
    """Container path → the members there that become Disclosures; and how many Disclosures in all."""
    paths = list(disclosable)
    flat = [raw[0] if type(raw) is tuple and len(raw) == 1 else raw for raw in paths]
    if _STR_ONLY.issuperset(map(type, flat)) and claims.keys() >= set(flat):  # the usual case: top-level names
        top: set[str | int] = set(cast("list[str]", flat))  # all names: checked just above
        return {(): top}, len(top)
    targets: dict[Path, set[str | int]] = {(): set()}
    for raw in paths:
        found = expand(claims, normalize_path(raw))
        if not found:
            raise MalformedError(f"disclosable claim {raw!r} is not in the claims", code="missing_claims")
        for concrete in found:
            targets.setdefault(concrete[:-1], set()).add(concrete[-1])
    return targets, sum(map(len, targets.values()))


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
    targets, count = _targets(claims, disclosable)
    if count > MAX_DISCLOSURES:
        raise MalformedError(f"more than {MAX_DISCLOSURES} Disclosures", code="too_large")
    builder = _Builder(targets, count, random_bytes, decoys)
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
    if holder_signer is not None and (audience is None or nonce is None or now is None):
        raise MalformedError("a KB-JWT needs audience, nonce and now")
    paths = [normalize_path(p) for p in reveal]
    selected = select(sd_jwt, paths) if isinstance(sd_jwt, str) else None
    if selected is not None:
        issuer_jwt, payload, texts = selected
    else:
        sdj = parse(sd_jwt) if isinstance(sd_jwt, str) else sd_jwt
        placed = sdj.placed
        issuer_jwt, payload = sdj.issuer_jwt, sdj.payload
        texts = [placed[i].disclosure.text for i in choose(sdj.claims, placed, sdj._under, paths)]
    body = "~".join([issuer_jwt, *texts, ""])
    if holder_signer is None:
        return body
    check_holder(payload, holder_signer)
    return body + key_binding_jwt(body, holder_signer=holder_signer, audience=audience, nonce=nonce, now=now)  # type: ignore[arg-type]
