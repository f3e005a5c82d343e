"""HTTP plumbing for the routers: error objects, the body-size cap, JSON access logs.

Errors: every failure becomes ``{"error": …, "error_description": …}`` — the OAuth 2.0 / OpenID4VCI
error object (RFC 6749 §5.2, OpenID4VCI 1.0 §8.3.1). Protocol endpoints raise :class:`ApiError` with
the spec's error name; a core :class:`TesseraError` escaping elsewhere becomes its reason code, with
the code repeated as ``reason``. Unexpected exceptions are logged and answered with a bare 500: never
a stack trace to the client.

Logs: one JSON object per line. Access logs carry the route *template* (``/admin/records/{record_id}``),
never the query string or body, which may hold pre-authorized codes or claims.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import MalformedError, TesseraError

log = logging.getLogger("tessera.issuer")
access_log = logging.getLogger("tessera.issuer.access")

STATUS_BY_CODE = {
    "too_large": 413,
    "unauthorized": 401,
    "not_found": 404,
    "unsupported_format": 400,
}


class ApiError(Exception):
    """An error with a wire name from a spec (``invalid_grant``, ``insufficient_scope`` …)."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type="application/json")


def unauthorized(description: str = "A valid API key is required.") -> ApiError:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return ApiError("invalid_token", description, status=401, headers=headers)


def tessera_response(exc: TesseraError) -> JSONResponse:
    status = STATUS_BY_CODE.get(exc.code, 400)
    body: dict[str, Any] = {"error": exc.code, "error_description": exc.message, "reason": exc.code}
    field_errors = exc.detail.get("fields")
    if isinstance(field_errors, list):
        body["fields"] = field_errors
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def api(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def tessera(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TesseraError)
        return tessera_response(exc)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "message": str(err.get("msg"))}
            for err in exc.errors()[:20]
        ]
        summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields)[:500]
        return ApiError("invalid_request", summary or "The request is not valid.", fields=fields).response()

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        names = {404: "not_found", 405: "method_not_allowed", 401: "invalid_token", 403: "insufficient_scope"}
        error = names.get(exc.status_code, "invalid_request")
        return JSONResponse(
            {"error": error, "error_description": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", extra={"event": "unhandled", "path": _route(request.scope)}, exc_info=exc)
        return JSONResponse({"error": "server_error", "error_description": "Internal error."}, status_code=500)

    app.add_exception_handler(ApiError, api)
    app.add_exception_handler(TesseraError, tessera)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(Exception, unexpected)


# --- body-size cap --------------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413) whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(scope, receive, send)
                return
        seen = 0
        exceeded = False
        responded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # A framework may turn the read error into its own 400; the client must see 413 instead.
            nonlocal responded
            if exceeded:
                if not responded:
                    responded = True
                    await self._refuse(scope, receive, send)
                return
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded_send)
        except _BodyTooLarge:
            if not responded:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = MalformedError(f"the request body is larger than {self.max_bytes} bytes", code="too_large")
        await tessera_response(error)(scope, receive, send)


# --- structured logs ------------------------------------------------------------------------------

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the ``extra`` fields given."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__  # the type only: messages may quote input
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for the ``tessera.issuer`` loggers (called by ``serve``, not by tests)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("tessera.issuer")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class AccessLog:
    """Logs method, route template, status and duration of every request (no query, no body, no IP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": _route(scope),
                    "status": status,
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                },
            )
