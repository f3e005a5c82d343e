"""The `tessera` command: keys, signing and verifying Data Integrity credentials, exit codes, error lines."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "shared" / "examples" / "birth-certificate.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def issuer_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    path = tmp_path / "issuer.jwk"
    code, out, _ = run(capsys, "keys", "generate", "--out", str(path))
    assert code == 0
    return path, out.strip()


def test_keys_generate_writes_a_private_file_and_prints_the_did(issuer_key: tuple[Path, str]) -> None:
    path, did = issuer_key
    assert did.startswith("did:key:z6Mk")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["kty"] == "OKP"


def test_keys_generate_refuses_to_overwrite(issuer_key: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "keys", "generate", "--out", str(issuer_key[0]))
    assert code == 2 and "exists" in err


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_sign_then_verify(
    suite: str, issuer_key: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, did = issuer_key
    code, out, _ = run(capsys, "credential", "sign", "--key", str(key), "--cryptosuite", suite, str(SAMPLE))
    assert code == 0
    signed = json.loads(out)
    assert signed["issuer"] == did and signed["proof"]["cryptosuite"] == suite
    path = tmp_path / "signed.json"
    path.write_text(out)
    code, out, _ = run(capsys, "credential", "verify", str(path))
    verdict = json.loads(out)
    assert code == 0 and verdict["verified"] is True and verdict["code"] == "ok"
    outcomes = {c["check"]: c["outcome"] for c in verdict["checks"]}
    assert outcomes["signature"] == "passed" and outcomes["validity_period"] == "passed"
    assert verdict["disclosed"]["givenName"] == "Amara"


def test_verify_reports_a_tampered_claim(
    issuer_key: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "credential", "sign", "--key", str(issuer_key[0]), str(SAMPLE))
    signed = json.loads(out)
    signed["credentialSubject"]["familyName"] = "Okafar"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(signed))
    code, out, _ = run(capsys, "credential", "verify", str(path))
    verdict = json.loads(out)
    assert code == 1 and verdict["verified"] is False and verdict["code"] == "invalid_signature"
    assert {c["check"]: c["outcome"] for c in verdict["checks"]}["validity_period"] == "skipped"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{", "malformed"),
        ('{"a": 1, "a": 2}', "duplicate_key"),
        ("[" * 100 + "]" * 100, "too_deep"),
        ("[]", "malformed"),
    ],
)
def test_verify_reports_bad_input_as_a_failed_format_check(
    content: str, code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    exit_code, out, _ = run(capsys, "credential", "verify", str(path))
    verdict = json.loads(out)
    assert exit_code == 1 and verdict["code"] == code
    assert verdict["checks"][0]["check"] == "format"


def test_sign_refuses_a_credential_issued_by_someone_else(
    issuer_key: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["issuer"] = "did:example:registry"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "credential", "sign", "--key", str(issuer_key[0]), str(path))
    assert code == 2 and out == ""
    assert err.startswith("tessera: error [key_mismatch]:") and err.count("\n") == 1


def test_missing_file_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "credential", "verify", "/nonexistent/file.json")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["credential", "sign", str(SAMPLE)])
    assert exc.value.code == 2


def test_console_script_reads_standard_input(issuer_key: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, signed, _ = run(capsys, "credential", "sign", "--key", str(issuer_key[0]), str(SAMPLE))
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "credential", "verify", "-"],
        input=signed,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verified"] is True
