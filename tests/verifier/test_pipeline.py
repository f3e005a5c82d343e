"""The verification pipeline's pieces that stand today: the signed request object, Token Status List
checks with caching and staleness, and how formats without a verifier yet are reported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from shared import jose, oid4vp, status_list
from shared.crypto import Ed25519PrivateKey
from shared.did import DidResolver, did_key_from_public_key, public_key_from_did_key
from shared.errors import TesseraError
from verifier.app import create_app
from verifier.http import SafeFetch
from verifier.settings import VerifierSettings
from verifier.status import StatusCache, StatusChecker

from .conftest import Clock

ISSUER_KEY = Ed25519PrivateKey(b"\x11" * 32)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
KID = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
LIST_URL = "https://status.example/lists/1"
NOW = 1_760_000_000


def status_token(values: dict[int, int], *, key: Ed25519PrivateKey = ISSUER_KEY, kid: str = KID) -> str:
    lst = status_list.StatusList.zeros(1024, bits=2, order=status_list.LSB_FIRST).with_values(values)
    header = status_list.status_list_token_header(alg="EdDSA", kid=kid)
    claims = status_list.status_list_token_claims(lst, sub=LIST_URL, iat=NOW - 10, exp=NOW + 3600)
    return jose.sign_compact(header, claims, key)


class Server:
    def __init__(self) -> None:
        self.body: bytes = status_token({5: 1, 6: 2}).encode()
        self.up = True
        self.hits = 0

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.hits += 1
            if not self.up:
                return httpx.Response(503)
            return httpx.Response(200, content=self.body, headers={"Content-Type": "application/statuslist+jwt"})

        return httpx.MockTransport(handle)


def checker(server: Server, clock: Clock, ttl: float = 300) -> StatusChecker:
    fetch = SafeFetch(httpx.Client(transport=server.transport()), allow_private=True)
    return StatusChecker(
        fetch=fetch,
        resolver=DidResolver(),
        cache=StatusCache(ttl=ttl, now=clock),
        settings=VerifierSettings(),
    )


def claim(idx: int) -> dict[str, Any]:
    return {"status_list": {"idx": idx, "uri": LIST_URL}}


def test_token_status_valid_revoked_suspended() -> None:
    server, clock = Server(), Clock(NOW)
    check = checker(server, clock)
    assert "just fetched" in check.token_status(claim(4), ISSUER, now=NOW, max_stale=0)
    for idx, code in ((5, "revoked"), (6, "suspended")):
        with pytest.raises(TesseraError) as info:
            check.token_status(claim(idx), ISSUER, now=NOW, max_stale=0)
        assert info.value.code == code
    assert server.hits == 1  # cached


def test_token_status_freshness_and_staleness() -> None:
    server, clock = Server(), Clock(NOW)
    check = checker(server, clock, ttl=60)
    check.token_status(claim(4), ISSUER, now=NOW, max_stale=0)
    clock.advance(30)
    assert "fetched 30 s ago" in check.token_status(claim(4), ISSUER, now=NOW, max_stale=0)
    server.up = False
    clock.advance(60)
    with pytest.raises(TesseraError) as info:
        check.token_status(claim(4), ISSUER, now=NOW, max_stale=60)
    assert info.value.code == "status_unavailable"
    assert "fetched 90 s ago" in check.token_status(claim(4), ISSUER, now=NOW, max_stale=3600)


def test_status_list_signed_by_someone_else_is_refused() -> None:
    other = Ed25519PrivateKey(b"\x22" * 32)
    other_did = did_key_from_public_key(other.public_key)
    server, clock = Server(), Clock(NOW)
    server.body = status_token({}, key=other, kid=f"{other_did}#{other_did[8:]}").encode()
    with pytest.raises(TesseraError) as info:
        checker(server, clock).token_status(claim(4), ISSUER, now=NOW, max_stale=3600)
    assert info.value.code == "status_list_mismatch"
    server.body = status_token({}, key=other).encode()  # claims the issuer's kid, signed by another key
    with pytest.raises(TesseraError) as info:
        checker(server, clock).token_status(claim(4), ISSUER, now=NOW, max_stale=3600)
    assert info.value.code == "invalid_signature"


def test_unreachable_status_without_cache_is_status_unavailable() -> None:
    server, clock = Server(), Clock(NOW)
    server.up = False
    with pytest.raises(TesseraError) as info:
        checker(server, clock).token_status(claim(4), ISSUER, now=NOW, max_stale=3600)
    assert info.value.code == "status_unavailable"


# --- through the app, with the real signer -------------------------------------------------------


@pytest.fixture
def real_client(make_settings: Callable[..., VerifierSettings], clock: Clock) -> TestClient:
    return TestClient(create_app(make_settings(), now=clock))


def test_request_object_is_signed_by_the_verifier_did(real_client: TestClient, clock: Clock) -> None:
    service = real_client.app.state.service  # type: ignore[attr-defined]
    key = service.create_api_key()
    session = real_client.post("/sessions", json={"policy": "age-over-18"}, headers={"Authorization": f"Bearer {key}"})
    link = oid4vp.parse_link(session.json()["link"])
    assert link.request_uri is not None
    token = real_client.get(urlsplit(link.request_uri).path).text
    did = oid4vp.parse_client_id(link.client_id).identifier
    header, claims = jose.verify_compact(token, key=public_key_from_did_key(did), typ=oid4vp.REQUEST_OBJECT_TYP)
    assert header["kid"].startswith(did + "#")
    assert "iss" not in claims  # named by kid and client_id; an iss breaks some wallets (see verifier.service)
    request = oid4vp.parse_request(claims)
    assert request.client_id == link.client_id and request.aud == oid4vp.SELF_ISSUED_AUD
    assert request.iat == int(clock()) and request.exp == session.json()["expires_at"]
