"""The wallet receives credentials from the project's own issuer (OpenID4VCI 1.0, in-process; issue #6).

Every test runs against the real issuer app (``issuer.app.create_app``) on SQLite and on PostgreSQL
(tests/wallet/services.py), for each format the catalogue offers: ``dc+sd-jwt`` (SD-JWT VC), ``ldp_vc``
(Data Integrity ``eddsa-rdfc-2022``) and ``vc+sd-jwt`` (VCDM 2.0 secured with SD-JWT).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from issuer.catalogue import FORMAT_SUFFIX
from shared.did import did_jwk_from_public_key
from shared.errors import TesseraError
from shared.keys import jwk_thumbprint, public_jwk
from tests.wallet.services import CHILD, FORMATS, ISSUER_DID, ISSUER_URL, TYPE, Services
from wallet.client import Client
from wallet.model import CredentialRecord
from wallet.vault import Vault

PERSON = ("givenName", "familyName", "birthDate", "placeOfBirth", "sex", "parent", "registrationNumber")


def person(record: CredentialRecord) -> Mapping[str, Any]:
    """The claims about the person: top level in an SD-JWT VC, under credentialSubject in VCDM formats."""
    claims: Mapping[str, Any] = record.claims if record.format == "dc+sd-jwt" else record.claims["credentialSubject"]
    return claims


def holder_thumbprint(client: Client, record: CredentialRecord) -> str:
    """The thumbprint of the holder key the credential is bound to, checked against the key in the vault."""
    key = client.wallet.holder_key(record.holder_key_id)
    if record.format == "ldp_vc":
        # Tessera's issuer binds a Data Integrity credential to the holder key's did:jwk
        assert record.claims["credentialSubject"]["id"] == did_jwk_from_public_key(key.public_key)
    else:
        assert jwk_thumbprint(record.claims["cnf"]["jwk"]) == jwk_thumbprint(public_jwk(key))
    return jwk_thumbprint(public_jwk(key))


@pytest.mark.parametrize("fmt", FORMATS)
def test_receive_with_the_transaction_code_verifies_and_stores(services: Services, vault: Vault, fmt: str) -> None:
    offer = services.offer(fmt)
    client = services.wallet(vault)

    issuance = client.start_issuance(offer["offer_link"])  # by reference: the wallet fetches the offer
    assert issuance.offer.credential_issuer == ISSUER_URL
    assert issuance.offer.configuration_ids == (f"{TYPE}_{FORMAT_SUFFIX[fmt]}",)
    assert issuance.offer.needs_tx_code and issuance.offer.tx_code is not None
    assert issuance.offer.tx_code["length"] == len(offer["tx_code"])
    assert issuance.configuration(issuance.offer.configuration_ids[0])["format"] == fmt

    (record,) = client.receive(issuance, tx_code=offer["tx_code"])

    # verified on arrival: the issuer (did:web for VCDM formats, its URL as SD-JWT VC iss), the claims,
    # the holder binding and the status list entry
    assert record.format == fmt
    assert record.issuer == (ISSUER_URL if fmt == "dc+sd-jwt" else ISSUER_DID)
    assert {k: person(record)[k] for k in PERSON} == {k: CHILD[k] for k in PERSON}
    assert record.status_result == "valid" and record.status_checked_at is not None
    assert record.display.name["en"] == "Birth certificate" and record.display.claims["givenName"]["fr"] == "Prénom"
    if fmt == "ldp_vc":
        assert record.raw["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        assert record.raw["proof"]["verificationMethod"].startswith(ISSUER_DID + "#")
    else:
        assert ("givenName",) in record.disclosable or ("credentialSubject", "givenName") in record.disclosable
        assert person(record)["age_over_18"] is False  # the predicate the issuer adds to SD-JWT formats

    # stored: the credential, its holder key and one history entry
    thumbprint = holder_thumbprint(client, record)
    assert client.wallet.credentials().records == (record,)
    assert [k.id for k in vault.list("key").records] == [record.holder_key_id]
    (entry,) = client.wallet.history()[0]
    assert (entry.event, entry.counterparty, entry.credential_ids) == ("received", ISSUER_URL, (record.id,))

    # the issuer's side of the same exchange
    issued = services.record(offer["record_id"])
    assert issued["status"] == "issued"
    assert [(c["format"], c["holder_key_thumbprint"]) for c in issued["credentials"]] == [(fmt, thumbprint)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_transaction_code_is_refused_and_nothing_is_stored(services: Services, vault: Vault, fmt: str) -> None:
    offer = services.offer(fmt)
    client = services.wallet(vault)
    issuance = client.start_issuance(offer["offer_link"])
    wrong = "0" * len(offer["tx_code"]) if set(offer["tx_code"]) != {"0"} else "1" * len(offer["tx_code"])

    with pytest.raises(TesseraError) as info:
        client.receive(issuance, tx_code=wrong)
    assert info.value.code == "invalid_tx_code"
    assert info.value.message == "the issuer refused the transaction code"
    with pytest.raises(TesseraError) as info:
        client.receive(issuance)  # no code at all: refused before anything is sent
    assert info.value.code == "invalid_tx_code"

    assert client.wallet.credentials().records == ()
    assert vault.list("key").records == ()
    assert client.wallet.history()[0] == []
    issued = services.record(offer["record_id"])
    assert (issued["status"], issued["credentials"]) == ("offered", [])

    # one wrong attempt of three: the person can still type the right code
    (record,) = client.receive(issuance, tx_code=offer["tx_code"])
    assert client.wallet.credentials().records == (record,)


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_issuance_binds_each_copy_to_its_own_key(services: Services, vault: Vault, fmt: str) -> None:
    client = services.wallet(vault)
    metadata = services.issuer.get("/.well-known/openid-credential-issuer").json()
    assert metadata["batch_credential_issuance"]["batch_size"] >= 3

    records, offer = services.receive(client, fmt, copies=3)

    assert len(records) == 3 and all(r.format == fmt and r.status_result == "valid" for r in records)
    assert len({r.holder_key_id for r in records}) == 3
    thumbprints = [holder_thumbprint(client, r) for r in records]
    assert len(set(thumbprints)) == 3  # unlinkable copies: one key each, never shared
    assert all(person(r)["givenName"] == "Amara" for r in records)
    assert len({r.raw if isinstance(r.raw, str) else r.raw["proof"]["proofValue"] for r in records}) == 3
    assert sorted(r.id for r in client.wallet.credentials().records) == sorted(r.id for r in records)
    (entry,) = client.wallet.history()[0]
    assert set(entry.credential_ids) == {r.id for r in records}  # one exchange, one history entry

    issued = services.record(offer["record_id"])["credentials"]
    assert sorted(c["holder_key_thumbprint"] for c in issued) == sorted(thumbprints)
    assert len({(c["status_list"], c["status_index"]) for c in issued}) == 3  # each copy revocable on its own


def test_one_offer_for_every_format(services: Services, vault: Vault) -> None:
    offer = services.offer(None)  # the catalogue's formats for the type
    client = services.wallet(vault)
    issuance = client.start_issuance(offer["offer_link"])
    assert sorted(issuance.offer.configuration_ids) == sorted(f"{TYPE}_{FORMAT_SUFFIX[f]}" for f in FORMATS)

    records = client.receive(issuance, tx_code=offer["tx_code"])

    assert sorted(r.format for r in records) == sorted(FORMATS)
    assert all(r.status_result == "valid" and person(r)["birthDate"] == CHILD["birthDate"] for r in records)
    assert len({holder_thumbprint(client, r) for r in records}) == 3
    issued = services.record(offer["record_id"])
    assert issued["status"] == "issued" and sorted(c["format"] for c in issued["credentials"]) == sorted(FORMATS)
