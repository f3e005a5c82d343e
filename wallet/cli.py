"""``tessera wallet …``: headless commands over the same core as the Textual app.

``tessera wallet`` alone opens the app. The passphrase comes from ``TESSERA_WALLET_PASSPHRASE`` or a
prompt (never an argument: arguments are visible to other users in the process list). Errors are one line
with a reason code; exit codes follow :mod:`shared.cli`: 0 success, 1 refused or declined, 2 usage or input.

``present`` is private by default: without ``--reveal`` only the claims the verifier requires are sent;
each ``--reveal PATH`` (a dotted claim path as printed) adds one optional claim. Without ``--yes`` the
consent summary is printed and the answer read from the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from shared.errors import TesseraError
from wallet import consent
from wallet.i18n import Translator, detect_language
from wallet.vault import Vault, VaultError, default_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PASSPHRASE_ENV = "TESSERA_WALLET_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


def _path(args: argparse.Namespace) -> Path:
    return Path(args.wallet) if args.wallet else default_path()


def _passphrase(prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise TesseraError(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal", code="wrong_passphrase")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != first:
        raise TesseraError("the two passphrases differ", code="wrong_passphrase")
    return first


def _open(args: argparse.Namespace) -> Any:
    from wallet.core import Wallet  # noqa: PLC0415 - keeps `tessera --help` light

    vault = Vault.open(_path(args))
    vault.unlock(_passphrase("Wallet passphrase: "))
    return Wallet(vault)


def _client(wallet: Any) -> Any:
    from wallet.client import Client  # noqa: PLC0415 - httpx only for network commands

    return Client(wallet)


def cmd_init(args: argparse.Namespace) -> int:
    vault = Vault.create(_path(args), _passphrase("New wallet passphrase: ", confirm=True))
    vault.close()
    print(args.t("Wallet created at {path}", path=_path(args)))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    wallet = _open(args)
    held = wallet.credentials()
    for r in held.records:
        status = r.status_result + (f" ({r.status_checked_at})" if r.status_checked_at else "")
        until = r.valid_until or "-"
        print(f"{r.id}\t{r.title(args.lang)}\t{r.issuer_title(args.lang)}\t{until}\t{status}")
    for d in held.damaged:
        print(args.t("{id}\tdamaged: {message}", id=d.id, message=d.message), file=sys.stderr)
    if not held.records and not held.damaged:
        print(args.t("The wallet is empty."))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    wallet = _open(args)
    r = wallet.find(args.id)
    print(f"{r.title(args.lang)} — {r.issuer_title(args.lang)}")
    print(f"{args.t('Format')}: {r.format}   {args.t('Valid until')}: {r.valid_until or '-'}")
    print(f"{args.t('Status')}: {r.status_result} ({r.status_checked_at or args.t('never checked')})")
    for path in consent.leaf_paths(r.claims):
        print(f"  {r.display.label(path, args.lang)}: {consent.value_text(consent.value_at(r, path))}")
    return EXIT_OK


def cmd_receive(args: argparse.Namespace) -> int:
    client = _client(_open(args))
    issuance = client.start_issuance(args.link)
    tx_code = args.tx_code
    if issuance.offer.needs_tx_code and not tx_code:
        if not sys.stdin.isatty():
            raise TesseraError("this offer needs a transaction code: pass --tx-code", code="invalid_tx_code")
        tx_code = getpass.getpass(args.t("Transaction code: "))
    records = client.receive(issuance, tx_code=tx_code)
    for r in records:
        print(args.t("Received {title} from {issuer} ({id})", title=r.title(args.lang), issuer=r.issuer, id=r.id))
    return EXIT_OK


def _summary(pending: Any, t: Translator, lang: str) -> list[str]:
    v = pending.verifier
    trust = t("trusted") if v.trusted else t("NOT in your trust list")
    lines = [t("Who asks: {name} {id} — {trust}", name=v.name or "", id=v.client_id, trust=trust)]
    lines.append(t("Why: {purpose}", purpose=v.purpose or t("(no purpose given)")))
    for q in pending.plan.queries:
        if not q.included:
            continue
        lines.append(t("Credential: {title} ({id})", title=q.record.title(lang), id=q.record.id))
        for c in q.claims:
            mark = t("required") if c.required else t("optional")
            state = t("send") if c.selected else t("withhold")
            lines.append(f"  [{state}] {c.name} ({mark}): {consent.value_text(c.value)}")
        withheld = [p for p in q.withheld()]
        if withheld:
            lines.append("  " + t("Withheld: {claims}", claims=", ".join(".".join(map(str, p)) for p in withheld)))
    return lines


def cmd_present(args: argparse.Namespace) -> int:
    client = _client(_open(args))
    pending = client.open_request(args.link, lang=args.lang)
    if pending.plan.unanswerable:
        ids = ", ".join(pending.plan.unanswerable)
        raise TesseraError(f"the wallet holds no credential for: {ids}", code="no_matching_credential")
    reveal = set(args.reveal or ())
    plan = pending.plan
    for q in plan.queries:  # private by default: optional claims only when named
        for c in q.claims:
            if not c.required and c.name not in reveal:
                plan = consent.toggle_claim(plan, q.query.id, c.path)
    pending.plan = plan
    for line in _summary(pending, args.t, args.lang):
        print(line)
    if args.decline:
        client.decline(pending)
        print(args.t("Declined; the verifier was told."))
        return EXIT_FAILED
    if not args.yes:
        if not sys.stdin.isatty():
            raise TesseraError("not sending without consent: pass --yes or run in a terminal", code="malformed")
        if input(args.t("Send these claims? [y/N] ")).strip().lower() not in ("y", "yes", "o", "oui"):
            client.decline(pending)
            print(args.t("Declined; the verifier was told."))
            return EXIT_FAILED
    answer = client.send(pending)
    print(args.t("Sent."))
    if isinstance(answer.get("redirect_uri"), str):
        print(answer["redirect_uri"])
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    wallet = _open(args)
    if args.json:
        print(wallet.history_json())
        return EXIT_OK
    entries, damaged = wallet.history()
    for e in entries:
        who = e.counterparty_name or e.counterparty
        print(f"{e.at}\t{e.event}\t{who}\t{e.result}\t{', '.join(e.claims)}")
    for d in damaged:
        print(args.t("{id}\tdamaged: {message}", id=d.id, message=d.message), file=sys.stderr)
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from wallet.backup import export_backup  # noqa: PLC0415

    wallet = _open(args)
    report = export_backup(wallet.vault, Path(args.file), _passphrase("Wallet passphrase: "))
    print(args.t("Backed up {n} records and {h} history entries", n=report.records, h=report.history))
    if report.left_out:
        print(args.t("Left out (damaged): {ids}", ids=", ".join(report.left_out)), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from wallet.backup import import_backup, read_backup  # noqa: PLC0415

    passphrase = _passphrase("Passphrase: ")
    path = _path(args)
    read_backup(Path(args.file), passphrase)  # check it opens before creating anything
    try:
        vault = Vault.open(path)
        vault.unlock(passphrase)
    except VaultError as exc:
        if exc.code != "vault_not_found":
            raise
        vault = Vault.create(path, passphrase)
    report = import_backup(vault, Path(args.file), passphrase)
    vault.close()
    print(
        args.t(
            "Restored {n} records ({s} already present), {h} history entries",
            n=report.added,
            s=report.skipped,
            h=report.history_added,
        )
    )
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    from wallet.ui.app import run  # noqa: PLC0415 - Textual only for the app

    return run(_path(args), lang=args.lang)


def _handler(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        args.lang = args.lang or detect_language()
        args.t = Translator(args.lang)
        return int(fn(args))

    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wallet = subparsers.add_parser("wallet", help="hold and present credentials (opens the app without a command)")
    wallet.add_argument("--wallet", metavar="FILE", help="vault file (default: $TESSERA_WALLET_DIR/wallet.db)")
    wallet.add_argument("--lang", help="language for labels and messages (en, fr)")
    wallet.set_defaults(handler=_handler(cmd_tui))
    sub = wallet.add_subparsers(dest="wallet_command", metavar="COMMAND")
    sub.add_parser("init", help="create an empty wallet").set_defaults(handler=_handler(cmd_init))
    sub.add_parser("list", help="list held credentials").set_defaults(handler=_handler(cmd_list))
    p = sub.add_parser("show", help="show one credential's claims")
    p.add_argument("id")
    p.set_defaults(handler=_handler(cmd_show))
    p = sub.add_parser("receive", help="receive credentials from an OpenID4VCI offer")
    p.add_argument("link", help="openid-credential-offer:// link, https offer URL, or offer JSON")
    p.add_argument("--tx-code", help="the transaction code the issuer gave you separately")
    p.set_defaults(handler=_handler(cmd_receive))
    p = sub.add_parser("present", help="answer an OpenID4VP request")
    p.add_argument("link", help="openid4vp:// link")
    p.add_argument("--reveal", nargs="*", metavar="PATH", help="optional claims to send (dotted paths)")
    p.add_argument("--yes", action="store_true", help="send without asking")
    p.add_argument("--decline", action="store_true", help="refuse; the verifier is told access_denied")
    p.set_defaults(handler=_handler(cmd_present))
    p = sub.add_parser("history", help="every receipt and presentation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_handler(cmd_history))
    p = sub.add_parser("backup", help="write an encrypted backup file")
    p.add_argument("file")
    p.set_defaults(handler=_handler(cmd_backup))
    p = sub.add_parser("restore", help="merge an encrypted backup into the wallet (creating it if needed)")
    p.add_argument("file")
    p.set_defaults(handler=_handler(cmd_restore))
