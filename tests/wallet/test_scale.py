"""A vault of 1,000 credentials unlocks and lists in under a second after key derivation (issue 6)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.wallet.conftest import PASSPHRASE
from tests.wallet.test_consent import record
from wallet.core import Wallet
from wallet.vault import FAST_KDF, Vault


def test_list_1000_credentials_under_a_second(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    vault = Vault.create(path, PASSPHRASE, kdf=FAST_KDF)
    raw = "eyJhbGciOiJFZERTQSJ9." + "x" * 2000 + "~"  # about the size of a real SD-JWT credential
    with vault.atomic():
        for i in range(1000):
            r = record(f"c-{i:04d}", raw=raw)
            vault.put("credential", r.id, r.to_dict())
    vault.close()

    start = time.perf_counter()
    vault = Vault.open(path)
    vault.unlock(PASSPHRASE)
    unlocked = time.perf_counter()
    held = Wallet(vault).credentials()
    listed = time.perf_counter()
    vault.close()
    assert len(held.records) == 1000 and held.damaged == ()
    print(f"\nArgon2id (test cost): {unlocked - start:.3f} s; list 1,000 credentials: {listed - unlocked:.3f} s")
    assert listed - unlocked < 1.0
