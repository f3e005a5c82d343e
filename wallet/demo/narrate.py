"""Plain-text narration of the demo, for an 80-column terminal or a log file.

No colour and no cursor tricks: outcomes are words (``ok``, ``FAIL``, ``--`` for skipped; ``send``,
``keep``), so the story reads the same in a pipe, a screen reader or a CI log. Prose is wrapped at 78
columns; links and identifiers are never broken, so they can be copied whole (a long one overflows its
line rather than being cut). Each step is printed as soon as it happened, and flushed, so someone
watching sees the story unfold and a failure shows right after the step that caused it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any, TextIO

from shared.dcql import format_path
from shared.errors import REASONS
from wallet import consent, qr
from wallet.demo.script import Step
from wallet.demo.services import Services
from wallet.demo.story import Offered, Presented, Received, Revoked, StatusChecked

WIDTH = 78
MARKS = {"passed": "ok  ", "failed": "FAIL", "skipped": "--  "}


def short(text: str, keep: int = 24) -> str:
    """A long identifier cut in the middle (for reading, never for copying: links are printed whole)."""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-8:]}"


class Narrator:
    def __init__(self, out: TextIO, *, show_qr: bool = True) -> None:
        self.out = out
        # one QR code is enough to show the idea; a second one would only push the story off the screen
        self.show_qr = show_qr and _can_draw(out)

    def say(self, text: str = "", indent: int = 0, hang: int = 0) -> None:
        """One paragraph, wrapped; ``hang`` indents the lines after the first a little more."""
        pad = " " * indent
        if not text:
            print(file=self.out)
            self.out.flush()
            return
        for line in text.splitlines():
            wrapped = textwrap.fill(
                line, WIDTH, initial_indent=pad, subsequent_indent=pad + " " * hang,
                break_long_words=False, break_on_hyphens=False,
            )  # fmt: skip
            print(wrapped, file=self.out)
        self.out.flush()

    def verbatim(self, text: str, indent: int = 0) -> None:
        """A link or a command, never wrapped: it must survive being copied."""
        print(" " * indent + text, file=self.out)
        self.out.flush()

    def field(self, name: str, value: str, indent: int = 3, width: int = 13) -> None:
        label = f"{name}:" if name else ""
        self.say(f"{label:<{width}} {value}", indent, hang=width + 1)

    # --- beginning and end ---------------------------------------------------------------------------

    def title(self) -> None:
        self.say("Tessera demo: a birth certificate goes from the civil registry to a parent's")
        self.say("wallet, then to a school and a shop; then the registry revokes it.")
        self.say("=" * WIDTH)

    def services(self, services: Services, wallet_path: str) -> None:
        assert services.issuer is not None and services.verifier is not None
        self.say()
        self.say(f"Running on 127.0.0.1, with throwaway databases under {services.workdir}:")
        self.field("Registry", f"{services.issuer.url} (the issuer, OpenID4VCI)")
        self.field("", f"DID {services.issuer.did}")
        self.field("Verifier", f"{services.verifier.url} (OpenID4VP; the school and the shop use it)")
        self.field("Wallet", f"{wallet_path} (a new, encrypted vault)")
        self.say(
            "The registry serves https with a certificate from a throwaway CA the wallet and verifier trust: "
            "the keys of an SD-JWT VC issuer are only ever fetched over https.",
            3,
        )

    def finished(self, seconds: float, *, interactive: bool = False) -> None:
        self.say()
        self.say("=" * WIDTH)
        if interactive:
            self.say("The demo is over: the services are stopped and the temporary files deleted.")
            return
        self.say(f"The story ran as expected ({seconds:.1f} s). The services are stopped and the temporary")
        self.say("files deleted. `tessera demo --interactive` keeps them running and opens the wallet app.")

    def failed(self, message: str) -> None:
        self.say()
        self.say("The story did not turn out as expected:")
        self.say(message, 3)

    # --- the steps -----------------------------------------------------------------------------------

    def step(self, step: Step) -> None:
        self.say()
        self.say(f"{step.number}. {step.title}", hang=3)
        self.say("-" * WIDTH)
        r = step.result
        if isinstance(r, Offered):
            self._offered(r)
        elif isinstance(r, Received):
            self._received(r)
        elif isinstance(r, Presented):
            self._presented(r)
        elif isinstance(r, Revoked):
            self.say(f"POST /admin/records/{r.offer.record_id}/revoke: {r.previous} -> {r.status}.", 3)
            self.say("The registry sets the credential's bit in its status list; the next check sees it.", 3)
        elif isinstance(r, StatusChecked):
            self.say(f"The wallet reads the registry's status list: {r.result}.", 3)
            self.say("It keeps the certificate and marks it so: the parent sees why the school refused it.", 3)

    def _offered(self, r: Offered) -> None:
        self.say(f"The clerk enters {r.who}'s details and makes an offer ({', '.join(r.formats)}).", 3)
        self.say("Offer link, for the wallet:", 3)
        self.verbatim(r.link, 5)
        if self.show_qr:
            self.show_qr = False
            self.say("The same link as a QR code, for a wallet on a phone:", 3)
            for line in qr.for_link(r.link).text().splitlines():
                print("   " + line, file=self.out)
        self.field("Code", f"{r.tx_code} (the clerk reads it out; it never travels with the link)")

    def _received(self, r: Received) -> None:
        c = r.credential
        self.say(f"The parent opens the link and types the code {r.offer.tx_code}.", 3)
        self.field("Stored", f"{c.title('en')} of {_person(c.claims)} ({c.format})")
        self.field("Issuer", f"{c.issuer_title('en')}, {c.issuer}")
        self.field(
            "Checked",
            "the issuer's signature (key from its JWT VC Issuer Metadata, over https); that the issuer is "
            "the one that made the offer; that it is bound to a new key of this wallet; its status list: "
            f"{c.status_result}",
        )
        self.field("Valid until", c.valid_until or "-")
        ages = sorted(format_path(p) for p in c.disclosable if str(p[-1]).startswith("age_over_"))
        self.field(
            "Claims",
            f"{len(c.disclosable)} the wallet can disclose one by one, among them {', '.join(ages)}: "
            "the registry computed these from the date of birth, so a yes/no can be shown without it",
        )

    def _presented(self, r: Presented) -> None:
        s, v = r.consent, r.verdict
        trust = "in the wallet's trust list" if s.trusted else "not in the wallet's trust list"
        self.say(f"The verifier makes a session for policy {r.session.policy!r}; the link it shows:", 3)
        self.verbatim(r.session.link, 5)
        self.say("The wallet fetches the signed request and shows the consent screen:", 3)
        did = s.client_id.removeprefix("decentralized_identifier:")
        self.field("Who asks", f"{s.verifier_name}, {short(did, 20)} ({trust})")
        self.field("Why", s.purpose or "(no purpose given)")
        held = "the only one held that answers" if s.candidates == 1 else f"chosen among {s.candidates} that answer"
        self.field("Credential", f"{s.credential_title} ({held})")
        self.say("Asked:", 3)
        for a in s.asked:
            state = "send" if a.sent else "keep"
            need = "required" if a.required else "optional"
            what = a.path if a.label == a.path else f"{a.label} ({a.path})"  # no label: the issuer gave none
            self.say(f"[{state}] {what}, {need}: {_value(a.value)}", 5, hang=7)
        self.field("Shared", ", ".join(s.shared) or "nothing")
        self.field("Withheld", ", ".join(s.withheld) or "nothing")
        if s.always_visible:
            self.field(
                "Always seen",
                ", ".join(s.always_visible) + " (sent every time: the issuer did not make it disclosable one by one)",
            )
        self._sent(r)
        self.say(f"The verifier's verdict: {v.status}" + (f" ({v.code})" if v.code and v.code != "ok" else ""), 3)
        if v.code in REASONS and v.status != "verified" and all(c.message != REASONS[v.code] for c in v.checks):
            self.say(f"Why: {REASONS[v.code]}", 3)  # when no check below says it in these words already
        for c in v.checks:
            self.say(f"[{MARKS.get(c.outcome, c.outcome)}] {c.name:<16} {c.message}", 5, hang=24)
        if v.claims:
            kept = "; ".join(f"{k}={_value(val)}" for k, val in _flat(v.claims))
            self.field("Kept", f"{kept} (what the policy asked for, until its retention ends)")

    def _sent(self, r: Presented) -> None:
        sent = r.sent
        if "vp_token" not in sent.form:
            self.field("Sent", f"error={sent.form.get('error')}: the person declined")
            return
        order = {a.path: i for i, a in enumerate(r.consent.asked)}
        names = sorted(sent.disclosed, key=lambda n: order.get(n, len(order)))
        audience = (sent.audience or "?").removeprefix("decentralized_identifier:")
        self.field(
            "Sent",
            f"an SD-JWT with {len(names)} Disclosure(s) ({', '.join(names)}) and a key binding JWT for "
            f"{short(audience, 20)} and nonce {short(sent.nonce or '?', 8)}; every other claim stays a "
            "digest the verifier cannot read",
        )


def _can_draw(out: TextIO) -> bool:
    """Whether the stream can print the QR code's block characters (not, say, an ASCII-only pipe)."""
    try:
        "█▀▄".encode(getattr(out, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _person(claims: Any) -> str:
    subject = claims.get("credentialSubject", claims)
    return f"{subject.get('givenName', '?')} {subject.get('familyName', '?')}"


def _value(value: Any) -> str:
    return consent.value_text(value)


def _flat(claims: Any) -> Iterable[tuple[str, Any]]:
    """The verifier's stored claims (``{query id: {claim: value}}``) as (claim path, value) pairs."""
    for values in claims.values():
        for path in consent.leaf_paths(values):
            node = values
            for part in path:
                node = node[part]
            yield ".".join(map(str, path)), node
