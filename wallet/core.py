"""The wallet's logic over the vault: holder keys, credential records, presentations and history.

No network and no UI: :mod:`wallet.client` does the HTTP and calls in here; the CLI and the Textual app
call both. Everything that changes the vault for one exchange happens in one transaction (a credential,
its holder key and its history entry are stored together or not at all).

Holder keys: one fresh Ed25519 key per credential (design.md §6, unlinkability), stored as a private
JWK in the vault (encrypted like everything else) and referenced by id from the credential record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import oid4vp
from shared.crypto import Ed25519PrivateKey
from shared.dcql import DcqlQuery, format_path
from shared.did import DidResolver
from shared.errors import MalformedError, TesseraError
from shared.keys import PrivateKey, private_jwk, private_key_from_jwk
from wallet import consent, formats
from wallet.model import CredentialRecord, Display, HistoryEntry
from wallet.vault import Damaged, Vault, VaultError, new_id

Clock = Callable[[], datetime]
FetchJson = Callable[[str], Any]
TRUST_LIST_ID = "setting-trusted-verifiers"
MAX_TRUSTED = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Received:
    """A credential as it arrived, with the holder key it was issued to (not yet verified or stored)."""

    format: str
    raw: Any
    key_id: str
    key: PrivateKey


@dataclass(frozen=True)
class Credentials:
    records: tuple[CredentialRecord, ...]
    damaged: tuple[Damaged, ...] = ()


@dataclass(frozen=True)
class Verifier:
    """Who asks: the verifier as the request object identifies it, and whether the wallet trusts it."""

    client_id: str
    name: str = ""
    trusted: bool = False
    purpose: str = ""


@dataclass
class Wallet:
    vault: Vault
    resolver: DidResolver = field(default_factory=DidResolver)
    now: Clock = utc_now
    trusted_verifiers: frozenset[str] = frozenset()  # in addition to the trust list kept in the vault

    # --- holder keys -----------------------------------------------------------------------------

    def new_holder_key(self) -> tuple[str, PrivateKey]:
        """A fresh key, not yet stored: it is stored with its credential, or not at all."""
        return new_id("k"), Ed25519PrivateKey.generate()

    def holder_key(self, key_id: str) -> PrivateKey:
        return private_key_from_jwk(self.vault.get(key_id).data)

    # --- receiving -------------------------------------------------------------------------------

    def accept(
        self,
        received: Sequence[Received],
        *,
        issuer_url: str,
        display: Display,
        expected_issuer: str | None = None,
        status_of: Callable[[str, formats.Verified], str] | None = None,
        fetch_json: FetchJson | None = None,
    ) -> list[CredentialRecord]:
        """Verify every credential, then store all of them (with their keys and one history entry) atomically.

        Nothing is stored if any credential fails: a batch is one exchange. ``status_of`` checks status
        (it may fetch) and returns ``valid``/``unknown``; a revoked or suspended credential raises.
        ``fetch_json`` fetches an https issuer's JWT VC Issuer Metadata and JWK Set (SD-JWT issuers named
        by URL rather than DID); the client passes one that goes through the wallet's transport.
        """
        now = self.now()
        records: list[CredentialRecord] = []
        for item in received:
            checked = formats.verify_received(
                item.format,
                item.raw,
                resolver=self.resolver,
                now=now,
                holder_key=item.key,
                expected_issuer=expected_issuer,
                fetch_json=fetch_json,
            )
            status = status_of(item.format, checked) if status_of is not None else "unknown"
            records.append(
                CredentialRecord(
                    id=new_id("c"),
                    format=item.format,
                    raw=item.raw,
                    issuer=checked.issuer,
                    types=checked.types,
                    claims=checked.claims,
                    holder_key_id=item.key_id,
                    display=display,
                    disclosable=checked.disclosable,
                    valid_from=checked.valid_from,
                    valid_until=checked.valid_until,
                    status=checked.status,
                    status_result=status,
                    status_checked_at=iso(now) if status_of is not None else None,
                    received_at=iso(now),
                    offer_issuer=issuer_url,
                )
            )
        with self.vault.atomic():
            for item, record in zip(received, records, strict=True):
                self.vault.put("key", item.key_id, private_jwk(item.key), replace=False)
                self.vault.put("credential", record.id, record.to_dict(), replace=False)
            self.vault.add_history(
                HistoryEntry(
                    event="received",
                    at=iso(now),
                    counterparty=issuer_url,
                    counterparty_name=next(iter(display.issuer_name.values()), ""),
                    claims=tuple(sorted({format_path(p) for r in records for p in consent.leaf_paths(r.claims)})),
                    credential_ids=tuple(r.id for r in records),
                ).to_dict()
            )
        return records

    def record_failure(self, event: str, counterparty: str, error: TesseraError, *, purpose: str = "") -> None:
        """Keep a trace of an exchange that failed (the person may want to know it was attempted)."""
        self.vault.add_history(
            HistoryEntry(
                event=event,
                at=iso(self.now()),
                counterparty=counterparty,
                purpose=purpose,
                result=error.code,
                detail=error.message,
            ).to_dict()
        )

    # --- holding ---------------------------------------------------------------------------------

    def credentials(self) -> Credentials:
        listing = self.vault.list("credential")
        good: list[CredentialRecord] = []
        bad = list(listing.damaged)
        for record in listing.records:
            try:
                good.append(CredentialRecord.from_dict(record.data))
            except (KeyError, TypeError, ValueError):
                bad.append(Damaged(record.id, record.kind, f"record {record.id} has an unexpected shape"))
        return Credentials(tuple(good), tuple(bad))

    def credential(self, credential_id: str) -> CredentialRecord:
        record = self.vault.get(credential_id)
        if record.kind != "credential":
            raise VaultError(f"{credential_id} is not a credential", code="not_found")
        return CredentialRecord.from_dict(record.data)

    def find(self, prefix: str) -> CredentialRecord:
        """A credential by id or unambiguous id prefix (as people type them in the CLI)."""
        matches = [r for r in self.credentials().records if r.id == prefix or r.id.startswith(prefix)]
        if len(matches) != 1:
            reason = "no credential" if not matches else "more than one credential"
            raise VaultError(f"{reason} matches {prefix!r}", code="not_found")
        return matches[0]

    def update_status(self, credential_id: str, result: str) -> CredentialRecord:
        record = self.credential(credential_id).with_status(result, iso(self.now()))
        self.vault.put("credential", record.id, record.to_dict())
        return record

    def delete(self, credential_id: str) -> None:
        record = self.credential(credential_id)
        with self.vault.atomic():
            self.vault.delete(record.id)
            self.vault.delete(record.holder_key_id)

    # --- verifier trust list ---------------------------------------------------------------------

    def trust_list(self) -> dict[str, str]:
        """The verifiers the person trusts: ``client_id`` → the name they gave it (kept in the vault)."""
        if not self.vault.has(TRUST_LIST_ID):
            return {}
        value = self.vault.get(TRUST_LIST_ID).data
        entries = value.get("verifiers") if isinstance(value, dict) else None
        if not isinstance(entries, dict):
            raise VaultError("the trust list record has an unexpected shape", code="damaged_record")
        return {str(k): str(v) for k, v in entries.items()}

    def _save_trust_list(self, entries: dict[str, str]) -> None:
        self.vault.put("setting", TRUST_LIST_ID, {"verifiers": dict(sorted(entries.items()))})

    def trust(self, client_id: str, name: str = "") -> None:
        """Add (or rename) a verifier by its OpenID4VP ``client_id``, exactly as requests carry it."""
        oid4vp.parse_client_id(client_id)  # refuses empty or malformed identifiers
        if len(name) > 200:
            raise MalformedError("a verifier name has at most 200 characters")
        with self.vault.atomic():
            entries = self.trust_list()
            if client_id not in entries and len(entries) >= MAX_TRUSTED:
                raise MalformedError(f"the trust list holds at most {MAX_TRUSTED} verifiers")
            entries[client_id] = name
            self._save_trust_list(entries)

    def distrust(self, client_id: str) -> bool:
        """Remove a verifier; ``False`` if it was not in the list."""
        with self.vault.atomic():
            entries = self.trust_list()
            if entries.pop(client_id, None) is None:
                return False
            self._save_trust_list(entries)
        return True

    def is_trusted(self, client_id: str) -> bool:
        return client_id in self.trusted_verifiers or client_id in self.trust_list()

    # --- presenting ------------------------------------------------------------------------------

    def plan(self, query: DcqlQuery) -> consent.Plan:
        return consent.plan(query, self.credentials().records)

    def respond(self, plan: consent.Plan, *, client_id: str, nonce: str) -> dict[str, list[Any]]:
        """The ``vp_token`` object: query id -> presentations of the chosen claims only."""
        now = self.now()
        out: dict[str, list[Any]] = {}
        for query_id, record, paths in consent.disclosures(plan):
            key = self.holder_key(record.holder_key_id)
            out.setdefault(query_id, []).append(
                formats.present(record, paths, key, client_id=client_id, nonce=nonce, now=now)
            )
        return out

    def record_presentation(
        self, plan: consent.Plan, verifier: Verifier, *, result: str = "ok", detail: str = ""
    ) -> None:
        sent = [(q, r, p) for q, r, p in consent.disclosures(plan)]
        shared_claims: list[str] = []
        for _, record, paths in sent:
            chosen = paths if record.format != "ldp_vc" else tuple(consent.leaf_paths(record.claims))
            shared_claims.extend(format_path(p) for p in chosen)
        withheld = [format_path(p) for q in plan.queries for p in q.withheld()]
        self.vault.add_history(
            HistoryEntry(
                event="presented",
                at=iso(self.now()),
                counterparty=verifier.client_id,
                counterparty_name=verifier.name,
                purpose=verifier.purpose,
                claims=tuple(shared_claims),
                withheld=tuple(withheld),
                credential_ids=tuple(r.id for _, r, _ in sent),
                result=result,
                detail=detail,
            ).to_dict()
        )

    def record_decline(self, verifier: Verifier, requested: Iterable[str]) -> None:
        self.vault.add_history(
            HistoryEntry(
                event="declined",
                at=iso(self.now()),
                counterparty=verifier.client_id,
                counterparty_name=verifier.name,
                purpose=verifier.purpose,
                withheld=tuple(requested),
                result="access_denied",
            ).to_dict()
        )

    # --- history ---------------------------------------------------------------------------------

    def history(self) -> tuple[list[HistoryEntry], tuple[Damaged, ...]]:
        listing = self.vault.history()
        return [HistoryEntry.from_dict(h.data) for h in listing.records], listing.damaged

    def history_json(self) -> str:
        entries, damaged = self.history()
        body: dict[str, Any] = {"history": [e.to_dict() for e in entries]}
        if damaged:
            body["damaged"] = [d.id for d in damaged]
        return json.dumps(body, ensure_ascii=False, indent=2)
