"""Wallet fixtures: vaults with the cheapest Argon2id cost so tests stay fast, and the project's own issuer and
verifier running in-process (``services``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from wallet.vault import FAST_KDF, Vault

if TYPE_CHECKING:
    from tests.wallet.services import Services

PASSPHRASE = "correct horse battery"


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "w" / "wallet.db"


@pytest.fixture
def vault(vault_path: Path) -> Iterator[Vault]:
    v = Vault.create(vault_path, PASSPHRASE, kdf=FAST_KDF)
    yield v
    v.close()


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """The project's own issuer and verifier, in-process, on SQLite and on PostgreSQL (tests/wallet/services.py)."""
    from tests.wallet.services import running_services

    with running_services(database_url, tmp_path) as running:
        yield running
