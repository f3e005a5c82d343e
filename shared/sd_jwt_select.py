"""Claim paths, and choosing a presentation's Disclosures straight from an SD-JWT's text (RFC 9901 §7.2).

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from shared import jose
from shared.encoding import MAX_JSON_DEPTH
from shared.errors import MalformedError, VerificationError
from shared.sd_jwt_verify import (
    MAX_BYTES,
    MAX_DISCLOSURES,
    RESERVED,
    Path,
    _digest,
    check_sd_alg,
    read_disclosure,
    split,
)

__all__ = ["expand", "matches", "normalize_path", "select"]

Key = tuple[tuple[int, int], ...]
PathLike = str | Sequence[str | int | None]
_ABSENT: Final = object()


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


class _Selection:
    __slots__ = ("by_digest", "by_name", "chosen", "digests", "read", "texts")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.read = [read_disclosure(t) for t in texts]
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
