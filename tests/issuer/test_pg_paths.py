"""The merged statements of the issuance paths (``issuer.store.statements``' PostgreSQL section, the
one-statement audit append): the same results as the SQLite paths, on both databases, and the number of
round trips per issuance on PostgreSQL kept down."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from issuer.app import build_service
from issuer.issuance import Issuance
from issuer.service import IssuerService
from issuer.store import audit
from issuer.store.models import CredentialRow, OfferRow, RecordRow, StatusAllocationRow
from shared.crypto import Ed25519PrivateKey
from shared.encoding import b64url_encode, jcs
from tests.issuer.wallets import CONFIG_ID, PRE_AUTH, proof

KEK = b64url_encode(b"k" * 32)


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[IssuerService]:
    from issuer.settings import IssuerSettings

    settings = IssuerSettings(
        database_url=database_url, data_dir=tmp_path / "data", key_encryption_key=KEK, public_url="http://issuer.test"
    )
    built = build_service(settings)
    built.identity.ensure_key()
    yield built
    built.db.dispose()


def _issue(service: IssuerService, claims: dict[str, Any], holders: int = 1) -> dict[str, Any]:
    issuance = Issuance(service)
    offer = service.create_offer("k1", "BirthCertificate", claims, formats=["dc+sd-jwt"])
    code = offer["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": offer["tx_code"]}
    access = issuance.token(form)["access_token"]
    nonce = issuance.nonce()["c_nonce"]
    jwts = [proof(Ed25519PrivateKey.generate(), service.settings.base_url, nonce) for _ in range(holders)]
    body = {"credential_configuration_id": CONFIG_ID, "proofs": {"jwt": jwts}}
    return {"offer": offer, "response": issuance.credential(f"Bearer {access}", body)}


def test_entry_bytes_around_seq_is_the_jcs_of_the_entry() -> None:
    for target in (None, "r1", 'a"b,"seq":0,"target":'):
        entry = {"at": 5, "actor": "k\u00e9", "action": "x", "target": target, "detail": {"seq": 0, "target": "\u2603"}}
        before, after = audit.entry_bytes_around_seq(entry)
        assert before + b"12" + after == jcs({**entry, "seq": 12})


def test_audit_appends_chain_and_hash_as_verify_reads_them(service: IssuerService, claims: dict[str, Any]) -> None:
    """Offers (lock taken with the rows), API keys and direct appends with non-ASCII detail, interleaved
    and in parallel: one unbroken chain, every hash as the Python side computes it."""

    def offer(_: int) -> None:
        service.create_offer("k1", "BirthCertificate", claims, formats=["dc+sd-jwt"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(offer, range(24)))
    service.create_api_key(["issue"], label="Zo\u00eb")
    with service.db.begin() as connection:
        detail = {"note": "\u00e9t\u00e9 \u2603", "n": [1, 2]}
        seq = audit.append(service.db, connection, at=7, actor="\u00c5sa", action="t", target=None, detail=detail)
    report = service.audit_verify()
    assert report.ok, report
    assert report.entries == seq == 26


def test_issuance_rows(service: IssuerService, claims: dict[str, Any]) -> None:
    issued = _issue(service, claims, holders=3)
    assert len(issued["response"]["credentials"]) == 3
    record_id, offer_id = issued["offer"]["record_id"], issued["offer"]["offer_id"]
    with service.db.read() as session:
        record = session.get(RecordRow, record_id)
        offer = session.get(OfferRow, offer_id)
        creds = list(session.scalars(select(CredentialRow).where(CredentialRow.record_id == record_id)))
        allocations = {(a.list_id, a.idx, a.credential_id) for a in session.scalars(select(StatusAllocationRow))}
    assert record is not None and record.status == "issued" and record.issued_at is not None
    assert offer is not None and offer.status == "issued" and offer.claims_sealed is None
    assert len(creds) == 3 and {c.format for c in creds} == {"dc+sd-jwt"}
    assert {(c.status_list_id, c.status_idx, c.id) for c in creds} == allocations
    assert len({c.holder_thumbprint for c in creds}) == 3


def test_status_index_falls_back_when_the_list_size_changed(service: IssuerService, claims: dict[str, Any]) -> None:
    """The first index is drawn early only from a list of the configured size; any other goes the
    general way (status.allocate)."""
    _issue(service, claims)
    service.settings = service.settings.model_copy(update={"status_list_size": 2 * service.settings.status_list_size})
    _issue(service, claims)
    with service.db.read() as session:
        creds = list(session.scalars(select(CredentialRow)))
    assert len(creds) == 2 and len({c.status_list_id for c in creds}) == 1


@contextmanager
def _round_trips(service: IssuerService) -> Iterator[list[int]]:
    """Round trips to PostgreSQL (every Query and Sync message libpq sends), read from a libpq trace."""
    count = [0]
    with tempfile.TemporaryFile("w+") as trace:
        service.db.dispose()

        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.pgconn.trace(trace.fileno())

        event.listen(service.db.engine, "connect", _connect)
        try:
            yield count
        finally:
            service.db.dispose()  # closes the traced connections
            event.remove(service.db.engine, "connect", _connect)
            os.fsync(trace.fileno())
            trace.seek(0)
            for line in trace:
                fields = line.split("\t")
                if fields[0] == "F" and len(fields) > 2 and fields[2] in ("Query", "Sync"):
                    count[0] += 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # round trips are a PostgreSQL matter
def test_round_trips_per_issuance(database_url: str, service: IssuerService, claims: dict[str, Any]) -> None:
    assert database_url.startswith("postgresql")
    _issue(service, claims)  # warm: the first status list, the signing key cached
    with _round_trips(service) as trips:
        for _ in range(5):
            _issue(service, claims)
    # offer 4 (BEGIN, rows + lock, audit, COMMIT), token 2, credential 7 (BEGIN, token + offer, nonce +
    # record + index, active key, rows, COMMIT) — with a new connection's setup on top, once per run
    assert trips[0] / 5 <= 13 + 2, trips[0]
