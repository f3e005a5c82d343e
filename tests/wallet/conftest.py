"""Wallet fixtures: vaults with the cheapest Argon2id cost so tests stay fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wallet.vault import FAST_KDF, Vault

PASSPHRASE = "correct horse battery"


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "w" / "wallet.db"


@pytest.fixture
def vault(vault_path: Path) -> Iterator[Vault]:
    v = Vault.create(vault_path, PASSPHRASE, kdf=FAST_KDF)
    yield v
    v.close()
