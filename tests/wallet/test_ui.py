"""Pilot tests of the Textual app, driven by keyboard at 80x24, against the in-process issuer and verifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ListView, OptionList, Static

from shared.did import DidResolver
from tests.wallet.conftest import PASSPHRASE
from tests.wallet.fakes import NOW, FakeIssuer, FakeVerifier, client_for
from tests.wallet.test_client_sd_jwt import SD_QUERY, _verify_sent
from wallet.transport import Http
from wallet.ui.app import Settings, WalletApp
from wallet.ui.exchange import ConsentScreen, PresentScreen, ReceiveScreen
from wallet.ui.screens import DetailScreen, HistoryScreen, ListScreen
from wallet.vault import FAST_KDF

pytestmark = pytest.mark.asyncio
KEYS = {" ": "space", "-": "minus", ".": "full_stop"}


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*(KEYS.get(ch, ch) for ch in text))


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def paste(pilot: Pilot[Any], selector: str, text: str) -> None:
    # A link is pasted, not typed: set the field as a paste would, then submit with the keyboard.
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.press("enter")


def texts(app: WalletApp, selector: str) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(selector).results(Static))


def make_app(tmp_path: Path, issuer: FakeIssuer, verifier: FakeVerifier, lang: str = "en") -> WalletApp:
    return WalletApp(
        Settings(
            path=tmp_path / "wallet.db",
            lang=lang,
            http=Http(client_for(issuer, verifier)),
            kdf=FAST_KDF,
            wallet_options={"now": lambda: NOW, "resolver": DidResolver()},
        )
    )


async def test_unlock_receive_list_detail_present_history(tmp_path: Path) -> None:
    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier)
    async with app.run_test(size=(80, 24)) as pilot:
        # unlock (first run creates the wallet)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ListScreen)
        assert "No credentials yet" in texts(app, "#list-message")

        # receive: paste the offer, Enter, type the tx_code, Enter
        await pilot.press("r")
        assert isinstance(app.screen, ReceiveScreen)
        await paste(pilot, "#offer-link", issuer.offer("birth_sd"))
        await settle(pilot)
        assert "Civil Registry offers: dc+sd-jwt" in texts(app, "#receive-message")
        assert "needs a transaction code" in texts(app, "#receive-message")
        await type_text(pilot, "493536")
        await pilot.press("enter")
        await settle(pilot)

        # list: one card with type, issuer, validity and status in words
        assert isinstance(app.screen, ListScreen)
        cards = app.screen.query_one("#cards", OptionList)
        assert cards.option_count == 1
        card = str(cards.get_option_at_index(0).prompt)
        assert card.startswith("> ")  # the current card is marked in words, not only by colour
        assert "Birth certificate" in card and "Civil Registry" in card and "Status: unknown" in card

        # detail: claims with the issuer's labels
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        claims = texts(app, ".claim")
        assert "Given name: Amara" in claims and "Date of birth: 2026-01-10" in claims
        await pilot.press("escape")
        await pilot.pause()

        # present: open the request, deselect the optional claim, confirm
        await pilot.press("p")
        assert isinstance(app.screen, PresentScreen)
        await paste(pilot, "#request-link", verifier.link())
        await settle(pilot)
        assert isinstance(app.screen, ConsentScreen)
        who = texts(app, "#who")
        assert "City School" in who and verifier.client_id in who and "NOT in your trust list" in who
        assert "Enrol your child" in who
        claim_lines = [str(i.query_one(Static).render()) for i in app.screen.query_one("#claims", ListView).children]
        assert "[x] send Given name (required): Amara" in claim_lines
        assert "[x] send nationality (optional): NG" in claim_lines
        # move to the optional claim (the 4th row: header, given_name, birth_date, nationality) and deselect it
        await pilot.press("down", "down", "space")
        await pilot.pause()
        claim_lines = [str(i.query_one(Static).render()) for i in app.screen.query_one("#claims", ListView).children]
        assert "[ ] withhold nationality (optional): NG" in claim_lines
        assert "nationality" in texts(app, "#withheld") and verifier.responses == []  # nothing sent yet
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ListScreen)

        # what was sent: exactly given_name and birth_date, key-bound to this verifier
        (form,) = verifier.responses
        (presentation,) = json.loads(form["vp_token"])["birth"]
        verified = _verify_sent(presentation, verifier)
        assert set(verified.disclosed) == {("given_name",), ("birth_date",)}

        # history: both exchanges, newest first
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one("#history", DataTable)
        assert table.row_count == 2
        first = [str(c) for c in table.get_row_at(0)]
        assert first[1] == "presented" and first[2] == "City School" and first[3] == "given_name, birth_date"
        await pilot.press("e")
        await pilot.pause()
        exported = list(tmp_path.glob("history-*.json"))
        assert len(exported) == 1
        assert [h["event"] for h in json.loads(exported[0].read_text())["history"]] == ["received", "presented"]


async def test_wrong_passphrase_then_right(tmp_path: Path) -> None:
    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("l")  # lock
        await pilot.pause()
        await type_text(pilot, "wrong passphrase")
        await pilot.press("enter")
        await settle(pilot)
        assert "[wrong_passphrase]" in texts(app, "#unlock-message")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ListScreen)


async def test_decline_in_french(tmp_path: Path) -> None:
    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier, lang="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await paste(pilot, "#offer-link", issuer.offer("birth_sd"))
        await settle(pilot)
        assert "État civil propose" in texts(app, "#receive-message")
        await paste(pilot, "#tx-code", "493536")
        await settle(pilot)
        await pilot.press("p")
        await paste(pilot, "#request-link", verifier.link())
        await settle(pilot)
        who = texts(app, "#who")
        assert "École de la ville" in who and "Inscrire votre enfant" in who and "ABSENT" in who
        lines = [str(i.query_one(Static).render()) for i in app.screen.query_one("#claims", ListView).children]
        assert "[x] envoyer Prénom (obligatoire): Amara" in lines
        await pilot.press("d")
        await settle(pilot)
        assert verifier.responses == [{"error": "access_denied", "state": verifier.state}]


async def test_markup_in_claim_values_is_plain_text(tmp_path: Path) -> None:
    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        from wallet.model import CredentialRecord

        record = CredentialRecord(
            id="c-x", format="dc+sd-jwt", raw="x~", issuer="did:key:z", types=("t",),
            claims={"given_name": "[b red]Mallory[/]"}, holder_key_id="k",
        )  # fmt: skip
        app.wallet.vault.put("credential", record.id, record.to_dict())  # type: ignore[union-attr]
        app.push_screen(DetailScreen(record))
        await pilot.pause()
        assert "given_name: [b red]Mallory[/]" in texts(app, ".claim")


async def test_qr_keys_on_receive_present_and_detail(tmp_path: Path) -> None:
    from wallet import qr
    from wallet.ui.tools import QrScreen

    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)

        # receive: F2 with nothing pasted says why; with a link it shows the code and the link as text
        await pilot.press("r")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ReceiveScreen) and "[malformed]" in texts(app, "#receive-message")
        offer = issuer.offer("birth_sd")
        app.screen.query_one("#offer-link", Input).value = offer
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, QrScreen)
        drawn = texts(app, "#qr")
        assert drawn == app.screen.code.text() and "▀" in drawn
        caption = texts(app, "#qr-caption")
        assert "Credential offer" in caption and offer in caption
        assert "taller than the screen" in caption  # an offer by value needs more than 24 lines
        await pilot.press("i")
        await pilot.pause()
        assert texts(app, "#qr") == app.screen.code.text(invert=True)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReceiveScreen)
        assert app.screen.query_one("#offer-link", Input).value == offer  # nothing lost
        await paste(pilot, "#offer-link", offer)
        await settle(pilot)
        await paste(pilot, "#tx-code", "493536")
        await settle(pilot)

        # present: the request link by reference fits an 80x24 terminal
        await pilot.press("p")
        app.screen.query_one("#request-link", Input).value = verifier.link()
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, QrScreen)
        assert "Presentation request" in texts(app, "#qr-caption")
        assert app.screen.code.payload == verifier.link()
        await pilot.press("escape", "escape")
        await pilot.pause()

        # detail: a compact summary, without claim values
        assert isinstance(app.screen, ListScreen)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, QrScreen)
        summary = qr.decode_summary(app.screen.code.payload)
        assert summary[qr.NAME] == "Birth certificate" and summary[qr.ISSUER] == issuer.did
        assert qr.CLAIMS not in summary
        assert "not a proof" in texts(app, "#qr-caption")


async def test_change_passphrase_in_the_app(tmp_path: Path) -> None:
    from wallet.ui.tools import PassphraseScreen
    from wallet.vault import Vault

    issuer, verifier = FakeIssuer(), FakeVerifier(dcql=SD_QUERY)
    app = make_app(tmp_path, issuer, verifier)
    new = "another long passphrase"
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)
        # the repeat differs: nothing changes
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, new)
        await pilot.press("enter")
        await type_text(pilot, new + "x")
        await pilot.press("enter")
        await pilot.pause()
        assert "differ" in texts(app, "#passphrase-message")
        # a wrong current passphrase is said in one line
        for selector, value in (("#old-passphrase", "wrong one!"), ("#new-passphrase", new)):
            app.screen.query_one(selector, Input).value = value
        await paste(pilot, "#repeat-passphrase", new)
        await settle(pilot)
        assert "[wrong_passphrase]" in texts(app, "#passphrase-message")
        for selector, value in (("#old-passphrase", PASSPHRASE), ("#new-passphrase", new)):
            app.screen.query_one(selector, Input).value = value
        await paste(pilot, "#repeat-passphrase", new)
        await settle(pilot)
        assert isinstance(app.screen, ListScreen)
    vault = Vault.open(tmp_path / "wallet.db")
    vault.unlock(new)
    vault.close()
