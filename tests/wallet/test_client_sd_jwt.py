"""Receive and present SD-JWT credentials (``dc+sd-jwt`` and VCDM 2.0 secured with SD-JWT, ``vc+sd-jwt``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared import sd_jwt
from shared.did import DidResolver
from shared.errors import TesseraError
from tests.wallet.fakes import BIRTH_VCT, NOW, FakeIssuer, FakeVerifier, client_for
from wallet import consent
from wallet.bridge import issuer_key_resolver
from wallet.client import Client
from wallet.core import Wallet
from wallet.transport import Http
from wallet.vault import Vault

SD_QUERY = {
    "credentials": [
        {
            "id": "birth",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [BIRTH_VCT]},
            "claims": [
                {"id": "g", "path": ["given_name"]},
                {"id": "b", "path": ["birth_date"]},
                {"id": "n", "path": ["nationality"]},
            ],
            "claim_sets": [["g", "b", "n"], ["g", "b"]],
        }
    ]
}
VCSD_QUERY = {
    "credentials": [
        {
            "id": "bc",
            "format": "vc+sd-jwt",
            "meta": {"type_values": [["BirthCertificate"]]},
            "claims": [{"path": ["credentialSubject", "birthDate"]}],
        }
    ]
}


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier(dcql=SD_QUERY)


@pytest.fixture
def client(vault: Vault, issuer: FakeIssuer, verifier: FakeVerifier) -> Iterator[Client]:
    wallet = Wallet(vault, resolver=DidResolver(), now=lambda: NOW)
    yield Client(wallet, Http(client_for(issuer, verifier)), clock=NOW.timestamp)


def _receive(client: Client, issuer: FakeIssuer, config: str = "birth_sd") -> Any:
    return client.receive(client.start_issuance(issuer.offer(config)), tx_code="493536")


def _verify_sent(presentation: str, verifier: FakeVerifier) -> sd_jwt.VerifiedSdJwt:
    return sd_jwt.verify(
        presentation,
        resolve_issuer_key=issuer_key_resolver(DidResolver()),
        now=NOW,
        audience=verifier.client_id,
        nonce=verifier.nonce,
        require_kb=True,
    )


def test_receive_dc_sd_jwt(client: Client, issuer: FakeIssuer) -> None:
    (record,) = _receive(client, issuer)
    assert record.format == "dc+sd-jwt" and record.types == (BIRTH_VCT,) and record.issuer == issuer.did
    assert record.claims["given_name"] == "Amara"
    assert set(record.disclosable) == {("given_name",), ("family_name",), ("birth_date",), ("nationality",)}
    assert record.display.label(("birth_date",), "fr") == "Date de naissance"


def test_tampered_sd_jwt_is_not_stored(client: Client, issuer: FakeIssuer) -> None:
    issuer.tamper = True
    with pytest.raises(TesseraError) as err:
        _receive(client, issuer)
    assert err.value.code == "invalid_signature"
    assert client.wallet.credentials().records == () and client.wallet.vault.ids("key") == []


def test_present_with_optional_claim_deselected(client: Client, issuer: FakeIssuer, verifier: FakeVerifier) -> None:
    _receive(client, issuer)
    pending = client.open_request(verifier.link())
    assert [(c.name, c.required) for c in pending.plan.choice("birth").claims] == [
        ("given_name", True),
        ("birth_date", True),
        ("nationality", False),
    ]
    pending.plan = consent.toggle_claim(pending.plan, "birth", ("nationality",))
    client.send(pending)
    (form,) = verifier.responses
    (presentation,) = json.loads(form["vp_token"])["birth"]
    verified = _verify_sent(presentation, verifier)
    # exactly the chosen claims, bound to this verifier's client_id and nonce
    assert set(verified.disclosed) == {("given_name",), ("birth_date",)}
    assert verified.kb_payload is not None and verified.kb_payload["aud"] == verifier.client_id
    assert "nationality" not in verified.claims and "family_name" not in verified.claims
    entry = client.wallet.history()[0][-1]
    assert entry.claims == ("given_name", "birth_date")
    assert set(entry.withheld) == {"family_name", "nationality"}


def test_present_vc_sd_jwt(client: Client, issuer: FakeIssuer, verifier: FakeVerifier) -> None:
    (record,) = _receive(client, issuer, "birth_vcsd")
    assert record.format == "vc+sd-jwt" and "BirthCertificate" in record.types
    verifier.dcql = VCSD_QUERY
    pending = client.open_request(verifier.link())
    client.send(pending)
    (presentation,) = json.loads(verifier.responses[0]["vp_token"])["bc"]
    verified = _verify_sent(presentation, verifier)
    assert verified.claims["credentialSubject"] == {"type": "Person", "birthDate": "2026-01-10"}


def test_replayed_presentation_is_bound_to_one_request(
    client: Client, issuer: FakeIssuer, verifier: FakeVerifier
) -> None:
    _receive(client, issuer)
    client.send(client.open_request(verifier.link()))
    (presentation,) = json.loads(verifier.responses[0]["vp_token"])["birth"]
    other = FakeVerifier(dcql=SD_QUERY, nonce="another-nonce")
    with pytest.raises(TesseraError) as err:
        _verify_sent(presentation, other)
    assert err.value.code in ("audience_mismatch", "nonce_mismatch")
