"""Thin routers: parse the wire format, call :class:`verifier.service.VerifierService`, render."""

from __future__ import annotations

from fastapi import Request

from verifier.service import VerifierService


def service_of(request: Request) -> VerifierService:
    service: VerifierService = request.app.state.service
    return service


def authorized(request: Request) -> VerifierService:
    """The service, after checking the request's ``Authorization: Bearer <API key>``."""
    service = service_of(request)
    service.authenticate(request.headers.get("authorization"))
    return service
