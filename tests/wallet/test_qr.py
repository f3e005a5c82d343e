"""The wallet's QR payloads: credential summaries and links (the codec itself: tests/core/test_qr.py)."""

from __future__ import annotations

import pytest

from shared import qr as shared_qr
from shared.errors import TesseraError
from tests.wallet.test_consent import record
from wallet import qr
from wallet.model import CredentialRecord, Display


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
    value = qr.summary(r, lang="fr")
    assert value[qr.NAME] == "Acte de naissance" and value[qr.STATUS] == "valid"
    assert value[qr.VALID_UNTIL] == 2083536000  # 2036-01-10T00:00:00Z
    assert qr.CLAIMS not in value
    assert "Amara" not in repr(value)
    with_claims = qr.summary(r, claims=[("given_name",)])
    assert with_claims[qr.CLAIMS] == {"given_name": "Amara"}


def test_summary_qr_round_trip_is_alphanumeric_and_small() -> None:
    code, value = qr.for_summary(_record())
    assert code.kind == "summary" and code.payload.startswith("TSR1:")
    assert set(code.payload) <= set(shared_qr.BASE45_ALPHABET)  # QR alphanumeric mode
    assert qr.decode_summary(code.payload) == value
    assert len(shared_qr.matrix(code.payload, border=0)) <= 45  # QR version 7 for this summary
    lines = qr.describe(value)
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
