"""Thin routers: parse the wire format, call :class:`verifier.service.VerifierService`, render.

The hot endpoints (a session's four calls) are ``async`` and hand their blocking part — database
statements, signing, verification — to the thread pool in one call (:func:`blocking`): a plain ``def``
endpoint with a ``def`` dependency and a declared return type cost FastAPI up to three thread hand-offs,
each about as much CPU as a database statement (measured in benchmarks/bench_verifier.py).
Responses are built here rather than validated against a model for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from verifier.service import VerifierService

P = ParamSpec("P")
T = TypeVar("T")


def service_of(request: Request) -> VerifierService:
    service: VerifierService = request.app.state.service
    return service


async def blocking(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a call that may wait on the database or the network off the event loop."""
    return await run_in_threadpool(func, *args, **kwargs)


async def authorized(request: Request) -> VerifierService:
    """The service, after checking the request's ``Authorization: Bearer <API key>``: from memory when
    the key passed recently (no thread hand-off), else with a database lookup (:mod:`verifier.auth`)."""
    service = service_of(request)
    header = request.headers.get("authorization")
    if not service.api_keys.remembered(header):
        await blocking(service.authenticate, header)
    return service
