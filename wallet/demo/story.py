"""The demo's story, one step at a time, each step returning what happened as data.

A civil registry (the issuer) issues a child's birth certificate to a parent's wallet; a school asks for
the child's names and date of birth; the registry issues the parent's own certificate; a shop asks only
whether the parent is over 18; the registry revokes the child's certificate and the school's next check
fails with ``revoked``. :func:`run_story` runs these steps in order, hands each result to a callback
(the narrator, or a test that collects them) and checks it against the story; :class:`Story` has the
steps themselves, which the end-to-end tests also call on their own (a declined request, a replay).

The wallet side is the real wallet: :class:`wallet.client.Client` over a vault, exactly as the CLI and
the app drive it. The registry's and the relying parties' side is their HTTP API (admin offers and
revocation; verifier sessions), as their own software would call it. What left the wallet is read back
from the wire (:class:`RecordingHttp`), not from the wallet's plan, so the narration shows what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared import jose, sd_jwt
from shared.dcql import format_path
from wallet import consent
from wallet.client import Client, PresentationRequest
from wallet.core import Wallet
from wallet.demo.config import example_path
from wallet.demo.services import DemoError, Services
from wallet.model import CredentialRecord
from wallet.transport import Http, Reply
from wallet.vault import KdfParams, Vault

PASSPHRASE = "tessera demo wallet"  # noqa: S105 - a throwaway demo wallet's passphrase, printed on purpose
CHILD_FORMAT = "dc+sd-jwt"
SCHOOL, SHOP = "school-enrolment", "age-over-18"
# The child's father, as the child's certificate names him; born well over 18 years ago.
PARENT_CLAIMS: dict[str, Any] = {
    "givenName": "Chidi",
    "familyName": "Okafor",
    "birthDate": "1994-06-02",
    "placeOfBirth": {"locality": "Nsukka", "region": "Enugu State", "country": "NG"},
    "sex": "M",
    "nationality": "NG",
    "parent": [{"givenName": "Emeka", "familyName": "Okafor"}, {"givenName": "Adaeze", "familyName": "Okafor"}],
    "registrationNumber": "ENU-1994-002318",
    "registrationDate": "1994-06-20",
    "registeringAuthority": "Enugu State Civil Registry",
}


def child_claims() -> dict[str, Any]:
    """The shipped sample (issuer/examples/birth-certificate.json): Amara Okafor, born 2026."""
    value = json.loads(example_path("issuer", "examples", "birth-certificate.json").read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise DemoError("issuer/examples/birth-certificate.json is not a JSON object", code="malformed")
    return value


# --- step results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offered:
    who: str
    record_id: str
    link: str  # openid-credential-offer://…
    tx_code: str | None  # given to the person separately (the clerk reads it out)
    formats: tuple[str, ...]


@dataclass(frozen=True)
class Received:
    offer: Offered
    credential: CredentialRecord


@dataclass(frozen=True)
class Asked:
    path: str
    label: str
    required: bool
    value: Any
    sent: bool


@dataclass(frozen=True)
class Consent:
    """What the wallet shows before anything is sent."""

    verifier_name: str
    client_id: str
    trusted: bool
    purpose: str
    credential_id: str
    credential_title: str
    candidates: int  # held credentials that could answer
    asked: tuple[Asked, ...]
    withheld: tuple[str, ...]  # disclosable claims that stay in the wallet
    always_visible: tuple[str, ...]  # claims the issuer did not make selectively disclosable

    @property
    def shared(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.asked if a.sent)


@dataclass(frozen=True)
class Sent:
    """One response as it went over the wire (``direct_post``)."""

    response_uri: str
    form: Mapping[str, str]  # vp_token and state, or error and state
    disclosed: tuple[str, ...] = ()  # the claims of the SD-JWT Disclosures sent
    audience: str | None = None  # of the key binding JWT
    nonce: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    outcome: str  # passed | failed | skipped
    code: str
    message: str


@dataclass(frozen=True)
class Verdict:
    """The verifier's session, as its relying party reads it (``GET /sessions/{id}``)."""

    session_id: str
    status: str  # verified | rejected | declined | pending | …
    code: str
    checks: tuple[Check, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)
    wallet_error: str | None = None


@dataclass(frozen=True)
class Session:
    id: str  # known to the relying party only; the QR code carries another, public request id
    policy: str
    link: str  # openid4vp://…
    view_url: str  # the counter page: a browser view of the session and its verdict


@dataclass(frozen=True)
class Presented:
    session: Session
    consent: Consent
    sent: Sent
    verdict: Verdict


@dataclass(frozen=True)
class Revoked:
    offer: Offered
    previous: str
    status: str


@dataclass(frozen=True)
class StatusChecked:
    credential_id: str
    result: str  # valid | revoked | suspended | unknown


# --- the wallet's transport, keeping what it posted -----------------------------------------------------


class RecordingHttp(Http):
    """The wallet's own transport; every form it posts is kept, so the story shows what left the wallet."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(client)
        self.posted: list[tuple[str, dict[str, str]]] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        if method == "POST" and data is not None:
            self.posted.append((url, dict(data)))
        return super().request(method, url, headers=headers, data=data, json_body=json_body)


def read_sent(response_uri: str, form: Mapping[str, str]) -> Sent:
    """Which claims a response disclosed, read from its SD-JWT presentations (names of the Disclosures)."""
    if "vp_token" not in form:
        return Sent(response_uri, form)
    disclosed: list[str] = []
    audience = nonce = None
    for items in json.loads(form["vp_token"]).values():
        for item in items:
            if not isinstance(item, str):  # a Data Integrity VP: all of the credential goes
                disclosed.extend(format_path(p) for p in consent.leaf_paths(item["verifiableCredential"][0]))
                continue
            parts = sd_jwt.split(item)
            disclosed.extend(str(sd_jwt.parse_disclosure(p).name) for p in parts[1:-1])
            if parts[-1]:
                payload = jose.decode_unverified(parts[-1]).payload
                audience, nonce = payload.get("aud"), payload.get("nonce")
    return Sent(response_uri, form, tuple(disclosed), audience, nonce)


# --- the steps -----------------------------------------------------------------------------------------


class Story:
    """The parent's wallet (a new vault at ``wallet_path``) and the services' APIs."""

    def __init__(
        self, services: Services, wallet_path: Path, *, passphrase: str = PASSPHRASE, kdf: KdfParams | None = None
    ) -> None:
        self.services = services
        self.wallet_path = wallet_path
        self.wallet = Wallet(Vault.create(wallet_path, passphrase, kdf=kdf))
        # the wallet's transport trusts the demo CA, as a phone's would trust a registry's real certificate
        self.http = RecordingHttp(services.http_client())
        self.client = Client(self.wallet, self.http)

    def close(self) -> None:
        self.wallet.vault.close()
        self.http.client.close()

    def offer(self, who: str, claims: Mapping[str, Any], formats: Sequence[str] = (CHILD_FORMAT,)) -> Offered:
        """The registry's clerk makes an offer (``POST /admin/offers``), protected by a transaction code."""
        body = {"type": "BirthCertificate", "claims": dict(claims), "formats": list(formats), "tx_code": True}
        made = self.services.issuer_admin("POST", "/admin/offers", body)
        return Offered(who, made["record_id"], made["offer_link"], made.get("tx_code"), tuple(formats))

    def receive(self, offer: Offered) -> Received:
        """The parent opens the link and types the code; the wallet checks what arrives before storing it."""
        issuance = self.client.start_issuance(offer.link)
        records = self.client.receive(issuance, tx_code=offer.tx_code)
        return Received(offer, records[0])

    def start_session(self, policy: str) -> Session:
        """A relying party asks the verifier for a session (``POST /sessions``) and shows its link or QR."""
        made = self.services.verifier_api("POST", "/sessions", {"policy": policy})
        return Session(made["session_id"], policy, made["link"], made["view_url"])

    def open(self, session: Session, *, credential_id: str | None = None) -> PresentationRequest:
        """The wallet fetches and checks the signed request and proposes the smallest acceptable answer."""
        pending = self.client.open_request(session.link, lang="en")
        if pending.plan.unanswerable:
            raise DemoError(f"the wallet holds nothing that answers {session.policy}", code="no_matching_credential")
        plan = pending.plan
        for q in plan.queries:
            ids = [r.id for r in q.candidates]
            if credential_id in ids:  # the person picks which of their credentials to use
                plan = consent.choose_credential(plan, q.query.id, ids.index(credential_id))
            for c in plan.choice(q.query.id).claims:  # private by default, as in `tessera wallet present`
                if not c.required and c.selected:
                    plan = consent.toggle_claim(plan, q.query.id, c.path)
        pending.plan = plan
        return pending

    def consent(self, pending: PresentationRequest) -> Consent:
        """The consent screen's content, for the first credential asked for (each shipped policy asks one)."""
        q = pending.plan.queries[0]
        record = q.record
        v = pending.verifier
        return Consent(
            verifier_name=v.name,
            client_id=v.client_id,
            trusted=v.trusted,
            purpose=v.purpose,
            credential_id=record.id,
            credential_title=f"{record.title('en')} of {_subject(record)}",
            candidates=len(q.candidates),
            asked=tuple(
                Asked(c.name, record.display.label(c.path, "en"), c.required, c.value, c.selected) for c in q.claims
            ),
            withheld=tuple(format_path(p) for p in sorted(q.withheld(), key=_claim_order(record))),
            always_visible=tuple(format_path(p) for p in q.always_visible()),
        )

    def present(self, policy: str, *, credential_id: str | None = None, decline: bool = False) -> Presented:
        """One whole exchange: request, consent, response (or ``access_denied``), and the verifier's verdict."""
        session = self.start_session(policy)
        pending = self.open(session, credential_id=credential_id)
        shown = self.consent(pending)
        posted_before = len(self.http.posted)
        if decline:
            self.client.decline(pending)
        else:
            self.client.send(pending)
        url, form = self.http.posted[posted_before]
        return Presented(session, shown, read_sent(url, form), self.verdict(session.id))

    def verdict(self, session_id: str) -> Verdict:
        status = self.services.verifier_api("GET", f"/sessions/{session_id}")
        verdict = status.get("verdict") or {}
        return Verdict(
            session_id=session_id,
            status=str(status.get("status")),
            code=str(verdict.get("code", "")),
            checks=tuple(Check(c["check"], c["outcome"], c["code"], c["message"]) for c in verdict.get("checks", ())),
            claims=status.get("claims") or {},
            wallet_error=verdict.get("wallet_error"),
        )

    def revoke(self, offer: Offered) -> Revoked:
        changed = self.services.issuer_admin("POST", f"/admin/records/{offer.record_id}/revoke")
        return Revoked(offer, str(changed.get("previous")), str(changed.get("status")))

    def check_status(self, credential_id: str) -> StatusChecked:
        """The wallet reads the issuer's status list for one held credential."""
        return StatusChecked(credential_id, self.client.refresh_status(credential_id).status_result)


def _claim_order(record: CredentialRecord) -> Callable[[tuple[Any, ...]], tuple[int, str]]:
    """Claims in the issuer's order (its metadata lists them so), the others after them by name; an SD-JWT's
    own order is its Disclosures' digests, which says nothing to a person."""
    known = {name: i for i, name in enumerate(record.display.claims)}
    return lambda path: (known.get(format_path(path), len(known)), format_path(path))


def _subject(record: CredentialRecord) -> str:
    claims = record.claims.get("credentialSubject", record.claims)
    return f"{claims.get('givenName', '?')} {claims.get('familyName', '?')}"
