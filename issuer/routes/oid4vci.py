"""OpenID4VCI 1.0 endpoints, status lists, issuer key metadata and the W3C VC API issue endpoint."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from issuer import vcapi
from issuer.http import ApiError
from issuer.issuance import NO_STORE, Issuance
from issuer.routes import offload, service_of
from issuer.status_lists import StatusLists
from shared.encoding import loads_strict
from shared.errors import TesseraError

router = APIRouter(tags=["openid4vci"])


def _issuance(request: Request) -> Issuance:
    issuance: Issuance = request.app.state.issuance
    return issuance


@router.get("/.well-known/openid-credential-issuer", summary="Credential Issuer Metadata (OpenID4VCI 1.0 §12.2)")
async def issuer_metadata(request: Request) -> JSONResponse:
    return JSONResponse(_issuance(request).issuer_metadata())  # built once, no I/O: on the event loop


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
async def as_metadata(request: Request) -> JSONResponse:
    return JSONResponse(_issuance(request).authorization_server_metadata())


@router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata with the issuer's JWKS")
async def jwt_vc_issuer(request: Request) -> JSONResponse:
    service = service_of(request)
    return JSONResponse({"issuer": service.settings.base_url, "jwks": await offload(service.identity.jwks)})


@router.post("/token", summary="Token endpoint: pre-authorized code (+ tx_code) → access token")
async def token(request: Request) -> JSONResponse:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise ApiError("invalid_request", "The token request is form-encoded (application/x-www-form-urlencoded).")
    # parsed here rather than with python-multipart: one more dependency for one urlencoded form
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ApiError("invalid_request", "The token request is not UTF-8.") from None
    values = dict(pairs)
    if len(values) != len(pairs):  # RFC 6749 §3.2: a parameter must not be repeated
        raise ApiError("invalid_request", "A request parameter is repeated.")
    return JSONResponse(await offload(_issuance(request).token, values), headers=NO_STORE)


@router.post("/nonce", summary="Nonce endpoint (OpenID4VCI 1.0 §7)")
async def nonce(request: Request) -> JSONResponse:
    return JSONResponse(_issuance(request).nonce(), headers=NO_STORE)  # no I/O: on the event loop


@router.post("/credential", summary="Credential endpoint (OpenID4VCI 1.0 §8)")
async def credential(request: Request) -> JSONResponse:
    raw = await request.body()
    try:
        body = loads_strict(raw, max_bytes=len(raw) + 1)
    except TesseraError as exc:
        raise ApiError("invalid_credential_request", f"the body is not JSON: {exc.message}") from exc
    auth = request.headers.get("authorization")
    return JSONResponse(await offload(_issuance(request).credential, auth, body), headers=NO_STORE)


@router.get("/status/{list_id}", summary="A Token Status List (statuslist+jwt)")
def token_status_list(list_id: str, request: Request) -> Response:
    return _status(request, list_id, "status")


@router.get("/status/{list_id}/{purpose}", summary="A Bitstring Status List credential")
def bitstring_status_list(list_id: str, purpose: str, request: Request) -> Response:
    if purpose not in ("revocation", "suspension"):
        raise ApiError("not_found", "There is no such status list.", status=404)
    return _status(request, list_id, purpose)


def _status(request: Request, list_id: str, purpose: str) -> Response:
    lists: StatusLists = request.app.state.status_lists
    body, media, headers = lists.get(list_id[:64], purpose)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


# --- W3C VC API (for the W3C test suites) ----------------------------------------------------------


@router.post("/credentials/issue", status_code=201, summary="W3C VC API: sign a VCDM 2.0 credential (Data Integrity)")
async def vc_api_issue(request: Request) -> JSONResponse:
    service = service_of(request)
    auth = request.headers.get("authorization")
    actor = "open" if service.settings.vc_api_open else await offload(service.authenticate, auth, "issue")
    raw = await request.body()
    try:
        body = loads_strict(raw, max_bytes=len(raw) + 1)
    except TesseraError as exc:
        raise ApiError("invalid_request", f"the body is not JSON: {exc.message}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        raise ApiError("invalid_request", 'the body is {"credential": {…}, "options": {…}}')
    signed = await offload(vcapi.vc_api_issue, service, actor, body["credential"], body.get("options"))
    return JSONResponse({"verifiableCredential": signed}, status_code=201)
