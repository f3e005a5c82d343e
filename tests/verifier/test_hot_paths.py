"""What the throughput work (benchmarks/bench_verifier.py) must not weaken, on SQLite and PostgreSQL:
single use under concurrent posts, the one-statement request fetch, the API-key memory and its
revocation bound, the issuer-metadata cache, and Nagle's algorithm off on served connections."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from shared import oid4vp
from shared.errors import TesseraError
from verifier.app import create_app
from verifier.auth import REMEMBER_SECONDS
from verifier.http import CachedJson, SafeFetch
from verifier.policy import Policy
from verifier.service import Outcome, VerifierService
from verifier.serving import no_delay
from verifier.settings import VerifierSettings
from verifier.store.db import SessionRecord
from verifier.store.models import ApiKeyRow

from .conftest import Clock
from .test_shell import auth, fake_sign, fake_verify, new_session, request_claims

POSTS = 8


@pytest.fixture
def make_client(make_settings: Callable[..., VerifierSettings], clock: Clock) -> Callable[..., TestClient]:
    def build(verify: Callable[..., Outcome] = fake_verify) -> TestClient:
        return TestClient(create_app(make_settings(), now=clock, verify_response=verify, sign_request=fake_sign))

    return build


def service_of(client: TestClient) -> VerifierService:
    service: VerifierService = client.app.state.service  # type: ignore[attr-defined]
    return service


def test_concurrent_posts_store_one_outcome(make_client: Callable[..., TestClient]) -> None:
    """Every post verifies, all at once; exactly one outcome is stored and the others are ``replayed``."""
    gate = threading.Barrier(POSTS)

    def slow_verify(policy: Policy, vp_token: Mapping[str, Any], record: SessionRecord) -> Outcome:
        gate.wait(timeout=30)  # all posts are past their reads before any of them writes
        return fake_verify(policy, vp_token, record)

    client = make_client(slow_verify)
    service = service_of(client)
    key = service.create_api_key()
    session = new_session(client, key)
    claims = request_claims(client, session)
    request_id = urlsplit(claims["response_uri"]).path.rsplit("/", 1)[1]
    body = urlencode({"vp_token": json.dumps({"birth_certificate": ["good"]}), "state": claims["state"]}).encode()
    outcomes: list[str] = []

    def post() -> None:
        try:
            service.respond(request_id, body)
            outcomes.append("stored")
        except TesseraError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["replayed"] * (POSTS - 1) + ["stored"]
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(key)).json()
    assert status["status"] == "verified"
    assert client.get(urlsplit(session["request_uri"]).path).json()["reason"] == "replayed"


def test_a_failed_verification_still_uses_the_session_up(make_client: Callable[..., TestClient]) -> None:
    def broken(policy: Policy, vp_token: Mapping[str, Any], record: SessionRecord) -> Outcome:
        raise RuntimeError("bug")

    client = make_client(broken)
    key = service_of(client).create_api_key()
    session = new_session(client, key)
    claims = request_claims(client, session)
    form = {"vp_token": json.dumps({"birth_certificate": ["good"]}), "state": claims["state"]}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    path = urlsplit(claims["response_uri"]).path
    client_500 = TestClient(client.app, raise_server_exceptions=False)
    assert client_500.post(path, content=urlencode(form), headers=headers).status_code == 500
    assert client.post(path, content=urlencode(form), headers=headers).json()["reason"] == "replayed"
    assert client.get(f"/sessions/{session['session_id']}", headers=auth(key)).json()["status"] == "rejected"


def test_request_fetch_marks_only_signed_requests(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    key = service_of(client).create_api_key()
    by_reference = new_session(client, key)
    assert client.get(f"/sessions/{by_reference['session_id']}", headers=auth(key)).json()["status"] == "pending"
    request_claims(client, by_reference)
    request_claims(client, by_reference)  # a wallet may fetch again while the session is open
    assert client.get(f"/sessions/{by_reference['session_id']}", headers=auth(key)).json()["status"] == "fetched"
    by_value = new_session(client, key, client_id_prefix="redirect_uri")
    link = oid4vp.parse_link(by_value["link"])
    assert link.request is not None
    request_id = link.request.response_uri.rsplit("/", 1)[1]
    assert client.get(f"/requests/{request_id}").json()["reason"] == "malformed"
    assert client.get(f"/sessions/{by_value['session_id']}", headers=auth(key)).json()["status"] == "pending"


def test_api_keys_are_remembered_for_a_bounded_time(make_client: Callable[..., TestClient], clock: Clock) -> None:
    client = make_client()
    service = service_of(client)
    key = service.create_api_key()
    assert client.post("/sessions", json={"policy": "age-over-18"}, headers=auth(key)).status_code == 201
    with service.store.engine.begin() as connection:
        connection.execute(update(ApiKeyRow).values(revoked=True))
    # revoked in the database: still accepted from memory until REMEMBER_SECONDS have passed …
    assert client.post("/sessions", json={"policy": "age-over-18"}, headers=auth(key)).status_code == 201
    clock.advance(REMEMBER_SECONDS)
    # … then refused, and a refusal is never remembered: a key made now works at once
    assert client.post("/sessions", json={"policy": "age-over-18"}, headers=auth(key)).status_code == 401
    fresh = service.create_api_key()
    assert client.post("/sessions", json={"policy": "age-over-18"}, headers=auth(fresh)).status_code == 201


def test_served_connections_have_nagle_off() -> None:
    """uvicorn's multi-worker listening socket has proto 0, so asyncio leaves Nagle on (verifier.serving)."""
    listener = socket.socket(socket.AF_INET)  # as uvicorn makes it
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    async def accept_one() -> tuple[int, int]:
        made: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                before = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                no_delay(transport)
                made.set_result((before, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        try:
            return await asyncio.wait_for(made, 10)
        finally:
            writer.close()
            server.close()

    before, after = asyncio.run(accept_one())
    assert before == 0 and after != 0


def test_issuer_metadata_is_remembered_for_its_ttl(clock: Clock) -> None:
    hits: list[str] = []
    up = [True]

    def handle(request: httpx.Request) -> httpx.Response:
        hits.append(str(request.url))
        return httpx.Response(200, json={"issuer": "https://issuer.example"}) if up[0] else httpx.Response(503)

    fetch = SafeFetch(httpx.Client(transport=httpx.MockTransport(handle)), allow_private=True)
    cache = CachedJson(fetch, ttl=300, timeout=5, max_bytes=10_000, now=clock)
    url = "https://issuer.example/.well-known/jwt-vc-issuer"
    assert cache.get(url) == cache.get(url) == {"issuer": "https://issuer.example"}
    assert len(hits) == 1
    clock.advance(300)
    up[0] = False
    with pytest.raises(TesseraError):  # expired: fetched again, and a failure is not remembered
        cache.get(url)
    up[0] = True
    assert cache.get(url) == {"issuer": "https://issuer.example"} and len(hits) == 3
