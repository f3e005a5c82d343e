"""Vault: encryption at rest, passphrases, damage isolation, atomicity, backups."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared.errors import TesseraError
from tests.wallet.conftest import PASSPHRASE
from wallet.backup import export_backup, import_backup, read_backup
from wallet.vault import FAST_KDF, KdfParams, Vault, VaultError

SECRET = "Ada Lovelace, born 1815-12-10"


def _raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(sql, args).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _flip(blob: bytes, at: int = -1) -> bytes:
    data = bytearray(blob)
    data[at] ^= 0x01
    return bytes(data)


def test_round_trip_and_nothing_in_clear(vault: Vault, vault_path: Path) -> None:
    vault.put("credential", "c1", {"name": SECRET})
    vault.put("key", "k1", {"d": "private-scalar"})
    assert vault.get("c1").data == {"name": SECRET}
    assert [r.id for r in vault.list("credential").records] == ["c1"]
    vault.close()
    # Neither the claim nor the key is anywhere in the file or its WAL.
    for file in vault_path.parent.iterdir():
        content = file.read_bytes()
        assert b"Ada Lovelace" not in content
        assert b"private-scalar" not in content
    assert stat.S_IMODE(vault_path.stat().st_mode) == 0o600


def test_reopen_unlock_and_lock(vault: Vault, vault_path: Path) -> None:
    vault.put("credential", "c1", {"n": 1})
    vault.close()
    again = Vault.open(vault_path)
    assert again.locked
    with pytest.raises(VaultError) as err:
        again.list("credential")
    assert err.value.code == "vault_locked"
    again.unlock(PASSPHRASE)
    assert again.get("c1").data == {"n": 1}
    again.lock()
    with pytest.raises(VaultError, match="locked"):
        again.get("c1")
    again.close()


def test_wrong_passphrase(vault: Vault, vault_path: Path) -> None:
    vault.close()
    again = Vault.open(vault_path)
    with pytest.raises(VaultError) as err:
        again.unlock("not the passphrase")
    assert err.value.code == "wrong_passphrase"
    assert again.locked
    again.close()


def test_passphrase_is_unicode_normalised(tmp_path: Path) -> None:
    composed, decomposed = "mot de passe été", "mot de passe e\u0301te\u0301"
    v = Vault.create(tmp_path / "v.db", composed, kdf=FAST_KDF)
    v.close()
    v = Vault.open(tmp_path / "v.db")
    v.unlock(decomposed)
    v.close()


def test_weak_passphrase_and_existing_and_missing(vault_path: Path, tmp_path: Path) -> None:
    with pytest.raises(TesseraError) as err:
        Vault.create(vault_path, "short", kdf=FAST_KDF)
    assert err.value.code == "weak_passphrase"
    Vault.create(vault_path, PASSPHRASE, kdf=FAST_KDF).close()
    with pytest.raises(VaultError) as exists:
        Vault.create(vault_path, PASSPHRASE, kdf=FAST_KDF)
    assert exists.value.code == "vault_exists"
    with pytest.raises(VaultError) as missing:
        Vault.open(tmp_path / "nope.db")
    assert missing.value.code == "vault_not_found"


def test_corrupted_record_is_isolated(vault: Vault, vault_path: Path) -> None:
    for i in range(3):
        vault.put("credential", f"c{i}", {"i": i})
    vault.add_history({"event": "received"})
    vault.close()
    (blob,) = _raw(vault_path, "SELECT blob FROM records WHERE id = 'c1'")[0]
    assert isinstance(blob, bytes)
    _raw(vault_path, "UPDATE records SET blob = ? WHERE id = 'c1'", _flip(blob))
    again = Vault.open(vault_path)
    again.unlock(PASSPHRASE)
    listing = again.list("credential")
    assert [r.data for r in listing.records] == [{"i": 0}, {"i": 2}]
    assert [d.id for d in listing.damaged] == ["c1"]
    with pytest.raises(VaultError) as err:
        again.get("c1")
    assert err.value.code == "damaged_record"
    assert len(again.history().records) == 1
    again.close()


def test_record_moved_to_another_row_is_damage(vault: Vault, vault_path: Path) -> None:
    vault.put("credential", "c1", {"who": "a"})
    vault.put("credential", "c2", {"who": "b"})
    vault.close()
    (blob,) = _raw(vault_path, "SELECT blob FROM records WHERE id = 'c1'")[0]
    _raw(vault_path, "UPDATE records SET blob = ? WHERE id = 'c2'", blob)
    again = Vault.open(vault_path)
    again.unlock(PASSPHRASE)
    assert [d.id for d in again.list("credential").damaged] == ["c2"]
    again.close()


def test_file_that_is_not_a_vault(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(VaultError) as err:
        Vault.open(path)
    assert err.value.code == "vault_corrupt"


def test_crafted_kdf_cost_is_refused(vault: Vault, vault_path: Path) -> None:
    vault.close()
    kdf = json.loads(str(_raw(vault_path, "SELECT value FROM meta WHERE name = 'kdf'")[0][0]))
    kdf["memlimit"] = 2**50
    _raw(vault_path, "UPDATE meta SET value = ? WHERE name = 'kdf'", json.dumps(kdf))
    again = Vault.open(vault_path)
    with pytest.raises(VaultError) as err:
        again.unlock(PASSPHRASE)
    assert err.value.code == "vault_corrupt"
    again.close()


def test_change_passphrase_rewraps_only(vault: Vault, vault_path: Path) -> None:
    vault.put("credential", "c1", {"n": 1})
    before = _raw(vault_path, "SELECT id, blob FROM records")
    salt_before = vault.kdf_params().salt
    with pytest.raises(VaultError) as err:
        vault.change_passphrase("wrong passphrase", "a new passphrase")
    assert err.value.code == "wrong_passphrase"
    vault.change_passphrase(PASSPHRASE, "a new passphrase")
    assert _raw(vault_path, "SELECT id, blob FROM records") == before  # records untouched: O(1)
    assert vault.kdf_params().salt != salt_before
    vault.close()
    again = Vault.open(vault_path)
    with pytest.raises(VaultError, match="not correct"):
        again.unlock(PASSPHRASE)
    again.unlock("a new passphrase")
    assert again.get("c1").data == {"n": 1}
    again.close()


def test_atomic_rolls_back_everything(vault: Vault) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), vault.atomic():
        vault.put("key", "k1", {"d": "x"})
        vault.put("credential", "c1", {"key": "k1"})
        vault.add_history({"event": "received"})
        raise Boom
    assert vault.list("key").records == ()
    assert vault.list("credential").records == ()
    assert vault.history().records == ()
    vault.put("credential", "c2", {})  # the vault is still usable after the rollback
    assert vault.ids("credential") == ["c2"]


def test_crash_mid_transaction_leaves_no_half_write(vault: Vault, vault_path: Path) -> None:
    vault.put("credential", "before", {"ok": True})
    vault.close()
    # A separate process writes two records in one transaction and dies before committing.
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from wallet.vault import Vault
        v = Vault.open(Path({str(vault_path)!r}))
        v.unlock({PASSPHRASE!r})
        with v.atomic():
            v.put("key", "k-crash", {{"d": "x"}})
            v.put("credential", "c-crash", {{"key": "k-crash"}})
            os._exit(9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=False)
    assert proc.returncode == 9
    again = Vault.open(vault_path)
    again.unlock(PASSPHRASE)
    assert again.ids("credential") == ["before"]
    assert again.ids("key") == []
    again.close()


def test_history_is_ordered_and_encrypted(vault: Vault, vault_path: Path) -> None:
    for i in range(3):
        vault.add_history({"event": "presented", "who": f"verifier {i}"})
    assert [h.data["who"] for h in vault.history().records] == ["verifier 0", "verifier 1", "verifier 2"]
    vault.close()
    assert not any(b"verifier" in f.read_bytes() for f in vault_path.parent.iterdir())


def test_backup_round_trip(vault: Vault, tmp_path: Path) -> None:
    vault.put("credential", "c1", {"name": SECRET})
    vault.put("key", "k1", {"d": "secret"})
    vault.add_history({"event": "received"}, entry_id="h1")
    backup = tmp_path / "wallet.backup"
    report = export_backup(vault, backup, "backup passphrase", kdf=FAST_KDF)
    assert (report.records, report.history, report.left_out) == (2, 1, ())
    assert b"Ada" not in backup.read_bytes()

    fresh = Vault.create(tmp_path / "other.db", "other passphrase", kdf=FAST_KDF)
    result = import_backup(fresh, backup, "backup passphrase")
    assert (result.added, result.skipped, result.history_added) == (2, 0, 1)
    assert fresh.get("c1").data == {"name": SECRET}
    assert fresh.get("k1").data == {"d": "secret"}
    # Importing again changes nothing: ids already held are kept.
    again = import_backup(fresh, backup, "backup passphrase")
    assert (again.added, again.skipped, again.history_added) == (0, 2, 0)
    fresh.close()


def test_backup_wrong_passphrase_and_tampering(vault: Vault, tmp_path: Path) -> None:
    vault.put("credential", "c1", {"n": 1})
    backup = tmp_path / "b"
    export_backup(vault, backup, "backup passphrase", kdf=FAST_KDF)
    with pytest.raises(VaultError) as wrong:
        read_backup(backup, "nope nope nope")
    assert wrong.value.code == "wrong_passphrase"

    data = backup.read_bytes()
    backup.write_bytes(_flip(data))
    with pytest.raises(VaultError):
        read_backup(backup, "backup passphrase")

    # A header changed after the fact (here: its creation time) is detected through the body's hash.
    header_end = data.index(b"\n", len(b"TESSERA-WALLET-BACKUP\n"))
    header = json.loads(data[len(b"TESSERA-WALLET-BACKUP\n") : header_end])
    header["created"] = "2000-01-01T00:00:00+00:00"
    new_header = json.dumps(header, separators=(",", ":")).encode()
    backup.write_bytes(b"TESSERA-WALLET-BACKUP\n" + new_header + data[header_end:])
    with pytest.raises(VaultError) as changed:
        read_backup(backup, "backup passphrase")
    assert changed.value.code == "invalid_backup"

    backup.write_bytes(b"hello")
    with pytest.raises(VaultError) as junk:
        read_backup(backup, "backup passphrase")
    assert junk.value.code == "invalid_backup"


def test_backup_import_is_atomic(vault: Vault, tmp_path: Path) -> None:
    vault.put("credential", "c1", {"n": 1})
    vault.put("credential", "c2", {"n": 2})
    backup = tmp_path / "b"
    export_backup(vault, backup, "backup passphrase", kdf=FAST_KDF)
    fresh = Vault.create(tmp_path / "f.db", "other passphrase", kdf=FAST_KDF)
    fresh.lock()
    with pytest.raises(VaultError, match="locked"):
        import_backup(fresh, backup, "backup passphrase")
    fresh.unlock("other passphrase")
    assert fresh.ids("credential") == []
    fresh.close()


def test_default_cost_is_stored_and_used(tmp_path: Path) -> None:
    params = KdfParams(opslimit=2, memlimit=8 * 1024**2)
    v = Vault.create(tmp_path / "v.db", PASSPHRASE, kdf=params)
    stored = v.kdf_params()
    assert (stored.opslimit, stored.memlimit, len(stored.salt)) == (2, 8 * 1024**2, 16)
    v.close()
