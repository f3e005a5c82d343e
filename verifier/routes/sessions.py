"""Session API for relying parties (API key) and the session's QR codes and counter page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from shared import oid4vp, qr
from shared.errors import TesseraError
from verifier import view
from verifier.routes import authorized, blocking, service_of
from verifier.service import VerifierService

router = APIRouter(tags=["sessions"])
Authorized = Annotated[VerifierService, Depends(authorized)]


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str
    client_id_prefix: str = oid4vp.DID_PREFIX


@router.post("/sessions", status_code=201, response_class=JSONResponse)
async def create_session(body: SessionRequest, service: Authorized) -> JSONResponse:
    created = await blocking(service.create_session, body.policy, body.client_id_prefix)
    return JSONResponse(created.to_json(), status_code=201)


@router.get("/sessions/{session_id}", response_class=JSONResponse)
async def session_status(session_id: str, service: Authorized) -> JSONResponse:
    return JSONResponse(await blocking(service.status, session_id), headers={"Cache-Control": "no-store"})


@router.get("/sessions/{session_id}/qr.png", response_class=Response)
def qr_png(session_id: str, request: Request) -> Response:
    return Response(qr.to_png(service_of(request).link(session_id)), media_type="image/png")


@router.get("/sessions/{session_id}/qr.svg", response_class=Response)
def qr_svg(session_id: str, request: Request) -> Response:
    svg = qr.to_svg(service_of(request).link(session_id), title="QR code of the presentation request")
    return Response(svg, media_type="image/svg+xml")


@router.get("/sessions/{session_id}/view", response_class=HTMLResponse)
def counter_page(session_id: str, request: Request) -> HTMLResponse:
    """The session id is the capability here: only the relying party that created the session knows it
    (the QR code carries a different, public request id), so the page needs no API key."""
    service = service_of(request)
    status = service.status(session_id)
    try:
        policy = service.config.policy(status["policy"])
    except TesseraError:
        policy = None
    link = service.link(session_id) if status["status"] in ("pending", "fetched") else ""
    return HTMLResponse(view.render(status, policy, link), headers={"Cache-Control": "no-store"})
