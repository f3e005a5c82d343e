"""Snapshot tests of key screens (unlock, credential list, consent) at 80x24, as plain text.

Each screen is rendered the way ``App.export_screenshot()`` renders it (the compositor's full update
printed on a recording Rich console), but exported as text rather than SVG: the stored files in
``tests/wallet/snapshots/`` are readable in review and do not change with colours or fonts.

To accept a change on purpose, run
``TESSERA_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/wallet/test_snapshots.py`` and review the diff of
``tests/wallet/snapshots/*.txt`` before committing. A missing snapshot is written and the test fails
once, so a new snapshot is always looked at. (pytest-textual-snapshot would need pytest < 9 through
syrupy 4.8, so it is not used.)
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from shared.crypto import Ed25519PrivateKey
from shared.did import DidResolver
from tests.wallet.conftest import PASSPHRASE
from tests.wallet.fakes import BIRTH_VCT, NOW, SD_CLAIMS, FakeIssuer, FakeVerifier, client_for
from tests.wallet.test_client_sd_jwt import SD_QUERY
from tests.wallet.test_ui import paste, settle, type_text
from wallet.model import CredentialRecord, Display
from wallet.transport import Http
from wallet.ui.app import Settings, WalletApp
from wallet.ui.exchange import ConsentScreen
from wallet.ui.screens import ListScreen
from wallet.vault import FAST_KDF, Vault

pytestmark = pytest.mark.asyncio
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TESSERA_UPDATE_SNAPSHOTS") == "1"


def screen_text(app: WalletApp) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


class Snapshots:
    def __init__(self) -> None:
        self.written: list[str] = []

    def check(self, app: WalletApp, name: str) -> None:
        path = SNAPSHOTS / f"{name}.txt"
        actual = screen_text(app)
        if UPDATE or not path.exists():
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            self.written.append(path.name)
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"screen {name} changed; if intended: TESSERA_UPDATE_SNAPSHOTS=1 (module doc)"

    def done(self) -> None:
        if self.written and not UPDATE:
            pytest.fail(f"snapshots written (they were missing): {', '.join(self.written)}; review them, run again")


def _display() -> Display:
    return Display(
        name={"en": "Birth certificate", "fr": "Acte de naissance"},
        issuer_name={"en": "Civil Registry", "fr": "État civil"},
        claims={"given_name": {"en": "Given name", "fr": "Prénom"}, "birth_date": {"en": "Date of birth"}},
    )


def _records() -> list[CredentialRecord]:
    base: dict[str, Any] = {
        "format": "dc+sd-jwt",
        "raw": "x~",
        "issuer": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "types": (BIRTH_VCT,),
        "claims": {"vct": BIRTH_VCT, **SD_CLAIMS},
        "display": _display(),
        "disclosable": tuple((k,) for k in SD_CLAIMS),
        "valid_until": "2036-01-10T00:00:00Z",
        "received_at": "2026-03-01T12:00:00Z",
    }
    return [
        CredentialRecord(id="c-0001", holder_key_id="k-0001", status_result="valid",
                         status_checked_at="2026-03-01T12:00:00Z", **base),
        CredentialRecord(id="c-0002", holder_key_id="k-0002", **{**base, "claims": {**base["claims"],
                         "given_name": "[b]Chidi[/b]"}}),
    ]  # fmt: skip


def _app(tmp_path: Path, verifier: FakeVerifier) -> WalletApp:
    path = tmp_path / "wallet.db"
    vault = Vault.create(path, PASSPHRASE, kdf=FAST_KDF)
    for r in _records():
        vault.put("credential", r.id, r.to_dict())
    vault.close()
    return WalletApp(
        Settings(
            path=path,
            lang="en",
            http=Http(client_for(FakeIssuer(), verifier)),
            wallet_options={"now": lambda: NOW, "resolver": DidResolver()},
        )
    )


async def test_snapshots_unlock_list_consent(tmp_path: Path) -> None:
    verifier = FakeVerifier(dcql=SD_QUERY, key=Ed25519PrivateKey(bytes(range(32))))
    app = _app(tmp_path, verifier)
    snapshots = Snapshots()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        snapshots.check(app, "unlock")

        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ListScreen)
        snapshots.check(app, "list")

        await pilot.press("p")
        await paste(pilot, "#request-link", verifier.link())
        await settle(pilot)
        assert isinstance(app.screen, ConsentScreen)
        await pilot.press("down", "down", "space")  # withhold the optional nationality
        await pilot.pause()
        snapshots.check(app, "consent")
    snapshots.done()
