"""The verification pipeline for Data Integrity secured credentials and presentations (``ldp_vc``/``ldp_vp``).

Order (design.md §1.3): format → data model → issuer signature → issuer trust → validity period →
status → holder binding. The pure core cannot fetch, so trust and status are injected: without a
trust callback the ``issuer_trust`` check is skipped, and without a status callback the ``status``
check is skipped with a sentence saying why — never reported as passed.

A presentation's embedded credentials are each checked the same way (their issuer's proof with
purpose ``assertionMethod``); the presentation's own proof (purpose ``authentication`` with the
verifier's ``challenge`` and ``domain``) is the holder binding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared import data_integrity, vc
from shared.did.document import ResolveMethod
from shared.encoding import loads_strict
from shared.errors import MalformedError, VerificationError
from shared.verification import Pipeline, Verdict

CheckCredential = Callable[[dict[str, Any]], str | None]


def _as_document(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    value = data if isinstance(data, dict) else loads_strict(data)
    if not isinstance(value, dict):
        raise MalformedError("a credential or presentation is a JSON object")
    return value


def _types(doc: dict[str, Any]) -> tuple[str, ...]:
    value = doc.get("type")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(t for t in value if isinstance(t, str))
    return ()


def _issuer_id(doc: dict[str, Any]) -> str | None:
    issuer = doc.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _credentials_of(vp: dict[str, Any]) -> list[dict[str, Any]]:
    value = vp.get("verifiableCredential", [])
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise MalformedError("verifiableCredential entries must be embedded credentials", code="invalid_presentation")
    return items


def verify_ldp(
    data: bytes | str | dict[str, Any],
    *,
    resolve_method: ResolveMethod,
    now: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    check_trust: CheckCredential | None = None,
    check_status: CheckCredential | None = None,
    require_holder_binding: bool = False,
) -> Verdict:
    """Run every check and return the verdict; this function does not raise on bad input."""
    pipe = Pipeline("ldp_vc")
    holder: dict[str, Any] = {}

    def parse() -> str | None:
        holder["doc"] = _as_document(data)
        return None

    if not pipe.run("format", parse):
        for name in ("data_model", "signature", "validity_period", "status"):
            pipe.run(name, lambda: None)
        return pipe.verdict
    doc: dict[str, Any] = holder["doc"]
    is_vp = "VerifiablePresentation" in _types(doc)
    credentials: list[dict[str, Any]] = []

    def data_model() -> str | None:
        nonlocal credentials
        if is_vp:
            vc.check_presentation(doc)
            credentials = _credentials_of(doc)
        else:
            vc.check_credential(doc)
            credentials = [doc]
        return None

    pipe.annotate(format="ldp_vp" if is_vp else "ldp_vc")
    pipe.run("data_model", data_model)

    def signature() -> str:
        if not credentials:
            raise MalformedError("the presentation holds no credential", code="invalid_presentation")
        for credential in credentials:
            data_integrity.verify(credential, resolve_method=resolve_method, now=now)
        return f"The issuer's signature matches the content ({len(credentials)} credential(s))."

    pipe.run("signature", signature)
    if credentials:
        first = credentials[0]
        pipe.annotate(issuer=_issuer_id(first), types=_types(first))
        subject = first.get("credentialSubject")
        if isinstance(subject, dict) and not pipe.stopped:
            pipe.annotate(disclosed={k: v for k, v in subject.items() if k != "id"})

    if check_trust is None:
        pipe.skip("issuer_trust", "No trust list was given; the issuer was not checked against one.")
    else:
        trust = check_trust
        pipe.run("issuer_trust", lambda: _each(credentials, trust))

    def validity() -> str | None:
        for credential in credentials:
            vc.check_validity_period(credential, now)
        return None

    pipe.run("validity_period", validity)

    if check_status is None:
        has_status = any("credentialStatus" in c for c in credentials)
        pipe.skip(
            "status",
            "Status was not checked (offline)." if has_status else "The credential has no status entry.",
        )
    else:
        status = check_status
        pipe.run("status", lambda: _each(credentials, status))

    if is_vp:
        pipe.annotate(holder=doc.get("holder") if isinstance(doc.get("holder"), str) else None)

        def binding() -> str:
            verified = data_integrity.verify(
                doc,
                resolve_method=resolve_method,
                now=now,
                expected_proof_purpose="authentication",
                challenge=challenge,
                domain=domain,
            )
            _check_holder(credentials, verified.controller)
            return "The presentation is signed by its holder for this challenge and domain."

        if "proof" in doc or require_holder_binding:
            pipe.run("holder_binding", binding)
        else:
            pipe.skip("holder_binding", "The presentation is not signed by a holder.")
    return pipe.verdict


def _each(credentials: list[dict[str, Any]], check: CheckCredential) -> str | None:
    message: str | None = None
    for credential in credentials:
        message = check(credential)
    return message


def _check_holder(credentials: list[dict[str, Any]], signer: str) -> None:
    """A valid signature on the presentation proves only that *someone* presented (data_integrity.verify
    already ties the signer to the stated ``holder``): the signer must also be the subject each credential
    was issued to, or anyone holding a copy could present it as theirs."""
    for credential in credentials:
        subjects = credential.get("credentialSubject")
        ids = {s.get("id") for s in (subjects if isinstance(subjects, list) else [subjects]) if isinstance(s, dict)}
        if signer not in ids:
            raise VerificationError(
                "the presentation is signed by a key that the credential was not issued to",
                code="holder_binding_failed",
            )
