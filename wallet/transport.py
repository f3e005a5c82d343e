"""HTTP for the wallet: https everywhere, plain http only to loopback addresses, capped response sizes.

Every URL the wallet fetches comes from someone else (an offer, a request, metadata), so each one is
checked here before a connection is made, and redirects are not followed (a redirect could lead to
plain http). The ``httpx.Client`` is injected: tests pass one whose transport is an in-process issuer
or verifier (Starlette's ``TestClient`` is an ``httpx.Client``).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from shared.encoding import loads_strict
from shared.errors import MalformedError, TesseraError

MAX_RESPONSE_BYTES: Final = 2_000_000
TIMEOUT: Final = 15.0


class TransportError(TesseraError):
    default_code = "network_error"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """Refuse anything but https, and http to a loopback host (local runs and tests)."""
    if not isinstance(url, str) or len(url) > 8192:
        raise MalformedError("a URL must be a string of at most 8 KiB")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    raise TransportError(
        f"refusing {url[:120]!r}: only https (or http to loopback) is allowed", code="insecure_transport"
    )


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return loads_strict(self.body, max_bytes=MAX_RESPONSE_BYTES)

    def error(self) -> tuple[str, str]:
        """The OAuth ``error`` and ``error_description`` of an error reply, if it has them."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return "", ""
        if not isinstance(value, dict):
            return "", ""
        return str(value.get("error", "")), str(value.get("error_description", ""))[:300]


class Http:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        check_url(url)
        try:
            with self.client.stream(
                method, url, headers=dict(headers or {}), data=data, json=json_body, follow_redirects=False
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise TransportError(f"the answer from {url[:120]} is too large", code="too_large")
                return Reply(response.status_code, response.headers.get("content-type", ""), bytes(body))
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {url[:120]}: {type(exc).__name__}") from exc

    def expect(self, reply: Reply, url: str, what: str) -> Reply:
        if 200 <= reply.status < 300:
            return reply
        error, description = reply.error()
        detail = f": {error}" + (f" ({description})" if description else "") if error else ""
        raise TransportError(f"{what} failed with HTTP {reply.status}{detail}", code="server_error", oauth_error=error)

    def get_json(self, url: str, what: str) -> Any:
        reply = self.expect(self.request("GET", url, headers={"Accept": "application/json"}), url, what)
        return reply.json()
