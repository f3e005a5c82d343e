"""Screens for exchanges: receive (OpenID4VCI offer + tx_code), present (OpenID4VP request) and consent.

The consent screen says who asks (name, client id, whether the wallet trusts it), why (purpose), each
requested claim with its value and whether it is required or optional, which credential answers when
several match, and what will be withheld. Optional claims are toggled with space; nothing is sent until
the person presses ``y`` (send); ``d`` or escape declines and the verifier is told ``access_denied``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, ListItem, ListView, Static

from shared.dcql import ClaimPath, format_path
from shared.errors import TesseraError
from wallet import consent
from wallet.client import Issuance, PresentationRequest
from wallet.ui.app import error_line
from wallet.ui.screens import WalletScreen


class Outcome(Message):
    """A worker's result: a value, or one line describing what went wrong."""

    def __init__(self, kind: str, value: Any = None, error: str = "") -> None:
        super().__init__()
        self.kind, self.value, self.error = kind, value, error


def show_link_qr(screen: WalletScreen, link: str, say: Any) -> None:
    """Push the QR screen for ``link``, or say in one line why it cannot be shown."""
    from wallet import qr  # noqa: PLC0415
    from wallet.ui.tools import QrScreen  # noqa: PLC0415

    try:
        code = qr.for_link(link)
    except TesseraError as exc:
        say(error_line(exc))
        return
    t = screen.t
    caption = {"offer": t("Credential offer"), "request": t("Presentation request"), "link": t("Link")}[code.kind]
    screen.app.push_screen(QrScreen(code, caption))


class ReceiveScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f2", "show_qr", "Show QR"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.issuance: Issuance | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="receive"):
            yield Label(t("Offer link"))
            yield Input(placeholder=t("Paste an openid-credential-offer:// link"), id="offer-link")
            yield Label(t("Transaction code (if the issuer gave you one)"))
            yield Input(id="tx-code")
            yield Static("", id="receive-message", markup=False)
        yield Footer()

    def _say(self, text: str) -> None:
        self.query_one("#receive-message", Static).update(text)

    def action_show_qr(self) -> None:
        show_link_qr(self, self.query_one("#offer-link", Input).value, self._say)

    @on(Input.Submitted, "#offer-link")
    def fetch(self, event: Input.Submitted) -> None:
        self._say(self.t("Working…"))
        self.start(event.value)

    @work(thread=True, exclusive=True)
    def start(self, link: str) -> None:
        try:
            self.post_message(Outcome("offer", self.client.start_issuance(link)))
        except Exception as exc:
            self.post_message(Outcome("offer", error=error_line(exc)))

    @on(Input.Submitted, "#tx-code")
    def accept(self, event: Input.Submitted) -> None:
        if self.issuance is None:
            self.query_one("#offer-link", Input).focus()
            return
        self._say(self.t("Working…"))
        self.redeem(self.issuance, event.value.strip() or None)

    @work(thread=True, exclusive=True)
    def redeem(self, issuance: Issuance, tx_code: str | None) -> None:
        try:
            self.post_message(Outcome("received", self.client.receive(issuance, tx_code=tx_code)))
        except Exception as exc:
            self.post_message(Outcome("received", error=error_line(exc)))

    @on(Outcome)
    def outcome(self, message: Outcome) -> None:
        if message.error:
            self._say(message.error)
            return
        if message.kind == "offer":
            self.issuance = issuance = message.value
            what = ", ".join(
                consent.value_text(issuance.configuration(c).get("format", c)) for c in issuance.offer.configuration_ids
            )
            lines = [self.t("{issuer} offers: {what}", issuer=issuance.issuer_name(self.lang), what=what)]
            if issuance.offer.needs_tx_code:
                lines.append(self.t("This offer needs a transaction code."))
            self._say("\n".join(lines))
            self.query_one("#tx-code", Input).focus()
        else:
            self.app.notify(self.t("Received {n} credential(s).", n=len(message.value)))
            self.app.pop_screen()


class PresentScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f2", "show_qr", "Show QR"),
    ]

    def action_show_qr(self) -> None:
        message = self.query_one("#present-message", Static)
        show_link_qr(self, self.query_one("#request-link", Input).value, message.update)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="present"):
            yield Label(self.t("Request link"))
            yield Input(placeholder=self.t("Paste an openid4vp:// link"), id="request-link")
            yield Static("", id="present-message", markup=False)
        yield Footer()

    @on(Input.Submitted, "#request-link")
    def open_request(self, event: Input.Submitted) -> None:
        self.query_one("#present-message", Static).update(self.t("Working…"))
        self.fetch(event.value)

    @work(thread=True, exclusive=True)
    def fetch(self, link: str) -> None:
        try:
            self.post_message(Outcome("request", self.client.open_request(link, lang=self.lang)))
        except Exception as exc:
            self.post_message(Outcome("request", error=error_line(exc)))

    @on(Outcome)
    def outcome(self, message: Outcome) -> None:
        if message.error:
            self.query_one("#present-message", Static).update(message.error)
            return
        self.app.switch_screen(ConsentScreen(message.value))


class ClaimItem(ListItem):
    def __init__(self, query_id: str, claim: consent.ClaimChoice, text: str) -> None:
        super().__init__(Static(text, markup=False))
        self.query_id, self.path = query_id, claim.path


class ConsentScreen(WalletScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_claim", "Toggle claim"),
        Binding("c", "other_credential", "Other credential"),
        Binding("y", "send", "Send"),
        Binding("d", "decline", "Decline"),
        Binding("escape", "decline", "Decline", show=False),
    ]

    def __init__(self, pending: PresentationRequest) -> None:
        super().__init__()
        self.pending = pending
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="consent"):
            yield Static("", id="who", markup=False)
            yield ListView(id="claims")
            yield Static("", id="withheld", markup=False)
            yield Static("", id="consent-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()

    def _who(self) -> str:
        t, v = self.t, self.pending.verifier
        trust = t("In your trust list") if v.trusted else t("NOT in your trust list — be careful")
        lines = [f"{t('Who asks')}: {v.name or v.client_id}", v.client_id, trust]
        lines.append(f"{t('Why')}: {v.purpose or t('(no purpose given)')}")
        plan = self.pending.plan
        if plan.unanswerable:
            lines.append(t("The wallet holds nothing that answers: {ids}", ids=", ".join(plan.unanswerable)))
        return "\n".join(lines)

    def _claim_text(self, q: consent.QueryChoice, c: consent.ClaimChoice) -> str:
        t = self.t
        state = t("[x] send") if c.selected else t("[ ] withhold")
        need = t("(required)") if c.required else t("(optional)")
        label = q.record.display.label(c.path, self.lang)
        return f"{state} {label} {need}: {consent.value_text(c.value)}"

    def _paths_text(self, q: consent.QueryChoice, paths: tuple[ClaimPath, ...]) -> str:
        return ", ".join(q.record.display.label(p, self.lang) for p in paths)

    def refresh_view(self) -> None:
        t, plan = self.t, self.pending.plan
        self.query_one("#who", Static).update(self._who())
        items: list[ListItem] = []
        notes: list[str] = []
        for q in plan.queries:
            header = f"{t('Credential: {title} ({id})', title=q.record.title(self.lang), id=q.record.id)}"
            if len(q.candidates) > 1:
                header += "\n" + t(
                    "Several credentials match; press c to use another ({i} of {n}).",
                    i=q.chosen + 1,
                    n=len(q.candidates),
                )
            items.append(ListItem(Static(header, markup=False), disabled=True))
            items.extend(ClaimItem(q.query.id, c, self._claim_text(q, c)) for c in q.claims)
            withheld = q.withheld()
            notes.append(
                f"{t('Will be withheld')}: {self._paths_text(q, withheld)}"
                if withheld
                else t("Nothing will be withheld.")
            )
            visible = q.always_visible()
            if visible and q.record.format != "ldp_vc":
                notes.append(f"{t('Also shared (always part of this credential)')}: {self._paths_text(q, visible)}")
        view = self.query_one("#claims", ListView)
        index = view.index
        view.clear()
        view.extend(items)
        if index is not None:
            view.index = index
        elif len(items) > 1:
            view.index = 1
        self.query_one("#withheld", Static).update("\n".join(notes))
        view.focus()

    def _say(self, text: str) -> None:
        self.query_one("#consent-message", Static).update(text)

    def action_toggle_claim(self) -> None:
        item = self.query_one("#claims", ListView).highlighted_child
        if not isinstance(item, ClaimItem):
            return
        try:
            self.pending.plan = consent.toggle_claim(self.pending.plan, item.query_id, item.path)
            self._say("")
        except TesseraError as exc:
            self._say(error_line(exc))
        self.refresh_view()

    def action_other_credential(self) -> None:
        item = self.query_one("#claims", ListView).highlighted_child
        plan = self.pending.plan
        query_id = (
            item.query_id if isinstance(item, ClaimItem) else (plan.queries[0].query.id if plan.queries else None)
        )
        if query_id is None:
            return
        q = plan.choice(query_id)
        self.pending.plan = consent.choose_credential(plan, query_id, (q.chosen + 1) % len(q.candidates))
        self.refresh_view()

    def action_send(self) -> None:
        if self.busy or not self.pending.plan.can_send:
            return
        self.busy = True
        self._say(self.t("Working…"))
        self.exchange("sent")

    def action_decline(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.exchange("declined")

    @work(thread=True, exclusive=True)
    def exchange(self, kind: str) -> None:
        try:
            if kind == "sent":
                self.client.send(self.pending)
            else:
                self.client.decline(self.pending)
            self.post_message(Outcome(kind))
        except Exception as exc:
            self.post_message(Outcome(kind, error=error_line(exc)))

    @on(Outcome)
    def outcome(self, message: Outcome) -> None:
        self.busy = False
        who = self.pending.verifier.name or self.pending.verifier.client_id
        if message.error:
            self._say(message.error)
            return
        if message.kind == "sent":
            plan = self.pending.plan
            claims = [format_path(p) for q in plan.queries if q.included for p in q.selected_paths]
            self.app.sent.append({"verifier": self.pending.verifier.client_id, "claims": claims})  # type: ignore[attr-defined]
        text = (
            self.t("Sent to {who}.", who=who)
            if message.kind == "sent"
            else self.t("Declined. {who} was told.", who=who)
        )
        self.app.notify(text)
        self.app.pop_screen()
