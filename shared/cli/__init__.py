"""The ``tessera`` command.

This package is the one imperative corner of ``shared/``: it reads files and standard input,
prints, and sets exit codes. Every decision is made by the pure core it calls. Service and wallet
commands live with their parts (``issuer.cli``, ``verifier.cli``, ``wallet.cli``) and are imported
only when present, so ``tessera credential verify`` needs no web or UI library.

Exit codes: 0 success (or verified), 1 a well-formed input that failed (not verified), 2 usage or
input errors. Errors are one line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from shared.cli import credential, keys
from shared.errors import TesseraError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]

# Command groups outside shared/: (module, attribute). A group whose module cannot be imported is left out.
_PART_COMMANDS = (
    ("issuer.cli", "register"),
    ("verifier.cli", "register"),
    ("wallet.cli", "register"),
    ("wallet.demo", "register"),
)


class _Register(Protocol):
    def __call__(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"tessera: error [usage]: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tessera", description="Verifiable credentials on open standards.")
    # Typed as plain ArgumentParser so part modules need not know about _Parser.
    subparsers = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser),
    )
    subparsers.required = True
    keys.register(subparsers)
    credential.register(subparsers)
    for module_name, attr in _PART_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        register: _Register = getattr(module, attr)
        register(subparsers)
    return parser


def fail(error: TesseraError | str, code: str = "error") -> int:
    if isinstance(error, TesseraError):
        print(f"tessera: error [{error.code}]: {error.message}", file=sys.stderr)
    else:
        print(f"tessera: error [{code}]: {error}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except TesseraError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        print("tessera: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        return fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), "io")


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
