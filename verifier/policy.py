"""Presentation policies and the trust registry, loaded from the verifier's TOML file.

A policy names what a verifier asks for and how it judges the answer::

    [policies.age-over-18]
    purpose = { en = "Check that you are over 18", fr = "Vérifier que vous avez plus de 18 ans" }
    require_holder_binding = true      # KB-JWT / holder-signed VP required
    require_status = true              # status list must be checked (if the credential has one)
    max_status_staleness_seconds = 0   # how old a cached status list may be when the list is unreachable
    retention_days = 30                # how long the verdict and requested claims are kept
    accepted_issuers = { "https://…/birth-certificate" = ["did:web:registry.example"] }  # optional
    dcql = { credentials = [ … ] }     # a DCQL query as a TOML table, or dcql_json = '''{…}''' (for null paths)

The trust registry says which issuers may issue which credential types (``vct`` or a VC ``type``)::

    [[trust.issuers]]
    did = "did:web:registry.example"
    name = "Enugu State Civil Registry"
    types = ["https://w3id.org/tessera/vct/birth-certificate/v1", "BirthCertificate"]

``did`` is the issuer as its credentials name it: a DID (``ldp_vc``, ``vc+sd-jwt``, DID-keyed SD-JWT VCs) or
the https URL an SD-JWT VC issuer puts in ``iss`` (its keys then come from its JWT VC Issuer Metadata).

The verifier's name, shown by wallets on their consent screen (``client_metadata.client_name`` and
``client_name#<lang>`` in every request, RFC 7591 §2.2), in one or more languages::

    [client]
    name = { en = "Springfield Primary School", fr = "École primaire de Springfield" }   # or name = "…"

The policy's ``purpose`` travels in the signed request object as a top-level ``purpose`` claim holding
the same ``{language: sentence}`` map (OpenID4VP 1.0 defines no request-level purpose, only DCQL-less
``purpose`` in Presentation Exchange; the member is an extension wallets may ignore — Tessera's wallet
shows it, and also reads ``purpose`` / ``purpose#<lang>`` in ``client_metadata``).

An issuer is trusted for a type when the registry lists it for that type and, if the policy names
``accepted_issuers`` for that type, the policy lists it too (a policy can narrow, never widen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import dcql
from shared.encoding import loads_strict
from shared.errors import MalformedError, VerificationError

SUPPORTED_FORMATS = frozenset({"dc+sd-jwt", "vc+sd-jwt", "ldp_vc"})


@dataclass(frozen=True)
class Policy:
    name: str
    query: dcql.DcqlQuery
    purpose: Mapping[str, str]
    require_holder_binding: bool = True
    require_status: bool = True
    max_status_staleness_seconds: int = 0
    retention_seconds: int = 30 * 86_400
    accepted_issuers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def purpose_in(self, language: str) -> str:
        return self.purpose.get(language) or self.purpose.get("en") or next(iter(self.purpose.values()))

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.format for c in self.query.credentials))


@dataclass(frozen=True)
class TrustedIssuer:
    did: str
    name: str
    types: frozenset[str]


@dataclass(frozen=True)
class TrustRegistry:
    issuers: tuple[TrustedIssuer, ...] = ()

    def check(self, issuer: str | None, types: Iterable[str], policy: Policy | None = None) -> str:
        """A sentence naming the trusted issuer, or ``untrusted_issuer``."""
        wanted = set(types)
        for entry in self.issuers:
            if entry.did != issuer:
                continue
            allowed: set[str] = set(entry.types & wanted)
            if policy is not None and policy.accepted_issuers:
                allowed = {t for t in allowed if issuer in policy.accepted_issuers.get(t, (issuer,))}
            if allowed:
                return f"The issuer {entry.name} is trusted for {sorted(allowed)[0]}."
        raise VerificationError(
            f"The issuer {str(issuer)[:120]} is not trusted for {', '.join(sorted(wanted)) or 'this credential'}.",
            code="untrusted_issuer",
        )


def _bad(where: str, message: str) -> MalformedError:
    return MalformedError(f"config {where}: {message}")


def _whole(table: Mapping[str, Any], where: str, name: str, default: int) -> int:
    value = table.get(name, default)
    if type(value) is not int or value < 0:
        raise _bad(where, f"{name} must be a non-negative whole number")
    return int(value)


def _retention(table: Mapping[str, Any], where: str) -> int:
    if "retention_seconds" in table and "retention_days" in table:
        raise _bad(where, "give retention_seconds or retention_days, not both")
    if "retention_days" in table:
        return _whole(table, where, "retention_days", 0) * 86_400
    return _whole(table, where, "retention_seconds", 30 * 86_400)


def parse_policy(name: str, table: Any) -> Policy:
    where = f"[policies.{name}]"
    if not isinstance(table, dict):
        raise _bad(where, "must be a table")
    if ("dcql" in table) == ("dcql_json" in table):
        raise _bad(where, "needs exactly one of dcql (a table) or dcql_json (a JSON string)")
    raw = table["dcql"] if "dcql" in table else loads_strict(str(table["dcql_json"]), max_bytes=64_000)
    query = dcql.parse_query(raw)
    for credential in query.credentials:
        if credential.format not in SUPPORTED_FORMATS:
            raise _bad(where, f"format {credential.format!r} is not one of {sorted(SUPPORTED_FORMATS)}")
    purpose = table.get("purpose")
    if not isinstance(purpose, dict) or not purpose or not all(isinstance(v, str) and v for v in purpose.values()):
        raise _bad(where, "purpose must map language tags to sentences, e.g. { en = …, fr = … }")
    accepted = table.get("accepted_issuers", {})
    if not isinstance(accepted, dict) or not all(
        isinstance(v, list) and all(isinstance(d, str) for d in v) for v in accepted.values()
    ):
        raise _bad(where, "accepted_issuers maps a credential type to a list of DIDs")
    flags = {}
    for flag in ("require_holder_binding", "require_status"):
        flags[flag] = table.get(flag, True)
        if not isinstance(flags[flag], bool):
            raise _bad(where, f"{flag} must be true or false")
    known = {
        "dcql",
        "dcql_json",
        "purpose",
        "accepted_issuers",
        "require_holder_binding",
        "require_status",
        "max_status_staleness_seconds",
        "retention_seconds",
        "retention_days",
    }
    if unknown := set(table) - known:
        raise _bad(where, f"unknown keys {sorted(unknown)}")
    return Policy(
        name=name,
        query=query,
        purpose=dict(purpose),
        require_holder_binding=flags["require_holder_binding"],
        require_status=flags["require_status"],
        max_status_staleness_seconds=_whole(table, where, "max_status_staleness_seconds", 0),
        retention_seconds=_retention(table, where),
        accepted_issuers={k: tuple(v) for k, v in accepted.items()},
    )


def parse_trust(table: Any) -> TrustRegistry:
    if table is None:
        return TrustRegistry()
    items = table.get("issuers", []) if isinstance(table, dict) else None
    if not isinstance(items, list):
        raise _bad("[trust]", "issuers must be an array of tables ([[trust.issuers]])")
    issuers = []
    for i, item in enumerate(items):
        where = f"[[trust.issuers]] #{i + 1}"
        # an issuer is named as credentials name it: a DID, or the https URL of an SD-JWT VC issuer (``iss``)
        did = item.get("did") if isinstance(item, dict) else None
        if not isinstance(did, str) or not did.startswith(("did:", "https://")):
            raise _bad(where, 'needs did = "did:…" (or the https URL an SD-JWT VC issuer puts in iss)')
        types = item.get("types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
            raise _bad(where, "needs types = [ … ] (vct values or VC types)")
        issuers.append(TrustedIssuer(item["did"], str(item.get("name", item["did"])), frozenset(types)))
    return TrustRegistry(tuple(issuers))


@dataclass(frozen=True)
class VerifierConfig:
    policies: Mapping[str, Policy]
    trust: TrustRegistry
    client_name: Mapping[str, str] = field(default_factory=dict)  # language tag -> the verifier's name

    def client_metadata_names(self) -> dict[str, str]:
        """``client_name`` (English, else the first language) and ``client_name#<lang>`` for every language."""
        if not self.client_name:
            return {}
        default = self.client_name.get("en") or next(iter(self.client_name.values()))
        return {"client_name": default} | {f"client_name#{lang}": text for lang, text in self.client_name.items()}

    def policy(self, name: str) -> Policy:
        try:
            return self.policies[name]
        except KeyError:
            raise MalformedError(f"there is no policy {name[:80]!r}", code="unknown_policy") from None


def parse_config(doc: Mapping[str, Any]) -> VerifierConfig:
    policies = doc.get("policies", {})
    if not isinstance(policies, dict):
        raise _bad("[policies]", "must be a table of named policies")
    return VerifierConfig(
        policies={name: parse_policy(name, table) for name, table in policies.items()},
        trust=parse_trust(doc.get("trust")),
        client_name=parse_client_name(doc.get("client")),
    )


def parse_client_name(table: Any) -> dict[str, str]:
    if table is None:
        return {}
    if not isinstance(table, dict) or set(table) - {"name"}:
        raise _bad("[client]", 'holds only name = "…" or name = { en = …, fr = … }')
    name = table.get("name")
    names = {"en": name} if isinstance(name, str) else name
    if not isinstance(names, dict) or not names or not all(isinstance(v, str) and v for v in names.values()):
        raise _bad("[client]", "name is a string or maps language tags to names")
    return dict(names)
