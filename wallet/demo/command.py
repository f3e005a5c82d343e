"""What ``tessera demo`` does: start the services, run the story, narrate it, clean up — always.

Everything the demo makes lives in one temporary directory (databases, keys, the wallet, logs) and every
process it starts is stopped before that directory is deleted: on success, on a failed step, on Ctrl-C,
and on SIGTERM/SIGHUP (turned into the same interruption, so the same ``finally`` blocks run).

``--interactive`` runs the story first (so the wallet holds credentials), then makes a fresh offer and
fresh presentation sessions, prints them with the wallet's path and passphrase, and opens the wallet app
(:mod:`wallet.ui`) on the demo wallet. The services stop when the app is closed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from wallet.demo.narrate import Narrator
from wallet.demo.script import run_story
from wallet.demo.services import DemoError, Services
from wallet.demo.story import PASSPHRASE, SCHOOL, SHOP, Story, child_claims

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, like Ctrl-C, so cleanup runs for them too."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, interrupt) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_demo(args: argparse.Namespace) -> int:
    if args.interactive and not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("tessera: error [malformed]: --interactive opens the wallet app: run it in a terminal", file=sys.stderr)
        return EXIT_USAGE
    narrator = Narrator(sys.stdout, show_qr=not args.no_qr)
    started = time.monotonic()
    narrator.title()
    with _signals_interrupt():
        try:
            with tempfile.TemporaryDirectory(prefix="tessera-demo-") as tmp:
                _run(Path(tmp), narrator, interactive=args.interactive)
        except DemoError as exc:
            narrator.failed(exc.message)
            first, *more = exc.message.splitlines()
            print(f"tessera: error [{exc.code}]: {first}" + (" (details above)" if more else ""), file=sys.stderr)
            return EXIT_FAILED
    narrator.finished(time.monotonic() - started, interactive=args.interactive)
    return EXIT_OK


def _run(workdir: Path, narrator: Narrator, *, interactive: bool) -> None:
    wallet_path = workdir / "wallet" / "wallet.db"
    with Services(workdir) as services:
        narrator.services(services, str(wallet_path))
        story = Story(services, wallet_path)
        try:
            run_story(story, narrator.step)
            if interactive:
                _show_links(story, narrator)
        finally:
            story.close()
        if interactive:
            _open_app(services, wallet_path, narrator)


def _show_links(story: Story, narrator: Narrator) -> None:
    """A fresh offer (a new certificate for Amara, replacing the revoked one) and fresh sessions."""
    services = story.services
    assert services.issuer is not None and services.verifier is not None and services.tls is not None
    offer = story.offer("Amara Okafor", child_claims())
    school, shop = story.start_session(SCHOOL), story.start_session(SHOP)
    say, field, verbatim = narrator.say, narrator.field, narrator.verbatim
    say()
    say("=" * 78)
    say("The services keep running. Try them in the wallet app, which opens next:")
    field("Wallet", str(story.wallet_path))
    field("Passphrase", PASSPHRASE)
    say(f"Receive: press r, paste this offer (a new certificate for Amara), then the code {offer.tx_code}:", 3)
    verbatim(offer.link, 5)
    say("Present: press p and paste a request; its verdict then shows at the view URL, in a browser:", 3)
    for name, session in (("The school (school-enrolment)", school), ("The shop (age-over-18)", shop)):
        say(name + ":", 5)
        verbatim(session.link, 5)
        verbatim(session.view_url, 5)
    say("Requests expire after 5 minutes. From another terminal, with the demo's CA trusted:", 3)
    verbatim(f"export SSL_CERT_FILE={services.tls.ca_file}", 5)
    verbatim(f"TESSERA_WALLET_PASSPHRASE='{PASSPHRASE}' tessera wallet --wallet {story.wallet_path} list", 5)
    verbatim(
        f"tessera verifier session create --url {services.verifier.url} --api-key {services.verifier.api_key} "
        f"--policy {SHOP}",
        5,
    )
    verbatim(
        f"tessera issuer offer create --url {services.issuer.url} --api-key {services.issuer.api_key} "
        "--type BirthCertificate --format dc+sd-jwt --claims FILE.json",
        5,
    )


def _open_app(services: Services, wallet_path: Path, narrator: Narrator) -> None:
    from wallet.i18n import detect_language  # noqa: PLC0415 - Textual only for --interactive
    from wallet.transport import Http  # noqa: PLC0415
    from wallet.ui.app import Settings, WalletApp  # noqa: PLC0415

    narrator.say()
    try:
        input("Press Enter to open the wallet app (q quits it; the services stop then) ")
    except EOFError:  # Ctrl-D: the same as Enter; leaving is Ctrl-C
        print(file=sys.stdout)
    with services.http_client() as client:  # the app's transport trusts the demo CA, like the story's did
        WalletApp(Settings(wallet_path, detect_language(), http=Http(client))).run()
    narrator.say("The wallet app is closed; stopping the services.")
