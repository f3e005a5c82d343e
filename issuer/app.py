"""``create_app(settings)``: the issuer's FastAPI application. No module-level state: everything the
routes need hangs off ``app.state.service``, built here from settings and injected collaborators
(clock, randomness, catalogue) so tests control them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from issuer.catalogue import Catalogue, load_catalogue
from issuer.http import AccessLog, BodyLimit, install_error_handlers
from issuer.identity import Identity
from issuer.issuance import Issuance
from issuer.routes import admin, oid4vci, public
from issuer.sealing import LazySealer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.status_lists import StatusLists
from issuer.store import Database, make_engine, migrate
from shared.crypto import RandomBytes
from shared.crypto import random_bytes as os_random


def build_service(
    settings: IssuerSettings,
    *,
    catalogue: Catalogue | None = None,
    now: Callable[[], float] = time.time,
    random_bytes: RandomBytes = os_random,
    run_migrations: bool = True,
) -> IssuerService:
    """The service without HTTP (the CLI uses it directly for API keys and the audit check)."""
    engine = make_engine(settings.resolved_database_url)
    if run_migrations:
        migrate(engine)
    db = Database(engine)
    sealer = LazySealer(settings)
    identity = Identity(settings, db, sealer, now, random_bytes)
    return IssuerService(
        settings=settings,
        db=db,
        sealer=sealer,
        identity=identity,
        catalogue=catalogue or load_catalogue(settings.catalogue),
        now=now,
        random_bytes=random_bytes,
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several worker processes): settings from the environment."""
    from issuer.settings import load_settings  # noqa: PLC0415 - only the worker processes need it

    return create_app(load_settings())


def create_app(
    settings: IssuerSettings,
    *,
    catalogue: Catalogue | None = None,
    now: Callable[[], float] = time.time,
    random_bytes: RandomBytes = os_random,
) -> FastAPI:
    service = build_service(settings, catalogue=catalogue, now=now, random_bytes=random_bytes)
    service.identity.ensure_key()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The thread pool runs the database work of every request. anyio's default of 40 threads lets
        # every waiting request start at once; the threads then fight over the GIL (a thread holding
        # the SQLite writer lock or a PostgreSQL row lock waits up to the 5 ms switch interval to run
        # again, and everyone behind the lock waits with it). A few threads keep the database busy;
        # the other requests wait their turn on the event loop, at no cost.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Tessera issuer",
        version="0.1.0",
        description="OpenID4VCI 1.0 issuer of SD-JWT VC and Data Integrity credentials, with status lists and an "
        "audited admin API.",
    )
    app.state.service = service
    app.state.issuance = Issuance(service)
    app.state.status_lists = StatusLists(service)
    install_error_handlers(app)
    # Routes are matched router by router in this order (no path is in two of them): the issuance
    # endpoints, hit four times per credential, first.
    for module in (oid4vci, admin, public):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app
