"""Liveness and the verifier's DID document (for did:web)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.errors import TesseraError
from verifier.routes import service_of

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    with request.app.state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "did": service_of(request).identity.did}


@router.get("/.well-known/did.json")
@router.get("/did.json")
def did_document(request: Request) -> JSONResponse:
    identity = service_of(request).identity
    if not identity.did.startswith("did:web:"):
        raise TesseraError("this verifier is a did:key; it publishes no DID document", code="unknown_key")
    return JSONResponse(identity.document, media_type="application/did+json")
