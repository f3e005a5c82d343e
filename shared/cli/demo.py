"""``tessera demo``: a short story a newcomer can run with one command.

For now it signs the sample birth certificate with a fresh issuer key (Data Integrity,
``eddsa-rdfc-2022`` and ``eddsa-jcs-2022``), verifies it, then shows that changing one letter of
a claim breaks the signature. It exits 0 only when every step turned out as expected.
"""

from __future__ import annotations

import argparse
import copy
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from shared import data_integrity
from shared.crypto import Ed25519PrivateKey
from shared.did.key import did_key_from_public_key
from shared.did.resolver import DidResolver
from shared.encoding import loads_strict
from shared.verification import Verdict
from shared.verify_ldp import verify_ldp


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="run the demonstration story")
    demo.set_defaults(handler=run_demo)


def _sample() -> dict[str, Any]:
    text = resources.files("shared.examples").joinpath("birth-certificate.json").read_text(encoding="utf-8")
    value = loads_strict(text)
    assert isinstance(value, dict)
    return value


def _show(verdict: Verdict) -> None:
    for check in verdict.checks:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "--  "}[check.outcome]
        print(f"    [{mark}] {check.name:<16} {check.code:<22} {check.message}")
    print(f"    => verified: {str(verdict.verified).lower()} ({verdict.code})")


def run_demo(args: argparse.Namespace) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    resolver = DidResolver()
    key = Ed25519PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did.removeprefix('did:key:')}"
    credential = {**_sample(), "issuer": {"id": did, "name": "Enugu State Civil Registry"}}
    subject = credential["credentialSubject"]
    print("Tessera demo — a birth certificate, signed and verified with W3C Data Integrity\n")
    print(f"1. The civil registry's key: {did}")
    print(f"2. The certificate: {subject['givenName']} {subject['familyName']}, born {subject['birthDate']}")
    ok = True
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        signed = data_integrity.sign(credential, signer=key, verification_method=vm, cryptosuite=suite, created=now)
        print(f"\n3. Signed with {suite}; proofValue {signed['proof']['proofValue'][:24]}…")
        verdict = verify_ldp(json.dumps(signed), resolve_method=resolver.resolve_method, now=now)
        print("   Verification:")
        _show(verdict)
        ok &= verdict.verified
        tampered = copy.deepcopy(signed)
        tampered["credentialSubject"]["birthDate"] = "2006-01-10"
        print("   Someone changes the birth date to 2006-01-10 to look eighteen:")
        bad = verify_ldp(json.dumps(tampered), resolve_method=resolver.resolve_method, now=now)
        _show(bad)
        ok &= (not bad.verified) and bad.code == "invalid_signature"
    print("\nThe story ran as expected." if ok else "\nSomething did not turn out as expected.")
    return 0 if ok else 1
