"""Thin routers: parse the wire format, call the service, render. Nothing here decides anything."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from issuer.service import IssuerService


def service_of(request: Request) -> IssuerService:
    service: IssuerService = request.app.state.service
    return service


def require(*scopes: str) -> Callable[[Request], str]:
    """A dependency returning the caller's API key id once its key holds one of ``scopes``."""

    def check(request: Request) -> str:
        return service_of(request).authenticate(request.headers.get("authorization"), scopes)

    return check
