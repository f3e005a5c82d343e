"""Two small screens: a QR code (of a link or a credential summary) and changing the passphrase.

The QR screen has no header or footer so that as much of the code as possible fits the terminal; the
payload is also printed as text under the code (for screen readers, and for copying), and the screen
says so when the code is taller than the terminal. Escape goes back.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static

from wallet.qr import Code
from wallet.ui.app import error_line
from wallet.ui.screens import WalletScreen


class QrScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("i", "invert", "Invert"),
    ]

    def __init__(self, code: Code, caption: str) -> None:
        super().__init__()
        self.code, self.caption, self.inverted = code, caption, False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="qr-scroll"):
            yield Static(self.code.text(), id="qr", markup=False)
            yield Static(self._caption(), id="qr-caption", markup=False)

    def _caption(self) -> str:
        lines = [self.caption, self.code.payload]
        if self.code.lines > self.app.size.height - 1:
            lines.append(self.t("The code is taller than the screen: enlarge the terminal or scroll."))
        lines.append(self.t("Escape: back · i: invert colours"))
        return "\n".join(lines)

    def action_invert(self) -> None:
        self.inverted = not self.inverted
        self.query_one("#qr", Static).update(self.code.text(invert=self.inverted))


class PassphraseScreen(WalletScreen):
    """Current passphrase, new one, the new one again; Enter moves on, the last Enter changes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    class Done(Message):
        def __init__(self, error: str = "") -> None:
            super().__init__()
            self.error = error

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Vertical(id="passphrase-form"):
            yield Label(t("Change passphrase"), id="passphrase-title")
            yield Label(t("Current passphrase"))
            yield Input(password=True, id="old-passphrase")
            yield Label(t("New passphrase"))
            yield Input(password=True, id="new-passphrase")
            yield Label(t("New passphrase again"))
            yield Input(password=True, id="repeat-passphrase")
            yield Static("", id="passphrase-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#old-passphrase", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#passphrase-message", Static).update(text)

    @on(Input.Submitted, "#old-passphrase")
    def next_new(self) -> None:
        self.query_one("#new-passphrase", Input).focus()

    @on(Input.Submitted, "#new-passphrase")
    def next_repeat(self) -> None:
        self.query_one("#repeat-passphrase", Input).focus()

    @on(Input.Submitted, "#repeat-passphrase")
    def submit(self) -> None:
        old = self.query_one("#old-passphrase", Input).value
        new = self.query_one("#new-passphrase", Input).value
        if new != self.query_one("#repeat-passphrase", Input).value:
            self._say(self.t("The two new passphrases differ."))
            self.query_one("#new-passphrase", Input).focus()
            return
        self._say(self.t("Working…"))
        self.change(old, new)

    @work(thread=True, exclusive=True)
    def change(self, old: str, new: str) -> None:
        try:
            self.wallet.vault.change_passphrase(old, new)
            self.post_message(self.Done())
        except Exception as exc:  # one line; the person can correct and retry
            self.post_message(self.Done(error_line(exc)))

    @on(Done)
    def done(self, message: Done) -> None:
        for field in self.query(Input).results(Input):
            field.value = ""
        if message.error:
            self._say(message.error)
            self.query_one("#old-passphrase", Input).focus()
            return
        self.app.notify(self.t("Passphrase changed."))
        self.app.pop_screen()
