"""The wallet against the OpenWallet Foundation's sd-jwt-js 0.19.0 (@sd-jwt/sd-jwt-vc), through ``sdjwt.mjs``.

1. Receive: an in-process OpenID4VCI issuer (``tests/wallet/fakes.FakeIssuer``: offer, metadata, token,
   nonce and credential endpoints on the shared core, holder proofs checked with ``shared.jose``) hands
   out SD-JWT VCs that **sd-jwt-js issues** (Ed25519, ``iss`` = the issuer's https URL, ``kid`` ``k1``,
   ``cnf`` = the holder key from the wallet's proof). The wallet finds the issuer key in the issuer's
   JWT VC Issuer Metadata (SD-JWT VC §4), fetched through its own transport, verifies, and stores.
2. Present: the wallet answers an OpenID4VP request (DCQL, one optional claim withheld); the
   presentation it sends verifies in **sd-jwt-js's verifier** with key binding (``aud`` = the verifier's
   ``client_id``, ``nonce``), and discloses exactly the chosen claims.
Negative: the same presentation checked for another audience or nonce fails there; a credential whose
issuer metadata lists another key is refused by the wallet and not stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.crypto import Ed25519PrivateKey
from shared.did import DidResolver
from shared.errors import TesseraError
from shared.keys import private_jwk, public_jwk
from tests.wallet.conftest import PASSPHRASE
from tests.wallet.fakes import BIRTH_VCT, NOW, SD_CLAIMS, FakeIssuer, FakeVerifier, client_for
from tests.wallet.test_client_sd_jwt import SD_QUERY
from wallet import consent
from wallet.client import Client
from wallet.core import Wallet
from wallet.transport import Http
from wallet.vault import FAST_KDF, Vault

pytestmark = pytest.mark.interop

NOW_S = int(NOW.timestamp())
ISSUER_KEY = Ed25519PrivateKey(bytes(range(100, 132)))


def js_issuer(oracle: Any, key: Ed25519PrivateKey, base: str) -> Callable[[str, dict[str, str]], Any]:
    def issue(config_id: str, holder_jwk: dict[str, str]) -> str:
        assert config_id == "birth_sd"
        result = oracle(
            "sdjwt.mjs",
            {
                "op": "issue",
                "issuerJwk": private_jwk(key),
                "claims": {"iss": base, "vct": BIRTH_VCT, "iat": NOW_S - 60, **SD_CLAIMS},
                "disclosable": list(SD_CLAIMS),
                "holderJwk": holder_jwk,
                "kid": "k1",
                "typ": "dc+sd-jwt",
            },
        )
        return str(result["sdJwt"])

    return issue


def _client(tmp_path: Path, *parts: FakeIssuer | FakeVerifier) -> Client:
    vault = Vault.create(tmp_path / "wallet.db", PASSPHRASE, kdf=FAST_KDF)
    wallet = Wallet(vault, resolver=DidResolver(), now=lambda: NOW)
    return Client(wallet, Http(client_for(*parts)), clock=NOW.timestamp)


def test_receive_from_sd_jwt_js_and_present_to_its_verifier(oracle: Any, tmp_path: Path) -> None:
    issuer = FakeIssuer(key=ISSUER_KEY, sd_issuer_url=True)
    issuer.issue_hook = js_issuer(oracle, ISSUER_KEY, issuer.base)
    verifier = FakeVerifier(dcql=SD_QUERY)
    client = _client(tmp_path, issuer, verifier)

    # receive (batch of two: two keys, two credentials from sd-jwt-js)
    records = client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536", copies=2)
    assert len(records) == 2 and {r.issuer for r in records} == {issuer.base}
    assert records[0].claims["given_name"] == "Amara"
    assert [r.url.path for r in issuer.seen].count("/.well-known/jwt-vc-issuer") == 1

    # present: withhold the optional nationality
    pending = client.open_request(verifier.link())
    pending.plan = consent.toggle_claim(pending.plan, "birth", ("nationality",))
    client.send(pending)
    (form,) = verifier.responses
    (presentation,) = json.loads(form["vp_token"])["birth"]

    checked = oracle(
        "sdjwt.mjs",
        {
            "op": "verify",
            "sdJwt": presentation,
            "issuerJwk": public_jwk(ISSUER_KEY),
            "now": NOW_S,
            "nonce": verifier.nonce,
            "audience": verifier.client_id,
        },
    )
    assert checked["verified"], checked["errors"]
    payload = checked["payload"]
    assert payload["given_name"] == "Amara" and payload["birth_date"] == "2026-01-10"
    assert "nationality" not in payload and "family_name" not in payload
    assert checked["kb"]["payload"]["aud"] == verifier.client_id
    assert checked["kb"]["payload"]["nonce"] == verifier.nonce

    for other in ({"audience": "https://another-verifier.example"}, {"nonce": "another-nonce"}):
        request = {"op": "verify", "sdJwt": presentation, "issuerJwk": public_jwk(ISSUER_KEY), "now": NOW_S,
                   "nonce": verifier.nonce, "audience": verifier.client_id, **other}  # fmt: skip
        assert oracle("sdjwt.mjs", request)["verified"] is False


def test_sd_jwt_js_credential_with_a_key_the_issuer_does_not_publish_is_refused(oracle: Any, tmp_path: Path) -> None:
    issuer = FakeIssuer(key=ISSUER_KEY, sd_issuer_url=True, metadata_key=Ed25519PrivateKey.generate())
    issuer.issue_hook = js_issuer(oracle, ISSUER_KEY, issuer.base)
    client = _client(tmp_path, issuer)
    with pytest.raises(TesseraError) as exc:
        client.receive(client.start_issuance(issuer.offer("birth_sd")), tx_code="493536")
    assert exc.value.code == "invalid_signature"
    assert client.wallet.credentials().records == ()
