"""``tessera credential``: sign, present and verify credentials from the command line.

Formats: ``ldp_vc`` (W3C Data Integrity, the default for ``sign``), ``dc+sd-jwt`` (SD-JWT VC) and
``vc+sd-jwt`` (a VCDM 2.0 credential secured with SD-JWT). ``verify`` recognises the format itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared import data_integrity, sd_jwt, sd_jwt_vc
from shared.crypto import PublicKey, random_bytes
from shared.did.key import did_key_from_public_key
from shared.did.resolver import DidResolver
from shared.encoding import loads_strict
from shared.errors import MalformedError, TesseraError
from shared.keys import PrivateKey, read_key_file, read_public_key_file
from shared.verification import Verdict, verdict_from_error
from shared.verify_ldp import verify_ldp

MAX_INPUT_BYTES = 1_000_000
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
FORMATS = ("ldp_vc", "dc+sd-jwt", "vc+sd-jwt")
SD_JWT_STAGES = ("format", "signature", "validity_period", "status", "holder_binding")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("credential", help="sign, present and verify credentials")
    commands = group.add_subparsers(dest="credential_command", metavar="ACTION")
    commands.required = True

    sign = commands.add_parser("sign", help="sign a credential; the signed credential goes to stdout")
    sign.add_argument("input", help="the credential or claims (JSON), or - for standard input")
    sign.add_argument("--key", type=Path, required=True, help="issuer key file from `tessera keys generate`")
    sign.add_argument("--format", choices=FORMATS, default="ldp_vc", help="ldp_vc (default), dc+sd-jwt, vc+sd-jwt")
    sign.add_argument("--cryptosuite", choices=CRYPTOSUITES, default="eddsa-rdfc-2022", help="for ldp_vc")
    sign.add_argument("--holder-key", type=Path, help="bind an SD-JWT credential to this key (key file or JWK)")
    sign.set_defaults(handler=sign_command)

    present = commands.add_parser("present", help="present an SD-JWT credential revealing only chosen claims")
    present.add_argument("input", help="the SD-JWT credential, or - for standard input")
    present.add_argument("--reveal", default="", help="claims to reveal: NAME[,NAME…]; a.b for nested claims")
    present.add_argument("--holder-key", type=Path, required=True, help="the holder's key file")
    present.add_argument("--aud", required=True, help="the verifier the presentation is for")
    present.add_argument("--nonce", required=True, help="the verifier's nonce")
    present.set_defaults(handler=present_command)

    verify = commands.add_parser("verify", help="verify a credential or presentation; print a JSON verdict")
    verify.add_argument("input", help="file, or - for standard input")
    verify.add_argument("--aud", help="SD-JWT: require a key binding JWT for this audience")
    verify.add_argument("--nonce", help="SD-JWT: require a key binding JWT with this nonce")
    verify.add_argument("--challenge", help="Data Integrity presentation: the expected challenge")
    verify.add_argument("--domain", help="Data Integrity presentation: the expected domain")
    verify.set_defaults(handler=verify_command)


def read_input(name: str) -> bytes:
    if name == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        with Path(name).open("rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise MalformedError(f"input is larger than {MAX_INPUT_BYTES} bytes", code="too_large")
    return data


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _read_json_object(name: str) -> dict[str, Any]:
    value = loads_strict(read_input(name))
    if not isinstance(value, dict):
        raise MalformedError("the input must be a JSON object", code="invalid_credential")
    return value


def _issuer_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _bind_issuer(doc: dict[str, Any], member: str, did: str) -> dict[str, Any]:
    """Fill in the issuer from the key, or refuse a document that names someone else."""
    named = _issuer_id(doc.get(member))
    if named is None:
        return {**doc, member: did}
    if named != did:
        raise MalformedError(f"the credential's issuer {named!r} is not the key's DID {did}", code="key_mismatch")
    return doc


def _disclosable_paths(node: Any, prefix: tuple[str, ...], fixed: frozenset[str]) -> list[tuple[str, ...]]:
    """Every object member below ``node`` (not in ``fixed`` at the top), so each can be withheld on its own."""
    paths: list[tuple[str, ...]] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if not prefix and name in fixed:
                continue
            path = (*prefix, name)
            paths.append(path)
            paths.extend(_disclosable_paths(value, path, fixed))
    return paths


def sign_command(args: argparse.Namespace) -> int:
    doc = _read_json_object(args.input)
    key: PrivateKey = read_key_file(args.key)
    did = did_key_from_public_key(key.public_key)
    kid = f"{did}#{did.removeprefix('did:key:')}"
    now = _now()
    if args.format == "ldp_vc":
        if args.holder_key is not None:
            raise MalformedError("--holder-key applies to SD-JWT formats; ldp_vc binds the holder with a VP")
        signed = data_integrity.sign(
            _bind_issuer(doc, "issuer", did),
            signer=key,
            verification_method=kid,
            cryptosuite=args.cryptosuite,
            created=now,
        )
        json.dump(signed, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    holder: PublicKey | None = read_public_key_file(args.holder_key) if args.holder_key else None
    if args.format == "dc+sd-jwt":
        claims = _bind_issuer(doc, "iss", did)
        issued = sd_jwt_vc.issue_sd_jwt_vc(
            claims,
            disclosable=_disclosable_paths(claims, (), sd_jwt_vc.NEVER_DISCLOSABLE | {"iat"}),
            signer=key,
            holder_key=holder,
            now=now,
            random_bytes=random_bytes,
            kid=kid,
        )
    else:
        document = _bind_issuer(doc, "issuer", did)
        subject = document.get("credentialSubject")
        issued = sd_jwt_vc.issue_vcdm(
            document,
            disclosable=_disclosable_paths(subject, ("credentialSubject",), frozenset()),
            signer=key,
            holder_key=holder,
            now=now,
            random_bytes=random_bytes,
            kid=kid,
        )
    print(str(issued))
    return 0


def present_command(args: argparse.Namespace) -> int:
    text = read_input(args.input).decode("utf-8", "replace").strip()
    holder = read_key_file(args.holder_key)
    reveal = [tuple(name.split(".")) for name in args.reveal.split(",") if name]
    credential = sd_jwt.parse(text)
    if credential.payload.get("@context") is not None:
        reveal = [("credentialSubject", *path) if path[0] != "credentialSubject" else path for path in reveal]
    presentation = sd_jwt.present(
        credential, reveal=reveal, holder_signer=holder, audience=args.aud, nonce=args.nonce, now=_now()
    )
    print(presentation)
    return 0


def _verify_sd_jwt(text: str, args: argparse.Namespace, resolver: DidResolver) -> Verdict:
    require_kb = args.aud is not None or args.nonce is not None
    if require_kb and (args.aud is None or args.nonce is None):
        raise MalformedError("--aud and --nonce go together")
    fmt = "dc+sd-jwt"
    try:
        fmt = str(sd_jwt.parse(text).header.get("typ", fmt))
        verified = sd_jwt_vc.verify_credential(
            text,
            now=_now(),
            resolve_issuer_key=sd_jwt_vc.issuer_key_resolver(resolve_method=resolver.resolve_method),
            audience=args.aud,
            nonce=args.nonce,
            require_kb=require_kb,
        )
    except TesseraError as exc:
        return verdict_from_error(fmt, SD_JWT_STAGES, exc)
    skip = {"status": "Status was not checked (offline)." if verified.status else "The credential has no status."}
    if verified.sd.kb_payload is None:
        skip["holder_binding"] = "The presentation has no key binding, and none was required (no --aud/--nonce)."
    subject = verified.claims.get("credentialSubject")
    disclosed = (
        subject
        if verified.profile == "vc+sd-jwt" and isinstance(subject, dict)
        else {k: v for k, v in verified.claims.items() if k not in sd_jwt_vc.NEVER_DISCLOSABLE | {"iat", "_sd_alg"}}
    )
    return verdict_from_error(
        fmt,
        SD_JWT_STAGES,
        None,
        skip=skip,
        issuer=verified.issuer,
        types=tuple(verified.types),
        disclosed=disclosed,
    )


def verify_command(args: argparse.Namespace) -> int:
    data = read_input(args.input)
    resolver = DidResolver()
    text = data.decode("utf-8", "replace").strip()
    if text and not text.startswith(("{", "[")):
        verdict = _verify_sd_jwt(text, args, resolver)
    else:
        verdict = verify_ldp(
            data,
            resolve_method=resolver.resolve_method,
            now=_now(),
            challenge=args.challenge,
            domain=args.domain,
        )
    json.dump(verdict.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if verdict.verified else 1
