"""The wallet presents to the project's own verifier, with credentials from the project's own issuer (issue #6).

In-process on SQLite and PostgreSQL (tests/wallet/services.py). The verifier runs the shipped policies
(verifier/examples/verifier.toml: age-over-18, school-enrolment, parental-link, all ``dc+sd-jwt``) and
test policies for the other formats and for an optional claim. Each test reads the verifier's session
(verdict and stored claims) and the direct_post form the wallet sent, so it can tell that the verifier
kept exactly what the person chose to share, and that nothing else left the wallet.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import TesseraError
from tests.wallet.services import (
    ADULT,
    CHILD,
    FORMATS,
    ISSUER_DID,
    SD_JWT_FORMATS,
    Services,
    disclosed,
    kb_jwt_claims,
    vp_token,
)
from wallet import consent
from wallet.client import Client, PresentationRequest
from wallet.model import CredentialRecord
from wallet.vault import Vault

QUERY = "birth_certificate"  # the credential query id of every policy used here
NAMES = {k: CHILD[k] for k in ("givenName", "familyName", "birthDate")}
PARENTS = [{"givenName": p["givenName"], "familyName": p["familyName"]} for p in CHILD["parent"]]
# the shipped policies: holder's credential, and the claims the verifier must end up with
SHIPPED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "age-over-18": (ADULT, {"age_over_18": True}),
    "school-enrolment": (CHILD, NAMES),
    "parental-link": (CHILD, {"givenName": "Amara", "familyName": "Okafor", "parent": PARENTS}),
}
# registeringAuthority is public information about the issuer: never selectively disclosable (catalogue.toml)
ALWAYS_VISIBLE = [f"{QUERY}: registeringAuthority"]


def open_session(services: Services, client: Client, policy: str) -> tuple[dict[str, Any], PresentationRequest]:
    session = services.new_session(policy)
    pending = client.open_request(session["link"])
    assert pending.signed and pending.request.client_id == session["client_id"]
    assert pending.request.response_uri.startswith("http://127.0.0.1:8200/responses/")
    assert services.session(session["session_id"])["status"] == "fetched"
    return session, pending


def sent_presentation(services: Services) -> Any:
    """The one presentation the wallet posted to the verifier."""
    (form,) = services.posted_to_verifier()
    token = vp_token(form)
    assert list(token) == [QUERY] and len(token[QUERY]) == 1
    return token[QUERY][0]


def check_sd_jwt_sent(presentation: str, pending: PresentationRequest, expected: dict[str, Any]) -> None:
    """Only the chosen Disclosures left the wallet, bound to this verifier and request by the KB-JWT."""
    assert disclosed(presentation) == expected
    kb = kb_jwt_claims(presentation)
    assert (kb["aud"], kb["nonce"]) == (pending.request.client_id, pending.request.nonce)


def verified(status: dict[str, Any]) -> dict[str, Any]:
    assert status["status"] == "verified", status
    verdict: dict[str, Any] = status["verdict"]
    assert verdict["verified"] is True and verdict["code"] == "ok"
    assert {c["check"] for c in verdict["checks"] if c["outcome"] == "passed"} >= {
        "signature",
        "issuer_trust",
        "validity_period",
        "status",
        "holder_binding",
        "requested_claims",
    }
    status_check = next(c for c in verdict["checks"] if c["check"] == "status")
    assert "has not been revoked" in status_check["message"]  # the issuer's list was fetched and read
    return verdict


def holds_status(record: CredentialRecord) -> bool:
    return bool(record.claims.get("status") or record.claims.get("credentialStatus"))


def paths_in(plan: consent.Plan) -> dict[tuple[Any, ...], bool]:
    """Requested claim path → required, for the one query."""
    return {c.path: c.required for c in plan.choice(QUERY).claims}


# --- shipped policies ------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["school-enrolment", "parental-link"])
def test_shipped_policy_gets_exactly_what_it_asks_for(services: Services, vault: Vault, policy: str) -> None:
    claims, expected = SHIPPED[policy]
    client = services.wallet(vault)
    services.receive(client, "dc+sd-jwt", claims)
    session, pending = open_session(services, client, policy)
    assert pending.verifier.name == "Example Verifier"  # the shipped [client] name
    assert pending.verifier.purpose.startswith({"school-enrolment": "Enrol", "parental-link": "Show"}[policy])
    assert set(paths_in(pending.plan).values()) == {True}  # every claim of a shipped policy is required

    client.send(pending)

    status = services.session(session["session_id"])
    verdict = verified(status)
    assert verdict["issuer"] == "https://issuer.test"
    assert status["claims"] == {QUERY: expected}
    assert verdict.get("extra_disclosed_paths") == ALWAYS_VISIBLE
    # parental-link asks for parent[*].givenName/familyName: the issuer discloses the parent list as one claim
    check_sd_jwt_sent(sent_presentation(services), pending, {k: claims[k] for k in expected})
    (entry,) = [e for e in client.wallet.history()[0] if e.event == "presented"]
    assert entry.result == "ok" and entry.counterparty == pending.request.client_id
    assert "nationality" in entry.withheld and not set(entry.claims) & set(entry.withheld)


def test_age_over_18_shares_the_predicate_only(services: Services, vault: Vault) -> None:
    client = services.wallet(vault)
    services.receive(client, "dc+sd-jwt", CHILD)
    _, pending = open_session(services, client, "age-over-18")
    assert pending.plan.unanswerable == (QUERY,)  # the child's certificate says age_over_18: false
    client.decline(pending)

    (adult,), _ = services.receive(client, "dc+sd-jwt", ADULT)
    session, pending = open_session(services, client, "age-over-18")
    assert [r.id for r in pending.plan.choice(QUERY).candidates] == [adult.id]  # values: [true] matched
    assert paths_in(pending.plan) == {("age_over_18",): True}

    client.send(pending)

    status = services.session(session["session_id"])
    assert verified(status).get("extra_disclosed_paths") == ALWAYS_VISIBLE
    assert status["claims"] == {QUERY: {"age_over_18": True}}
    declined, answered = services.posted_to_verifier()
    assert declined == {"error": "access_denied", "state": declined["state"]}
    (presentation,) = vp_token(answered)[QUERY]
    check_sd_jwt_sent(presentation, pending, {"age_over_18": True})  # not the name, not the date of birth


# --- optional claims and other formats --------------------------------------------------------------


@pytest.mark.parametrize("fmt", SD_JWT_FORMATS)
def test_an_optional_claim_left_out_is_neither_sent_nor_stored(services: Services, vault: Vault, fmt: str) -> None:
    client = services.wallet(vault)
    services.receive(client, fmt)
    session, pending = open_session(services, client, f"enrolment-optional-{fmt}")
    prefix = ("credentialSubject",) if fmt == "vc+sd-jwt" else ()
    nationality = (*prefix, "nationality")
    assert paths_in(pending.plan) == {
        (*prefix, "givenName"): True,
        (*prefix, "familyName"): True,
        (*prefix, "birthDate"): True,
        nationality: False,  # in the preferred claim set only: the person may leave it out
    }
    with pytest.raises(TesseraError) as info:
        consent.toggle_claim(pending.plan, QUERY, (*prefix, "birthDate"))
    assert info.value.code == "missing_claims"
    pending.plan = consent.toggle_claim(pending.plan, QUERY, nationality)
    assert nationality in pending.plan.choice(QUERY).withheld()

    client.send(pending)

    status = services.session(session["session_id"])
    verified(status)
    assert status["claims"] == {QUERY: {"credentialSubject": NAMES} if prefix else NAMES}
    check_sd_jwt_sent(sent_presentation(services), pending, NAMES)
    (entry,) = [e for e in client.wallet.history()[0] if e.event == "presented"]
    prefix_text = "credentialSubject." if prefix else ""
    assert sorted(entry.claims) == sorted(prefix_text + k for k in NAMES)
    assert prefix_text + "nationality" in entry.withheld


def test_a_data_integrity_credential_is_shared_whole(services: Services, vault: Vault) -> None:
    """``ldp_vc`` cannot withhold anything: every claim is required, the verifier keeps only what it asked for."""
    client = services.wallet(vault)
    (record,), _ = services.receive(client, "ldp_vc")
    session, pending = open_session(services, client, "enrolment-optional-ldp_vc")
    assert set(paths_in(pending.plan).values()) == {True}
    with pytest.raises(TesseraError) as info:
        consent.toggle_claim(pending.plan, QUERY, ("credentialSubject", "nationality"))
    assert info.value.code == "missing_claims"

    client.send(pending)

    status = services.session(session["session_id"])
    verdict = verified(status)
    assert verdict["issuer"] == ISSUER_DID and verdict["format"] == "ldp_vp"
    asked = {**NAMES, "nationality": CHILD["nationality"]}
    assert status["claims"] == {QUERY: {"credentialSubject": asked}}
    assert f"{QUERY}: credentialSubject.placeOfBirth.locality" in verdict["extra_disclosed_paths"]  # seen, not kept
    vp = sent_presentation(services)
    assert vp["verifiableCredential"] == [record.raw]  # the credential as issued, proof and all
    assert vp["holder"] == record.claims["credentialSubject"]["id"]
    proof = vp["proof"]
    assert proof["verificationMethod"].startswith(vp["holder"] + "#")
    assert (proof["challenge"], proof["domain"]) == (pending.request.nonce, pending.request.client_id)


# --- declining and revocation -----------------------------------------------------------------------


def test_declining_tells_the_verifier_access_denied(services: Services, vault: Vault) -> None:
    client = services.wallet(vault)
    services.receive(client, "dc+sd-jwt")
    session, pending = open_session(services, client, "school-enrolment")

    client.decline(pending)

    status = services.session(session["session_id"])
    assert status["status"] == "declined"
    assert status["verdict"]["wallet_error"] == "access_denied" and status["verdict"]["verified"] is False
    assert "claims" not in status
    assert services.posted_to_verifier() == [{"error": "access_denied", "state": pending.request.state}]
    (entry,) = [e for e in client.wallet.history()[0] if e.event == "declined"]
    assert entry.result == "access_denied" and sorted(entry.withheld) == sorted(NAMES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_after_revocation_the_wallet_shows_it_and_the_verifier_rejects_it(
    services: Services, vault: Vault, fmt: str
) -> None:
    policy = "school-enrolment" if fmt == "dc+sd-jwt" else f"enrolment-{fmt}"
    client = services.wallet(vault)
    (record,), offer = services.receive(client, fmt)
    assert holds_status(record) and record.status_result == "valid"
    session, pending = open_session(services, client, policy)
    client.send(pending)
    verified(services.session(session["session_id"]))

    assert services.revoke(offer["record_id"])["status"] == "revoked"

    refreshed = client.refresh_status(record.id)
    assert refreshed.status_result == "revoked"
    assert client.wallet.credential(record.id).status_result == "revoked"  # kept in the vault
    session, pending = open_session(services, client, policy)
    client.send(pending)  # the wallet still lets the person try; the verifier decides
    status = services.session(session["session_id"])
    assert status["status"] == "rejected" and "claims" not in status
    assert status["verdict"]["verified"] is False and status["verdict"]["code"] == "revoked"
    (check,) = [c for c in status["verdict"]["checks"] if c["check"] == "status"]
    assert (check["outcome"], check["code"]) == ("failed", "revoked")
