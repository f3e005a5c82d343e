"""Matching credentials to a DCQL query (OpenID for Verifiable Presentations 1.0, §6.4 and §7).

The query model and its parsing are :mod:`shared.dcql`; this module is what both sides do with a query:

- :func:`select` is the claims path pointer of §7 (strings select object members, ``null`` every array
  element, a non-negative integer one array element); :func:`claim_satisfied` applies one Claims Query.
- :func:`match_credential` (wallet side): which claim paths of a held credential to disclose for one
  Credential Query — the first satisfiable option of ``claim_sets`` (§6.4.1: earlier options are
  preferred), or all claims when there are no ``claim_sets``.
- :func:`evaluate` (verifier side): do the presented credentials satisfy the query, including
  ``credential_sets`` (§6.4.2)? Returns the claims still missing, per Credential Query id.
- :func:`project`, :func:`leaf_paths`, :func:`covered` (data minimization): keep only what was asked for.

Choices, with their sections:

- ``values`` (§6.3, §6.4.1): a claim matches when one selected value equals one listed value; booleans
  never equal integers (JSON ``true`` is not 1).
- A claim path that selects nothing is "missing"; a path through a non-object / non-array is a
  processing error in §7, which for matching also means "missing", never an exception.
- ``type_values`` (W3C VCs, Appendix B.1.1): a credential matches when one inner array is a subset of
  its types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.dcql import ClaimPath, ClaimQuery, CredentialQuery, DcqlQuery, PathComponent, format_path
from shared.errors import MalformedError


def _bad(message: str) -> MalformedError:
    return MalformedError(f"DCQL: {message}")


# --- claims path pointer (§7) -------------------------------------------------------------------


def select(path: Sequence[PathComponent], document: Any) -> list[Any]:
    """The elements a claims path pointer selects (§7.2). Raises ``malformed`` on a processing error."""
    selected = [document]
    for part in path:
        nxt: list[Any] = []
        for element in selected:
            if isinstance(part, str):
                if not isinstance(element, dict):
                    raise _bad(f"path {format_path(path)!r} steps into a value that is not an object")
                if part in element:
                    nxt.append(element[part])
            else:
                if not isinstance(element, list):
                    raise _bad(f"path {format_path(path)!r} steps into a value that is not an array")
                if part is None:
                    nxt.extend(element)
                elif part < len(element):
                    nxt.append(element[part])
        if not nxt:
            raise _bad(f"path {format_path(path)!r} selects nothing")
        selected = nxt
    return selected


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def claim_satisfied(claim: ClaimQuery, document: Any) -> bool:
    try:
        found = select(claim.path, document)
    except MalformedError:
        return False
    if claim.values is None:
        return True
    return any(_same(v, want) for v in found for want in claim.values)


# --- wallet side: which claims to disclose ------------------------------------------------------


@dataclass(frozen=True)
class CredentialMatch:
    query_id: str
    paths: tuple[ClaimPath, ...]  # to disclose; empty when the query names no claims


def meta_matches(query: CredentialQuery, *, fmt: str, vct: str | None = None, types: Iterable[str] = ()) -> bool:
    """Whether a credential's format and type fit the query's ``format`` and ``meta``."""
    if fmt != query.format:
        return False
    vcts = query.vct_values
    if vcts is not None and vct not in vcts:
        return False
    type_values = query.type_values
    if type_values is not None:
        held = set(types)
        return any(set(option) <= held for option in type_values)
    return True


def match_credential(
    query: CredentialQuery, claims: Any, *, fmt: str, vct: str | None = None, types: Iterable[str] = ()
) -> CredentialMatch | None:
    """The claim paths to disclose from a held credential (its full claims), or None if it cannot answer."""
    if not meta_matches(query, fmt=fmt, vct=vct, types=types):
        return None
    for option in query.options():
        if all(claim_satisfied(c, claims) for c in option):
            return CredentialMatch(query.id, tuple(c.path for c in option))
    return None


# --- verifier side: is the query satisfied? -----------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    satisfied: bool
    # query id -> claim paths of the nearest option still missing (empty for a credential not presented)
    missing: Mapping[str, tuple[ClaimPath, ...]]
    # query id -> the paths of the option each presented credential satisfied
    answered: Mapping[str, tuple[ClaimPath, ...]]

    def missing_text(self) -> list[str]:
        """Missing claims for people: ``pid: address.street_address``; ``pid: (credential)`` if not sent."""
        out: list[str] = []
        for query_id, paths in self.missing.items():
            if not paths:
                out.append(f"{query_id}: (credential)")
            out.extend(f"{query_id}: {format_path(p)}" for p in paths)
        return out


def _check_one(query: CredentialQuery, claims: Any) -> tuple[tuple[ClaimPath, ...] | None, tuple[ClaimPath, ...]]:
    """(paths answered, or None) and the missing paths of the option that came nearest."""
    nearest: tuple[ClaimPath, ...] | None = None
    for option in query.options():
        lacking = tuple(c.path for c in option if not claim_satisfied(c, claims))
        if not lacking:
            return tuple(c.path for c in option), ()
        if nearest is None or len(lacking) < len(nearest):
            nearest = lacking
    return None, nearest or ()


def evaluate(query: DcqlQuery, presented: Mapping[str, Sequence[Any]]) -> Evaluation:
    """Check presented credentials (query id -> the claims of each presentation) against the query.

    Meta (format, type) is the caller's check, since it knows the format; this is about claims and
    about which credential queries must be answered (all of them, or per ``credential_sets``).
    """
    answered: dict[str, tuple[ClaimPath, ...]] = {}
    lacking: dict[str, tuple[ClaimPath, ...]] = {}
    for cq in query.credentials:
        items = presented.get(cq.id)
        if not items:
            lacking[cq.id] = ()
            continue
        results = [_check_one(cq, claims) for claims in items]
        if all(ok is not None for ok, _ in results):
            answered[cq.id] = tuple(p for ok, _ in results for p in ok or ())
        else:
            lacking[cq.id] = next(miss for ok, miss in results if ok is None)
    unknown = set(presented) - {c.id for c in query.credentials}
    for query_id in sorted(unknown):
        lacking[query_id] = ()  # an answer to a question never asked is not accepted
    if query.credential_sets is None:
        return Evaluation(not lacking, lacking, answered)
    required: list[tuple[str, ...]] = []
    for cs in query.credential_sets:
        if any(all(i in answered for i in option) for option in cs.options):
            continue
        if cs.required:
            # report the option that came nearest: fewest unanswered, then the one partly answered
            required.append(
                min(cs.options, key=lambda o: (sum(i not in answered for i in o), -sum(i in answered for i in o)))
            )
    missing = {i: lacking.get(i, ()) for option in required for i in option if i not in answered}
    for query_id in sorted(unknown):
        missing[query_id] = ()
    # a presented credential that fails its own claims is missing even if its set is optional
    for query_id, paths in lacking.items():
        if query_id in presented and query_id not in missing:
            missing[query_id] = paths
    return Evaluation(not missing, missing, answered)


# --- data minimization: keep what was asked for ---------------------------------------------------


def _project_into(out: dict[str, Any], path: Sequence[PathComponent], node: Any) -> None:
    """Copy the part of ``node`` that ``path`` selects into ``out``, keeping the nesting."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if isinstance(head, str):
        if not isinstance(node, dict) or head not in node:
            return
        if not rest:
            out[head] = node[head]
            return
        child = node[head]
        if isinstance(child, list):
            existing = out.get(head)
            target_list: list[Any] = existing if isinstance(existing, list) else [None] * len(child)
            out[head] = target_list
            _project_list(target_list, rest, child)
        elif isinstance(child, dict):
            sub = out.setdefault(head, {})
            if isinstance(sub, dict):
                _project_into(sub, rest, child)


def _project_list(out: list[Any], path: Sequence[PathComponent], node: list[Any]) -> None:
    head, rest = path[0], path[1:]
    indices = range(len(node)) if head is None else [head] if isinstance(head, int) and head < len(node) else []
    for i in indices:
        if not rest:
            out[i] = node[i]
        elif isinstance(node[i], dict):
            if not isinstance(out[i], dict):
                out[i] = {}
            _project_into(out[i], rest, node[i])


def project(document: Any, paths: Iterable[Sequence[PathComponent]]) -> dict[str, Any]:
    """Only the parts of ``document`` the paths select, nested as in the document (for storage).

    A path that starts with an array index or null has no object to hang from and is skipped."""
    out: dict[str, Any] = {}
    for path in paths:
        if path and isinstance(path[0], str):
            _project_into(out, path, document)
    return {k: _drop_holes(v) for k, v in out.items()}


def _drop_holes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_holes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_holes(v) for v in value if v is not None]
    return value


def leaf_paths(document: Any, prefix: ClaimPath = ()) -> list[ClaimPath]:
    """Every path to a scalar (or empty container) in ``document``, with concrete array indices."""
    if isinstance(document, dict) and document:
        return [p for k, v in document.items() for p in leaf_paths(v, (*prefix, k))]
    if isinstance(document, list) and document:
        return [p for i, v in enumerate(document) for p in leaf_paths(v, (*prefix, i))]
    return [prefix]


def covered(path: Sequence[PathComponent], by: Iterable[Sequence[PathComponent]]) -> bool:
    """Whether a concrete path lies under one of the query paths (null matches any index)."""
    for query in by:
        head = path[: len(query)]
        if len(head) == len(query) and all(
            q == p or (q is None and isinstance(p, int)) for q, p in zip(query, head, strict=True)
        ):
            return True
    return False
