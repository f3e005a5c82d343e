"""HTTP plumbing shared by the routers: body-size cap, error objects, API-key guard, safe outbound fetch.

Errors: every :class:`TesseraError` becomes ``{"error": …, "error_description": …, "reason": code}``
with a status chosen from its code; wallet-facing endpoints (``/requests``, ``/responses``) use the
OAuth error names OpenID4VP expects (§8.5), API endpoints the reason code itself. Nothing else
escapes as a stack trace: unexpected exceptions are logged and answered with a bare 500.

Outbound fetches (status lists, did:web) follow the SSRF rules of :mod:`shared.did.web`: https only
(http too when private addresses are allowed, for local demos), the host resolved once and every
address checked with :func:`address_allowed`, the connection pinned to a checked address (so DNS cannot
change between check and connect), redirects followed by hand through the same checks, a timeout,
and the body read in a stream and abandoned past ``max_bytes``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import oid4vp
from shared.did.web import address_allowed, host_allowed
from shared.encoding import loads_strict
from shared.errors import KeyResolutionError, MalformedError, TesseraError

log = logging.getLogger("tessera.verifier")

STATUS_BY_CODE = {
    "too_large": 413,
    "unauthorized": 401,
    "unknown_session": 404,
    "unknown_policy": 404,
    "session_expired": 410,
    "replayed": 400,
}
WALLET_PATHS = ("/requests/", "/responses/")


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
                await _too_large(send, self.max_bytes)
                return
        seen = 0
        responded = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _BodyTooLarge:
            if not responded:
                await _too_large(send, self.max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    response = error_response(MalformedError(f"the request body is larger than {max_bytes} bytes", code="too_large"))
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - JSONResponse never reads
    return {"type": "http.disconnect"}


def error_response(exc: TesseraError, *, wallet: bool = False) -> JSONResponse:
    status = STATUS_BY_CODE.get(exc.code, 422 if exc.code in ("missing_claims",) else 400)
    body = {
        "error": oid4vp.oauth_error(exc.code) if wallet else exc.code,
        "error_description": exc.message,
        "reason": exc.code,
    }
    headers = {"WWW-Authenticate": "Bearer"} if exc.code == "unauthorized" else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def tessera(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TesseraError)
        return error_response(exc, wallet=request.url.path.startswith(WALLET_PATHS))

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(MalformedError(f"{where}: {first.get('msg', 'invalid')}"[:300]))

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "server_error", "error_description": "Internal error."}, status_code=500)

    app.add_exception_handler(TesseraError, tessera)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(Exception, unexpected)


# --- outbound fetch ------------------------------------------------------------------------------

Resolve = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class SafeFetch:
    """``fetch(url, *, timeout, max_bytes, accept=None) -> bytes`` for status lists and did:web."""

    def __init__(
        self, client: httpx.Client, *, allow_private: bool = False, resolve: Resolve = _resolve, max_redirects: int = 3
    ) -> None:
        self.client = client
        self.allow_private = allow_private
        self.resolve = resolve
        self.max_redirects = max_redirects

    def _target(self, url: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The URL to connect to (pinned to a checked address), request extensions and headers."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self.allow_private and parts.scheme == "http"):
            raise _refused(url, "only https URLs are fetched")
        if not parts.hostname or parts.username is not None:
            raise _refused(url, "the URL must name a host and no user")
        if self.allow_private:
            return url, {}, {}
        host = parts.hostname
        if not host_allowed(host if ":" not in host else f"[{host}]"):
            raise _refused(url, "the host is not allowed")
        port = parts.port or 443
        try:
            addresses = self.resolve(host, port)
        except OSError as exc:
            raise _refused(url, "the host name does not resolve") from exc
        if not addresses or not all(address_allowed(a) for a in addresses):
            raise _refused(url, "the host resolves to a private or reserved address")
        ip = addresses[0]
        netloc = (f"[{ip}]" if ":" in ip else ip) + f":{port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        return pinned, {"sni_hostname": host}, {"Host": parts.netloc}

    def __call__(self, url: str, *, timeout: float, max_bytes: int, accept: str | None = None) -> bytes:
        for _ in range(self.max_redirects + 1):
            target, extensions, headers = self._target(url)
            if accept:
                headers["Accept"] = accept
            request = self.client.build_request("GET", target, headers=headers, extensions=extensions, timeout=timeout)
            response = self.client.send(request, stream=True, follow_redirects=False)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = str(httpx.URL(url).join(response.headers["location"]))
                    continue
                if response.status_code != 200:
                    raise _refused(url, f"HTTP status {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise MalformedError(f"{url} sent more than {max_bytes} bytes", code="too_large")
                return bytes(body)
            finally:
                response.close()
        raise _refused(url, "too many redirects")


def _refused(url: str, why: str) -> KeyResolutionError:
    return KeyResolutionError(f"could not fetch {url[:200]}: {why}", code="did_resolution_failed", reason=why)


class CachedJson:
    """``get(url)``: a JSON document fetched through :class:`SafeFetch` and remembered for ``ttl``
    seconds — for JWT VC Issuer Metadata and the JWKS it points to, which otherwise cost two fetches
    per SD-JWT VC of an https issuer. A rotated issuer key is therefore seen within ``ttl``, as a
    changed did:web document is (:class:`shared.did.DidResolver`'s cache). Failures are not kept."""

    def __init__(
        self,
        fetch: SafeFetch,
        *,
        ttl: float,
        timeout: float,
        max_bytes: int,
        now: Callable[[], float],
        max_entries: int = 256,
    ) -> None:
        self.fetch = fetch
        self.ttl, self.timeout, self.max_bytes, self.now = ttl, timeout, max_bytes, now
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> Any:
        now = self.now()
        item = self._items.get(url)
        if item is not None and now < item[0]:
            return item[1]
        body = self.fetch(url, timeout=self.timeout, max_bytes=self.max_bytes, accept="application/json")
        value = loads_strict(body, max_bytes=self.max_bytes)
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[url] = (now + self.ttl, value)
        return value
