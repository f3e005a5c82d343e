"""Screens for holding: the credential list (cards), one credential's claims, and the history.

Every text that comes from a credential or a counterparty is shown with ``markup=False``: a claim value
such as ``[b]…`` is text, never styling. Status and validity are spelled out in words, so nothing is
carried by colour alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from wallet import consent
from wallet.client import Client
from wallet.core import Credentials, Wallet
from wallet.i18n import Translator
from wallet.model import CredentialRecord, HistoryEntry


class WalletScreen(Screen[None]):
    """Shortcuts to the app's wallet, client and translator."""

    @property
    def t(self) -> Translator:
        return self.app.t  # type: ignore[attr-defined, no-any-return]

    @property
    def wallet(self) -> Wallet:
        return self.app.wallet  # type: ignore[attr-defined, no-any-return]

    @property
    def client(self) -> Client:
        return self.app.client  # type: ignore[attr-defined, no-any-return]

    @property
    def lang(self) -> str:
        return self.t.lang


def card_text(record: CredentialRecord, t: Translator, lang: str) -> str:
    checked = record.status_checked_at or t("not checked")
    return "\n".join(
        [
            record.title(lang),
            f"{t('Issuer')}: {record.issuer_title(lang)}",
            f"{t('Valid until')}: {record.valid_until or '-'}",
            f"{t('Status')}: {t(record.status_result)} — {t('Status checked')}: {checked}",
        ]
    )


def card_prompt(text: str, *, current: bool) -> Text:
    """One card as a plain-text option (never markup). The highlighted card is also marked with ``>`` in
    its gutter, so which card is current does not depend on colour alone."""
    mark = ">" if current else " "
    lines = text.split("\n")
    return Text("\n".join([f"{mark} {lines[0]}", *(f"  {line}" for line in lines[1:])]) + "\n")


class ListScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "receive", "Receive"),
        Binding("p", "present", "Present"),
        Binding("h", "history", "History"),
        Binding("s", "refresh_status", "Status"),
        Binding("l", "lock", "Lock"),
        Binding("k", "passphrase", "Passphrase"),
        Binding("q", "app.quit", "Quit"),
    ]

    class Loaded(Message):
        def __init__(self, held: Credentials) -> None:
            super().__init__()
            self.held = held

    # Cards are options of one OptionList rather than one widget each: with 1,000 credentials a ListView
    # of 1,000 mounted widgets took 4.1 s to appear (benchmarks/bench_wallet.py); an OptionList renders
    # only the lines in view.

    def __init__(self) -> None:
        super().__init__()
        self.records: list[CredentialRecord] = []
        self._texts: list[str] = []
        self._marked: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.t("Credentials"), id="list-title")
        yield OptionList(id="cards")
        yield Static("", id="list-message", markup=False)
        yield Footer()

    def card(self, index: int) -> str:
        """The text of card ``index`` as shown (without the gutter mark)."""
        return self._texts[index]

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        self.post_message(self.Loaded(self.wallet.credentials()))

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        cards = self.query_one("#cards", OptionList)
        current = cards.highlighted
        self.records = list(message.held.records)
        self._texts = [card_text(r, self.t, self.lang) for r in self.records]
        self._marked = None
        cards.set_options(
            Option(card_prompt(text, current=False), id=r.id) for r, text in zip(self.records, self._texts, strict=True)
        )
        notes = []
        if not message.held.records:
            notes.append(self.t("No credentials yet. Press r to receive one."))
        if message.held.damaged:
            notes.append(self.t("Damaged records: {n}", n=len(message.held.damaged)))
        self.query_one("#list-message", Static).update("\n".join(notes))
        if self.records:
            cards.highlighted = min(current or 0, len(self.records) - 1)
        cards.focus()

    @on(OptionList.OptionHighlighted, "#cards")
    def mark(self, event: OptionList.OptionHighlighted) -> None:
        cards = self.query_one("#cards", OptionList)
        if self._marked is not None and self._marked < len(self._texts):
            cards.replace_option_prompt_at_index(self._marked, card_prompt(self._texts[self._marked], current=False))
        self._marked = event.option_index
        cards.replace_option_prompt_at_index(
            event.option_index, card_prompt(self._texts[event.option_index], current=True)
        )

    @on(OptionList.OptionSelected, "#cards")
    def open_detail(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(DetailScreen(self.records[event.option_index]))

    def action_receive(self) -> None:
        from wallet.ui.exchange import ReceiveScreen  # noqa: PLC0415

        self.app.push_screen(ReceiveScreen())

    def action_present(self) -> None:
        from wallet.ui.exchange import PresentScreen  # noqa: PLC0415

        self.app.push_screen(PresentScreen())

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen())

    def action_passphrase(self) -> None:
        from wallet.ui.tools import PassphraseScreen  # noqa: PLC0415

        self.app.push_screen(PassphraseScreen())

    def action_lock(self) -> None:
        self.app.lock()  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="status")
    def action_refresh_status(self) -> None:
        for record in self.wallet.credentials().records:
            try:
                self.client.refresh_status(record.id)
            except Exception:  # noqa: S112 - one unreachable list must not stop the others
                continue
        self.post_message(self.Loaded(self.wallet.credentials()))


class DetailScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("g", "show_qr", "QR summary"),
        Binding("f2", "show_qr", "QR summary", show=False),
    ]

    def __init__(self, record: CredentialRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        r, t = self.record, self.t
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(card_text(r, t, self.lang), markup=False, id="detail-card")
            yield Static(f"{t('Format')}: {r.format}   {t('Valid from')}: {r.valid_from or '-'}", markup=False)
            yield Static(t("Claims"), classes="section")
            for path in consent.leaf_paths(r.claims):
                label = r.display.label(path, self.lang)
                value = consent.value_text(consent.value_at(r, path))
                yield Static(f"{label}: {value}", markup=False, classes="claim")
        yield Footer()

    def action_show_qr(self) -> None:
        """A compact summary (type, issuer, validity, status; no claim values) as a QR code."""
        from wallet import qr  # noqa: PLC0415
        from wallet.ui.tools import QrScreen  # noqa: PLC0415

        code, _ = qr.for_summary(self.record, lang=self.lang)
        caption = self.t(
            "Summary of {title} (not a proof: it carries no signature)", title=self.record.title(self.lang)
        )
        self.app.push_screen(QrScreen(code, caption))


class HistoryScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export", "Export JSON"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.t("History"), id="history-title")
        yield DataTable(id="history", cursor_type="row", zebra_stripes=False)
        yield Static("", id="history-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#history", DataTable)
        t = self.t
        table.add_columns(t("When"), t("Event"), t("Who"), t("Claims"), t("Result"))
        entries, _ = self.wallet.history()
        for e in reversed(entries):
            table.add_row(*history_row(e, t))
        table.focus()

    def action_export(self) -> None:
        target = self.wallet.vault.path.parent / f"history-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        write_private(target, self.wallet.history_json())
        self.query_one("#history-message", Static).update(self.t("History exported to {path}", path=target))


def history_row(e: HistoryEntry, t: Translator) -> tuple[str, ...]:
    # DataTable cells given as str are markup in Textual; Text objects are not: wrap every value.
    from rich.text import Text  # noqa: PLC0415

    who = e.counterparty_name or e.counterparty
    cells = (e.at, t(e.event), who, ", ".join(e.claims) or "-", e.result)
    return tuple(Text(c) for c in cells)  # type: ignore[misc]


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (history holds personal data)."""
    import os  # noqa: PLC0415

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
