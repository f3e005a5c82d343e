"""``tessera demo`` as a newcomer runs it (``make demo``): a real subprocess that starts the issuer and the
verifier, tells the whole story, exits 0, and leaves nothing behind. The story's steps themselves are
asserted in detail by tests/e2e; this checks the command, its narration and its cleanup."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.cli import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_demo_tells_the_whole_story_and_cleans_up() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr == ""
    assert elapsed < 60
    for line in (
        "1. The civil registry offers Amara's birth certificate to her father's wallet",
        "2. Chidi's wallet receives the certificate and checks it",
        "3. The school asks for Amara's names and date of birth",
        "6. A shop asks only whether Chidi is over 18",
        "7. The registry revokes Amara's certificate",
        "8. The school checks Amara's certificate again",
        "The story ran as expected",
    ):
        assert line in out
    assert re.search(r"Code: +\d{6} ", out)  # the transaction code the parent types
    assert "openid-credential-offer://?credential_offer_uri=https%3A%2F%2F127.0.0.1" in out
    assert "▀" in out or "▄" in out  # the offer's QR code
    assert "Shared:       givenName, familyName, birthDate" in out
    assert "Shared:       age_over_18\n" in out
    assert out.count("The verifier's verdict: verified") == 2
    assert "The verifier's verdict: rejected (revoked)" in out
    assert "[FAIL] status           The credential has been revoked." in out
    assert "The wallet reads the registry's status list: revoked." in out
    assert max(len(line) for line in out.splitlines() if "://" not in line) <= 80
    workdir = re.search(r"throwaway databases under\s+(\S+):", out)
    assert workdir is not None and not Path(workdir.group(1)).exists()


def test_demo_is_a_registered_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--interactive" in out and "--no-qr" in out


def test_interactive_demo_needs_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "demo", "--interactive"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--interactive opens the wallet app: run it in a terminal" in done.stderr
