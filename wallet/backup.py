"""Encrypted wallet backups: one file that holds every readable record and the history.

File layout (version 1)::

    TESSERA-WALLET-BACKUP\\n
    {"version": 1, "kdf": {...Argon2id params and salt...}, "created": "..."}\\n
    <SecretBox ciphertext: 24-byte nonce || XSalsa20-Poly1305 box>

The body key is derived from the backup passphrase with Argon2id and the header's own random salt, so a
backup does not depend on the vault's data key and can be restored into a fresh vault on another machine.
The plaintext body carries the SHA-256 of the header line: a header edited after the fact (for example to
lower the Argon2id cost) does not match and the backup is refused.

Import merges: records whose id is already in the vault are kept as they are (skipped), others are
added, all in one transaction. Records that were damaged in the source vault cannot be exported; the
export reports how many were left out.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import nacl.exceptions
import nacl.secret

from wallet.vault import ImportReport, KdfParams, Vault, VaultError, derive_key

MAGIC: Final = b"TESSERA-WALLET-BACKUP\n"
VERSION: Final = 1
MAX_BACKUP_BYTES: Final = 512 * 1024**2
MAX_HEADER_BYTES: Final = 4096


def _bad(message: str) -> VaultError:
    return VaultError(message, code="invalid_backup")


@dataclass(frozen=True)
class ExportReport:
    records: int
    history: int
    left_out: tuple[str, ...] = ()


def export_backup(vault: Vault, target: Path, passphrase: str, *, kdf: KdfParams | None = None) -> ExportReport:
    """Write an encrypted backup of ``vault`` (which must be unlocked) to ``target``, atomically."""
    records = vault.all_records()
    history = vault.history()
    params = (kdf or vault.kdf_params()).with_salt()
    header = json.dumps(
        {"version": VERSION, "kdf": params.to_dict(), "created": datetime.now(UTC).isoformat(timespec="seconds")},
        separators=(",", ":"),
    ).encode("utf-8")
    body = {
        "header_sha256": hashlib.sha256(header).hexdigest(),
        "records": [{"id": r.id, "kind": r.kind, "data": r.data} for r in records.records],
        "history": [{"id": h.id, "data": h.data} for h in history.records],
    }
    box = nacl.secret.SecretBox(derive_key(passphrase, params))
    sealed = bytes(box.encrypt(json.dumps(body, separators=(",", ":")).encode("utf-8")))
    tmp = target.with_name(target.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(MAGIC + header + b"\n" + sealed)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o600)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    left_out = tuple(d.id for d in (*records.damaged, *history.damaged))
    return ExportReport(len(records.records), len(history.records), left_out)


def read_backup(source: Path, passphrase: str) -> dict[str, Any]:
    """Decrypt and check a backup file; returns its body (``records`` and ``history``)."""
    try:
        size = source.stat().st_size
        if size > MAX_BACKUP_BYTES:
            raise _bad(f"{source} is larger than a backup can be")
        data = source.read_bytes()
    except OSError as exc:
        raise _bad(f"cannot read {source}: {exc.strerror}") from exc
    if not data.startswith(MAGIC):
        raise _bad(f"{source} is not a Tessera wallet backup")
    rest = data[len(MAGIC) :]
    end = rest.find(b"\n", 0, MAX_HEADER_BYTES)
    if end < 0:
        raise _bad("the backup header is damaged")
    header_bytes, sealed = rest[:end], rest[end + 1 :]
    try:
        header = json.loads(header_bytes)
        version = header["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad("the backup header is damaged") from exc
    if version != VERSION:
        raise _bad(f"backup format {version!r} is not supported by this version of Tessera")
    try:
        params = KdfParams.from_dict(header["kdf"])
    except (VaultError, KeyError) as exc:
        raise _bad("the backup header is damaged") from exc
    try:
        plain = nacl.secret.SecretBox(derive_key(passphrase, params)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        # As with the vault, a wrong passphrase and a damaged body look the same to Poly1305.
        message = "the backup passphrase is not correct, or the backup is damaged"
        raise VaultError(message, code="wrong_passphrase") from exc
    try:
        body = json.loads(plain)
        ok = body["header_sha256"] == hashlib.sha256(header_bytes).hexdigest()
        records, history = body["records"], body["history"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad("the backup body is damaged") from exc
    if not ok:
        raise _bad("the backup header was changed after the backup was made")
    if not isinstance(records, list) or not isinstance(history, list):
        raise _bad("the backup body is damaged")
    return {"records": records, "history": history}


def import_backup(vault: Vault, source: Path, passphrase: str) -> ImportReport:
    """Merge a backup into ``vault`` (unlocked) in one transaction; ids already present are kept."""
    body = read_backup(source, passphrase)
    added = skipped = history_added = 0
    try:
        with vault.atomic():
            for item in body["records"]:
                if vault.has(item["id"]):
                    skipped += 1
                    continue
                vault.put(item["kind"], item["id"], item["data"], replace=False)
                added += 1
            for item in body["history"]:
                if not vault.has_history(item["id"]):
                    vault.add_history(item["data"], entry_id=item["id"])
                    history_added += 1
    except (KeyError, TypeError) as exc:
        raise _bad("the backup body is damaged") from exc
    return ImportReport(added, skipped, history_added)
