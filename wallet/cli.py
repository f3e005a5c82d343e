"""``tessera wallet …``: headless commands over the same core as the Textual app.

``tessera wallet`` alone opens the app. The passphrase comes from ``TESSERA_WALLET_PASSPHRASE`` or a
prompt (never an argument: arguments are visible to other users in the process list). Errors are one line
with a reason code; exit codes follow :mod:`shared.cli`: 0 success, 1 refused or declined, 2 usage or input.

Besides the exchanges: ``qr LINK`` shows an offer or request link as a QR code in the terminal (or
writes ``--svg``/``--png``), ``qr --credential ID [--reveal PATH…]`` a compact credential summary
(CBOR + zlib + Base45, :mod:`wallet.qr`), ``qr --decode TEXT`` reads such a summary back;
``trust list | add CLIENT_ID [--name] | remove CLIENT_ID`` manages the verifier trust list kept in the
vault; ``passphrase`` changes the passphrase (the new one from ``TESSERA_WALLET_NEW_PASSPHRASE`` or a
prompt asked twice); ``receive --copies N`` asks for N copies of each credential (batch issuance, one
holder key per copy, at most the issuer's ``batch_size``).

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
NEW_PASSPHRASE_ENV = "TESSERA_WALLET_NEW_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


def _path(args: argparse.Namespace) -> Path:
    return Path(args.wallet) if args.wallet else default_path()


def _passphrase(prompt: str, *, confirm: bool = False, env: str = PASSPHRASE_ENV) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise TesseraError(f"no passphrase: set {env} or run in a terminal", code="wrong_passphrase")
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
    records = client.receive(issuance, tx_code=tx_code, copies=args.copies)
    if args.copies > 1 and len(records) < args.copies * len(issuance.offer.configuration_ids):
        print(args.t("The issuer gives at most {n} copies at once.", n=len(records)), file=sys.stderr)
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


def cmd_qr(args: argparse.Namespace) -> int:
    from wallet import qr  # noqa: PLC0415

    if args.decode is not None:
        for label, text in qr.describe(qr.decode_summary(args.decode)):
            print(f"{label}: {text}")
        return EXIT_OK
    if args.credential is not None:
        if args.link is not None:
            raise TesseraError("give a link or --credential, not both", code="malformed")
        record = _open(args).find(args.credential)
        paths = _reveal_paths(record, args.reveal or ())
        code, _ = qr.for_summary(record, lang=args.lang, claims=paths)
        caption = args.t("Summary of {title} (not a proof: it carries no signature)", title=record.title(args.lang))
    elif args.link is not None:
        code = qr.for_link(args.link)
        caption = {
            "offer": args.t("Credential offer"),
            "request": args.t("Presentation request"),
            "link": args.t("Link"),
        }[code.kind]
    else:
        raise TesseraError("give a link to show, --credential ID, or --decode TEXT", code="malformed")
    if args.svg:
        Path(args.svg).write_text(code.svg(caption), encoding="utf-8")
    if args.png:
        Path(args.png).write_bytes(code.png())
    if not (args.svg or args.png):
        sys.stdout.write(code.text(invert=args.invert))
    print(caption)
    print(code.payload)
    return EXIT_OK


def _reveal_paths(record: Any, names: Any) -> list[tuple[Any, ...]]:
    """Leaf claim paths named (as printed by ``show``, or a parent of them) for a summary."""
    from shared.dcql import format_path  # noqa: PLC0415

    leaves = consent.leaf_paths(record.claims)
    chosen: list[tuple[Any, ...]] = []
    for name in names:
        found = [p for p in leaves if (f := format_path(p)) == name or f.startswith((f"{name}.", f"{name}["))]
        if not found:
            raise TesseraError(f"the credential has no claim {name!r}", code="not_found")
        chosen += [p for p in found if p not in chosen]
    return chosen


def cmd_trust(args: argparse.Namespace) -> int:
    wallet = _open(args)
    if args.trust_command == "add":
        wallet.trust(args.client_id, args.name or "")
        print(args.t("Trusted: {id}", id=args.client_id))
    elif args.trust_command == "remove":
        if not wallet.distrust(args.client_id):
            raise TesseraError(f"{args.client_id!r} is not in the trust list", code="not_found")
        print(args.t("Removed from the trust list: {id}", id=args.client_id))
    else:
        entries = wallet.trust_list()
        for client_id, name in entries.items():
            print(f"{client_id}\t{name}")
        if not entries:
            print(args.t("The trust list is empty."))
    return EXIT_OK


def cmd_passphrase(args: argparse.Namespace) -> int:
    vault = Vault.open(_path(args))
    try:
        old = _passphrase("Current passphrase: ")
        vault.unlock(old)  # says wrong_passphrase before asking for the new one
        new = _passphrase("New passphrase: ", confirm=True, env=NEW_PASSPHRASE_ENV)
        vault.change_passphrase(old, new)
    finally:
        vault.close()
    print(args.t("Passphrase changed."))
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    from wallet.ui.app import run  # noqa: PLC0415 - Textual only for the app

    return run(_path(args), lang=args.lang)


def _copies(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("copies is 1 to 100")
    return value


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
    p.add_argument("--copies", type=_copies, default=1, help="copies of each credential, one key each (batch)")
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
    p = sub.add_parser("qr", help="show an offer/request link or a credential summary as a QR code")
    p.add_argument("link", nargs="?", help="openid-credential-offer://, openid4vp:// or https link")
    p.add_argument("--credential", metavar="ID", help="a compact summary of this credential instead")
    p.add_argument("--reveal", nargs="*", metavar="PATH", help="claims to put in the summary (none by default)")
    p.add_argument("--decode", metavar="TEXT", help="read a summary payload (TSR1:…) back")
    p.add_argument("--svg", metavar="FILE", help="write an SVG file instead of printing")
    p.add_argument("--png", metavar="FILE", help="write a PNG file instead of printing")
    p.add_argument("--invert", action="store_true", help="for dark text on a light terminal")
    p.set_defaults(handler=_handler(cmd_qr))
    p = sub.add_parser("trust", help="the verifiers you trust (shown on the consent screen)")
    trust = p.add_subparsers(dest="trust_command", metavar="ACTION")
    trust.add_parser("list", help="list trusted verifiers")
    q = trust.add_parser("add", help="trust a verifier by its client_id")
    q.add_argument("client_id")
    q.add_argument("--name", help="a name for it")
    q = trust.add_parser("remove", help="stop trusting a verifier")
    q.add_argument("client_id")
    p.set_defaults(handler=_handler(cmd_trust))
    sub.add_parser("passphrase", help="change the wallet passphrase").set_defaults(handler=_handler(cmd_passphrase))
    p = sub.add_parser("restore", help="merge an encrypted backup into the wallet (creating it if needed)")
    p.add_argument("file")
    p.set_defaults(handler=_handler(cmd_restore))
