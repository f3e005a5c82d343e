"""Digital Credentials Query Language: the query model and its parsing (OpenID for Verifiable Presentations
1.0, §6).

A verifier asks for credentials with a DCQL query; a wallet matches what it holds against it and a
verifier checks what came back. This module is the query itself:

- :func:`parse_query` validates a query (§6.1 Credential Query, §6.2 Credential Set Query, §6.3 Claims
  Query) into frozen dataclasses; :meth:`DcqlQuery.to_json` writes it back unchanged in meaning.
- :data:`ClaimPath` is a claims path pointer (§7) and :func:`format_path` writes one for people.

Matching held or presented credentials to a query (the §7 pointer, wallet matching, verifier evaluation,
projection) is :mod:`shared.dcql_match`. Its public names were defined here before the split and stay
importable from here (resolved on first use, as ``shared.dcql_match`` imports this module).

Choices, with their sections:

- ``meta`` is REQUIRED (§6.1). ``vct_values`` (SD-JWT VC, Appendix B.3.5) and ``type_values`` (W3C VCs,
  Appendix B.1.1) are checked for shape when present. Other formats' ``meta`` members are kept but not
  interpreted.
- ``values`` (§6.3) are strings, integers or booleans.
- Limits beyond the text (a query is attacker-reachable through configuration and wallets): at most
  :data:`MAX_CREDENTIALS` credential queries, :data:`MAX_CLAIMS` claims per query and
  :data:`MAX_PATH` components per path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from shared.errors import MalformedError

if TYPE_CHECKING:  # moved to shared.dcql_match; re-exported lazily by __getattr__ below
    from shared.dcql_match import (
        CredentialMatch,
        Evaluation,
        claim_satisfied,
        covered,
        evaluate,
        leaf_paths,
        match_credential,
        meta_matches,
        project,
        select,
    )

__all__ = [
    "MAX_CLAIMS",
    "MAX_CREDENTIALS",
    "MAX_PATH",
    "SD_JWT_FORMATS",
    "W3C_FORMATS",
    "ClaimPath",
    "ClaimQuery",
    "ClaimValue",
    "CredentialQuery",
    "CredentialSetQuery",
    "DcqlQuery",
    "PathComponent",
    "format_path",
    "parse_query",
]
# moved to shared.dcql_match, still importable from here
__all__ += [
    "CredentialMatch",
    "Evaluation",
    "claim_satisfied",
    "covered",
    "evaluate",
    "leaf_paths",
    "match_credential",
    "meta_matches",
    "project",
    "select",
]
_MOVED_TO_MATCH: Final = frozenset(__all__[__all__.index("CredentialMatch") :])

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


def __getattr__(name: str) -> Any:
    """The names that moved to :mod:`shared.dcql_match` (PEP 562), imported on first use.

    Not a top-level import: ``shared.dcql_match`` builds on this module, so importing it from here
    eagerly would be circular.
    """
    if name in _MOVED_TO_MATCH:
        from shared import dcql_match  # noqa: PLC0415 - see above

        value = getattr(dcql_match, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
