"""Consent: which held credentials answer a DCQL query, which claims are required or optional, what is withheld.

Pure functions over :class:`~wallet.model.CredentialRecord`; the CLI and the Textual consent screen both
drive a :class:`Plan` and send only what :func:`disclosures` returns.

Required versus optional (OpenID4VP 1.0 §6.4.1): DCQL has no per-claim "optional" flag; it has
``claim_sets``, alternative claim combinations, the first preferred. For one credential, the wallet
offers the preferred option that the credential can satisfy; a claim of that option is *required* when
every satisfiable option contains it and *optional* otherwise. A selection is acceptable when it still
contains a whole satisfiable option, so deselecting an optional claim never breaks the answer.

Credential queries outside any required ``credential_sets`` entry (§6.4.2, ``required: false``) are
optional as a whole and can be left out.

Formats: an SD-JWT can withhold every selectively disclosable claim that is not chosen; claims the
issuer did not make disclosable are always visible and listed as such. A Data Integrity credential
(``ldp_vc``) is all or nothing: every claim is shown as revealed, nothing can be deselected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.dcql import ClaimPath, CredentialQuery, DcqlQuery, format_path
from shared.dcql_match import claim_satisfied, select
from shared.errors import MalformedError, TesseraError
from wallet.model import SD_JWT_FORMATS, CredentialRecord

# Members that describe the credential rather than the person; listed apart, never as "your claims".
TECHNICAL = frozenset(
    {"iss", "iat", "nbf", "exp", "cnf", "vct", "status", "_sd_alg", "jti", "sub", "vct#integrity"}
    | {"@context", "type", "issuer", "proof", "credentialStatus", "validFrom", "validUntil", "id", "credentialSchema"}
)


class ConsentError(TesseraError):
    default_code = "no_matching_credential"


def value_text(value: Any) -> str:
    """A claim value as plain text for people (never markup: callers render it with markup off)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def leaf_paths(document: Any, prefix: ClaimPath = ()) -> list[ClaimPath]:
    """Paths to the person's claims (objects flattened, arrays kept whole), technical members left out."""
    out: list[ClaimPath] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if not prefix and key in TECHNICAL:
                continue
            if isinstance(value, dict) and value:
                out.extend(leaf_paths(value, (*prefix, key)))
            else:
                out.append((*prefix, key))
    return out


def value_at(record: CredentialRecord, path: Sequence[Any]) -> Any:
    try:
        found = select(path, record.claims)
    except MalformedError:
        return None
    return found[0] if len(found) == 1 else found


def _covers(selected: Iterable[ClaimPath], path: ClaimPath) -> bool:
    """Whether ``path`` is revealed by a selection (it or one of its ancestors is selected)."""
    return any(path[: len(s)] == s for s in selected)


@dataclass(frozen=True)
class ClaimChoice:
    path: ClaimPath
    value: Any
    required: bool
    selected: bool = True

    @property
    def name(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class QueryChoice:
    query: CredentialQuery
    candidates: tuple[CredentialRecord, ...]
    chosen: int = 0
    claims: tuple[ClaimChoice, ...] = ()
    options: tuple[frozenset[ClaimPath], ...] = ()  # the chosen credential's satisfiable options
    optional: bool = False  # the whole credential may be left out
    included: bool = True

    @property
    def record(self) -> CredentialRecord:
        return self.candidates[self.chosen]

    @property
    def selected_paths(self) -> tuple[ClaimPath, ...]:
        return tuple(c.path for c in self.claims if c.selected)

    def withheld(self) -> tuple[ClaimPath, ...]:
        """Disclosable claims of the chosen credential that will not be sent."""
        record = self.record
        if record.format not in SD_JWT_FORMATS:
            return ()
        if not self.included:
            return tuple(record.disclosable)
        chosen = self.selected_paths
        # A disclosable ancestor of a chosen claim must be revealed too, so it is not withheld.
        return tuple(
            p for p in record.disclosable if not _covers(chosen, p) and not any(c[: len(p)] == p for c in chosen)
        )

    def always_visible(self) -> tuple[ClaimPath, ...]:
        """Claims that go with the credential whatever is chosen (not selectively disclosable)."""
        record = self.record
        chosen = set(self.selected_paths)
        if record.format not in SD_JWT_FORMATS:
            return tuple(p for p in leaf_paths(record.claims) if p not in chosen)
        return tuple(
            p
            for p in leaf_paths(record.claims)
            if p not in chosen and not any(p[: len(d)] == d for d in record.disclosable)
        )


@dataclass(frozen=True)
class Plan:
    queries: tuple[QueryChoice, ...]
    unanswerable: tuple[str, ...] = ()  # query ids (required) that no held credential answers

    def choice(self, query_id: str) -> QueryChoice:
        for q in self.queries:
            if q.query.id == query_id:
                return q
        raise KeyError(query_id)

    @property
    def can_send(self) -> bool:
        return not self.unanswerable and any(q.included for q in self.queries)


def _matches(query: CredentialQuery, record: CredentialRecord) -> bool:
    return (
        query.format == record.format
        and (query.vct_values is None or record.vct in query.vct_values)
        and (query.type_values is None or any(set(o) <= set(record.types) for o in query.type_values))
    )


def _satisfiable(query: CredentialQuery, record: CredentialRecord) -> tuple[frozenset[ClaimPath], ...]:
    return tuple(
        frozenset(c.path for c in option)
        for option in query.options()
        if all(claim_satisfied(c, record.claims) for c in option)
    )


def _choice(
    query: CredentialQuery, candidates: tuple[CredentialRecord, ...], chosen: int, optional: bool
) -> QueryChoice:
    record = candidates[chosen]
    options = _satisfiable(query, record)
    preferred = next(o for o in query.options() if frozenset(c.path for c in o) == options[0])
    required = frozenset.intersection(*options)
    if record.format in SD_JWT_FORMATS:
        claims = tuple(ClaimChoice(c.path, value_at(record, c.path), c.path in required) for c in preferred)
    else:
        # All or nothing: every claim the credential holds is revealed, none can be deselected.
        asked = [c.path for c in preferred]
        paths = asked + [p for p in leaf_paths(record.claims) if p not in asked]
        claims = tuple(ClaimChoice(p, value_at(record, p), True) for p in paths)
    return QueryChoice(query, candidates, chosen, claims, options, optional)


def plan(query: DcqlQuery, records: Iterable[CredentialRecord]) -> Plan:
    """Match held credentials to a query and propose the preferred, smallest acceptable answer."""
    held = list(records)
    required_ids: set[str]
    if query.credential_sets is None:
        required_ids = {c.id for c in query.credentials}
    else:
        required_ids = set()
        for cs in query.credential_sets:
            if cs.required:
                required_ids.update(cs.options[0])
    choices: list[QueryChoice] = []
    unanswerable: list[str] = []
    for cq in query.credentials:
        candidates = tuple(r for r in held if _matches(cq, r) and _satisfiable(cq, r))
        if not candidates:
            if cq.id in required_ids:
                unanswerable.append(cq.id)
            continue
        choices.append(_choice(cq, candidates, 0, optional=cq.id not in required_ids))
    return Plan(tuple(choices), tuple(unanswerable))


def _replace_choice(current: Plan, new: QueryChoice) -> Plan:
    return replace(current, queries=tuple(new if q.query.id == new.query.id else q for q in current.queries))


def choose_credential(current: Plan, query_id: str, index: int) -> Plan:
    q = current.choice(query_id)
    if not 0 <= index < len(q.candidates):
        raise MalformedError(f"there is no credential {index + 1} for {query_id}")
    return _replace_choice(current, replace(_choice(q.query, q.candidates, index, q.optional), included=q.included))


def toggle_claim(current: Plan, query_id: str, path: ClaimPath) -> Plan:
    """Select or deselect one claim; refuses (``missing_claims``) when the answer would no longer fit the query."""
    q = current.choice(query_id)
    claims = list(q.claims)
    for i, claim in enumerate(claims):
        if claim.path == tuple(path):
            if claim.required:
                raise TesseraError(f"{claim.name} is required by the verifier", code="missing_claims")
            claims[i] = replace(claim, selected=not claim.selected)
            break
    else:
        raise MalformedError(f"{format_path(path)} was not requested")
    chosen = {c.path for c in claims if c.selected}
    if not any(option <= chosen for option in q.options):
        raise TesseraError("the verifier needs at least one of these claims", code="missing_claims")
    return _replace_choice(current, replace(q, claims=tuple(claims)))


def toggle_credential(current: Plan, query_id: str) -> Plan:
    q = current.choice(query_id)
    if not q.optional:
        raise TesseraError(f"the credential for {query_id} is required by the verifier", code="missing_claims")
    return _replace_choice(current, replace(q, included=not q.included))


def disclosures(current: Plan) -> list[tuple[str, CredentialRecord, tuple[ClaimPath, ...]]]:
    """(query id, credential, claim paths to reveal) for every credential that will be sent."""
    if current.unanswerable:
        raise ConsentError(f"no credential in the wallet answers: {', '.join(current.unanswerable)}")
    return [(q.query.id, q.record, q.selected_paths) for q in current.queries if q.included]
