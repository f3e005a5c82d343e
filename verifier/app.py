"""``create_app(settings)``: the verifier's FastAPI application. No module-level state: everything the
routes need hangs off ``app.state.service``, built here from settings and injected collaborators."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from shared.crypto import RandomBytes
from shared.crypto import random_bytes as os_random
from verifier.http import BodyLimit, SafeFetch, install_error_handlers
from verifier.identity import load_identity
from verifier.pipeline import PresentationVerifier, request_signer
from verifier.policy import TrustRegistry, VerifierConfig, parse_config
from verifier.routes import health, sessions, vcapi, wallet
from verifier.service import VerifierService, VerifyResponse
from verifier.settings import VerifierSettings, read_toml
from verifier.store import Store, make_engine, migrate


def load_config(settings: VerifierSettings) -> VerifierConfig:
    if settings.config is None:
        return VerifierConfig(policies={}, trust=TrustRegistry())
    return parse_config(read_toml(settings.config))


def create_app(
    settings: VerifierSettings,
    *,
    config: VerifierConfig | None = None,
    http_client: httpx.Client | None = None,
    now: Callable[[], float] = time.time,
    random_bytes: RandomBytes = os_random,
    verify_response: VerifyResponse | None = None,
    sign_request: Callable[[dict[str, Any], dict[str, Any]], str] | None = None,
) -> FastAPI:
    """Build the app. ``http_client`` (status lists, did:web) is injected in tests; a given client is
    trusted to reach private addresses only if ``settings.allow_private_fetch`` says so."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    store = Store(engine)
    config = config or load_config(settings)
    identity = load_identity(settings, store, random_bytes)
    client = http_client or httpx.Client(timeout=settings.fetch_timeout_seconds, follow_redirects=False)
    fetch = SafeFetch(client, allow_private=settings.allow_private_fetch)
    verifier = PresentationVerifier(settings=settings, config=config, fetch=fetch, now=now)
    service = VerifierService(
        settings=settings,
        store=store,
        config=config,
        identity=identity,
        verify_response=verify_response or verifier.verify_response,
        sign_request=sign_request or request_signer(identity),
        now=now,
        random_bytes=random_bytes,
    )
    app = FastAPI(
        title="Tessera verifier",
        version="0.1.0",
        description="OpenID4VP 1.0 verifier with DCQL, a trust registry, status checks and explainable verdicts.",
    )
    app.state.service = service
    app.state.verifier = verifier
    app.state.engine = engine
    install_error_handlers(app)
    for module in (health, sessions, wallet, vcapi):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory verifier.app:app_from_env`` (several workers or replicas): settings from
    ``TESSERA_VERIFIER_*``, with ``TESSERA_VERIFIER_CONFIG`` naming the TOML file (policies, trust)."""
    from verifier.settings import load_settings  # noqa: PLC0415

    return create_app(load_settings())
