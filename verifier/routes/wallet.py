"""The wallet-facing endpoints of OpenID4VP: ``request_uri`` and ``response_uri`` (direct_post)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shared import oid4vp
from verifier.routes import service_of

router = APIRouter(tags=["openid4vp"])


@router.get("/requests/{request_id}", response_class=Response)
def request_object(request_id: str, request: Request) -> Response:
    token = service_of(request).request_object(request_id)
    return Response(token, media_type=f"application/{oid4vp.REQUEST_OBJECT_TYP}", headers={"Cache-Control": "no-store"})


@router.post("/responses/{request_id}")
async def response(request_id: str, request: Request) -> JSONResponse:
    body = await request.body()
    # the verification itself is synchronous (crypto, database): run it off the event loop
    result = await run_in_threadpool(service_of(request).respond, request_id, body)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
