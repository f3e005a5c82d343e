"""The `tessera credential` commands for SD-JWT formats: sign, present with key binding, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli import main

CLAIMS = {
    "vct": "https://w3id.org/tessera/vct/birth-certificate/v1",
    "givenName": "Amara",
    "familyName": "Okafor",
    "birthDate": "2026-01-10",
    "placeOfBirth": {"locality": "Enugu", "country": "NG"},
    "age_over_18": False,
}
VCDM = Path(__file__).resolve().parents[2] / "shared" / "examples" / "birth-certificate.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    out = {}
    for name, kind in (("issuer", "ed25519"), ("holder", "ed25519"), ("phone", "p256")):
        path = tmp_path / f"{name}.jwk"
        assert run(capsys, "keys", "generate", "--type", kind, "--out", str(path))[0] == 0
        out[name] = path
    return out


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("holder", ["holder", "phone"])
def test_dc_sd_jwt_sign_present_verify(
    holder: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = _write(tmp_path, "claims.json", json.dumps(CLAIMS))
    code, issued, _ = run(
        capsys, "credential", "sign", "--format", "dc+sd-jwt", "--key", str(keys["issuer"]),
        "--holder-key", str(keys[holder]), claims,
    )  # fmt: skip
    # Seven Disclosures: five top-level claims and the two members of placeOfBirth (vct and iss stay visible).
    assert code == 0 and issued.strip().count("~") == 7 + 1  # JWT~d1~…~d7~
    cred = _write(tmp_path, "cred.txt", issued)
    code, presented, _ = run(
        capsys, "credential", "present", cred, "--reveal", "givenName,placeOfBirth.locality",
        "--holder-key", str(keys[holder]), "--aud", "https://school.example", "--nonce", "n-123",
    )  # fmt: skip
    assert code == 0
    pres = _write(tmp_path, "pres.txt", presented)
    code, out, _ = run(capsys, "credential", "verify", pres, "--aud", "https://school.example", "--nonce", "n-123")
    verdict = json.loads(out)
    assert code == 0 and verdict["verified"] is True
    assert verdict["disclosed"] == {"givenName": "Amara", "placeOfBirth": {"locality": "Enugu"}}
    assert {c["check"]: c["outcome"] for c in verdict["checks"]}["holder_binding"] == "passed"

    code, out, _ = run(capsys, "credential", "verify", pres, "--aud", "https://bank.example", "--nonce", "n-123")
    assert code == 1 and json.loads(out)["code"] == "audience_mismatch"
    code, out, _ = run(capsys, "credential", "verify", pres, "--aud", "https://school.example", "--nonce", "n-999")
    assert code == 1 and json.loads(out)["code"] == "nonce_mismatch"


def test_verify_without_audience_skips_binding_and_requires_it_when_asked(
    keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = _write(tmp_path, "claims.json", json.dumps(CLAIMS))
    _, issued, _ = run(capsys, "credential", "sign", "--format", "dc+sd-jwt", "--key", str(keys["issuer"]), claims)
    cred = _write(tmp_path, "cred.txt", issued)
    code, out, _ = run(capsys, "credential", "verify", cred)
    verdict = json.loads(out)
    assert code == 0 and verdict["disclosed"]["familyName"] == "Okafor"
    assert {c["check"]: c["outcome"] for c in verdict["checks"]}["holder_binding"] == "skipped"
    code, out, _ = run(capsys, "credential", "verify", cred, "--aud", "a", "--nonce", "n")
    assert code == 1 and json.loads(out)["code"] == "holder_binding_failed"


def test_tampered_sd_jwt_is_rejected_with_a_reason(
    keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = _write(tmp_path, "claims.json", json.dumps(CLAIMS))
    _, issued, _ = run(capsys, "credential", "sign", "--format", "dc+sd-jwt", "--key", str(keys["issuer"]), claims)
    jwt, _, rest = issued.strip().partition("~")
    header, payload, sig = jwt.split(".")
    forged = f"{header}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BA'}~{rest}"
    code, out, _ = run(capsys, "credential", "verify", _write(tmp_path, "bad.txt", forged))
    verdict = json.loads(out)
    assert code == 1 and verdict["code"] in {"invalid_signature", "malformed"}
    assert verdict["checks"][-1]["outcome"] == "skipped"


def test_vc_sd_jwt_keeps_the_envelope_visible(
    keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, issued, _ = run(
        capsys, "credential", "sign", "--format", "vc+sd-jwt", "--key", str(keys["issuer"]),
        "--holder-key", str(keys["holder"]), str(VCDM),
    )  # fmt: skip
    assert code == 0
    cred = _write(tmp_path, "vc.txt", issued)
    code, presented, _ = run(
        capsys, "credential", "present", cred, "--reveal", "birthDate",
        "--holder-key", str(keys["holder"]), "--aud", "https://v.example", "--nonce", "xyz",
    )  # fmt: skip
    assert code == 0
    code, out, _ = run(
        capsys, "credential", "verify", _write(tmp_path, "p.txt", presented), "--aud", "https://v.example",
        "--nonce", "xyz",
    )  # fmt: skip
    verdict = json.loads(out)
    assert code == 0, out
    assert verdict["format"] == "vc+sd-jwt"
    assert verdict["disclosed"]["birthDate"] == "2026-01-10"
    assert "givenName" not in verdict["disclosed"]
    assert "BirthCertificate" in verdict["types"]


def test_sd_jwt_sign_refuses_a_foreign_issuer(
    keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = _write(tmp_path, "claims.json", json.dumps({**CLAIMS, "iss": "did:example:other"}))
    code, _, err = run(capsys, "credential", "sign", "--format", "dc+sd-jwt", "--key", str(keys["issuer"]), claims)
    assert code == 2 and "[key_mismatch]" in err
