"""The verifier trust list kept in the vault, and SD-JWT issuers identified by an https URL (SD-JWT VC §4)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shared.crypto import Ed25519PrivateKey
from shared.did import DidResolver
from shared.errors import TesseraError
from tests.wallet.conftest import PASSPHRASE
from tests.wallet.fakes import NOW, FakeIssuer, FakeVerifier, client_for
from tests.wallet.test_client_sd_jwt import SD_QUERY
from wallet.client import Client
from wallet.core import Wallet
from wallet.transport import Http
from wallet.vault import Vault


def _client(vault: Vault, *parts: FakeIssuer | FakeVerifier) -> Client:
    wallet = Wallet(vault, resolver=DidResolver(), now=lambda: NOW)
    return Client(wallet, Http(client_for(*parts)), clock=NOW.timestamp)


def test_trust_list_persists_and_reaches_the_consent_summary(vault: Vault, vault_path: Path) -> None:
    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    client = _client(vault, issuer, verifier)
    client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536")
    assert client.open_request(verifier.link()).verifier.trusted is False

    client.wallet.trust(verifier.client_id, "City School")
    client.wallet.trust("decentralized_identifier:did:web:bank.example", "Bank")
    assert client.open_request(verifier.link()).verifier.trusted is True

    vault.close()  # the list is in the vault, encrypted like everything else
    reopened = Vault.open(vault_path)
    reopened.unlock(PASSPHRASE)
    client = _client(reopened, issuer, verifier)
    assert client.wallet.trust_list() == {
        "decentralized_identifier:did:web:bank.example": "Bank",
        verifier.client_id: "City School",
    }
    assert client.open_request(verifier.link()).verifier.trusted is True
    assert client.wallet.distrust(verifier.client_id) is True
    assert client.wallet.distrust(verifier.client_id) is False
    assert client.open_request(verifier.link()).verifier.trusted is False
    assert client.wallet.credentials().records  # a setting is not listed as a credential
    with pytest.raises(TesseraError):
        client.wallet.trust("")
    reopened.close()


def test_sd_jwt_issuer_named_by_https_url(vault: Vault) -> None:
    issuer = FakeIssuer(sd_issuer_url=True)
    client = _client(vault, issuer)
    (held,) = client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536")
    assert held.issuer == issuer.base
    paths = [r.url.path for r in issuer.seen]
    assert paths.count("/.well-known/jwt-vc-issuer") == 1


def test_https_issuer_batch_fetches_metadata_once(vault: Vault) -> None:
    issuer = FakeIssuer(sd_issuer_url=True)
    client = _client(vault, issuer)
    records = client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536", copies=3)
    assert len(records) == 3 and len({r.holder_key_id for r in records}) == 3
    assert [r.url.path for r in issuer.seen].count("/.well-known/jwt-vc-issuer") == 1


def test_https_issuer_with_another_key_in_its_metadata_is_refused(vault: Vault) -> None:
    issuer = FakeIssuer(sd_issuer_url=True, metadata_key=Ed25519PrivateKey.generate())
    client = _client(vault, issuer)
    with pytest.raises(TesseraError) as exc:
        client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536")
    assert exc.value.code == "invalid_signature"
    assert client.wallet.credentials().records == ()


def test_issuer_keys_only_over_https(vault: Vault) -> None:
    client = _client(vault, FakeIssuer())
    fetch = client.issuer_metadata_fetcher()
    with pytest.raises(TesseraError) as exc:
        fetch("http://127.0.0.1/.well-known/jwt-vc-issuer")  # loopback http is fine for offers, not for keys
    assert exc.value.code == "insecure_transport"


def test_issuer_metadata_unreachable_is_a_clear_error(vault: Vault) -> None:
    issuer = FakeIssuer(sd_issuer_url=True)

    def no_metadata(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwt-vc-issuer":
            return httpx.Response(404)
        return issuer.handler(request)

    wallet = Wallet(vault, resolver=DidResolver(), now=lambda: NOW)
    client = Client(wallet, Http(httpx.Client(transport=httpx.MockTransport(no_metadata))), clock=NOW.timestamp)
    with pytest.raises(TesseraError) as exc:
        client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536")
    assert exc.value.code == "server_error" and "issuer's keys" in exc.value.message
    assert wallet.credentials().records == ()
