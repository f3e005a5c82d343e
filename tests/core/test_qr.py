"""QR drawing: the PNG, SVG and terminal renderings all show the matrix the qrcode library computed.
Compact payloads: Base45 (RFC 9285 vectors) and the CBOR + zlib + Base45 codec."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import qr
from shared.errors import MalformedError

LINK = "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Fv.example%2Fr%2F1"


def read_png(data: bytes) -> tuple[int, list[list[bool]]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, depth, colour) == (height, 1, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + (width + 7) // 8
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        bits = "".join(f"{b:08b}" for b in line[1:])[:width]
        rows.append([bit == "0" for bit in bits])
    return width, rows


def test_png_pixels_are_the_matrix() -> None:
    grid = qr.matrix(LINK)
    width, pixels = read_png(qr.to_png(LINK, scale=3))
    assert width == len(grid) * 3
    assert [row[::3] for row in pixels[::3]] == grid
    assert not any(grid[0]) and not any(grid[-1])  # quiet zone


def test_svg_is_inline_ready_and_titled() -> None:
    svg = qr.to_svg(LINK, title='Scan <me> & "go"')
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == 'Scan <me> & "go"'
    n = len(qr.matrix(LINK))
    assert root.get("viewBox") == f"0 0 {n} {n}"
    path = root.find(f"{ns}path").get("d")
    dark = sum(sum(row) for row in qr.matrix(LINK))
    runs = [seg for seg in path.split("M") if seg]
    assert sum(int(seg.split("h")[1].split("v")[0]) for seg in runs) == dark


def test_terminal_text_has_half_the_rows() -> None:
    text = qr.to_text(LINK)
    grid = qr.matrix(LINK, border=2)
    lines = text.splitlines()
    assert len(lines) == (len(grid) + 1) // 2 and all(len(line) == len(grid) for line in lines)
    assert set(text) <= set("█▀▄ \n")
    assert qr.to_text(LINK, invert=True) != text


def test_oversized_payload_is_refused() -> None:
    with pytest.raises(MalformedError) as info:
        qr.matrix("x" * 3000)
    assert info.value.code == "too_large"


# --- compact payloads ----------------------------------------------------------------------------

# RFC 9285 §4.3 and §4.4 examples.
RFC_9285 = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")]


@pytest.mark.parametrize(("data", "text"), RFC_9285)
def test_base45_rfc_vectors(data: bytes, text: str) -> None:
    assert qr.b45encode(data) == text
    assert qr.b45decode(text) == data


@pytest.mark.parametrize("bad", ["A", "ABCD", "GGW", "abc", "::", "ZZ"])
def test_base45_rejects_invalid(bad: str) -> None:
    # 3n+1 lengths, lower case and characters outside the alphabet, groups above 65535 (GGW) or 255 (::, ZZ)
    with pytest.raises(MalformedError):
        qr.b45decode(bad)


@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    text = qr.b45encode(data)
    assert set(text) <= set(qr.BASE45_ALPHABET)
    assert qr.b45decode(text) == data


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.integers(), st.none()), max_size=8))
def test_codec_round_trip(value: dict[str, object]) -> None:
    assert qr.decode_compact(qr.encode_compact(value, prefix="T1:"), prefix="T1:") == value


def test_codec_refuses_bombs_garbage_and_other_prefixes() -> None:
    bomb = "T1:" + qr.b45encode(zlib.compress(cbor2.dumps({"a": "x" * 100_000})))
    with pytest.raises(MalformedError) as exc:
        qr.decode_compact(bomb, prefix="T1:")
    assert exc.value.code == "too_large"
    truncated = "T1:" + qr.b45encode(zlib.compress(cbor2.dumps({"a": 1}))[:-3])
    with pytest.raises(MalformedError):
        qr.decode_compact(truncated, prefix="T1:")
    not_a_map = "T1:" + qr.b45encode(zlib.compress(cbor2.dumps([1, 2])))
    with pytest.raises(MalformedError):
        qr.decode_compact(not_a_map, prefix="T1:")
    with pytest.raises(MalformedError):
        qr.decode_compact(qr.encode_compact({"a": 1}, prefix="T1:"), prefix="TSR1:")
