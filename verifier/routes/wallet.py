"""The wallet-facing endpoints of OpenID4VP: ``request_uri`` and ``response_uri`` (direct_post)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shared import oid4vp
from verifier.routes import blocking, service_of

router = APIRouter(tags=["openid4vp"])


@router.get("/requests/{request_id}", response_class=Response)
async def request_object(request_id: str, request: Request) -> Response:
    token = await blocking(service_of(request).request_object, request_id)
    return Response(token, media_type=f"application/{oid4vp.REQUEST_OBJECT_TYP}", headers={"Cache-Control": "no-store"})


@router.post("/responses/{request_id}", response_class=JSONResponse)
async def response(request_id: str, request: Request) -> JSONResponse:
    body = await request.body()
    # verification (crypto, maybe status-list and DID fetches) and the database: off the event loop
    result = await blocking(service_of(request).respond, request_id, body)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
