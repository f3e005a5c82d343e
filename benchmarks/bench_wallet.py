"""Wallet: unlock and list a vault of 1,000 credentials (issue 6: the list appears in < 1 s after key derivation).

Run: ``.venv/bin/python -m benchmarks.bench_wallet``. The vault is a real one: 1,000 ``dc+sd-jwt``
credentials, each issued by the SD-JWT core with its own salts (≈ 1.3 KB of sealed JSON per record),
written with the **default production Argon2id cost** (:class:`wallet.vault.KdfParams`: opslimit 3,
memlimit 128 MiB).

Rows:

- *Argon2id key derivation* — the passphrase cost, on its own (it is paid once per unlock and does not
  grow with the vault);
- *floor* — the cryptography listing cannot avoid: one XSalsa20-Poly1305 open per record with raw
  PyNaCl over the same blobs (no JSON, no records);
- *list (core)* — ``Wallet.credentials()`` on the unlocked vault: read, decrypt, parse, build records;
- *list screen (Textual)* — from handing the unlocked wallet to the app to the list screen holding
  all 1,000 cards (headless, 80×24): what "the list appears" means for a person;
- *unlock + list screen* — the whole wait, Argon2id included.

Target: list screen < 1 s after key derivation.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import nacl.secret

from shared import sd_jwt
from shared.crypto import Ed25519PrivateKey, random_bytes
from wallet.core import Wallet
from wallet.model import CredentialRecord, Display
from wallet.vault import KdfParams, Vault, derive_key

N = 1_000
PASSPHRASE = "correct horse battery staple"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VCT = "https://registry.example/birth-certificate"
CLAIMS = {
    "given_name": "Amara",
    "family_name": "Okafor",
    "birth_date": "2026-01-10",
    "place_of_birth": {"locality": "Enugu", "country": "NG"},
    "nationality": "NG",
    "mother_name": "Ngozi Okafor",
    "father_name": "Chukwuemeka Okafor",
    "registration_number": "NG-EN-2026-000123",
    "age_over_18": False,
}
DISPLAY = Display(
    name={"en": "Birth certificate", "fr": "Acte de naissance"},
    issuer_name={"en": "Civil Registry", "fr": "État civil"},
    claims={"given_name": {"en": "Given name", "fr": "Prénom"}, "birth_date": {"en": "Date of birth"}},
)


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_vault(path: Path) -> None:
    issuer = Ed25519PrivateKey.generate()
    vault = Vault.create(path, PASSPHRASE, kdf=KdfParams())
    with vault.atomic():
        for i in range(N):
            holder = Ed25519PrivateKey.generate()
            claims = {"iss": "https://registry.example", "vct": VCT, **CLAIMS}
            raw = str(
                sd_jwt.issue(claims, disclosable=list(CLAIMS), signer=issuer, holder_key=holder.public_key, now=NOW,
                             random_bytes=random_bytes, typ="dc+sd-jwt")
            )  # fmt: skip
            record = CredentialRecord(
                id=f"c-{i:06d}", format="dc+sd-jwt", raw=raw, issuer="https://registry.example", types=(VCT,),
                claims={**claims, "cnf": {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "A" * 43}}},
                holder_key_id=f"k-{i:06d}", display=DISPLAY, disclosable=tuple((k,) for k in CLAIMS),
                valid_until="2036-01-10T00:00:00Z", status_result="valid", status_checked_at="2026-03-01T12:00:00Z",
                received_at="2026-03-01T12:00:00Z", offer_issuer="https://registry.example",
            )  # fmt: skip
            vault.put("credential", record.id, record.to_dict())
    vault.close()


def unlocked(path: Path) -> Vault:
    vault = Vault.open(path)
    vault.unlock(PASSPHRASE)
    return vault


def floor(vault: Vault) -> Callable[[], object]:
    key = vault._data_key()
    blobs = [b for (b,) in vault._conn.execute("SELECT blob FROM records WHERE kind = 'credential'")]
    box = nacl.secret.SecretBox(key)
    return lambda: [box.decrypt(b) for b in blobs]


def list_screen_seconds(path: Path, wallet: Wallet) -> float:
    """Seconds from giving the app an unlocked wallet to its list screen holding every card."""
    from textual.widgets import OptionList

    from wallet.ui.app import Settings, WalletApp

    async def run() -> float:
        app = WalletApp(Settings(path=path, lang="en"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            start = time.perf_counter()
            app.unlocked(wallet)
            while True:
                await pilot.pause(0.005)
                cards = app.screen.query("#cards")
                if cards and cards.first(OptionList).option_count == N:
                    return time.perf_counter() - start

    return asyncio.run(run())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wallet.db"
        start = time.perf_counter()
        build_vault(path)
        built = time.perf_counter() - start
        size = path.stat().st_size

        params = Vault.open(path).kdf_params()
        kdf = _median(lambda: derive_key(PASSPHRASE, params), 3)
        vault = unlocked(path)
        wallet = Wallet(vault)
        floor_s = _median(floor(vault), 5)
        listed = wallet.credentials()
        assert len(listed.records) == N and not listed.damaged
        core_s = _median(wallet.credentials, 5)
        screen_s = statistics.median(list_screen_seconds(path, wallet) for _ in range(3))
        vault.close()

        def unlock_only() -> None:
            unlocked(path).close()

        unlock_s = _median(unlock_only, 3)

    print(f"vault: {N:,} dc+sd-jwt credentials, {size / 1e6:.1f} MB on disk, built in {built:.1f} s")
    print(f"Argon2id cost (production default): opslimit {params.opslimit}, memlimit {params.memlimit // 2**20} MiB")
    print()
    rows = [
        ("Argon2id key derivation (once per unlock)", kdf, None),
        ("open + unlock (Argon2id + unwrap data key)", unlock_s, None),
        (f"floor: PyNaCl SecretBox open × {N:,}", floor_s, 1.0),
        (f"list (core): Wallet.credentials(), {N:,} records", core_s, core_s / floor_s),
        (f"list screen (Textual, 80x24), {N:,} cards", screen_s, screen_s / floor_s),
        ("unlock + list screen (what the person waits)", unlock_s + screen_s, None),
    ]
    print(f"{'operation':<52} {'seconds':>9} {'× floor':>8}")
    print("-" * 71)
    for name, seconds, ratio in rows:
        print(f"{name:<52} {seconds:>9.3f} {'' if ratio is None else f'{ratio:.1f}':>8}")
    print()
    verdict = "met" if screen_s < 1.0 else "NOT met"
    print(f"target: list screen < 1 s after key derivation — {verdict} ({screen_s:.3f} s)")


if __name__ == "__main__":
    main()
