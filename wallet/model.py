"""What the wallet keeps: credential records, history entries and the issuer's display metadata.

Plain frozen dataclasses with ``to_dict``/``from_dict`` so the vault can store them as JSON. A credential
record keeps the credential exactly as received (``raw``: the SD-JWT with every disclosure, or the
Data Integrity JSON) plus what the wallet learned when it verified it (issuer, types, every claim,
validity, status reference), so listing and matching never re-parse or re-verify.

Display metadata follows OpenID4VCI 1.0 §12.2.4 (``credential_metadata.display`` and
``credential_metadata.claims[].display``), flattened to ``{locale: text}`` maps; labels are chosen for
the person's language with fallbacks (exact locale → same language → English → any).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from shared.dcql import ClaimPath, format_path

FORMATS: Final = ("dc+sd-jwt", "vc+sd-jwt", "ldp_vc")
SD_JWT_FORMATS: Final = frozenset({"dc+sd-jwt", "vc+sd-jwt"})


def pick_locale(texts: Mapping[str, str], lang: str) -> str | None:
    """The text for ``lang`` (``fr`` or ``fr-CA``), falling back to the same language, English, then any."""
    if not texts:
        return None
    if lang in texts:
        return texts[lang]
    base = lang.split("-", maxsplit=1)[0].lower()
    for key, value in texts.items():
        if key.split("-")[0].lower() == base:
            return value
    for key, value in texts.items():
        if key.split("-")[0].lower() == "en":
            return value
    return next(iter(texts.values()))


def _locale_map(entries: Any) -> dict[str, str]:
    """``[{"name": ..., "locale": ...}]`` (OpenID4VCI display objects) as ``{locale: name}``."""
    out: dict[str, str] = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                out[str(entry.get("locale") or "und")] = entry["name"]
    return out


@dataclass(frozen=True)
class Display:
    """The issuer's names for a credential and its claims, per locale."""

    name: Mapping[str, str] = field(default_factory=dict)
    issuer_name: Mapping[str, str] = field(default_factory=dict)
    claims: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # format_path(path) -> labels

    @classmethod
    def from_metadata(cls, issuer_metadata: Mapping[str, Any], configuration: Mapping[str, Any]) -> Display:
        meta = configuration.get("credential_metadata")
        meta = meta if isinstance(meta, dict) else configuration  # drafts put display at the top level
        claims: dict[str, dict[str, str]] = {}
        raw_claims = meta.get("claims")
        if isinstance(raw_claims, list):
            for item in raw_claims:
                if isinstance(item, dict) and isinstance(item.get("path"), list):
                    labels = _locale_map(item.get("display"))
                    if labels:
                        claims[format_path(item["path"])] = labels
        return cls(_locale_map(meta.get("display")), _locale_map(issuer_metadata.get("display")), claims)

    def label(self, path: Sequence[Any], lang: str) -> str:
        key = format_path(path)
        return pick_locale(self.claims.get(key, {}), lang) or key

    def to_dict(self) -> dict[str, Any]:
        return {"name": dict(self.name), "issuer_name": dict(self.issuer_name), "claims": dict(self.claims)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Display:
        return cls(
            dict(value.get("name", {})),
            dict(value.get("issuer_name", {})),
            {k: dict(v) for k, v in value.get("claims", {}).items()},
        )


@dataclass(frozen=True)
class CredentialRecord:
    id: str
    format: str
    raw: Any  # str (SD-JWT compact with all disclosures) or dict (Data Integrity VC)
    issuer: str
    types: tuple[str, ...]  # vct for SD-JWT VC, the VC's types otherwise
    claims: Mapping[str, Any]  # every claim the holder can disclose, as the issuer sent it
    holder_key_id: str
    display: Display = field(default_factory=Display)
    disclosable: tuple[ClaimPath, ...] = ()  # SD-JWT: paths that can be withheld; empty for ldp_vc
    valid_from: str | None = None
    valid_until: str | None = None
    status: Mapping[str, Any] | None = None  # the status reference, as in the credential
    status_result: str = "unknown"  # valid | revoked | suspended | unknown
    status_checked_at: str | None = None
    received_at: str = ""
    offer_issuer: str = ""  # the credential issuer URL it came from

    @property
    def vct(self) -> str | None:
        return self.types[0] if self.format == "dc+sd-jwt" and self.types else None

    def title(self, lang: str) -> str:
        return pick_locale(self.display.name, lang) or (self.types[-1] if self.types else self.format)

    def issuer_title(self, lang: str) -> str:
        return pick_locale(self.display.issuer_name, lang) or self.issuer

    def with_status(self, result: str, checked_at: str) -> CredentialRecord:
        return replace(self, status_result=result, status_checked_at=checked_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "raw": self.raw,
            "issuer": self.issuer,
            "types": list(self.types),
            "claims": dict(self.claims),
            "holder_key_id": self.holder_key_id,
            "display": self.display.to_dict(),
            "disclosable": [list(p) for p in self.disclosable],
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "status": dict(self.status) if self.status is not None else None,
            "status_result": self.status_result,
            "status_checked_at": self.status_checked_at,
            "received_at": self.received_at,
            "offer_issuer": self.offer_issuer,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> CredentialRecord:
        return cls(
            id=value["id"],
            format=value["format"],
            raw=value["raw"],
            issuer=value["issuer"],
            types=tuple(value.get("types", ())),
            claims=dict(value.get("claims", {})),
            holder_key_id=value["holder_key_id"],
            display=Display.from_dict(value.get("display", {})),
            disclosable=tuple(tuple(p) for p in value.get("disclosable", ())),
            valid_from=value.get("valid_from"),
            valid_until=value.get("valid_until"),
            status=value.get("status"),
            status_result=value.get("status_result", "unknown"),
            status_checked_at=value.get("status_checked_at"),
            received_at=value.get("received_at", ""),
            offer_issuer=value.get("offer_issuer", ""),
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One exchange: a receipt or a presentation (or a declined request)."""

    event: str  # received | presented | declined | failed
    at: str  # ISO 8601 UTC
    counterparty: str  # issuer URL or verifier client_id
    counterparty_name: str = ""
    purpose: str = ""
    claims: tuple[str, ...] = ()  # human-readable paths of the claims given or received
    withheld: tuple[str, ...] = ()
    credential_ids: tuple[str, ...] = ()
    result: str = "ok"  # ok, or a reason code
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "at": self.at,
            "counterparty": self.counterparty,
            "counterparty_name": self.counterparty_name,
            "purpose": self.purpose,
            "claims": list(self.claims),
            "withheld": list(self.withheld),
            "credential_ids": list(self.credential_ids),
            "result": self.result,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> HistoryEntry:
        return cls(
            event=value["event"],
            at=value["at"],
            counterparty=value.get("counterparty", ""),
            counterparty_name=value.get("counterparty_name", ""),
            purpose=value.get("purpose", ""),
            claims=tuple(value.get("claims", ())),
            withheld=tuple(value.get("withheld", ())),
            credential_ids=tuple(value.get("credential_ids", ())),
            result=value.get("result", "ok"),
            detail=value.get("detail", ""),
        )
