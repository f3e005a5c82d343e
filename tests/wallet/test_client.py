"""Receive (OpenID4VCI 1.0) and present (OpenID4VP 1.0) through the protocol client, against in-process fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared import data_integrity
from shared.crypto import Ed25519PrivateKey
from shared.did import DidResolver
from shared.did.key import did_key_document, did_key_from_public_key
from shared.errors import TesseraError
from tests.wallet.fakes import NOW, FakeIssuer, FakeVerifier, client_for
from wallet import consent
from wallet.client import Client, read_offer, well_known
from wallet.core import Wallet
from wallet.formats import holder_did
from wallet.transport import Http, check_url
from wallet.vault import Vault

BIRTH_QUERY = {
    "credentials": [
        {
            "id": "birth",
            "format": "ldp_vc",
            "meta": {"type_values": [["BirthCertificate"]]},
            "claims": [{"path": ["credentialSubject", "givenName"]}, {"path": ["credentialSubject", "birthDate"]}],
        }
    ]
}


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier(dcql=BIRTH_QUERY)


@pytest.fixture
def client(vault: Vault, issuer: FakeIssuer, verifier: FakeVerifier) -> Iterator[Client]:
    wallet = Wallet(vault, resolver=DidResolver(), now=lambda: NOW)
    yield Client(wallet, Http(client_for(issuer, verifier)), clock=NOW.timestamp)


def test_urls() -> None:
    assert well_known("https://issuer.example/tenant", "openid-credential-issuer") == (
        "https://issuer.example/.well-known/openid-credential-issuer/tenant"
    )
    assert check_url("http://127.0.0.1:8000/x") and check_url("http://[::1]/x") and check_url("http://localhost/")
    for bad in ("http://issuer.example/", "ftp://x/", "file:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(TesseraError) as err:
            check_url(bad)
        assert err.value.code == "insecure_transport"


def test_offer_forms(issuer: FakeIssuer) -> None:
    http = Http(client_for(issuer))
    link = issuer.offer()
    by_value = read_offer(link, http)
    assert by_value.credential_issuer == "https://issuer.example" and by_value.needs_tx_code
    as_json = read_offer(
        json.dumps(
            {
                "credential_issuer": "https://issuer.example",
                "credential_configuration_ids": ["a"],
                "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "c"}},
            }
        ),
        http,
    )
    assert not as_json.needs_tx_code
    with pytest.raises(TesseraError) as err:
        read_offer("openid-credential-offer://?nothing=here", http)
    assert err.value.code == "invalid_offer"
    with pytest.raises(TesseraError) as insecure:
        read_offer('{"credential_issuer": "http://issuer.example", "credential_configuration_ids": ["a"]}', http)
    assert insecure.value.code == "insecure_transport"


def test_receive_ldp_vc(client: Client, issuer: FakeIssuer) -> None:
    issuance = client.start_issuance(issuer.offer())
    assert issuance.issuer_name("fr") == "État civil"
    (record,) = client.receive(issuance, tx_code="493536")
    assert record.format == "ldp_vc" and record.issuer == issuer.did
    assert record.title("fr") == "Acte de naissance"
    assert record.display.label(("credentialSubject", "givenName"), "fr") == "Prénom"
    held = client.wallet.credentials().records
    assert [r.id for r in held] == [record.id]
    # the holder key is stored, and the credential is about it (one fresh key per credential)
    key = client.wallet.holder_key(record.holder_key_id)
    assert record.claims["credentialSubject"]["id"] == holder_did(key)
    (entry,), _ = client.wallet.history()
    assert entry.event == "received" and entry.counterparty == "https://issuer.example"


def test_wrong_tx_code_stores_nothing(client: Client, issuer: FakeIssuer) -> None:
    issuance = client.start_issuance(issuer.offer())
    with pytest.raises(TesseraError) as err:
        client.receive(issuance, tx_code="000000")
    assert err.value.code == "invalid_tx_code"
    with pytest.raises(TesseraError):
        client.receive(issuance)  # no code at all
    assert client.wallet.credentials().records == ()


def test_tampered_credential_is_not_stored(client: Client, issuer: FakeIssuer) -> None:
    issuer.tamper = True
    issuance = client.start_issuance(issuer.offer())
    with pytest.raises(TesseraError) as err:
        client.receive(issuance, tx_code="493536")
    assert err.value.code == "invalid_signature"
    assert client.wallet.credentials().records == ()
    assert client.wallet.vault.ids("key") == []


def test_batch_gets_one_key_per_credential(client: Client, issuer: FakeIssuer) -> None:
    issuance = client.start_issuance(issuer.offer())
    records = client.receive(issuance, tx_code="493536", copies=2)
    assert len(records) == 2
    subjects = {r.claims["credentialSubject"]["id"] for r in records}
    assert len(subjects) == 2  # unlinkable: each copy has its own holder key
    assert len({r.holder_key_id for r in records}) == 2


def _receive(client: Client, issuer: FakeIssuer) -> Any:
    return client.receive(client.start_issuance(issuer.offer()), tx_code="493536")[0]


def test_present_ldp_vc(client: Client, issuer: FakeIssuer, verifier: FakeVerifier) -> None:
    record = _receive(client, issuer)
    pending = client.open_request(verifier.link(), lang="fr")
    assert pending.verifier.name == "École de la ville"
    assert pending.verifier.purpose == "Inscrire votre enfant"
    assert not pending.verifier.trusted and pending.signed
    assert pending.plan.choice("birth").record.id == record.id
    client.send(pending)
    (form,) = verifier.responses
    assert form["state"] == verifier.state
    vp = json.loads(form["vp_token"])["birth"][0]
    # bound to this verifier and this request
    assert vp["proof"]["challenge"] == verifier.nonce and vp["proof"]["domain"] == verifier.client_id
    data_integrity.verify(
        vp,
        resolve_method=DidResolver(),
        now=NOW,
        expected_proof_purpose="authentication",
        challenge=verifier.nonce,
        domain=verifier.client_id,
    )
    entries, _ = client.wallet.history()
    assert entries[-1].event == "presented" and entries[-1].counterparty == verifier.client_id
    assert "credentialSubject.givenName" in entries[-1].claims


def test_forged_request_is_refused(client: Client, issuer: FakeIssuer, verifier: FakeVerifier) -> None:
    _receive(client, issuer)
    verifier.sign_with = type(verifier.key).generate()
    with pytest.raises(TesseraError) as err:
        client.open_request(verifier.link())
    assert err.value.code == "invalid_signature"
    assert verifier.responses == []


def test_request_for_claims_not_held(client: Client, verifier: FakeVerifier) -> None:
    pending = client.open_request(verifier.link())
    assert pending.plan.unanswerable == ("birth",)
    with pytest.raises(TesseraError) as err:
        consent.disclosures(pending.plan)
    assert err.value.code == "no_matching_credential"


def test_decline_tells_verifier(client: Client, issuer: FakeIssuer, verifier: FakeVerifier) -> None:
    _receive(client, issuer)
    pending = client.open_request(verifier.link())
    client.decline(pending)
    assert verifier.responses == [{"error": "access_denied", "state": verifier.state}]
    entries, _ = client.wallet.history()
    assert entries[-1].event == "declined" and entries[-1].result == "access_denied"


def test_revoked_credential_is_refused_and_status_recorded(client: Client, issuer: FakeIssuer) -> None:
    issuer.revoked = {7}
    with pytest.raises(TesseraError) as err:
        client.receive(client.start_issuance(issuer.offer()), tx_code="493536")
    assert err.value.code == "revoked"
    assert client.wallet.credentials().records == ()
    issuer.revoked = set()
    record = _receive(client, issuer)
    assert (record.status_result, record.status_checked_at) == ("valid", "2026-03-01T12:00:00Z")
    issuer.revoked = {7}
    assert client.refresh_status(record.id).status_result == "revoked"


def test_a_wallet_opened_without_a_fetcher_resolves_did_web_through_the_clients_transport(vault: Vault) -> None:
    """The CLI and the TUI open the wallet with an offline resolver; issuers and verifiers on the web are did:web."""
    did = "did:web:verifier.example"
    key_did = did_key_from_public_key(Ed25519PrivateKey.generate().public_key)
    doc = json.loads(json.dumps(did_key_document(key_did)).replace(key_did, did))
    seen: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=doc)

    wallet = Wallet(vault)
    assert wallet.resolver.fetch is None
    Client(wallet, Http(httpx.Client(transport=httpx.MockTransport(serve))))
    assert wallet.resolver.resolve(did).id == did
    assert seen == ["https://verifier.example/.well-known/did.json"]
