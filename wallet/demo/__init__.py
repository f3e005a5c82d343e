"""``tessera demo``: the whole of Tessera in one story, on real services, told from the holder's side.

The issuer and the verifier run as real processes on 127.0.0.1 (:mod:`wallet.demo.services`); a new
wallet receives and presents credentials through the wallet's own client (:mod:`wallet.demo.story`,
:mod:`wallet.demo.script`); :mod:`wallet.demo.narrate` tells what happened. The package lives in the
wallet because the story is the holder's, and outside ``shared/`` because it starts web services.

This module is imported by every ``tessera`` invocation (to register the command), so it imports nothing
heavy: the work is in :mod:`wallet.demo.command`, loaded when the command runs.
"""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from wallet.demo.command import run_demo  # noqa: PLC0415 - httpx, cryptography, Textual: only when run

    return run_demo(args)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the demonstration story on a local issuer, verifier and wallet",
        description="Start an issuer and a verifier on 127.0.0.1, then tell a story step by step: a birth "
        "certificate issued to a parent's wallet, shown to a school and (only 'over 18') to a shop, then "
        "revoked. Exits 0 when every step turned out as the story says.",
    )
    demo.add_argument(
        "--interactive",
        action="store_true",
        help="afterwards keep the services running and open the wallet app on the demo wallet",
    )
    demo.add_argument("--no-qr", action="store_true", help="do not draw QR codes in the terminal")
    demo.set_defaults(handler=_run)
