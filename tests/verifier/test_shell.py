"""The service shell on SQLite and PostgreSQL: settings, config, identity, API keys, sessions, errors.

The format pipeline is replaced by a stub here (it has its own tests); what is tested is the flow
around it: single use, expiry, replay, declines, what is stored, body caps and error objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from shared import apikeys, oid4vp
from shared.encoding import b64url_encode
from shared.errors import TesseraError
from shared.verification import Pipeline
from verifier.app import create_app
from verifier.identity import load_identity
from verifier.policy import Policy
from verifier.service import Outcome
from verifier.settings import VerifierSettings, load_settings
from verifier.store import Store, make_engine, migrate
from verifier.store.db import SessionRecord

from .conftest import Clock


def fake_sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return json.dumps({"header": header, "claims": claims})


def fake_verify(policy: Policy, vp_token: Mapping[str, Any], record: SessionRecord) -> Outcome:
    pipe = Pipeline("dc+sd-jwt")
    good = vp_token.get("birth_certificate") == ("good",)

    def step() -> None:
        if not good:
            raise TesseraError(code="invalid_signature")

    pipe.run("signature", step)
    return Outcome(
        pipe.verdict, {"birth_certificate": {"age_over_18": True}}, ("birth_certificate: givenName",) if good else ()
    )


@pytest.fixture
def app_factory(make_settings: Callable[..., VerifierSettings], clock: Clock) -> Callable[..., TestClient]:
    def build(**overrides: Any) -> TestClient:
        app = create_app(make_settings(**overrides), now=clock, verify_response=fake_verify, sign_request=fake_sign)
        return TestClient(app)

    return build


@pytest.fixture
def client(app_factory: Callable[..., TestClient]) -> TestClient:
    return app_factory()


@pytest.fixture
def api_key(client: TestClient) -> str:
    return client.app.state.service.create_api_key()  # type: ignore[attr-defined]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_session(client: TestClient, key: str, policy: str = "age-over-18", **extra: str) -> dict[str, Any]:
    response = client.post("/sessions", json={"policy": policy, **extra}, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


def request_claims(client: TestClient, session: dict[str, Any]) -> dict[str, Any]:
    response = client.get(urlsplit(session["request_uri"]).path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    return json.loads(response.text)["claims"]


def post(client: TestClient, claims: dict[str, Any], **form: str) -> Any:
    return client.post(
        urlsplit(claims["response_uri"]).path,
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


# --- settings and config -------------------------------------------------------------------------


def test_settings_layering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "v.toml"
    config.write_text('[verifier]\nport = 9001\nsession_ttl_seconds = 120\npublic_url = "https://v.example/"\n')
    monkeypatch.setenv("TESSERA_VERIFIER_SESSION_TTL_SECONDS", "60")
    settings = load_settings(config, port=None, host="0.0.0.0")
    assert (settings.port, settings.session_ttl_seconds, settings.host) == (9001, 60, "0.0.0.0")
    assert settings.base_url == "https://v.example" and settings.config == config
    assert VerifierSettings(host="h", port=1).base_url == "http://h:1"


def test_example_config_has_the_three_policies_in_two_languages(client: TestClient) -> None:
    config = client.app.state.service.config  # type: ignore[attr-defined]
    assert set(config.policies) == {"age-over-18", "school-enrolment", "parental-link"}
    for policy in config.policies.values():
        assert {"en", "fr"} <= set(policy.purpose)
    age = config.policy("age-over-18").query.credentials[0]
    assert [c.path for c in age.claims or ()] == [("age_over_18",)]
    link = config.policy("parental-link").query.credentials[0]
    assert ("parent", None, "givenName") in link.requested_paths()


# --- identity ------------------------------------------------------------------------------------


def test_identity_is_did_key_locally_and_did_web_with_https(make_settings: Callable[..., VerifierSettings]) -> None:
    local = make_settings()
    engine = make_engine(local.database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    store = Store(engine)
    first = load_identity(local, store, lambda n: b"\x01" * n)
    again = load_identity(local, store, lambda n: b"\x02" * n)
    assert first.did.startswith("did:key:z6Mk") and first.key.seed == again.key.seed
    row = store.signing_key("primary")
    assert row is not None and first.key.seed not in row.sealed  # sealed at rest
    web = load_identity(make_settings(public_url="https://verifier.example.org"), store, lambda n: b"\x03" * n)
    assert web.did == "did:web:verifier.example.org" and web.kid == "did:web:verifier.example.org#key-1"
    assert web.key.seed == first.key.seed
    with pytest.raises(TesseraError) as info:
        load_identity(make_settings(key_secret=b64url_encode(b"x" * 32)), store, lambda n: b"\x04" * n)
    assert info.value.code == "invalid_key"
    engine.dispose()


def test_key_secret_file_is_created_beside_sqlite(tmp_path: Path) -> None:
    settings = VerifierSettings(database_url=f"sqlite:///{tmp_path / 'v.db'}")
    engine = make_engine(settings.database_url)
    migrate(engine)
    load_identity(settings, Store(engine), lambda n: b"\x05" * n)
    secret = tmp_path / "v.db.key"
    assert secret.exists() and secret.stat().st_mode & 0o777 == 0o600
    engine.dispose()


def test_did_document_only_for_did_web(app_factory: Callable[..., TestClient]) -> None:
    local = app_factory()
    assert local.get("/.well-known/did.json").status_code == 400
    web = app_factory(public_url="https://verifier.example.org")
    doc = web.get("/.well-known/did.json").json()
    assert doc["id"] == "did:web:verifier.example.org"
    assert web.get("/healthz").json() == {"status": "ok", "did": "did:web:verifier.example.org"}


# --- API keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer tsv_" + "A" * 11 + "_" + "B" * 43])
def test_sessions_need_a_valid_api_key(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post("/sessions", json={"policy": "age-over-18"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_keys_are_stored_hashed(client: TestClient, api_key: str) -> None:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    key_id = apikeys.key_id_of(api_key, "tsv")  # the id itself may contain "_" (base64url)
    stored = store.api_key_hash(key_id)
    assert stored is not None and api_key not in stored


# --- sessions --------------------------------------------------------------------------------------


def test_create_session_link_qr_and_request_object(client: TestClient, api_key: str, clock: Clock) -> None:
    session = new_session(client, api_key)
    assert set(session) >= {"session_id", "link", "request_uri", "status_url", "qr_png_url", "qr_svg_url", "view_url"}
    identity = client.app.state.service.identity  # type: ignore[attr-defined]
    link = oid4vp.parse_link(session["link"])
    assert link.client_id == f"decentralized_identifier:{identity.did}"
    assert link.request_uri == session["request_uri"]
    assert session["session_id"] not in session["link"]  # the QR code does not reveal the session id
    png = client.get(urlsplit(session["qr_png_url"]).path)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = client.get(urlsplit(session["qr_svg_url"]).path)
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    response = client.get(urlsplit(session["request_uri"]).path)
    token = json.loads(response.text)
    assert token["header"] == {"alg": "EdDSA", "typ": "oauth-authz-req+jwt", "kid": identity.kid}
    claims = token["claims"]
    request = oid4vp.parse_request(claims)
    assert request.client_id == link.client_id and request.aud == "https://self-issued.me/v2"
    assert claims["response_mode"] == "direct_post" and claims["response_uri"].startswith("http://verifier.test/")
    assert claims["dcql_query"]["credentials"][0]["id"] == "birth_certificate"
    assert "dc+sd-jwt" in claims["client_metadata"]["vp_formats_supported"]
    # what the wallet shows on its consent screen: who asks (from [client]) and why (the policy's purpose)
    assert claims["client_metadata"]["client_name"] == "Example Verifier"
    assert claims["client_metadata"]["client_name#fr"] == "Vérificateur d'exemple"
    assert claims["purpose"] == {
        "en": "Confirm that you are over 18.",
        "fr": "Confirmer que vous avez plus de 18 ans.",
    }
    assert claims["iat"] == int(clock()) and claims["exp"] == session["expires_at"]
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).json()
    assert status["status"] == "fetched"


def test_client_name_config(tmp_path: Path) -> None:
    from verifier.policy import parse_config

    assert parse_config({"client": {"name": "Bank"}}).client_metadata_names() == {
        "client_name": "Bank",
        "client_name#en": "Bank",
    }
    assert parse_config({}).client_metadata_names() == {}
    for bad in ({"name": ""}, {"name": {"en": 3}}, {"nom": "x"}, "Bank"):
        with pytest.raises(TesseraError):
            parse_config({"client": bad})


def test_wallet_shows_the_verifier_name_and_purpose(
    make_settings: Callable[..., VerifierSettings], clock: Clock, tmp_path: Path
) -> None:
    """Tessera's wallet (wallet/client.py) reads who asks and why from the real signed request object."""
    from shared.did import DidResolver
    from wallet.client import Client
    from wallet.core import Wallet
    from wallet.transport import Http
    from wallet.vault import FAST_KDF, Vault

    base = "http://127.0.0.1:8200"  # the wallet speaks plain http to loopback only
    app = create_app(make_settings(public_url=base), now=clock)
    http = TestClient(app, base_url=base)
    session = new_session(http, app.state.service.create_api_key())
    vault = Vault.create(tmp_path / "wallet.db", "passphrase", kdf=FAST_KDF)
    try:
        client = Client(Wallet(vault, resolver=DidResolver()), Http(http), clock=clock)
        for lang, name, purpose in (
            ("en", "Example Verifier", "Confirm that you are over 18."),
            ("fr", "Vérificateur d'exemple", "Confirmer que vous avez plus de 18 ans."),
        ):
            pending = client.open_request(session["link"], lang=lang)
            assert (pending.verifier.name, pending.verifier.purpose) == (name, purpose)
    finally:
        vault.close()


def test_every_session_has_fresh_nonce_and_state(client: TestClient, api_key: str) -> None:
    claims = [request_claims(client, new_session(client, api_key)) for _ in range(3)]
    assert len({c["nonce"] for c in claims}) == 3 and len({c["state"] for c in claims}) == 3


def test_unknown_policy_and_bad_bodies(client: TestClient, api_key: str) -> None:
    response = client.post("/sessions", json={"policy": "nope"}, headers=auth(api_key))
    assert response.status_code == 404 and response.json()["error"] == "unknown_policy"
    response = client.post("/sessions", json={"policy": "age-over-18", "x": 1}, headers=auth(api_key))
    assert response.status_code == 400 and response.json()["error"] == "malformed"
    response = client.post(
        "/sessions", content=b"{not json", headers={**auth(api_key), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    response = client.post(
        "/sessions", json={"policy": "age-over-18", "client_id_prefix": "x509_hash"}, headers=auth(api_key)
    )
    assert response.status_code == 400


def test_oversized_body_is_413(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(max_body_bytes=2048)
    key = client.app.state.service.create_api_key()  # type: ignore[attr-defined]
    response = client.post("/sessions", content=b"x" * 4096, headers={**auth(key), "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "too_large"

    def chunks() -> Any:
        yield b"x" * 1500
        yield b"x" * 1500

    response = client.post("/responses/whatever", content=chunks())
    assert response.status_code == 413


def test_verified_flow_stores_only_the_verdict_and_requested_claims(client: TestClient, api_key: str) -> None:
    session = new_session(client, api_key)
    claims = request_claims(client, session)
    vp_token = json.dumps({"birth_certificate": ["good"]})
    response = post(client, claims, vp_token=vp_token, state=claims["state"])
    assert response.status_code == 200 and response.json() == {}
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).json()
    assert status["status"] == "verified"
    assert status["verdict"]["verified"] is True and status["verdict"]["checks"][0]["check"] == "signature"
    assert status["verdict"]["extra_disclosed_paths"] == ["birth_certificate: givenName"]
    assert status["claims"] == {"birth_certificate": {"age_over_18": True}}
    store = client.app.state.service.store  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        dump = json.dumps([list(r) for r in conn.exec_driver_sql("SELECT * FROM verifier_sessions")])
    assert "good" not in dump  # the presentation is not stored
    # a second post is a replay
    again = post(client, claims, vp_token=vp_token, state=claims["state"])
    assert again.status_code == 400 and again.json() == {
        "error": "invalid_request",
        "error_description": "this session was already answered",
        "reason": "replayed",
    }
    assert client.get(urlsplit(session["request_uri"]).path).json()["reason"] == "replayed"


def test_rejected_flow_stores_no_claims(client: TestClient, api_key: str) -> None:
    session = new_session(client, api_key)
    claims = request_claims(client, session)
    post(client, claims, vp_token=json.dumps({"birth_certificate": ["bad"]}), state=claims["state"])
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).json()
    assert status["status"] == "rejected" and "claims" not in status
    assert status["verdict"]["code"] == "invalid_signature"


def test_wallet_declines(client: TestClient, api_key: str) -> None:
    session = new_session(client, api_key)
    claims = request_claims(client, session)
    assert post(client, claims, error="access_denied", state=claims["state"]).status_code == 200
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).json()
    assert status["status"] == "declined" and status["verdict"]["wallet_error"] == "access_denied"


def test_wrong_state_does_not_consume_the_session(client: TestClient, api_key: str) -> None:
    claims = request_claims(client, new_session(client, api_key))
    vp_token = json.dumps({"birth_certificate": ["good"]})
    response = post(client, claims, vp_token=vp_token, state="other")
    assert response.status_code == 400 and response.json()["reason"] == "state_mismatch"
    assert post(client, claims, vp_token=vp_token, state=claims["state"]).status_code == 200


@pytest.mark.parametrize(
    "form",
    [{}, {"vp_token": "[]", "state": "s"}, {"vp_token": "{", "state": "s"}, {"error": "bogus", "state": "s"}],
)
def test_malformed_responses_are_400_and_do_not_consume(client: TestClient, api_key: str, form: dict[str, str]) -> None:
    claims = request_claims(client, new_session(client, api_key))
    form = {k: (claims["state"] if v == "s" else v) for k, v in form.items()}
    response = post(client, claims, **form)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    ok = post(client, claims, vp_token=json.dumps({"birth_certificate": ["good"]}), state=claims["state"])
    assert ok.status_code == 200


def test_unknown_and_expired_sessions(client: TestClient, api_key: str, clock: Clock) -> None:
    assert client.get("/requests/nope").json()["reason"] == "unknown_session"
    assert client.get("/sessions/nope", headers=auth(api_key)).status_code == 404
    session = new_session(client, api_key)
    claims = request_claims(client, session)
    clock.advance(301)
    response = post(client, claims, vp_token=json.dumps({"birth_certificate": ["good"]}), state=claims["state"])
    assert response.status_code == 410 and response.json()["reason"] == "session_expired"
    assert client.get(urlsplit(session["request_uri"]).path).status_code == 410
    status = client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).json()
    assert status["status"] == "expired"


def test_results_are_purged_after_retention(client: TestClient, api_key: str, clock: Clock) -> None:
    session = new_session(client, api_key)  # age-over-18 keeps results for one day
    claims = request_claims(client, session)
    post(client, claims, vp_token=json.dumps({"birth_certificate": ["good"]}), state=claims["state"])
    clock.advance(86_400 + 1)
    new_session(client, api_key)  # creating a session purges what is due
    assert client.get(f"/sessions/{session['session_id']}", headers=auth(api_key)).status_code == 404


def test_redirect_uri_client_sends_the_request_by_value(client: TestClient, api_key: str) -> None:
    session = new_session(client, api_key, client_id_prefix="redirect_uri")
    link = oid4vp.parse_link(session["link"])
    assert link.request is not None and "request_uri" not in session
    assert link.client_id == "redirect_uri:" + link.request.response_uri
    params = parse_qs(urlsplit(session["link"]).query)
    assert "dcql_query" in params
    response = post(
        client,
        {"response_uri": link.request.response_uri},
        vp_token=json.dumps({"birth_certificate": ["good"]}),
        state=link.request.state,
    )
    assert response.status_code == 200
    # the request_uri of such a session serves nothing
    request_id = link.request.response_uri.rsplit("/", 1)[1]
    assert client.get(f"/requests/{request_id}").status_code == 400


def test_counter_page(client: TestClient, api_key: str) -> None:
    session = new_session(client, api_key, policy="school-enrolment")
    page = client.get(urlsplit(session["view_url"]).path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "http-equiv='refresh'" in html and "<svg" in html and "<script" not in html
    assert "lang='fr'" in html and "Inscrire votre enfant" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "").replace("http://verifier.test", "")
    claims = request_claims(client, session)
    post(client, claims, vp_token=json.dumps({"birth_certificate": ["good"]}), state=claims["state"])
    done = client.get(urlsplit(session["view_url"]).path).text
    assert "refresh" not in done and "Verified." in done and "age_over_18" in done


def test_openapi_and_unexpected_errors_are_not_leaked(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/sessions/x/view").status_code == 404
