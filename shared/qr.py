"""QR codes (ISO/IEC 18004) for links such as ``openid4vp://…``: PNG bytes, SVG text, terminal text.

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
"""

from __future__ import annotations

import struct
import zlib
from html import escape
from typing import Final

import qrcode
import qrcode.constants

from shared.errors import MalformedError

QUIET_ZONE: Final = 4
MAX_PAYLOAD: Final = 2_953  # version 40-L in byte mode; anything longer cannot be one QR code

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
