"""QR payloads: Base45 (RFC 9285 vectors), the CBOR + zlib + Base45 codec, credential summaries, links."""

from __future__ import annotations

import zlib

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import qr as shared_qr
from shared.errors import MalformedError, TesseraError
from tests.wallet.test_consent import record
from wallet import compact, qr
from wallet.model import CredentialRecord, Display

# RFC 9285 §4.3 and §4.4 examples.
RFC_9285 = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")]


@pytest.mark.parametrize(("data", "text"), RFC_9285)
def test_base45_rfc_vectors(data: bytes, text: str) -> None:
    assert compact.b45encode(data) == text
    assert compact.b45decode(text) == data


@pytest.mark.parametrize("bad", ["A", "ABCD", "GGW", "abc", "::", "ZZ"])
def test_base45_rejects_invalid(bad: str) -> None:
    # 3n+1 lengths, lower case and characters outside the alphabet, groups above 65535 (GGW) or 255 (::, ZZ)
    with pytest.raises(MalformedError):
        compact.b45decode(bad)


@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    text = compact.b45encode(data)
    assert set(text) <= set(compact.ALPHABET)
    assert compact.b45decode(text) == data


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.integers(), st.none()), max_size=8))
def test_codec_round_trip(value: dict[str, object]) -> None:
    assert compact.decode(compact.encode(value, prefix="T1:"), prefix="T1:") == value


def test_codec_refuses_bombs_garbage_and_other_prefixes() -> None:
    bomb = "T1:" + compact.b45encode(zlib.compress(cbor2.dumps({"a": "x" * 100_000})))
    with pytest.raises(MalformedError) as exc:
        compact.decode(bomb, prefix="T1:")
    assert exc.value.code == "too_large"
    truncated = "T1:" + compact.b45encode(zlib.compress(cbor2.dumps({"a": 1}))[:-3])
    with pytest.raises(MalformedError):
        compact.decode(truncated, prefix="T1:")
    not_a_map = "T1:" + compact.b45encode(zlib.compress(cbor2.dumps([1, 2])))
    with pytest.raises(MalformedError):
        compact.decode(not_a_map, prefix="T1:")
    with pytest.raises(MalformedError):
        compact.decode(compact.encode({"a": 1}, prefix="T1:"), prefix="TSR1:")


def _record() -> CredentialRecord:
    return record(
        "c-0001",
        display=Display(name={"en": "Birth certificate", "fr": "Acte de naissance"}),
        valid_until="2036-01-10T00:00:00Z",
        status_result="valid",
        status_checked_at="2026-03-01T12:00:00Z",
    )


def test_summary_has_no_claim_values_unless_chosen() -> None:
    r = _record()
    value = compact.summary(r, lang="fr")
    assert value[compact.NAME] == "Acte de naissance" and value[compact.STATUS] == "valid"
    assert value[compact.VALID_UNTIL] == 2083536000  # 2036-01-10T00:00:00Z
    assert compact.CLAIMS not in value
    assert "Amara" not in repr(value)
    with_claims = compact.summary(r, claims=[("given_name",)])
    assert with_claims[compact.CLAIMS] == {"given_name": "Amara"}


def test_summary_qr_round_trip_is_alphanumeric_and_small() -> None:
    code, value = qr.for_summary(_record())
    assert code.kind == "summary" and code.payload.startswith("TSR1:")
    assert set(code.payload) <= set(compact.ALPHABET)  # QR alphanumeric mode
    assert compact.decode_summary(code.payload) == value
    assert len(shared_qr.matrix(code.payload, border=0)) <= 45  # QR version 7 for this summary
    lines = compact.describe(value)
    assert ("format", "dc+sd-jwt") in lines and ("valid until", "2036-01-10T00:00:00Z") in lines


def test_links_shown_and_refused() -> None:
    assert qr.link_kind("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi.example%2Fo%2F1") == "offer"
    assert qr.link_kind("openid4vp://?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr") == "request"
    assert qr.link_kind("https://issuer.example/offer?credential_offer_uri=x") == "offer"
    assert qr.link_kind("https://verifier.example/start?request_uri=x") == "request"
    assert qr.link_kind("http://127.0.0.1:8000/offers/1") == "link"
    for bad in ["", "javascript:alert(1)", "http://evil.example/offer", "just some text"]:
        with pytest.raises(TesseraError):
            qr.link_kind(bad)
    code = qr.for_link("  openid4vp://?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr\n")
    text = code.text()
    assert code.payload.startswith("openid4vp://") and text.count("\n") == code.lines
    assert set(text) <= {"█", "▀", "▄", " ", "\n"}
    assert code.svg("Presentation request").startswith("<svg") and code.png().startswith(b"\x89PNG")
