"""The wallet vault: one SQLite file whose records are encrypted with a key the passphrase unlocks.

Key hierarchy (so that changing the passphrase is O(1), whatever the vault holds):

- a random 256-bit *data key* encrypts every record;
- a *key-encryption key* is derived from the passphrase with Argon2id (libsodium ``crypto_pwhash``,
  ``argon2id13``) and a random 128-bit salt; it wraps the data key. The Argon2id parameters and the salt
  are stored in the file, so a vault made with one cost still opens after the default changes.

Each record is sealed with XSalsa20-Poly1305 (``SecretBox``) under its own random 192-bit nonce. The
plaintext is an envelope ``{"v", "id", "kind", "data"}``: the record's id and kind travel inside the
authenticated ciphertext, so a blob copied onto another row is detected (as damage) rather than trusted.
A wrong passphrase fails to unwrap the data key (``wrong_passphrase``); a record that fails to open is
reported as damaged (``damaged_record``) while every other record stays readable.

Writes go through SQLite transactions in WAL mode with ``synchronous=FULL``: a crash leaves the vault as
it was before or after a write, never in between. ``atomic()`` groups writes (a credential, its holder
key and its history entry land together or not at all).

Only ids, kinds and insertion order are stored in clear; credentials, holder keys and history are not.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import nacl.exceptions
import nacl.secret
import nacl.utils
from nacl.pwhash import argon2id

from shared.errors import MalformedError, TesseraError

FORMAT: Final = "tessera-wallet-vault"
VERSION: Final = 1
KEY_BYTES: Final = nacl.secret.SecretBox.KEY_SIZE
MIN_PASSPHRASE: Final = 8
# Stored parameters are read from a file someone else may have written: cap them so a crafted
# vault or backup cannot make unlocking take hours or all the memory.
MAX_OPSLIMIT: Final = 64
MAX_MEMLIMIT: Final = 4 * 1024**3

KINDS: Final = frozenset({"credential", "key", "setting"})


class VaultError(TesseraError):
    default_code = "vault_corrupt"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The default is a little above libsodium's *interactive* level (about 0.2 s here)."""

    opslimit: int = 3
    memlimit: int = 128 * 1024**2
    salt: bytes = b""

    def with_salt(self) -> KdfParams:
        return KdfParams(self.opslimit, self.memlimit, nacl.utils.random(argon2id.SALTBYTES))

    def to_dict(self) -> dict[str, Any]:
        return {"alg": "argon2id13", "opslimit": self.opslimit, "memlimit": self.memlimit, "salt": self.salt.hex()}

    @classmethod
    def from_dict(cls, value: Any) -> KdfParams:
        try:
            if value["alg"] != "argon2id13":
                raise VaultError(f"unknown key derivation {value['alg']!r}")
            params = cls(int(value["opslimit"]), int(value["memlimit"]), bytes.fromhex(value["salt"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultError("the key derivation parameters are damaged") from exc
        if not (
            argon2id.OPSLIMIT_MIN <= params.opslimit <= MAX_OPSLIMIT
            and argon2id.MEMLIMIT_MIN <= params.memlimit <= MAX_MEMLIMIT
            and len(params.salt) == argon2id.SALTBYTES
        ):
            raise VaultError("the key derivation parameters are out of range")
        return params


# The cheapest Argon2id libsodium allows: for tests and benchmarks only, never for real vaults.
FAST_KDF: Final = KdfParams(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)


def derive_key(passphrase: str, params: KdfParams) -> bytes:
    # NFC so that the same passphrase typed on two systems (composed or decomposed accents) matches.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return bytes(argon2id.kdf(KEY_BYTES, secret, params.salt, opslimit=params.opslimit, memlimit=params.memlimit))


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise MalformedError(f"the passphrase needs at least {MIN_PASSPHRASE} characters", code="weak_passphrase")


def seal(key: bytes, record_id: str, kind: str, data: Any) -> bytes:
    envelope = json.dumps({"v": 1, "id": record_id, "kind": kind, "data": data}, separators=(",", ":"))
    return bytes(nacl.secret.SecretBox(key).encrypt(envelope.encode("utf-8")))


def unseal(key: bytes, record_id: str, kind: str, blob: bytes) -> Any:
    """Open a sealed record; anything wrong with it raises ``damaged_record``."""
    try:
        envelope = json.loads(nacl.secret.SecretBox(key).decrypt(bytes(blob)))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise VaultError(f"record {record_id} is damaged", code="damaged_record", id=record_id) from exc
    if not isinstance(envelope, dict) or envelope.get("id") != record_id or envelope.get("kind") != kind:
        raise VaultError(f"record {record_id} is damaged (moved)", code="damaged_record", id=record_id)
    return envelope.get("data")


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    data: Any


@dataclass(frozen=True)
class Damaged:
    id: str
    kind: str
    message: str


@dataclass(frozen=True)
class Listing:
    records: tuple[Record, ...] = ()
    damaged: tuple[Damaged, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    added: int = 0
    skipped: int = 0
    history_added: int = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    blob BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind, seq);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    blob BLOB NOT NULL
);
"""


def default_path() -> Path:
    """``$TESSERA_WALLET_DIR/wallet.db``, else the platform's per-user data directory."""
    base = os.environ.get("TESSERA_WALLET_DIR")
    if base:
        return Path(base) / "wallet.db"
    import platformdirs  # noqa: PLC0415 - only needed when no directory was given

    return Path(platformdirs.user_data_dir("tessera", appauthor=False)) / "wallet.db"


def new_id(prefix: str) -> str:
    return f"{prefix}-{nacl.utils.random(9).hex()}"


@dataclass
class Vault:
    """An open vault file. Locked until :meth:`unlock`; every read and write of records needs it unlocked."""

    path: Path
    _conn: sqlite3.Connection = field(repr=False)
    _key: bytes | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _depth: int = 0

    # --- opening -----------------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        # check_same_thread=False: the UI calls the vault from worker threads; the RLock serialises use.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise VaultError(f"{path} is not a wallet file or is damaged") from exc
        return conn

    @classmethod
    def create(cls, path: Path, passphrase: str, *, kdf: KdfParams | None = None) -> Vault:
        """Make a new vault and return it unlocked. Refuses to overwrite an existing file."""
        check_passphrase(passphrase)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # Create the file ourselves, owner-only, before SQLite opens it: no window of wider access.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError as exc:
            raise VaultError(f"a wallet already exists at {path}", code="vault_exists") from exc
        params = (kdf or KdfParams()).with_salt()
        data_key = nacl.utils.random(KEY_BYTES)
        wrapped = seal(derive_key(passphrase, params), "data-key", "key", data_key.hex())
        vault = cls(path, cls._connect(path), data_key)
        with vault.atomic():
            # Statement by statement: executescript() would commit the open transaction.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                vault._conn.execute(statement)
            vault._conn.executemany(
                "INSERT INTO meta(name, value) VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("version", str(VERSION)),
                    ("kdf", json.dumps(params.to_dict())),
                    ("wrapped_key", wrapped.hex()),
                ],
            )
        return vault

    @classmethod
    def open(cls, path: Path) -> Vault:
        """Open an existing vault, locked."""
        if not path.exists():
            raise VaultError(f"no wallet at {path}", code="vault_not_found")
        vault = cls(path, cls._connect(path))
        meta = vault._meta()
        if meta.get("format") != FORMAT:
            vault.close()
            raise VaultError(f"{path} is not a Tessera wallet")
        if meta.get("version") != str(VERSION):
            vault.close()
            raise VaultError(f"{path} was written by another version of Tessera (format {meta.get('version')})")
        return vault

    def _meta(self) -> dict[str, str]:
        try:
            with self._lock:
                return dict(self._conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise VaultError(f"{self.path} is not a wallet file or is damaged") from exc

    def close(self) -> None:
        self.lock()
        with self._lock:
            self._conn.close()

    # --- locking -----------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return self._key is None

    def kdf_params(self) -> KdfParams:
        return KdfParams.from_dict(json.loads(self._meta()["kdf"]))

    def _unwrap(self, passphrase: str) -> bytes:
        meta = self._meta()
        try:
            params = KdfParams.from_dict(json.loads(meta["kdf"]))
            wrapped = bytes.fromhex(meta["wrapped_key"])
        except (KeyError, ValueError) as exc:
            raise VaultError("the wallet's key record is damaged") from exc
        try:
            value = unseal(derive_key(passphrase, params), "data-key", "key", wrapped)
        except VaultError as exc:
            # Poly1305 cannot tell a wrong passphrase from a damaged key record; the former is far likelier.
            raise VaultError(code="wrong_passphrase") from exc
        return bytes.fromhex(value)

    def unlock(self, passphrase: str) -> None:
        key = self._unwrap(passphrase)
        with self._lock:
            self._key = key

    def lock(self) -> None:
        # Python cannot wipe immutable bytes; dropping the only reference is the best available here.
        with self._lock:
            self._key = None

    def _data_key(self) -> bytes:
        if self._key is None:
            raise VaultError(code="vault_locked")
        return self._key

    def change_passphrase(self, old: str, new: str, *, kdf: KdfParams | None = None) -> None:
        """Re-wrap the data key under a key from the new passphrase; records are not touched."""
        check_passphrase(new)
        data_key = self._unwrap(old)
        params = (kdf or self.kdf_params()).with_salt()
        wrapped = seal(derive_key(new, params), "data-key", "key", data_key.hex())
        with self.atomic():
            self._conn.execute("UPDATE meta SET value = ? WHERE name = 'kdf'", (json.dumps(params.to_dict()),))
            self._conn.execute("UPDATE meta SET value = ? WHERE name = 'wrapped_key'", (wrapped.hex(),))
        with self._lock:
            self._key = data_key

    # --- transactions --------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A write transaction; nested uses join the outer one. Rolled back on any exception."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    # --- records -------------------------------------------------------------------------------

    def put(self, kind: str, record_id: str, data: Any, *, replace: bool = True) -> None:
        if kind not in KINDS:
            raise MalformedError(f"unknown record kind {kind!r}")
        blob = seal(self._data_key(), record_id, kind, data)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self.atomic():
            try:
                self._conn.execute(f"{verb} INTO records(id, kind, blob) VALUES (?, ?, ?)", (record_id, kind, blob))
            except sqlite3.IntegrityError as exc:
                raise MalformedError(f"record {record_id} already exists") from exc

    def get(self, record_id: str) -> Record:
        key = self._data_key()
        with self._lock:
            row = self._conn.execute("SELECT kind, blob FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise VaultError(f"no record {record_id}", code="not_found")
        return Record(record_id, row[0], unseal(key, record_id, row[0], row[1]))

    def delete(self, record_id: str) -> None:
        self._data_key()
        with self.atomic():
            self._conn.execute("DELETE FROM records WHERE id = ?", (record_id,))

    def ids(self, kind: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM records WHERE kind = ? ORDER BY seq", (kind,))]

    def list(self, kind: str) -> Listing:
        """Every record of a kind, in insertion order; damaged ones are listed apart, never dropped silently."""
        key = self._data_key()
        with self._lock:
            rows = self._conn.execute("SELECT id, blob FROM records WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        good: list[Record] = []
        bad: list[Damaged] = []
        for record_id, blob in rows:
            try:
                good.append(Record(record_id, kind, unseal(key, record_id, kind, blob)))
            except VaultError as exc:
                bad.append(Damaged(record_id, kind, exc.message))
        return Listing(tuple(good), tuple(bad))

    # --- history -------------------------------------------------------------------------------

    def add_history(self, entry: dict[str, Any], *, entry_id: str | None = None) -> str:
        entry_id = entry_id or new_id("h")
        blob = seal(self._data_key(), entry_id, "history", entry)
        with self.atomic():
            self._conn.execute("INSERT INTO history(id, blob) VALUES (?, ?)", (entry_id, blob))
        return entry_id

    def history(self) -> Listing:
        key = self._data_key()
        with self._lock:
            rows = self._conn.execute("SELECT id, blob FROM history ORDER BY seq").fetchall()
        good: list[Record] = []
        bad: list[Damaged] = []
        for entry_id, blob in rows:
            try:
                good.append(Record(entry_id, "history", unseal(key, entry_id, "history", blob)))
            except VaultError as exc:
                bad.append(Damaged(entry_id, "history", exc.message))
        return Listing(tuple(good), tuple(bad))

    def all_records(self) -> Listing:
        parts = [self.list(kind) for kind in sorted(KINDS)]
        return Listing(
            tuple(r for p in parts for r in p.records),
            tuple(d for p in parts for d in p.damaged),
        )

    def has(self, record_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM records WHERE id = ?", (record_id,)).fetchone() is not None

    def has_history(self, entry_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM history WHERE id = ?", (entry_id,)).fetchone() is not None
