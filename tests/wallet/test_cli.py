"""``tessera wallet`` headless commands: init, list, show, history, backup, restore, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# shared.cli imports the Data Integrity verifier, which needs shared/vc.py (being written).
from shared.cli import main
from tests.wallet.conftest import PASSPHRASE
from wallet import vault as vault_module
from wallet.core import Wallet
from wallet.model import CredentialRecord, Display, HistoryEntry
from wallet.vault import FAST_KDF, KdfParams, Vault


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # `init` and `restore` use the default cost; make it the cheapest for tests.
    monkeypatch.setattr(vault_module.KdfParams, "__init__", _fast_init)
    monkeypatch.setenv("TESSERA_WALLET_DIR", str(tmp_path / "wallet"))
    monkeypatch.setenv("TESSERA_WALLET_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("TESSERA_LANG", "en")


_original_init = KdfParams.__init__


def _fast_init(
    self: KdfParams, opslimit: int = FAST_KDF.opslimit, memlimit: int = FAST_KDF.memlimit, salt: bytes = b""
) -> None:
    _original_init(self, opslimit, memlimit, salt)


def _seed(path: Path) -> None:
    v = Vault.open(path)
    v.unlock(PASSPHRASE)
    record = CredentialRecord(
        id="c-0011",
        format="dc+sd-jwt",
        raw="x~",
        issuer="https://registry.example",
        types=("https://example.org/birth",),
        claims={"given_name": "[red]Amara[/red]", "birth_date": "2026-01-10"},
        holder_key_id="k-1",
        display=Display(
            name={"en": "Birth certificate", "fr": "Acte de naissance"},
            claims={"given_name": {"en": "Given name", "fr": "Prénom"}},
        ),
        valid_until="2036-01-10T00:00:00Z",
    )
    v.put("credential", record.id, record.to_dict())
    v.add_history(
        HistoryEntry(event="received", at="2026-01-15T10:00:00Z", counterparty="https://registry.example").to_dict()
    )
    v.close()


def test_init_list_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wallet", "init"]) == 0
    path = tmp_path / "wallet" / "wallet.db"
    assert path.exists()
    assert main(["wallet", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    _seed(path)
    assert main(["wallet", "list"]) == 0
    out = capsys.readouterr().out
    assert "c-0011\tBirth certificate\thttps://registry.example\t2036-01-10T00:00:00Z\tunknown" in out
    assert main(["wallet", "--lang", "fr", "show", "c-00"]) == 0
    out = capsys.readouterr().out
    assert "Acte de naissance" in out
    assert "Prénom: [red]Amara[/red]" in out  # values are printed as they are, never interpreted


def test_wrong_passphrase_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["wallet", "init"]) == 0
    monkeypatch.setenv("TESSERA_WALLET_PASSPHRASE", "not the right one")
    assert main(["wallet", "list"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "tessera: error [wrong_passphrase]: The passphrase is not correct."


def test_errors_without_wallet_and_twice_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wallet", "list"]) == 2
    assert "[vault_not_found]" in capsys.readouterr().err
    assert main(["wallet", "init"]) == 0
    assert main(["wallet", "init"]) == 2
    assert "[vault_exists]" in capsys.readouterr().err
    assert main(["wallet", "show", "nope"]) == 2
    assert "[not_found]" in capsys.readouterr().err


def test_history_json_and_backup_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["wallet", "init"]) == 0
    _seed(tmp_path / "wallet" / "wallet.db")
    capsys.readouterr()
    assert main(["wallet", "history", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)["history"]
    assert [h["event"] for h in history] == ["received"]

    backup = tmp_path / "wallet.backup"
    assert main(["wallet", "backup", str(backup)]) == 0
    # Restore into a wallet that does not exist yet: it is created with the same passphrase.
    monkeypatch.setenv("TESSERA_WALLET_DIR", str(tmp_path / "elsewhere"))
    assert main(["wallet", "restore", str(backup)]) == 0
    v = Vault.open(tmp_path / "elsewhere" / "wallet.db")
    v.unlock(PASSPHRASE)
    wallet = Wallet(v)
    assert [r.id for r in wallet.credentials().records] == ["c-0011"]
    assert len(wallet.history()[0]) == 1
    v.close()

    monkeypatch.setenv("TESSERA_WALLET_PASSPHRASE", "wrong wrong wrong")
    assert main(["wallet", "restore", str(backup)]) == 2
    assert "[wrong_passphrase]" in capsys.readouterr().err


def test_passphrase_needed_without_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TESSERA_WALLET_PASSPHRASE")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["wallet", "init"]) == 2
    assert "TESSERA_WALLET_PASSPHRASE" in capsys.readouterr().err


def test_receive_and_present_headless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.did import DidResolver
    from tests.wallet.fakes import NOW, FakeIssuer, FakeVerifier, client_for
    from tests.wallet.test_client_sd_jwt import SD_QUERY
    from wallet import cli
    from wallet.client import Client
    from wallet.transport import Http

    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)

    def fake_client(wallet: Wallet) -> Client:
        wallet.now = lambda: NOW
        wallet.resolver = DidResolver()
        return Client(wallet, Http(client_for(issuer, verifier)), clock=NOW.timestamp)

    monkeypatch.setattr(cli, "_client", fake_client)
    assert main(["wallet", "init"]) == 0
    assert main(["wallet", "receive", issuer.offer("birth_sd")]) == 2  # no tx code, no terminal
    assert "[invalid_tx_code]" in capsys.readouterr().err
    assert main(["wallet", "receive", issuer.offer("birth_sd"), "--tx-code", "000000"]) == 2
    assert "[invalid_tx_code]" in capsys.readouterr().err
    assert main(["wallet", "receive", issuer.offer("birth_sd"), "--tx-code", "493536"]) == 0
    assert "Received Birth certificate" in capsys.readouterr().out

    # Without --yes and without a terminal nothing is sent.
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["wallet", "present", verifier.link()]) == 2
    assert verifier.responses == []
    # Private by default: the optional nationality is withheld unless named with --reveal.
    assert main(["wallet", "present", verifier.link(), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "[withhold] nationality (optional): NG" in out and "Sent." in out
    form = verifier.responses[-1]
    assert '"birth"' in form["vp_token"]
    assert main(["wallet", "present", verifier.link(), "--yes", "--reveal", "nationality"]) == 0
    assert "[send] nationality (optional): NG" in capsys.readouterr().out
    assert main(["wallet", "present", verifier.link(), "--decline"]) == 1
    assert verifier.responses[-1] == {"error": "access_denied", "state": verifier.state}
    assert main(["wallet", "history"]) == 0
    events = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines() if "\t" in line]
    assert events == ["received", "presented", "presented", "declined"]


def test_qr_of_links_and_of_a_credential_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = "openid4vp://?client_id=x&request_uri=https%3A%2F%2Fverifier.example%2Fr%2F1"
    assert main(["wallet", "qr", link]) == 0
    out = capsys.readouterr().out
    assert "▀" in out and out.rstrip().endswith(link) and "Presentation request" in out
    assert main(["wallet", "qr", "http://evil.example/offer"]) == 2
    assert "[insecure_transport]" in capsys.readouterr().err
    svg = tmp_path / "offer.svg"
    offer = "openid-credential-offer://?credential_offer_uri=x"
    assert main(["wallet", "--lang", "fr", "qr", offer, "--svg", str(svg)]) == 0
    assert "<title>Offre d’attestation</title>" in svg.read_text()

    assert main(["wallet", "init"]) == 0
    _seed(tmp_path / "wallet" / "wallet.db")
    capsys.readouterr()
    assert main(["wallet", "qr", "--credential", "c-0011"]) == 0
    payload = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert payload.startswith("TSR1:")
    assert main(["wallet", "qr", "--decode", payload]) == 0
    decoded = capsys.readouterr().out
    assert "issuer: https://registry.example" in decoded and "Amara" not in decoded  # no claim values by default
    assert main(["wallet", "qr", "--credential", "c-0011", "--reveal", "birth_date"]) == 0
    payload = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert main(["wallet", "qr", "--decode", payload]) == 0
    assert "birth_date: 2026-01-10" in capsys.readouterr().out
    assert main(["wallet", "qr", "--credential", "c-0011", "--reveal", "no_such_claim"]) == 2
    assert "[not_found]" in capsys.readouterr().err
    assert main(["wallet", "qr", "--decode", "TSR1:not base45!"]) == 2
    assert "[malformed]" in capsys.readouterr().err


def test_trust_list_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wallet", "init"]) == 0
    capsys.readouterr()
    assert main(["wallet", "trust", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    school = "decentralized_identifier:did:web:school.example"
    assert main(["wallet", "trust", "add", school, "--name", "City School"]) == 0
    assert main(["wallet", "trust"]) == 0
    assert f"{school}\tCity School" in capsys.readouterr().out
    assert main(["wallet", "trust", "remove", school]) == 0
    assert main(["wallet", "trust", "remove", school]) == 2
    assert "[not_found]" in capsys.readouterr().err


def test_change_passphrase(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wallet", "init"]) == 0
    monkeypatch.setenv("TESSERA_WALLET_NEW_PASSPHRASE", "short")
    assert main(["wallet", "passphrase"]) == 2
    assert "[weak_passphrase]" in capsys.readouterr().err
    monkeypatch.setenv("TESSERA_WALLET_NEW_PASSPHRASE", "a brand new passphrase")
    assert main(["wallet", "passphrase"]) == 0
    assert "Passphrase changed." in capsys.readouterr().out
    assert main(["wallet", "list"]) == 2  # the old one no longer opens it
    assert "[wrong_passphrase]" in capsys.readouterr().err
    monkeypatch.setenv("TESSERA_WALLET_PASSPHRASE", "a brand new passphrase")
    assert main(["wallet", "list"]) == 0
    monkeypatch.setenv("TESSERA_WALLET_PASSPHRASE", "not the current one")
    assert main(["wallet", "passphrase"]) == 2
    assert "[wrong_passphrase]" in capsys.readouterr().err


def test_receive_copies(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from shared.did import DidResolver
    from tests.wallet.fakes import NOW, FakeIssuer, client_for
    from wallet import cli
    from wallet.client import Client
    from wallet.transport import Http

    issuer = FakeIssuer()

    def fake_client(wallet: Wallet) -> Client:
        wallet.now = lambda: NOW
        wallet.resolver = DidResolver()
        return Client(wallet, Http(client_for(issuer)), clock=NOW.timestamp)

    monkeypatch.setattr(cli, "_client", fake_client)
    assert main(["wallet", "init"]) == 0
    assert main(["wallet", "receive", issuer.offer("birth_sd"), "--tx-code", "493536", "--copies", "2"]) == 0
    assert capsys.readouterr().out.count("Received Birth certificate") == 2
    # The fake issuer's batch_size is 3: a fourth copy is not asked for, and the person is told.
    assert main(["wallet", "receive", issuer.offer("birth_sd", "code-2"), "--tx-code", "493536", "--copies", "4"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("Received") == 3 and "at most 3 copies" in captured.err
    with pytest.raises(SystemExit):
        main(["wallet", "receive", issuer.offer("birth_sd"), "--copies", "0"])


def test_wallet_without_a_command_opens_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``tessera wallet`` runs the Textual app; a pilot drives it headless instead of a real terminal."""
    import asyncio

    from textual.widgets import Input

    from wallet.ui.app import UnlockScreen, WalletApp
    from wallet.ui.screens import ListScreen

    seen: list[str] = []

    def run_with_pilot(app: WalletApp) -> None:
        async def drive() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                assert isinstance(app.screen, UnlockScreen)
                seen.append(app.t.lang)
                app.screen.query_one("#passphrase", Input).value = PASSPHRASE
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert isinstance(app.screen, ListScreen)
                seen.append(str(app.settings.path))
                await pilot.press("q")

        asyncio.run(drive())

    monkeypatch.setattr(WalletApp, "run", run_with_pilot)
    assert main(["wallet", "--lang", "fr"]) == 0
    assert seen == ["fr", str(tmp_path / "wallet" / "wallet.db")]
    assert (tmp_path / "wallet" / "wallet.db").exists()  # first run created it
