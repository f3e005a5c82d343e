"""W3C CCG VC API verification endpoints, for the W3C test suites (design.md §9).

``POST /credentials/verify`` ``{"verifiableCredential": …, "options": {}}`` and ``POST
/presentations/verify`` ``{"verifiablePresentation": …, "options": {"challenge", "domain"}}``: 200 with
the checks when verified, 422 with the checks and errors when not, 400 for a body that is not a
request at all. Data Integrity (``ldp_vc``) documents; the trust registry is not applied here (test
suites use their own issuers) — signature, data model, validity and status are.

Both need an API key (``Authorization: Bearer tsv_…``, as the session API): a verification makes the
verifier fetch status lists and DID documents named by the caller, which is not for anyone on the network.
``TESSERA_VERIFIER_VC_API_OPEN`` lifts that for W3C test-suite runs, as the issuer's does for
``POST /credentials/issue``. The key is checked before the body is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shared.encoding import loads_strict
from shared.errors import MalformedError
from shared.verification import Verdict
from verifier.pipeline import PresentationVerifier
from verifier.routes import authorized, service_of

router = APIRouter(tags=["vc-api"])


async def _body(request: Request, member: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not service_of(request).settings.vc_api_open:
        await authorized(request)  # 401 ``unauthorized`` without a valid API key
    body = loads_strict(await request.body(), max_bytes=service_of(request).settings.max_body_bytes)
    if not isinstance(body, dict) or not isinstance(body.get(member), dict):
        raise MalformedError(f"the body must be a JSON object with {member} (an object)")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise MalformedError("options must be an object")
    return body[member], options


def _answer(verdict: Verdict) -> JSONResponse:
    data = verdict.to_dict()
    data["errors"] = [c.to_dict() for c in verdict.failures]
    data["warnings"] = []
    return JSONResponse(data, status_code=200 if verdict.verified else 422)


def _verifier(request: Request) -> PresentationVerifier:
    verifier: PresentationVerifier = request.app.state.verifier
    return verifier


@router.post("/credentials/verify")
async def verify_credential(request: Request) -> JSONResponse:
    credential, _ = await _body(request, "verifiableCredential")
    result = await run_in_threadpool(
        _verifier(request).verify_one, "ldp_vc", credential, None, nonce=None, client_id=None
    )
    return _answer(result.verdict)


@router.post("/presentations/verify")
async def verify_presentation(request: Request) -> JSONResponse:
    presentation, options = await _body(request, "verifiablePresentation")
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, (str, type(None))) or not isinstance(domain, (str, type(None))):
        raise MalformedError("options.challenge and options.domain are strings")
    result = await run_in_threadpool(
        _verifier(request).verify_one, "ldp_vc", presentation, None, nonce=challenge, client_id=domain
    )
    return _answer(result.verdict)
