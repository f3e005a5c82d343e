"""The catalogue of credential types (``catalogue.toml``): display names and claim labels per locale, the
claim schema, validity period, formats offered and age predicates — and claim validation against it.

Formats (OpenID4VCI 1.0 Appendix A): ``dc+sd-jwt`` (IETF SD-JWT VC), ``ldp_vc`` (a VCDM 2.0 credential
secured with a Data Integrity proof, ``eddsa-rdfc-2022``) and ``vc+sd-jwt`` (VC-JOSE-COSE: a VCDM 2.0
document secured with SD-JWT). Each (type, format) pair is one credential configuration, whose id is
``<Type>_<suffix>`` (:data:`FORMAT_SUFFIX`).

Claim types: ``string`` (``max_length``, ``pattern``, ``enum``), ``date`` (ISO 8601 ``YYYY-MM-DD``, a
real calendar date), ``integer``, ``boolean``, ``object`` (``properties``) and ``array`` (``items``,
``min_items``, ``max_items``). Unknown claims are refused (a typo must not pass silently into a
credential). Validation collects every problem, each with the path of the field, before refusing.

Predicates (design.md principle 2): ``age_over_NN`` booleans computed from ``predicate_source`` at
issuance, each its own disclosable claim in the SD-JWT formats. They are not added to ``ldp_vc``
credentials: a full-disclosure credential gains nothing from them, and the bundled JSON-LD context does
not define them (strict verifiers would reject an undefined term).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from shared import predicates
from shared.errors import MalformedError

DEFAULT_CATALOGUE: Final = Path(__file__).with_name("catalogue.toml")
FORMAT_SUFFIX: Final = {"dc+sd-jwt": "sd_jwt_vc", "ldp_vc": "ldp_vc", "vc+sd-jwt": "vc_sd_jwt"}
CLAIM_TYPES: Final = frozenset({"string", "date", "integer", "boolean", "object", "array"})
CRYPTOSUITES: Final = frozenset({"eddsa-rdfc-2022", "eddsa-jcs-2022"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ClaimSpec:
    type: str
    required: bool = False
    disclosable: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    properties: dict[str, ClaimSpec] = field(default_factory=dict)
    items: ClaimSpec | None = None
    min_items: int | None = None
    max_items: int | None = None


@dataclass(frozen=True)
class CredentialType:
    name: str
    vct: str
    context: str | None
    validity_days: int | None
    formats: tuple[str, ...]
    cryptosuite: str
    display: dict[str, dict[str, str]]  # locale -> {"name", "description"}
    claims: dict[str, ClaimSpec]
    predicates: tuple[int, ...] = ()
    predicate_source: str | None = None

    def configuration_id(self, fmt: str) -> str:
        return f"{self.name}_{FORMAT_SUFFIX[fmt]}"

    @property
    def configuration_ids(self) -> list[str]:
        return [self.configuration_id(f) for f in self.formats]


@dataclass(frozen=True)
class Catalogue:
    types: dict[str, CredentialType]

    def get(self, name: str) -> CredentialType:
        found = self.types.get(name) if isinstance(name, str) else None
        if found is None:
            raise MalformedError(f"unknown credential type {str(name)[:64]!r}", code="unsupported_format")
        return found

    def configuration(self, configuration_id: str) -> tuple[CredentialType, str]:
        """(type, format) of a credential configuration id; ``unsupported_format`` if there is none."""
        for ctype in self.types.values():
            for fmt in ctype.formats:
                if ctype.configuration_id(fmt) == configuration_id:
                    return ctype, fmt
        raise MalformedError(f"unknown credential configuration {configuration_id[:80]!r}", code="unsupported_format")


# --- loading ----------------------------------------------------------------------------------------


def _bad(where: str, message: str) -> MalformedError:
    return MalformedError(f"catalogue: {where}: {message}")


def _claim_spec(raw: Any, where: str) -> ClaimSpec:
    if not isinstance(raw, dict):
        raise _bad(where, "a claim is a table")
    kind = raw.get("type")
    if kind not in CLAIM_TYPES:
        raise _bad(where, f"type must be one of {sorted(CLAIM_TYPES)}")
    labels = raw.get("label", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _bad(where, "label is a table of locale = text")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _bad(where, f"pattern is not a regular expression: {exc}") from exc
    props = raw.get("properties", {})
    if kind == "object" and not props:
        raise _bad(where, "an object claim lists its properties")
    items = raw.get("items")
    if kind == "array" and items is None:
        raise _bad(where, "an array claim describes its items")
    enum = raw.get("enum")
    return ClaimSpec(
        type=kind,
        required=bool(raw.get("required", False)),
        disclosable=bool(raw.get("disclosable", True)),
        labels=dict(labels),
        max_length=raw.get("max_length"),
        pattern=pattern,
        enum=tuple(enum) if enum is not None else None,
        properties={k: _claim_spec(v, f"{where}.{k}") for k, v in props.items()},
        items=_claim_spec(items, f"{where}[]") if items is not None else None,
        min_items=raw.get("min_items"),
        max_items=raw.get("max_items"),
    )


def _credential_type(name: str, raw: Any) -> CredentialType:
    if not _NAME.fullmatch(name) or not isinstance(raw, dict):
        raise _bad(name, "a type is a table named with letters, digits and _")
    formats = tuple(raw.get("formats", ()))
    if not formats or any(f not in FORMAT_SUFFIX for f in formats):
        raise _bad(name, f"formats must be a non-empty list of {sorted(FORMAT_SUFFIX)}")
    display = raw.get("display", {})
    if not display or not all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in display.values()):
        raise _bad(name, "display needs a table per locale with a name")
    claims = {k: _claim_spec(v, f"{name}.{k}") for k, v in raw.get("claims", {}).items()}
    if not claims:
        raise _bad(name, "a type has claims")
    predicates = tuple(int(n) for n in raw.get("predicates", ()))
    source = raw.get("predicate_source")
    if predicates and (source not in claims or claims[source].type != "date"):
        raise _bad(name, "predicates need predicate_source naming a date claim")
    if "ldp_vc" in formats and not raw.get("context"):
        raise _bad(name, "a type offered as ldp_vc names its JSON-LD context")
    suite = raw.get("cryptosuite", "eddsa-rdfc-2022")
    if suite not in CRYPTOSUITES:
        raise _bad(name, f"cryptosuite must be one of {sorted(CRYPTOSUITES)}")
    vct = raw.get("vct")
    if not isinstance(vct, str) or not vct:
        raise _bad(name, "vct (the SD-JWT VC type) is required")
    validity = raw.get("validity_days")
    return CredentialType(
        name=name,
        vct=vct,
        context=raw.get("context"),
        validity_days=int(validity) if validity else None,
        formats=formats,
        cryptosuite=suite,
        display={str(k): dict(v) for k, v in display.items()},
        claims=claims,
        predicates=predicates,
        predicate_source=source,
    )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    types = data.get("types")
    if not isinstance(types, dict) or not types:
        raise _bad("types", "the catalogue defines at least one type under [types.<Name>]")
    return Catalogue({name: _credential_type(name, raw) for name, raw in types.items()})


def load_catalogue(path: Path | None = None) -> Catalogue:
    target = path or DEFAULT_CATALOGUE
    try:
        with target.open("rb") as fh:
            return parse_catalogue(tomllib.load(fh))
    except OSError as exc:
        raise MalformedError(f"cannot read the catalogue {target}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MalformedError(f"the catalogue {target} is not valid TOML: {exc}") from exc


# --- validation ---------------------------------------------------------------------------------------


def _check(spec: ClaimSpec, value: Any, path: str, errors: list[dict[str, str]]) -> None:
    def bad(message: str) -> None:
        errors.append({"field": path, "message": message})

    if spec.type == "string":
        if not isinstance(value, str) or not value.strip():
            return bad("must be a non-empty string")
        if spec.max_length is not None and len(value) > spec.max_length:
            return bad(f"must be at most {spec.max_length} characters")
        if spec.enum is not None and value not in spec.enum:
            return bad(f"must be one of {', '.join(spec.enum)}")
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            return bad(f"must match {spec.pattern}")
    elif spec.type == "date":
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            return bad("must be a date written YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            return bad("is not a real calendar date")
    elif spec.type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return bad("must be an integer")
    elif spec.type == "boolean":
        if not isinstance(value, bool):
            return bad("must be true or false")
    elif spec.type == "object":
        if not isinstance(value, dict):
            return bad("must be an object")
        _check_members(spec.properties, value, path + ".", errors)
    elif spec.type == "array":
        if not isinstance(value, list):
            return bad("must be a list")
        if spec.min_items is not None and len(value) < spec.min_items:
            return bad(f"must have at least {spec.min_items} entries")
        if spec.max_items is not None and len(value) > spec.max_items:
            return bad(f"must have at most {spec.max_items} entries")
        assert spec.items is not None
        for i, item in enumerate(value):
            _check(spec.items, item, f"{path}[{i}]", errors)
    return None


def _check_members(
    specs: dict[str, ClaimSpec], value: dict[str, Any], prefix: str, errors: list[dict[str, str]]
) -> None:
    for name, spec in specs.items():
        if name not in value or value[name] is None:
            if spec.required:
                errors.append({"field": prefix + name, "message": "is required"})
            continue
        _check(spec, value[name], prefix + name, errors)
    for name in value:
        if name not in specs:
            errors.append({"field": prefix + str(name)[:64], "message": "is not a claim of this credential type"})


def validate_claims(ctype: CredentialType, claims: Any) -> dict[str, Any]:
    """The claims if they match the type's schema; otherwise ``malformed`` listing every bad field."""
    if not isinstance(claims, dict):
        raise MalformedError("claims must be a JSON object", fields=[{"field": "", "message": "must be an object"}])
    errors: list[dict[str, str]] = []
    _check_members(ctype.claims, claims, "", errors)
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        raise MalformedError(f"the claims do not fit {ctype.name}: {summary}", fields=errors)
    return {k: v for k, v in claims.items() if v is not None}


def age_predicates(ctype: CredentialType, claims: dict[str, Any], today: date) -> dict[str, bool]:
    """``{"age_over_NN": bool}`` for each configured threshold, from the predicate source date."""
    if not ctype.predicates or ctype.predicate_source is None or ctype.predicate_source not in claims:
        return {}
    return predicates.age_over(claims[ctype.predicate_source], today=today, thresholds=ctype.predicates)


# --- OpenID4VCI metadata ------------------------------------------------------------------------------


def claims_metadata(ctype: CredentialType) -> list[dict[str, Any]]:
    """``credential_metadata.claims`` (OpenID4VCI 1.0 Appendix B.2): one entry per claim path."""
    out: list[dict[str, Any]] = []

    def walk(specs: dict[str, ClaimSpec], path: list[Any]) -> None:
        for name, spec in specs.items():
            here = [*path, name]
            entry: dict[str, Any] = {"path": here}
            if spec.required:
                entry["mandatory"] = True
            if spec.labels:
                entry["display"] = [{"name": text, "locale": loc} for loc, text in spec.labels.items()]
            out.append(entry)
            if spec.type == "object":
                walk(spec.properties, here)
            elif spec.type == "array" and spec.items is not None and spec.items.type == "object":
                walk(spec.items.properties, [*here, None])

    walk(ctype.claims, [])
    return out


def display_metadata(ctype: CredentialType) -> list[dict[str, Any]]:
    return [{"locale": loc, **d} for loc, d in ctype.display.items()]
