"""The demo's story over real sockets, on SQLite and PostgreSQL: every step's outcome is asserted, so a
change in what any part does (issuer, wallet, verifier) fails here. Then what the story does not tell:
a response replayed to the same session and to another one, and a person who declines."""

from __future__ import annotations

import httpx
import pytest

from wallet.demo.script import Step, run_story
from wallet.demo.services import Services
from wallet.demo.story import (
    SCHOOL,
    SHOP,
    Offered,
    Presented,
    Received,
    Revoked,
    StatusChecked,
    Story,
    child_claims,
)

pytestmark = pytest.mark.slow
CHECKS = ("format", "signature", "issuer_trust", "validity_period", "status", "holder_binding", "requested_claims")
SCHOOL_ASKS = ("givenName", "familyName", "birthDate")


def _offered(step: Step, who: str) -> Offered:
    offer = step.result
    assert isinstance(offer, Offered)
    assert offer.who == who and offer.formats == ("dc+sd-jwt",)
    assert offer.link.startswith("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F127.0.0.1")
    assert offer.tx_code is not None and offer.tx_code.isdigit() and len(offer.tx_code) == 6
    return offer


def _received(step: Step, services: Services, offer: Offered, given_name: str) -> Received:
    received = step.result
    assert isinstance(received, Received) and received.offer == offer
    c = received.credential
    assert services.issuer is not None
    assert c.format == "dc+sd-jwt" and c.issuer == services.issuer.url and c.types == (services.issuer.vct,)
    assert c.claims["givenName"] == given_name and c.status_result == "valid"
    assert c.display.issuer_name.get("en") == "Demo civil registry"
    assert {("age_over_18",), ("birthDate",), ("givenName",)} <= set(c.disclosable)
    assert ("registeringAuthority",) not in c.disclosable  # the catalogue makes it always visible
    return received


def _presented(step: Step, *, policy: str, credential_id: str, shared: tuple[str, ...], candidates: int) -> Presented:
    presented = step.result
    assert isinstance(presented, Presented) and presented.session.policy == policy
    s = presented.consent
    assert s.verifier_name == "Tessera demo verifier" and not s.trusted
    assert s.client_id.startswith("decentralized_identifier:did:key:z6Mk")
    assert s.credential_id == credential_id and s.candidates == candidates
    assert s.shared == shared and all(a.required and a.sent for a in s.asked)
    assert s.always_visible == ("registeringAuthority",)
    assert not set(shared) & set(s.withheld) and {"placeOfBirth", "parent", "age_over_21"} <= set(s.withheld)
    sent = presented.sent
    assert set(sent.disclosed) == set(shared) and len(sent.disclosed) == len(shared)
    assert sent.audience == s.client_id and sent.nonce
    assert set(sent.form) == {"vp_token", "state"}
    return presented


def test_the_demo_story(services: Services, story: Story) -> None:
    seen: list[Step] = []
    steps = run_story(story, seen.append)
    assert steps == seen and [s.number for s in steps] == list(range(1, 10))

    child_offer = _offered(steps[0], "Amara Okafor")
    child = _received(steps[1], services, child_offer, "Amara").credential
    school = _presented(steps[2], policy=SCHOOL, credential_id=child.id, shared=SCHOOL_ASKS, candidates=1)
    assert school.consent.purpose.startswith("Enrol your child at school")
    v = school.verdict
    assert (v.status, v.code) == ("verified", "ok")
    assert [(c.name, c.outcome) for c in v.checks] == [(name, "passed") for name in CHECKS]
    assert dict(v.claims) == {"birth_certificate": {"givenName": "Amara", "familyName": "Okafor",
                                                    "birthDate": "2026-01-10"}}  # fmt: skip

    parent_offer = _offered(steps[3], "Chidi Okafor")
    parent = _received(steps[4], services, parent_offer, "Chidi").credential
    # the child's certificate says age_over_18 = false, so only the parent's answers the shop
    shop = _presented(steps[5], policy=SHOP, credential_id=parent.id, shared=("age_over_18",), candidates=1)
    assert (shop.verdict.status, shop.verdict.code) == ("verified", "ok")
    assert dict(shop.verdict.claims) == {"birth_certificate": {"age_over_18": True}}
    assert "birthDate" in shop.consent.withheld and "givenName" in shop.consent.withheld

    revoked = steps[6].result
    assert isinstance(revoked, Revoked) and revoked.offer == child_offer
    assert (revoked.previous, revoked.status) == ("issued", "revoked")

    # both certificates answer the school now; the parent picks the child's, which is revoked
    again = _presented(steps[7], policy=SCHOOL, credential_id=child.id, shared=SCHOOL_ASKS, candidates=2)
    v = again.verdict
    assert (v.status, v.code) == ("rejected", "revoked") and not v.claims
    assert [(c.name, c.outcome, c.code) for c in v.checks] == [
        *((name, "passed", "ok") for name in CHECKS[:4]),
        ("status", "failed", "revoked"),
        ("holder_binding", "skipped", "skipped"),
        ("requested_claims", "skipped", "skipped"),
    ]

    status = steps[8].result
    assert isinstance(status, StatusChecked) and (status.credential_id, status.result) == (child.id, "revoked")
    assert story.wallet.credential(child.id).status_result == "revoked"
    assert story.wallet.credential(parent.id).status_result == "valid"
    history, damaged = story.wallet.history()
    assert not damaged
    assert [e.event for e in history] == ["received", "presented", "received", "presented", "presented"]
    assert history[3].claims == ("age_over_18",) and "birthDate" in history[3].withheld


def _holding(story: Story) -> str:
    offer = story.offer("Amara Okafor", child_claims())
    return story.receive(offer).credential.id


def test_a_replayed_response_is_refused(story: Story) -> None:
    credential_id = _holding(story)
    first = story.present(SCHOOL, credential_id=credential_id)
    assert first.verdict.status == "verified"

    # the same response again, to the same session: refused, and the session keeps its verdict
    reply = httpx.post(first.sent.response_uri, data=dict(first.sent.form), timeout=15)
    assert reply.status_code == 400
    assert reply.json()["reason"] == "replayed" and reply.json()["error"] == "invalid_request"
    assert story.verdict(first.verdict.session_id).status == "verified"

    # the same presentation in another session (its own state, to get past the session check): its key
    # binding names the first session's nonce, so the verifier rejects it
    session = story.start_session(SCHOOL)
    pending = story.open(session, credential_id=credential_id)
    form = {"vp_token": first.sent.form["vp_token"], "state": pending.request.state}
    assert httpx.post(pending.request.response_uri, data=form, timeout=15).status_code == 200
    v = story.verdict(session.id)
    assert (v.status, v.code) == ("rejected", "nonce_mismatch") and not v.claims
    assert ("holder_binding", "failed", "nonce_mismatch") in [(c.name, c.outcome, c.code) for c in v.checks]


def test_a_person_who_declines(story: Story) -> None:
    credential_id = _holding(story)
    declined = story.present(SCHOOL, credential_id=credential_id, decline=True)
    assert dict(declined.sent.form) == {"error": "access_denied", "state": declined.sent.form["state"]}
    assert declined.sent.disclosed == ()
    v = declined.verdict
    assert (v.status, v.code, v.wallet_error) == ("declined", "declined", "access_denied")
    assert not v.checks and not v.claims
    entry = story.wallet.history()[0][-1]
    assert (entry.event, entry.result) == ("declined", "access_denied")
    assert set(entry.withheld) == set(SCHOOL_ASKS)
