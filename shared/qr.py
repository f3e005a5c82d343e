"""QR codes (ISO/IEC 18004) for links such as ``openid4vp://…``: PNG bytes, SVG text, terminal text;
and the compact CBOR + zlib + Base45 codec for payloads that must fit one code or a sheet of paper.

The ``qrcode`` library computes the module matrix (version, mask, error correction); this module
only draws it, so no imaging library is needed:

- PNG: one-bit greyscale written with ``zlib`` (PNG spec §11.2.2, colour type 0, bit depth 1), each
  module ``scale`` pixels wide. Pillow / PyPNG would add a dependency for 30 lines of code.
- SVG: one ``<path>`` of unit squares with a ``<title>`` for screen readers, no XML declaration, so
  it can be inlined in an HTML page; ``shape-rendering="crispEdges"`` keeps modules sharp.
- Terminal: Unicode half blocks, two module rows per text line. Most terminals print light text on a
  dark background, so light modules are drawn as blocks and dark modules left as background;
  ``invert=True`` is for dark-on-light terminals.

The quiet zone is 4 modules (ISO/IEC 18004 §9.1); error correction is M (15 %), enough for a screen.

Compact payloads: CBOR (RFC 8949) → zlib (RFC 1950) → Base45 (RFC 9285), with a prefix — design.md §2,
as the EU Digital COVID Certificate did (``HC1:`` + Base45(zlib(COSE))). Why Base45: QR alphanumeric
mode stores 45 symbols in 5.5 bits each, so Base45 text (3 characters per 2 bytes) fits about as much
as byte mode does with raw binary, and it survives being read as text by a phone's camera app. The
prefix names the payload and its version; it is made of Base45 alphabet characters, so the whole
payload stays alphanumeric. Decoding is strict and bounded: unknown prefix, a Base45 group out of
range (RFC 9285 §4.2), a zlib stream that is truncated, has trailing data or inflates beyond
:data:`MAX_INFLATED` (a zlib bomb), and CBOR that is not one map with integer or text keys are all
``malformed`` errors. What goes in a payload is the caller's business (the wallet's credential
summaries: :mod:`wallet.qr`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from html import escape
from typing import Any, Final

import cbor2
import qrcode
import qrcode.constants

from shared.errors import MalformedError

QUIET_ZONE: Final = 4
MAX_PAYLOAD: Final = 2_953  # version 40-L in byte mode; anything longer cannot be one QR code
BASE45_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_INDEX: Final = {ch: i for i, ch in enumerate(BASE45_ALPHABET)}
MAX_INFLATED: Final = 16 * 1024
MAX_COMPACT_TEXT: Final = 4_296  # QR version 40-L alphanumeric capacity

Matrix = list[list[bool]]


def matrix(payload: str | bytes, *, border: int = QUIET_ZONE) -> Matrix:
    """The module matrix (True = dark) including the quiet zone."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    if len(data) > MAX_PAYLOAD:
        raise MalformedError(f"a QR code holds at most {MAX_PAYLOAD} bytes", code="too_large")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def to_png(payload: str | bytes, *, scale: int = 8) -> bytes:
    """A black-on-white PNG, ``scale`` pixels per module."""
    if not 1 <= scale <= 32:
        raise ValueError("scale is 1 to 32 pixels per module")
    grid = matrix(payload)
    width = len(grid) * scale
    rows = bytearray()
    for row in grid:
        bits = "".join(("0" if dark else "1") * scale for dark in row)  # greyscale: 0 is black
        bits += "0" * (-len(bits) % 8)
        line = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")  # filter type 0 (None)
        rows += line * scale
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def to_svg(payload: str | bytes, *, title: str = "QR code", size: str | None = None) -> str:
    """SVG text (no XML declaration) drawing the code in a viewBox of one unit per module."""
    grid = matrix(payload)
    n = len(grid)
    parts = []
    for y, row in enumerate(grid):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")  # one run of dark modules
            else:
                x += 1
    dims = f' width="{escape(size)}" height="{escape(size)}"' if size else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}"{dims} role="img" '
        f'shape-rendering="crispEdges"><title>{escape(title)}</title>'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def to_text(payload: str | bytes, *, invert: bool = False) -> str:
    """The code in Unicode half blocks, two module rows per line, for light-on-dark terminals
    (``invert=True`` for dark-on-light)."""
    grid = matrix(payload, border=2)  # a terminal's own margin adds to the quiet zone
    if len(grid) % 2:
        grid.append([False] * len(grid[0]))
    glyphs = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    if invert:
        glyphs = {(a, b): glyphs[(not a, not b)] for a, b in glyphs}
    lines = []
    for top, bottom in zip(grid[0::2], grid[1::2], strict=True):
        lines.append("".join(glyphs[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines) + "\n"


# --- Base45 (RFC 9285) ---------------------------------------------------------------------------


def b45encode(data: bytes) -> str:
    """RFC 9285 §4: each 2 bytes ``[a, b]`` → ``n = a·256 + b`` → ``c + 45·d + 45²·e`` written ``c d e``;
    a last single byte → ``c d``."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += (BASE45_ALPHABET[c], BASE45_ALPHABET[d], BASE45_ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (BASE45_ALPHABET[c], BASE45_ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """The inverse of :func:`b45encode`; anything RFC 9285 §4.2 calls invalid raises ``malformed``."""
    if len(text) % 3 == 1:
        raise MalformedError("Base45 text cannot have a length of 3n+1")
    try:
        values = [_BASE45_INDEX[ch] for ch in text]
    except KeyError as exc:
        raise MalformedError(f"{exc.args[0]!r} is not a Base45 character") from exc
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 45 * 45
            if n > 0xFFFF:
                raise MalformedError("a Base45 group is larger than two bytes")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise MalformedError("the last Base45 group is larger than one byte")
            out.append(n)
    return bytes(out)


# --- compact payloads: CBOR + zlib + Base45 ------------------------------------------------------


def encode_compact(value: Mapping[Any, Any], *, prefix: str) -> str:
    """``prefix + Base45(zlib(CBOR(value)))``; CBOR in canonical form (RFC 8949 §4.2.1) so equal values
    give equal payloads."""
    if any(ch not in _BASE45_INDEX for ch in prefix):
        raise ValueError("the prefix must use Base45 characters only")
    return prefix + b45encode(zlib.compress(cbor2.dumps(dict(value), canonical=True), 9))


def decode_compact(text: str, *, prefix: str) -> dict[Any, Any]:
    """The inverse of :func:`encode_compact`, strict and bounded (see the module docstring)."""
    if not isinstance(text, str) or len(text) > MAX_COMPACT_TEXT:
        raise MalformedError("a compact payload is a string of at most one QR code", code="too_large")
    text = text.strip()
    if not text.startswith(prefix):
        raise MalformedError(f"not a {prefix!r} payload")
    packed = b45decode(text[len(prefix) :])
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, MAX_INFLATED)
    except zlib.error as exc:
        raise MalformedError("the payload is not a zlib stream") from exc
    if inflater.unconsumed_tail:
        raise MalformedError(f"the payload inflates beyond {MAX_INFLATED} bytes", code="too_large")
    if not inflater.eof or inflater.unused_data:
        raise MalformedError("the zlib stream is truncated or has trailing data")
    try:
        value = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedError("the payload is not CBOR") from exc
    if not isinstance(value, dict) or not all(isinstance(k, (str, int)) for k in value):
        raise MalformedError("the payload is not a CBOR map with integer or text keys")
    return value
