"""did:web (W3C CCG did:web Method Specification, §3.1 syntax, §3.2 create, §3.3 read).

``did:web:example.com`` → ``https://example.com/.well-known/did.json``;
``did:web:example.com%3A8443:user:alice`` → ``https://example.com:8443/user/alice/did.json``
(colons separate path segments; the port's colon is percent-encoded).

Fetching is injected: ``fetch(url, *, timeout, max_bytes) -> bytes`` belongs to the shell (httpx).
This module decides *what* may be fetched and checks what came back:

- HTTPS only; no user-info in URLs.
- SSRF guards on the host as written (§3.1 forbids IP addresses in did:web anyway): IP literals,
  ``localhost`` and names under ``.localhost``, ``.local``, ``.internal``, ``.home.arpa``,
  ``.localdomain``, single-label names and numeric forms such as ``2130706433`` are refused unless
  the caller passes ``allow_private=True`` (tests and local demos). DNS can still point a public name
  at a private address, so the shell must also apply :func:`address_allowed` to the address it
  connects to, and must not follow redirects without passing each target through :func:`check_url`.
- A size cap (256 KiB by default) and a timeout, both handed to ``fetch`` and the size checked again;
  strict JSON (duplicate members rejected); the document's ``id`` must equal the DID (§3.3).

Every failure after the DID was found well-formed is a ``did_resolution_failed`` error whose
``detail["reason"]`` says which check failed.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Final, Protocol
from urllib.parse import quote, unquote, urlsplit

from shared.did.document import DidDocument, parse_did, parse_did_document
from shared.encoding import loads_strict
from shared.errors import KeyResolutionError, MalformedError, TesseraError, UnsupportedError

MAX_DOCUMENT_BYTES: Final = 256 * 1024
DEFAULT_TIMEOUT: Final = 5.0

_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL_RE = re.compile(r"0x[0-9a-f]*|[0-9]+")
_BLOCKED_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_BLOCKED_SUFFIXES: Final = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
# RFC 6052 / RFC 8215: NAT64 prefixes embed an IPv4 address in the last 32 bits
_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Fetch(Protocol):
    """The shell's HTTPS GET: returns the body, raises on any failure, reads at most ``max_bytes``."""

    def __call__(self, url: str, *, timeout: float, max_bytes: int) -> bytes: ...


def _refuse(message: str, reason: str, **detail: Any) -> KeyResolutionError:
    return KeyResolutionError(message, code="did_resolution_failed", reason=reason, **detail)


# --- address and host guards -----------------------------------------------------------------


def address_allowed(ip: str, *, allow_private: bool = False) -> bool:
    """Whether the shell may connect to this IP address: public unicast only, unless ``allow_private``.

    Refuses private, loopback, link-local, multicast, reserved, shared (100.64/10), documentation and
    unspecified ranges, including IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo, NAT64).
    """
    if not isinstance(ip, str):
        return False
    try:
        addr = ipaddress.ip_address(ip.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if allow_private:
        return True
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is None and any(addr in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            return address_allowed(str(embedded))
        if addr.is_site_local:
            return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_reserved
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_unspecified
    )


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if ``host`` is written as one (``[v6]``, dotted quad), else None."""
    if host.startswith("["):
        if not host.endswith("]"):
            raise MalformedError("unbalanced brackets in host", code="invalid_did")
        try:
            return ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise MalformedError("not a valid IPv6 literal", code="invalid_did") from exc
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        return None


def _check_host_syntax(host: str) -> None:
    if _ip_literal(host) is not None:
        return
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise MalformedError(f"not a valid host name: {host[:80]!r}", code="invalid_did")
    # inet_aton-style numbers (127.1, 0x7f000001, 2130706433) reach loopback through some resolvers
    if all(_NUMERIC_LABEL_RE.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise MalformedError(f"not a valid host name: {host[:80]!r}", code="invalid_did")


def host_allowed(host: str, *, allow_private: bool = False) -> bool:
    """Whether a host as written in a URL may be fetched from (before DNS; see module docstring)."""
    if allow_private:
        return True
    if _ip_literal(host) is not None:
        return False
    return host not in _BLOCKED_NAMES and not host.endswith(_BLOCKED_SUFFIXES) and "." in host


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``did_resolution_failed`` unless ``url`` is an https URL to an allowed host.

    The shell calls this for every redirect target as well.
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a non-numeric or out-of-range port
    except (ValueError, TypeError, AttributeError) as exc:
        raise _refuse("not a valid URL", "invalid_url") from exc
    if parts.scheme != "https":
        raise _refuse("DID documents are fetched over HTTPS only", "scheme_not_allowed", url=url)
    if parts.username is not None or not parts.hostname or port == 0:
        raise _refuse("the URL must name a host and port, and no user", "invalid_url", url=url)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        _check_host_syntax(host)
    except MalformedError as exc:
        raise _refuse(exc.message, "invalid_url", url=url) from exc
    if not host_allowed(host, allow_private=allow_private):
        raise _refuse(f"refusing to fetch from {host!r}", "host_not_allowed", url=url)


# --- DID <-> URL -----------------------------------------------------------------------------


def _split_authority(authority: str) -> tuple[str, str]:
    """(host, port) from ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise MalformedError("unbalanced brackets in host", code="invalid_did")
        host, rest = authority[: end + 1], authority[end + 1 :]
    else:
        host, sep, port = authority.partition(":")
        rest = sep + port
    if not rest:
        return host, ""
    if not re.fullmatch(r":[0-9]{1,5}", rest) or not 0 < int(rest[1:]) < 65536:
        raise MalformedError("the port must be a number from 1 to 65535", code="invalid_did")
    return host, str(int(rest[1:]))


def _decode(text: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise MalformedError("percent-encoding in a did:web must be UTF-8", code="invalid_did") from exc


def did_web_to_url(did: str) -> str:
    """The https URL of a did:web's document (§3.2 steps 1–6). Raises ``invalid_did`` for a bad DID."""
    url = parse_did(did)
    if url.method != "web":
        raise UnsupportedError(f"not a did:web: {did[:80]!r}", code="unsupported_did_method")
    first, *path = url.method_specific_id.split(":")
    host, port = _split_authority(_decode(first).lower())
    _check_host_syntax(host)
    for segment in path:
        decoded = _decode(segment)
        # no traversal, no segment that turns into several
        if decoded in ("", ".", "..") or any(c in decoded for c in "/\\") or not decoded.isprintable():
            raise MalformedError(f"invalid did:web path segment {segment[:40]!r}", code="invalid_did")
    base = f"https://{host}" + (f":{port}" if port else "")
    # re-encoded from the decoded form so equivalent DIDs give one normalized URL (RFC 3986 §6.2.2)
    segments = "/".join(quote(_decode(segment), safe="") for segment in path)
    return f"{base}/{segments}/did.json" if path else f"{base}/.well-known/did.json"


def _pct(text: str) -> str:
    # quote() leaves "~" alone, but "~" is not a DID idchar (DID Core §3.1)
    return quote(text, safe="").replace("~", "%7E")


def did_web_from_url(url: str) -> str:
    """The did:web for an https origin plus optional path (§3.2 in reverse), e.g. for an issuer's own DID."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError, AttributeError) as exc:
        raise MalformedError("not a valid URL", code="invalid_did") from exc
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise MalformedError("a did:web is made from an https URL without query or fragment", code="invalid_did")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    authority = host + (f":{port}" if port else "")
    segments = [p for p in parts.path.removesuffix("/did.json").split("/") if p]
    if segments == [".well-known"]:
        segments = []
    did = ":".join(["did:web", _pct(authority), *(_pct(unquote(p)) for p in segments)])
    did_web_to_url(did)  # the result must read back
    return did


# --- resolution ------------------------------------------------------------------------------


def resolve_did_web(
    did: str,
    *,
    fetch: Fetch,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    allow_private: bool = False,
) -> DidDocument:
    """Fetch and check a did:web document (§3.3). Raises ``invalid_did`` or ``did_resolution_failed``."""
    url = did_web_to_url(did)
    check_url(url, allow_private=allow_private)
    try:
        body = fetch(url, timeout=timeout, max_bytes=max_bytes)
    except Exception as exc:  # whatever the shell's client raises: timeouts, TLS, HTTP status, size
        raise _refuse(f"could not fetch the DID document from {url}", "fetch_failed", url=url) from exc
    if not isinstance(body, (bytes, bytearray)):
        raise _refuse("the fetch function returned no bytes", "fetch_failed", url=url)
    if len(body) > max_bytes:
        raise _refuse(f"the DID document is larger than {max_bytes} bytes", "too_large", url=url)
    try:
        doc = loads_strict(bytes(body), max_bytes=max_bytes)
    except TesseraError as exc:
        raise _refuse(f"the DID document is not valid JSON: {exc.message}", exc.code, url=url) from exc
    if not isinstance(doc, dict) or doc.get("id") != did:
        raise _refuse("the DID document's id is not the DID that was resolved", "id_mismatch", url=url)
    try:
        return parse_did_document(doc, did=did)
    except TesseraError as exc:
        raise _refuse(f"the DID document is not valid: {exc.message}", exc.code, url=url) from exc
