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
