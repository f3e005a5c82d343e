"""The Textual wallet app: unlock, then the credential list and the exchanges reachable from it.

Shell only: every decision is in :mod:`wallet.core`, :mod:`wallet.consent` and :mod:`wallet.client`.
Slow work (Argon2id, HTTP, signing) runs in thread workers; results come back as messages, so the
screen never freezes. Everything is reachable by keyboard; words come from :mod:`wallet.i18n`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static

from shared.errors import TesseraError
from wallet.client import Client
from wallet.core import Wallet
from wallet.i18n import Translator, detect_language
from wallet.transport import Http
from wallet.vault import KdfParams, Vault


def error_line(exc: BaseException) -> str:
    """One line for people, with the reason code; never a traceback."""
    if isinstance(exc, TesseraError):
        return f"{exc.message} [{exc.code}]"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Settings:
    path: Path
    lang: str = "en"
    http: Http | None = None
    kdf: KdfParams | None = None
    wallet_options: dict[str, Any] | None = None


class UnlockScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit")]

    class Done(Message):
        def __init__(self, wallet: Wallet | None, error: str = "") -> None:
            super().__init__()
            self.wallet, self.error = wallet, error

    def compose(self) -> ComposeResult:
        t = self.app_t
        creating = not self.settings.path.exists()
        yield Header()
        with Vertical(id="unlock"):
            yield Label(t("Create a wallet") if creating else t("Tessera wallet"), id="unlock-title")
            yield Label(t("Passphrase"))
            yield Input(password=True, id="passphrase")
            yield Static("", id="unlock-message", markup=False)
        yield Footer()

    @property
    def app_t(self) -> Translator:
        return self.app.t  # type: ignore[attr-defined, no-any-return]

    @property
    def settings(self) -> Settings:
        return self.app.settings  # type: ignore[attr-defined, no-any-return]

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        self.query_one("#unlock-message", Static).update(self.app_t("Unlocking…"))
        event.input.disabled = True
        self.open_vault(event.value)

    @work(thread=True, exclusive=True)
    def open_vault(self, passphrase: str) -> None:
        s = self.settings
        try:
            if s.path.exists():
                vault = Vault.open(s.path)
                vault.unlock(passphrase)
            else:
                vault = Vault.create(s.path, passphrase, kdf=s.kdf)
            self.post_message(self.Done(Wallet(vault, **(s.wallet_options or {}))))
        except Exception as exc:  # shown as one line; the person can try again
            self.post_message(self.Done(None, error_line(exc)))

    @on(Done)
    def done(self, message: Done) -> None:
        if message.wallet is None:
            self.query_one("#unlock-message", Static).update(message.error)
            field = self.query_one("#passphrase", Input)
            field.disabled = False
            field.value = ""
            field.focus()
            return
        self.app.unlocked(message.wallet)  # type: ignore[attr-defined]


class WalletApp(App[None]):
    CSS_PATH = "wallet.tcss"
    TITLE = "Tessera"
    # The command palette's own strings are not translatable, and its "^p palette" footer entry pushed
    # the list screen's last key (q Quit) off an 80-column footer (seen in the list snapshot).
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.t = Translator(settings.lang)
        self.wallet: Wallet | None = None
        self.client: Client | None = None
        self.sent: list[dict[str, Any]] = []  # what left the wallet in this session (for people and tests)

    def on_mount(self) -> None:
        self.title = self.t("Tessera wallet")
        self.push_screen(UnlockScreen())

    def unlocked(self, wallet: Wallet) -> None:
        from wallet.ui.screens import ListScreen  # noqa: PLC0415 - avoids an import cycle

        self.wallet = wallet
        self.client = Client(wallet, self.settings.http or Http())
        self.switch_screen(ListScreen())

    def lock(self) -> None:
        if self.wallet is not None:
            self.wallet.vault.close()
        self.wallet = self.client = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(UnlockScreen())


def run(path: Path, *, lang: str | None = None) -> int:
    WalletApp(Settings(path, lang or detect_language())).run()
    return 0
