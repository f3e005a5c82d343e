"""Digital Credentials Query Language (OpenID for Verifiable Presentations 1.0, §6 and §7).

A verifier asks for credentials with a DCQL query; a wallet matches what it holds against it and a
verifier checks what came back. This module is the pure part of both:

- :func:`parse_query` validates a query (§6.1 Credential Query, §6.2 Credential Set Query, §6.3 Claims
  Query) into frozen dataclasses; :meth:`DcqlQuery.to_json` writes it back unchanged in meaning.
- :func:`select` is the claims path pointer of §7 (strings select object members, ``null`` every array
  element, a non-negative integer one array element).
- :func:`match_credential` (wallet side): which claim paths of a held credential to disclose for one
  Credential Query — the first satisfiable option of ``claim_sets`` (§6.4.1: earlier options are
  preferred), or all claims when there are no ``claim_sets``.
- :func:`evaluate` (verifier side): do the presented credentials satisfy the query, including
  ``credential_sets`` (§6.4.2)? Returns the claims still missing, per Credential Query id.

Choices, with their sections:

- ``meta`` is REQUIRED (§6.1). ``vct_values`` (SD-JWT VC, Appendix B.3.5) and ``type_values`` (W3C VCs,
  Appendix B.1.1) are checked for shape when present; a credential matches ``type_values`` when one
  inner array is a subset of its types. Other formats' ``meta`` members are kept but not interpreted.
- ``values`` (§6.3, §6.4.1): a claim matches when one selected value equals one listed value; booleans
  never equal integers (JSON ``true`` is not 1).
- A claim path that selects nothing is "missing"; a path through a non-object / non-array is a
  processing error in §7, which for matching also means "missing", never an exception.
- Limits beyond the text (a query is attacker-reachable through configuration and wallets): at most
  :data:`MAX_CREDENTIALS` credential queries, :data:`MAX_CLAIMS` claims per query and
  :data:`MAX_PATH` components per path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from shared.errors import MalformedError

PathComponent = str | int | None
ClaimPath = tuple[PathComponent, ...]
ClaimValue = str | int | bool

MAX_CREDENTIALS: Final = 32
MAX_CLAIMS: Final = 128
MAX_PATH: Final = 16
_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
SD_JWT_FORMATS: Final = frozenset({"dc+sd-jwt", "vc+sd-jwt"})
W3C_FORMATS: Final = frozenset({"ldp_vc", "jwt_vc_json", "vc+sd-jwt"})


def _bad(message: str) -> MalformedError:
    return MalformedError(f"DCQL: {message}")


def _ident(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value) or len(value) > 128:
        raise _bad(f"{what} must be a non-empty string of letters, digits, '_' or '-'")
    return value


def _flag(obj: Mapping[str, Any], name: str, default: bool) -> bool:
    value = obj.get(name, default)
    if not isinstance(value, bool):
        raise _bad(f"{name} must be a boolean")
    return value


def _nonempty_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _bad(f"{what} must be a non-empty array")
    return value


def format_path(path: Sequence[PathComponent]) -> str:
    """A path for people: ``address.street_address``, ``nationalities[*]``, ``degrees[0].type``."""
    out = ""
    for part in path:
        if part is None:
            out += "[*]"
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


# --- model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimQuery:
    path: ClaimPath
    id: str | None = None
    values: tuple[ClaimValue, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out["path"] = list(self.path)
        if self.values is not None:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class CredentialQuery:
    id: str
    format: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    claims: tuple[ClaimQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[Mapping[str, Any], ...] | None = None

    @property
    def vct_values(self) -> tuple[str, ...] | None:
        values = self.meta.get("vct_values")
        return tuple(values) if isinstance(values, list) else None

    @property
    def type_values(self) -> tuple[tuple[str, ...], ...] | None:
        values = self.meta.get("type_values")
        return tuple(tuple(v) for v in values) if isinstance(values, list) else None

    def claim(self, claim_id: str) -> ClaimQuery:
        for claim in self.claims or ():
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)

    def options(self) -> tuple[tuple[ClaimQuery, ...], ...]:
        """The claim combinations that satisfy this query, preferred first (§6.4.1)."""
        if self.claims is None:
            return ((),)
        if self.claim_sets is None:
            return (self.claims,)
        return tuple(tuple(self.claim(i) for i in option) for option in self.claim_sets)

    def requested_paths(self) -> tuple[ClaimPath, ...]:
        """Every path the query names, in any option (what a verifier may keep)."""
        return tuple(c.path for c in self.claims or ())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "format": self.format, "meta": dict(self.meta)}
        if self.multiple:
            out["multiple"] = True
        if not self.require_cryptographic_holder_binding:
            out["require_cryptographic_holder_binding"] = False
        if self.trusted_authorities is not None:
            out["trusted_authorities"] = [dict(t) for t in self.trusted_authorities]
        if self.claims is not None:
            out["claims"] = [c.to_json() for c in self.claims]
        if self.claim_sets is not None:
            out["claim_sets"] = [list(s) for s in self.claim_sets]
        return out


@dataclass(frozen=True)
class CredentialSetQuery:
    options: tuple[tuple[str, ...], ...]
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"options": [list(o) for o in self.options]}
        if not self.required:
            out["required"] = False
        return out


@dataclass(frozen=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    def credential(self, query_id: str) -> CredentialQuery:
        for query in self.credentials:
            if query.id == query_id:
                return query
        raise KeyError(query_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"credentials": [c.to_json() for c in self.credentials]}
        if self.credential_sets is not None:
            out["credential_sets"] = [s.to_json() for s in self.credential_sets]
        return out


# --- parsing -----------------------------------------------------------------------------------


def _parse_path(value: Any) -> ClaimPath:
    parts = _nonempty_list(value, "a claim path")
    if len(parts) > MAX_PATH:
        raise _bad(f"a claim path has at most {MAX_PATH} components")
    for part in parts:
        ok = part is None or isinstance(part, str) or (type(part) is int and part >= 0)
        if not ok:
            raise _bad("claim path components are strings, null or non-negative integers")
    return tuple(parts)


def _parse_claim(obj: Any) -> ClaimQuery:
    if not isinstance(obj, dict):
        raise _bad("a claims query must be an object")
    claim_id = _ident(obj["id"], "a claim id") if "id" in obj else None
    values: tuple[ClaimValue, ...] | None = None
    if "values" in obj:
        raw = _nonempty_list(obj["values"], "values")
        if not all(isinstance(v, (str, int, bool)) for v in raw):
            raise _bad("values are strings, integers or booleans")
        values = tuple(raw)
    return ClaimQuery(path=_parse_path(obj.get("path")), id=claim_id, values=values)


def _parse_meta(fmt: str, meta: Any) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise _bad("meta is required and must be an object")
    if "vct_values" in meta:
        vcts = _nonempty_list(meta["vct_values"], "vct_values")
        if not all(isinstance(v, str) and v for v in vcts):
            raise _bad("vct_values holds non-empty strings")
    if "type_values" in meta:
        for inner in _nonempty_list(meta["type_values"], "type_values"):
            if not all(isinstance(t, str) and t for t in _nonempty_list(inner, "each type_values entry")):
                raise _bad("type_values holds arrays of non-empty strings")
    if fmt in SD_JWT_FORMATS - W3C_FORMATS and "type_values" in meta:
        raise _bad(f"{fmt} queries use vct_values, not type_values")
    return dict(meta)


def _parse_credential(obj: Any) -> CredentialQuery:
    if not isinstance(obj, dict):
        raise _bad("a credential query must be an object")
    query_id = _ident(obj.get("id"), "a credential query id")
    fmt = obj.get("format")
    if not isinstance(fmt, str) or not fmt:
        raise _bad(f"credential query {query_id!r} needs a format")
    claims: tuple[ClaimQuery, ...] | None = None
    if "claims" in obj:
        raw = _nonempty_list(obj["claims"], "claims")
        if len(raw) > MAX_CLAIMS:
            raise _bad(f"a credential query has at most {MAX_CLAIMS} claims")
        claims = tuple(_parse_claim(c) for c in raw)
        ids = [c.id for c in claims if c.id is not None]
        if len(ids) != len(set(ids)):
            raise _bad(f"claim ids repeat in credential query {query_id!r}")
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    if "claim_sets" in obj:
        if claims is None:
            raise _bad("claim_sets needs claims")
        if any(c.id is None for c in claims):
            raise _bad("every claim needs an id when claim_sets is present")
        known = {c.id for c in claims}
        sets = []
        for option in _nonempty_list(obj["claim_sets"], "claim_sets"):
            ids = _nonempty_list(option, "each claim set")
            if not all(isinstance(i, str) and i in known for i in ids):
                raise _bad(f"a claim set names a claim id that credential query {query_id!r} lacks")
            sets.append(tuple(ids))
        claim_sets = tuple(sets)
    authorities = None
    if "trusted_authorities" in obj:
        items = _nonempty_list(obj["trusted_authorities"], "trusted_authorities")
        if not all(isinstance(t, dict) and isinstance(t.get("type"), str) for t in items):
            raise _bad("each trusted authority is an object with a type")
        authorities = tuple(items)
    return CredentialQuery(
        id=query_id,
        format=fmt,
        meta=_parse_meta(fmt, obj.get("meta")),
        claims=claims,
        claim_sets=claim_sets,
        multiple=_flag(obj, "multiple", False),
        require_cryptographic_holder_binding=_flag(obj, "require_cryptographic_holder_binding", True),
        trusted_authorities=authorities,
    )


def parse_query(obj: Any) -> DcqlQuery:
    """Validate a DCQL query (a parsed JSON object). Raises :class:`MalformedError` saying what is wrong."""
    if not isinstance(obj, dict):
        raise _bad("a query must be an object")
    raw = _nonempty_list(obj.get("credentials"), "credentials")
    if len(raw) > MAX_CREDENTIALS:
        raise _bad(f"a query has at most {MAX_CREDENTIALS} credential queries")
    credentials = tuple(_parse_credential(c) for c in raw)
    ids = [c.id for c in credentials]
    if len(ids) != len(set(ids)):
        raise _bad("credential query ids must be unique")
    sets: tuple[CredentialSetQuery, ...] | None = None
    if "credential_sets" in obj:
        parsed = []
        for item in _nonempty_list(obj["credential_sets"], "credential_sets"):
            if not isinstance(item, dict):
                raise _bad("a credential set query must be an object")
            options = []
            for option in _nonempty_list(item.get("options"), "options"):
                members = _nonempty_list(option, "each option")
                if not all(isinstance(i, str) and i in ids for i in members):
                    raise _bad("an option names a credential query id that the query lacks")
                options.append(tuple(members))
            parsed.append(CredentialSetQuery(options=tuple(options), required=_flag(item, "required", True)))
        sets = tuple(parsed)
    return DcqlQuery(credentials=credentials, credential_sets=sets)


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
