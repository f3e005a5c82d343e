"""QR codes the wallet shows: an offer or request link it is given, and a credential summary.

Drawing and the compact CBOR + zlib + Base45 codec are :mod:`shared.qr` (terminal half blocks, SVG,
PNG); this module decides *what* goes in the code. A link is shown only if the wallet itself would
accept it (an ``openid-credential-offer://`` or ``openid4vp://`` link, or an https URL — http only to
loopback, as everywhere in the wallet), so the wallet never turns arbitrary text into a code someone
else will scan. The link is shown as it is: the code is a way to hand it to another device (a phone
wallet, a second screen), not to change it.

Terminal sizes: each text line holds two module rows. At 80×24 a code fits whole up to about 44
modules (QR version 7, ≈ 120 bytes at error correction M) — enough for an offer or request passed
*by reference* (``credential_offer_uri``, ``request_uri``). Longer links still render; the person is
told to enlarge the terminal (or to write an SVG/PNG file) when the code is taller than the screen.

A credential *summary* (compact payload, prefix ``TSR1:`` = Tessera credential summary, version 1) is
not a credential: it carries no signature and proves nothing. It lets a person show, or keep on paper,
what they hold (type, issuer, validity, status and when it was checked) and, only when they ask for
it, chosen claim values (data minimization: none by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from shared import qr
from shared.dcql import format_path
from shared.errors import MalformedError
from wallet.model import CredentialRecord
from wallet.transport import check_url

OFFER_SCHEMES: Final = frozenset({"openid-credential-offer"})
REQUEST_SCHEMES: Final = frozenset({"openid4vp", "haip", "eudi-openid4vp"})
SUMMARY_PREFIX: Final = "TSR1:"


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
    value = summary(record, lang=lang, claims=claims)
    return Code(encode_summary(value), "summary"), value


# --- credential summaries ------------------------------------------------------------------------

# Integer keys and epoch seconds: every byte counts in a QR code (a summary should fit QR version 7,
# about 44 modules, which an 80x24 terminal shows whole). Absent values are left out, not sent as null.
V, FORMAT, TYPE, NAME, ISSUER, ISSUER_NAME, VALID_FROM, VALID_UNTIL, STATUS, CHECKED, CLAIMS = range(11)
LABELS: Final = {
    FORMAT: "format",
    TYPE: "type",
    NAME: "name",
    ISSUER: "issuer",
    ISSUER_NAME: "issuer name",
    VALID_FROM: "valid from",
    VALID_UNTIL: "valid until",
    STATUS: "status",
    CHECKED: "status checked at",
}
TIMES: Final = frozenset({VALID_FROM, VALID_UNTIL, CHECKED})


def _epoch(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def summary(record: CredentialRecord, *, lang: str = "en", claims: Iterable[Sequence[Any]] = ()) -> dict[int, Any]:
    """The summary of a held credential; claim values only for the paths given (none by default)."""
    from wallet import consent  # noqa: PLC0415 - consent imports the DCQL matcher, needed only here

    name = record.title(lang)
    issuer_name = record.issuer_title(lang)
    value: dict[int, Any] = {
        V: 1,
        FORMAT: record.format,
        TYPE: record.types[-1] if record.types and record.types[-1] != name else None,
        NAME: name,
        ISSUER: record.issuer,
        ISSUER_NAME: issuer_name if issuer_name != record.issuer else None,
        VALID_FROM: _epoch(record.valid_from),
        VALID_UNTIL: _epoch(record.valid_until),
        STATUS: record.status_result,
        CHECKED: _epoch(record.status_checked_at),
    }
    chosen = {format_path(p): consent.value_at(record, tuple(p)) for p in claims}
    if chosen:
        value[CLAIMS] = chosen
    return {k: v for k, v in value.items() if v not in (None, "")}


def encode_summary(value: Mapping[int, Any]) -> str:
    return qr.encode_compact(value, prefix=SUMMARY_PREFIX)


def decode_summary(text: str) -> dict[int, Any]:
    value = qr.decode_compact(text, prefix=SUMMARY_PREFIX)
    if value.get(V) != 1:
        raise MalformedError("unknown credential summary version")
    return value


def describe(value: Mapping[int, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` lines of a decoded summary, for printing; unknown keys are skipped."""
    out: list[tuple[str, str]] = []
    for key, item in value.items():
        if key in TIMES and isinstance(item, int):
            out.append((LABELS[key], datetime.fromtimestamp(item, UTC).isoformat().replace("+00:00", "Z")))
        elif key in LABELS:
            out.append((LABELS[key], str(item)))
    claims = value.get(CLAIMS)
    if isinstance(claims, dict):
        out += [(str(k), str(v)) for k, v in claims.items()]
    return out
