"""Outbound fetches follow the SSRF rules: https only, addresses checked after DNS and pinned, redirects
re-checked, size and status enforced."""

from __future__ import annotations

import httpx
import pytest

from shared.errors import TesseraError
from verifier.http import SafeFetch

LIST = b'{"status_list": "ok"}'


def transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/redirect-private":
            return httpx.Response(302, headers={"Location": "https://internal.example/x"})
        if request.url.path == "/redirect-ok":
            return httpx.Response(302, headers={"Location": "/list"})
        if request.url.path == "/big":
            return httpx.Response(200, content=b"x" * 5000)
        if request.url.path == "/missing":
            return httpx.Response(404)
        return httpx.Response(200, content=LIST)

    return httpx.MockTransport(handle)


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = {
    "status.example": ["93.184.216.34"],
    "internal.example": ["10.0.0.7"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
}


def fetcher(seen: list[httpx.Request]) -> SafeFetch:
    return SafeFetch(httpx.Client(transport=transport(seen)), resolve=resolver(DNS))


def test_public_https_is_fetched_pinned_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []
    assert fetcher(seen)("https://status.example/list", timeout=1, max_bytes=1000) == LIST
    assert seen[0].url.host == "93.184.216.34" and seen[0].headers["host"] == "status.example"
    assert seen[0].extensions["sni_hostname"] == "status.example"


@pytest.mark.parametrize(
    "url",
    [
        "http://status.example/list",
        "https://internal.example/list",
        "https://mixed.example/list",
        "https://127.0.0.1/list",
        "https://localhost/list",
        "https://nowhere.example/list",
        "https://user@status.example/list",
        "https://status.example/redirect-private",
        "https://status.example/missing",
    ],
)
def test_refused(url: str) -> None:
    with pytest.raises(TesseraError):
        fetcher([])(url, timeout=1, max_bytes=1000)


def test_redirects_are_followed_through_the_same_checks() -> None:
    seen: list[httpx.Request] = []
    assert fetcher(seen)("https://status.example/redirect-ok", timeout=1, max_bytes=1000) == LIST
    assert [r.url.path for r in seen] == ["/redirect-ok", "/list"]


def test_size_cap() -> None:
    with pytest.raises(TesseraError) as info:
        fetcher([])("https://status.example/big", timeout=1, max_bytes=1000)
    assert info.value.code == "too_large"


def test_private_allowed_for_local_demos() -> None:
    fetch = SafeFetch(httpx.Client(transport=transport([])), allow_private=True)
    assert fetch("http://127.0.0.1:9/list", timeout=1, max_bytes=1000) == LIST
