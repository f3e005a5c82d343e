"""The admin API (``/admin/…``): offers, issuance records, status changes, keys, audit, API keys.

Every route needs ``Authorization: Bearer <API key>`` with the scope it names; every state change is
written to the audit log by the service.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from issuer.routes import offload, require, service_of
from shared import qr

router = APIRouter(prefix="/admin", tags=["admin"])


class OfferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=64, description="A credential type of the catalogue, e.g. BirthCertificate")
    claims: dict[str, Any] = Field(description="The subject's claims, checked against the type's schema")
    formats: list[Literal["dc+sd-jwt", "ldp_vc", "vc+sd-jwt"]] | None = Field(default=None, max_length=3)
    tx_code: bool = Field(default=True, description="Protect the offer with a transaction code (shown once)")
    qr: bool = Field(default=False, description="Also return the QR code inline (SVG text and base64url PNG)")


class ApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scopes: list[Literal["issue", "revoke", "admin"]] = Field(min_length=1, max_length=3)
    label: str | None = Field(default=None, max_length=200)


@router.post("/offers", status_code=201, summary="Create a credential offer for a subject's claims")
async def create_offer(body: OfferRequest, request: Request, actor: str = Depends(require("issue"))) -> JSONResponse:
    offer = await offload(
        service_of(request).create_offer,
        actor,
        body.type,
        body.claims,
        formats=list(body.formats) if body.formats else None,
        inline_qr=body.qr,
        tx_code=body.tx_code,
    )
    return JSONResponse(offer, status_code=201)


@router.get("/offers/{offer_id}/qr.png", summary="The offer link as a QR code (PNG)")
def offer_qr_png(offer_id: str, request: Request, _: str = Depends(require("issue"))) -> Response:
    link = service_of(request).offer_link(offer_id[:64])
    return Response(qr.to_png(link, scale=8), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/offers/{offer_id}/qr.svg", summary="The offer link as a QR code (SVG)")
def offer_qr_svg(offer_id: str, request: Request, _: str = Depends(require("issue"))) -> Response:
    link = service_of(request).offer_link(offer_id[:64])
    svg = qr.to_svg(link, title="Credential offer")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/records", summary="List and search issuance records")
def list_records(
    request: Request,
    *,
    type: str | None = Query(default=None, max_length=64),
    status: Literal["offered", "issued", "revoked", "suspended"] | None = None,
    issued_by: str | None = Query(default=None, max_length=32),
    created_after: int | None = Query(default=None, ge=0),
    created_before: int | None = Query(default=None, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10_000_000),
    _: str = Depends(require("issue", "revoke")),
) -> dict[str, Any]:
    return service_of(request).list_records(
        type_name=type,
        status=status,
        issued_by=issued_by,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        offset=offset,
    )


@router.get("/records/{record_id}", summary="One issuance record")
def get_record(record_id: str, request: Request, _: str = Depends(require("issue", "revoke"))) -> dict[str, Any]:
    return service_of(request).get_record(record_id[:64])


@router.post("/records/{record_id}/{action}", summary="Revoke, suspend or reinstate a record's credentials")
def change_status(
    record_id: str,
    action: Literal["revoke", "suspend", "reinstate"],
    request: Request,
    actor: str = Depends(require("revoke")),
) -> dict[str, Any]:
    return service_of(request).change_status(actor, record_id[:64], action)


@router.post("/keys/rotate", summary="Retire the active signing key and create a new one")
def rotate_keys(request: Request, actor: str = Depends(require("admin"))) -> dict[str, Any]:
    return service_of(request).rotate_keys(actor)


@router.get("/keys", summary="The signing keys, active first")
def list_keys(request: Request, _: str = Depends(require("admin"))) -> dict[str, Any]:
    return {"keys": service_of(request).identity.published_keys()}


@router.post("/api-keys", status_code=201, summary="Create an API key (shown once)")
def create_api_key(body: ApiKeyRequest, request: Request, actor: str = Depends(require("admin"))) -> dict[str, Any]:
    return {"api_key": service_of(request).create_api_key(list(body.scopes), body.label, actor=actor)}


@router.get("/audit", summary="Audit log entries, newest first")
def audit_entries(
    request: Request,
    limit: int = Query(default=100, ge=1, le=1000),
    before: int | None = Query(default=None, ge=1),
    _: str = Depends(require("admin")),
) -> dict[str, Any]:
    return {"entries": service_of(request).audit_entries(limit=limit, before=before)}


@router.get("/audit/verify", summary="Check the audit log's hash chain")
def audit_verify(request: Request, _: str = Depends(require("admin"))) -> dict[str, Any]:
    report = service_of(request).audit_verify()
    return {
        "ok": report.ok,
        "entries": report.entries,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
        "head": report.head,
    }
