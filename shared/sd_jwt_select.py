"""Claim paths, and choosing a presentation's Disclosures straight from an SD-JWT's text (RFC 9901 §7.2);
for a processed SD-JWT (:func:`choose`); and the KB-JWT that ends either (:func:`key_binding_jwt`).

A wallet keeps the compact text and presents a few claims of it. Processing the whole SD-JWT first
(§7.1: every Disclosure's digest taken and placed) costs more than the signature the presentation
needs, so :func:`select` follows only the paths asked for:

- The issuer JWT is read strictly (:func:`shared.jose.decode_unverified`), and so is every Disclosure
  (strict base64url, strict JSON, the §7.1 step 3.2 shape); a Disclosure's digest is taken only when its
  name is one a path steps through, or when a revealed claim's digests name it. A path not found this
  way makes :func:`select` return None, and the caller processes the whole SD-JWT.
- A path steps through a member name either as an always-visible member or as a Disclosure whose digest
  is in that object's ``_sd``; both at once is ``disclosure_mismatch``, neither is ``missing_claims``.
  Everything under the claim a path ends at is revealed with it (the Disclosures its digests name).
- The result lists the chosen Disclosures in §7.1 processing order, as :func:`shared.sd_jwt.present`
  does for a parsed SD-JWT: each step is keyed ``(0, member position)`` for an always-visible member or
  array element and ``(1, position in _sd)`` for a Disclosure, and the keys sort as the walk visits.
- Withheld Disclosures are not checked for being referenced exactly once: that is the verifier's check
  of what it receives (§7.1 steps 3–4), and a withheld Disclosure is never sent.
- Paths with array indices or ``None`` are not handled here: :func:`select` returns None and the caller
  processes the whole SD-JWT.
- Reading a dozen Disclosures one call each costs half the presentation's signature, so
  :func:`read_disclosures` reads them in a batch: one base64 decoding of all (each text filled to whole
  4-character groups with ``A``, six zero bits), one string, each Disclosure parsed to its exact end,
  the fill checked to be all NUL (the canonical-encoding check). Anything unusual (whitespace around
  the array, non-ASCII JSON, possibly over-deep values, any error) is read text by text instead, so
  values, errors and reason codes are always :func:`~shared.sd_jwt_verify.read_disclosure`'s.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from shared import jose
from shared.crypto import Signer
from shared.encoding import MAX_JSON_DEPTH, check_depth
from shared.errors import MalformedError, TesseraError, VerificationError
from shared.keys import public_jwk
from shared.sd_jwt_verify import (
    KB_TYP,
    MAX_BYTES,
    MAX_DISCLOSURES,
    RESERVED,
    Path,
    Placed,
    _digest,
    check_sd_alg,
    digest_of,
    epoch,
    read_disclosure,
    split,
)

__all__ = [
    "check_holder",
    "choose",
    "expand",
    "key_binding_jwt",
    "matches",
    "normalize_path",
    "read_disclosures",
    "select",
]

Key = tuple[tuple[int, int], ...]
PathLike = str | Sequence[str | int | None]
_ABSENT: Final = object()
# Appended to a Disclosure's text to make whole base64 quads: "A" is six zero bits, so the extra bytes
# decode to NUL exactly when the text is canonical; "!" (after 4k+1 characters) fails strict decoding.
_FILL: Final = ("AAAA", "!", "AA", "A")
_FILL_BYTES: Final = (3, 0, 2, 1)
_a2b = binascii.a2b_base64


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


def matches(prefix: tuple[str | int | None, ...], path: Path) -> bool:
    if len(prefix) > len(path):
        return False
    return all(p == q or (p is None and type(q) is int) for p, q in zip(prefix, path, strict=False))


def _mismatch(message: str) -> VerificationError:
    return VerificationError(message, code="disclosure_mismatch")


def _read_batch(texts: Sequence[str]) -> list[tuple[str, str | None, Any]] | None:
    """:func:`read_disclosures` in one base64 decoding and one string for all; None when the texts
    are not all plain (ASCII JSON, no whitespace around the array, shallow) or anything fails."""
    joined = "".join([t + _FILL[len(t) & 3] for t in texts])
    data = _a2b(joined.encode("ascii").translate(jose._FROM_URL), strict_mode=True)
    # fewer brackets in all than the depth cap: none can be too deep (else each is measured)
    deep = len(data) > MAX_JSON_DEPTH and data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH
    plain = data.decode("ascii")  # so that character positions are byte positions
    out: list[tuple[str, str | None, Any]] = []
    scan, pos, fill = jose._scan, 0, 0
    for t in texts:
        # each Disclosure must be one JSON value ending exactly where its bytes end
        stop = pos + (len(t) * 3 >> 2)
        value, end = scan(plain, pos)
        if end != stop or type(value) is not list or not 2 <= len(value) <= 3 or type(value[0]) is not str:
            return None
        if deep:
            check_depth(value)
        if len(value) == 2:
            out.append((value[0], None, value[1]))
        elif type(value[1]) is str and value[1] not in RESERVED:
            out.append((value[0], value[1], value[2]))
        else:
            return None
        pos = stop + _FILL_BYTES[len(t) & 3]
        fill += _FILL_BYTES[len(t) & 3]
    # Parsed to their exact ends, the values hold no NUL (JSON has no raw control characters), so the
    # NULs are fill bytes, and all fill bytes are NUL (every text canonical) exactly when they all are.
    return out if plain.count("\0") == fill else None


def read_disclosures(texts: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    """:func:`~shared.sd_jwt_verify.read_disclosure` of each text (the same results, the same
    checks), batched: a wallet reads every Disclosure of a credential to find the few it presents,
    and one call per text costs more than the signature it then makes. Whatever the batch does not
    accept is read text by text, which raises the precise error."""
    try:
        found = _read_batch(texts)
    except (ValueError, StopIteration, RecursionError, TesseraError):  # binascii.Error is a ValueError
        found = None
    return [read_disclosure(t) for t in texts] if found is None else found


class _Selection:
    __slots__ = ("by_digest", "by_name", "chosen", "digests", "read", "texts")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.read = read_disclosures(texts)
        self.by_name: dict[str | None, list[int]] = {}
        for i, (_, name, _) in enumerate(self.read):
            self.by_name.setdefault(name, []).append(i)
        self.digests: dict[int, str] = {}
        self.by_digest: dict[str, int] | None = None
        self.chosen: dict[int, Key] = {}

    def digest(self, i: int) -> str:
        found = self.digests.get(i)
        if found is None:
            found = self.digests[i] = _digest(self.texts[i])
        return found

    def lookup(self, digest: Any) -> int | None:
        if self.by_digest is None:
            self.by_digest = {self.digest(i): i for i in range(len(self.texts))}
        return self.by_digest.get(digest) if type(digest) is str else None

    def step(self, node: dict[str, Any], name: str, key: Key) -> tuple[Any, Key] | None:
        """The value under member ``name`` of ``node`` and its key, choosing its Disclosure if any."""
        sd = node.get("_sd")
        hit: tuple[int, int] | None = None
        if type(sd) is list:
            for i in self.by_name.get(name, ()):
                digest = self.digest(i)
                if digest in sd:
                    hit = (i, sd.index(digest))
                    break
        if name in node and name not in RESERVED:
            if hit is not None:
                raise _mismatch(f"claim {name!r} is disclosed where it already exists")
            return node[name], (*key, (0, list(node).index(name)))
        if hit is None:
            return None
        here = (*key, (1, hit[1]))
        self.chosen.setdefault(hit[0], here)
        return self.read[hit[0]][2], here

    def everything_under(self, node: Any, key: Key, depth: int) -> None:
        if depth > MAX_JSON_DEPTH:
            raise MalformedError(f"claims nested deeper than {MAX_JSON_DEPTH} levels", code="too_deep")
        if type(node) is dict:
            for n, (member, value) in enumerate(node.items()):
                if member != "_sd" and (type(value) is dict or type(value) is list):
                    self.everything_under(value, (*key, (0, n)), depth + 1)
            sd = node.get("_sd")
            for n, digest in enumerate(sd if type(sd) is list else ()):
                self.take(self.lookup(digest), True, (*key, (1, n)), depth)
        elif type(node) is list:
            for n, item in enumerate(node):
                if type(item) is dict and "..." in item and len(item) == 1:
                    self.take(self.lookup(item["..."]), False, (*key, (0, n)), depth)
                elif type(item) is dict or type(item) is list:
                    self.everything_under(item, (*key, (0, n)), depth + 1)

    def take(self, i: int | None, named: bool, key: Key, depth: int) -> None:
        if i is None:  # a decoy, or a claim the holder does not have
            return
        _, name, value = self.read[i]
        if (name is not None) != named:
            raise _mismatch("a Disclosure is referenced from the wrong kind of place")
        self.chosen.setdefault(i, key)
        self.everything_under(value, key, depth + 1)


def select(text: str, paths: Sequence[tuple[str | int | None, ...]]) -> tuple[str, dict[str, Any], list[str]] | None:
    """(issuer JWT, its payload, the chosen Disclosures' texts) for revealing ``paths`` from the
    compact SD-JWT ``text``; None when a path is not all member names."""
    for path in paths:
        for step in path:
            if type(step) is not str:
                return None
    parts = split(text, max_bytes=MAX_BYTES, max_disclosures=MAX_DISCLOSURES)
    payload = jose.decode_unverified(parts[0], max_bytes=MAX_BYTES).payload
    check_sd_alg(payload)
    selection = _Selection(parts[1:-1])
    for path in paths:
        node: Any = payload
        key: Key = ()
        for name in path:
            found = selection.step(node, name, key) if type(node) is dict else None  # type: ignore[arg-type]
            if found is None:  # not found this way: the caller processes everything, and decides
                return None
            node, key = found
        selection.everything_under(node, key, len(path))
    order = sorted(selection.chosen, key=selection.chosen.__getitem__)
    return parts[0], payload, [selection.texts[i] for i in order]


# --- from a processed SD-JWT, and the key binding --------------------------------------------------


def choose(
    claims: dict[str, Any],
    placed: Sequence[Placed],
    under: dict[Path, list[int]],
    paths: Sequence[tuple[str | int | None, ...]],
) -> list[int]:
    """The placed Disclosures (indices into ``placed``, sorted: processing order) revealing ``paths``
    needs: each path's own and those under it, and the Disclosures enclosing them or enclosing a
    revealed always-visible claim. ``under`` maps each path prefix to the placed Disclosures at or
    under it, in processing order (:attr:`shared.sd_jwt.SdJwt._under`)."""
    chosen: set[int] = set()
    for path in paths:
        if None in path:
            hits = [i for i, p in enumerate(placed) if matches(path, p.path)]
            concrete = expand(claims, path)
        else:
            hits = under.get(path, [])  # type: ignore[arg-type]
            concrete = [] if hits else expand(claims, path)
        if not hits and not concrete:
            raise MalformedError(f"the credential has no claim {path!r}", code="missing_claims")
        for found in concrete:  # an always-visible claim inside a Disclosure needs that Disclosure
            for n in range(len(found) - 1, 0, -1):
                first = under.get(found[:n])
                # the nearest enclosing prefix that is itself a Disclosure (the first placed at or
                # under a path is the one at it, if any); a visible object merely holding some is not
                if first and placed[first[0]].path == found[:n]:
                    hits = [*hits, first[0]]
                    break
        for i in hits:
            at: int | None = i
            while at is not None and at not in chosen:
                chosen.add(at)
                at = placed[at].parent
    return sorted(chosen)


_KB_HEADERS: dict[str, str] = {}
_json_text: Callable[[str], str] = json.encoder.encode_basestring


def _json_string(value: Any) -> str:
    return _json_text(value) if type(value) is str else jose.dumps(value)


def key_binding_jwt(body: str, *, holder_signer: Signer, audience: str, nonce: str, now: datetime) -> str:
    """The KB-JWT (§4.3) over ``body`` (the SD-JWT up to and including its last ``~``).

    Serialized as :func:`shared.jose.sign_compact` would (compact JSON, ``alg`` then ``typ``; the
    payload ``iat``, ``aud``, ``nonce``, ``sd_hash``), from a template: the same bytes, less work."""
    alg = holder_signer.alg
    header = _KB_HEADERS.get(alg)
    if header is None:
        header = _KB_HEADERS[alg] = jose.b64e(jose.dumps({"alg": alg, "typ": KB_TYP}).encode())
    payload = (
        f'{{"iat":{epoch(now)},"aud":{_json_string(audience)},"nonce":{_json_string(nonce)},'
        f'"sd_hash":"{digest_of(body.encode("ascii"))}"}}'
    )
    signing_input = header + "." + jose.b64e(payload.encode())
    return signing_input + "." + jose.b64e(holder_signer.sign(signing_input.encode("ascii")))


def check_holder(payload: dict[str, Any], holder_signer: Signer) -> None:
    """The holder key must be the credential's ``cnf.jwk`` (a KB-JWT by another key would not verify)."""
    cnf = payload.get("cnf")
    if type(cnf) is not dict or cnf.get("jwk") != public_jwk(holder_signer.public_key):
        raise VerificationError("the holder key is not the credential's cnf key", code="holder_binding_failed")
