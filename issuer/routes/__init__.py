"""Thin routers: parse the wire format, call the service, render. Nothing here decides anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from issuer.service import IssuerService

P = ParamSpec("P")
T = TypeVar("T")


async def offload(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a synchronous service call (database work) in the thread pool.

    The endpoints of the issuance path are ``async def`` and call this once, and return a ready
    ``JSONResponse``: for a plain ``def`` endpoint returning a dict, FastAPI makes two thread-pool hops
    (the endpoint, then validating the returned value) and re-validates and re-serializes the whole
    value with pydantic — more CPU than the service call itself."""
    return await run_in_threadpool(call, *args, **kwargs)


def service_of(request: Request) -> IssuerService:
    service: IssuerService = request.app.state.service
    return service


def require(*scopes: str) -> Callable[[Request], Awaitable[str]]:
    """A dependency returning the caller's API key id once its key holds one of ``scopes``.

    Asynchronous on purpose: a key the process has just checked is vouched for from memory, on the
    event loop; only a miss goes to the database, in the thread pool (one hop instead of one per
    request — FastAPI runs a synchronous dependency in the pool too)."""

    async def check(request: Request) -> str:
        service = service_of(request)
        authorization = request.headers.get("authorization")
        known = service.api_keys.cached(authorization, scopes)
        if known is not None:
            return known
        return await run_in_threadpool(service.authenticate, authorization, scopes)

    return check
