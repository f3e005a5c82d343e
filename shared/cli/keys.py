"""``tessera keys``: create key files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.crypto import Ed25519PrivateKey, P256PrivateKey
from shared.did.key import did_key_from_public_key
from shared.keys import PrivateKey, private_jwk, write_key_file


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("keys", help="create and inspect keys")
    commands = group.add_subparsers(dest="keys_command", metavar="ACTION")
    commands.required = True
    gen = commands.add_parser("generate", help="generate a key; print its did:key")
    gen.add_argument("--out", type=Path, help="write the private key (JWK, mode 0600) to this file")
    gen.add_argument("--type", choices=("ed25519", "p256"), default="ed25519", help="key type (default ed25519)")
    gen.add_argument("--force", action="store_true", help="overwrite an existing file")
    gen.set_defaults(handler=generate)


def generate(args: argparse.Namespace) -> int:
    key: PrivateKey = Ed25519PrivateKey.generate() if args.type == "ed25519" else P256PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    if args.out is None:
        # No file: the private JWK goes to stdout so it can be piped; the DID to stderr for people.
        json.dump(private_jwk(key), sys.stdout)
        sys.stdout.write("\n")
        print(did, file=sys.stderr)
        return 0
    out: Path = args.out
    if out.exists() and not args.force:
        print(f"tessera: error [exists]: {out} exists; use --force to overwrite", file=sys.stderr)
        return 2
    write_key_file(out, key)
    print(did)
    return 0
