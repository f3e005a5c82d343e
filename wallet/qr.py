"""QR codes the wallet shows: an offer or request link it is given, and a credential summary.

Drawing is :mod:`shared.qr` (terminal half blocks, SVG, PNG); this module decides *what* goes in the
code. A link is shown only if the wallet itself would accept it (an ``openid-credential-offer://`` or
``openid4vp://`` link, or an https URL — http only to loopback, as everywhere in the wallet), so the
wallet never turns arbitrary text into a code someone else will scan. The link is shown as it is:
the code is a way to hand it to another device (a phone wallet, a second screen), not to change it.

Terminal sizes: each text line holds two module rows. At 80×24 a code fits whole up to about 44
modules (QR version 7, ≈ 120 bytes at error correction M) — enough for an offer or request passed
*by reference* (``credential_offer_uri``, ``request_uri``). Longer links still render; the person is
told to enlarge the terminal (or to write an SVG/PNG file) when the code is taller than the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from shared import qr
from shared.errors import MalformedError
from wallet import compact
from wallet.model import CredentialRecord
from wallet.transport import check_url

OFFER_SCHEMES: Final = frozenset({"openid-credential-offer"})
REQUEST_SCHEMES: Final = frozenset({"openid4vp", "haip", "eudi-openid4vp"})


def link_kind(link: str) -> str:
    """``offer``, ``request`` or ``link`` (an https URL); anything else raises ``malformed``."""
    if not isinstance(link, str) or not link.strip():
        raise MalformedError("there is no link to show")
    text = link.strip()
    scheme = urlsplit(text).scheme.lower()
    if scheme in OFFER_SCHEMES:
        return "offer"
    if scheme in REQUEST_SCHEMES:
        return "request"
    if scheme in ("https", "http"):
        check_url(text)
        query = urlsplit(text).query
        if "credential_offer" in query:
            return "offer"
        if "request_uri" in query or "client_id" in query:
            return "request"
        return "link"
    raise MalformedError("only offer links, request links and https URLs are shown as QR codes")


@dataclass(frozen=True)
class Code:
    """A payload ready to draw, with what it is (for the caption and screen readers)."""

    payload: str
    kind: str  # offer | request | link | summary

    def text(self, *, invert: bool = False) -> str:
        return qr.to_text(self.payload, invert=invert)

    def svg(self, title: str) -> str:
        return qr.to_svg(self.payload, title=title)

    def png(self) -> bytes:
        return qr.to_png(self.payload)

    @property
    def lines(self) -> int:
        """Terminal lines the text form takes."""
        return (len(qr.matrix(self.payload, border=2)) + 1) // 2


def for_link(link: str) -> Code:
    kind = link_kind(link)
    return Code(link.strip(), kind)


def for_summary(
    record: CredentialRecord, *, lang: str = "en", claims: Sequence[Sequence[Any]] = ()
) -> tuple[Code, dict[int, Any]]:
    value = compact.summary(record, lang=lang, claims=claims)
    return Code(compact.encode_summary(value), "summary"), value
