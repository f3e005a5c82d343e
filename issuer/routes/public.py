"""Public, unauthenticated endpoints: liveness, offers by reference, the DID document, JSON-LD contexts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from issuer.routes import offload, service_of
from issuer.service import IssuerService, not_found
from shared import jsonld
from shared.errors import JsonLdError

router = APIRouter(tags=["public"])
CONTEXT_BASE = "https://w3id.org/tessera/contexts/"


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    await offload(_ping, service_of(request))
    return JSONResponse({"status": "ok"})


def _ping(service: IssuerService) -> None:
    """The database answers (read-only: no writer lock)."""
    with service.db.begin_read() as connection:
        connection.execute(text("SELECT 1"))


@router.get("/offers/{offer_id}", summary="A credential offer by reference (OpenID4VCI 1.0 §4.1.3)")
def offer(offer_id: str, request: Request) -> JSONResponse:
    body = service_of(request).offer_document(offer_id[:64])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/.well-known/did.json", summary="The issuer's DID document (did:web, or its did:key's document)")
def did_document(request: Request) -> JSONResponse:
    return JSONResponse(service_of(request).identity.did_document(), media_type="application/did+json")


@router.get("/contexts/{path:path}", summary="Bundled JSON-LD contexts of the credential types")
def context(path: str) -> JSONResponse:
    url = CONTEXT_BASE + path
    try:
        loaded = jsonld.document_loader(url)
    except JsonLdError:
        raise not_found("JSON-LD context") from None
    return JSONResponse(
        loaded["document"], media_type="application/ld+json", headers={"Cache-Control": "public, max-age=86400"}
    )
