"""W3C Verifiable Credential Data Integrity 1.0 with the EdDSA Cryptosuites v1.0 (both W3C RECs, 2025).

Cryptosuites ``eddsa-rdfc-2022`` (RDFC-1.0 canonical N-Quads) and ``eddsa-jcs-2022`` (RFC 8785 JCS),
proof type ``DataIntegrityProof``, Ed25519 keys. One function per stage of the cryptosuite
algorithms (EdDSA §3.2 / §3.3):

- :func:`transform` — §3.2.3 / §3.3.3 Transformation: canonical bytes of the unsecured document;
- :func:`proof_configuration` — §3.2.5 / §3.3.5: the proof options with the document's ``@context``,
  canonicalized the same way;
- :func:`hash_data` — §3.2.4 / §3.3.4: ``SHA-256(canonical proof config) || SHA-256(transformed
  document)`` (64 bytes; the proof configuration hash comes first);
- :func:`serialize_proof` — §3.2.6 / §3.3.6: the Ed25519 signature over the hash data;
- :func:`verify_proof_value` — §3.2.7 / §3.3.7: signature check.

:func:`sign` and :func:`verify` run the whole of DI 1.0 §4.2 "Add Proof", §4.3 "Add Proof Set/Chain",
§4.4 "Verify Proof" and §4.5 "Verify Proof Sets and Chains". Choices, with their sections:

- ``@context`` of the proof (EdDSA §3.3.1 step 2, §3.2.2/§3.3.2 steps 3–4): ``eddsa-jcs-2022`` proofs
  carry the document's ``@context``; ``eddsa-rdfc-2022`` proofs do not (the vectors show both). When a
  proof has one, the document's ``@context`` must start with it, and it is used as the document's.
- Proof sets and chains (DI §4.3, §4.5): a proof with ``previousProof`` is computed over the document
  whose ``proof`` is the list of the referenced proofs; a reference to no proof is ``invalid_proof``.
  Every proof of a set must verify, each with the expected purpose and controller.
- ``created`` / ``expires`` are XML Schema 1.1 ``dateTimeStamp`` strings (DI §2.1: a time zone is
  required). ``expires`` at or before ``now`` is ``expired``; ``created`` later than ``now`` plus
  ``max_clock_skew`` (5 minutes) is ``not_yet_valid`` — a proof cannot be made in the future.
- Verification method (DI §4.4 and Controlled Identifiers §3.3): resolved by the injected
  ``resolve_method``; any failure there is ``unknown_key``. The method must be listed under the
  proof's purpose in its controller document, and its controller must be the credential's
  ``issuer`` (purpose ``assertionMethod``) or the presentation's ``holder`` (``authentication``);
  otherwise ``key_mismatch``. Only Ed25519 keys verify EdDSA proofs (``unsupported_key_type``).
- ``challenge`` / ``domain`` (DI §2.1): when the verifier expects one, the proof must carry exactly
  it (``domain`` may be a list, which must contain it).
- Checks run cheapest-first but the signature is checked before time, challenge and domain, so a
  forged proof is reported as ``invalid_signature`` rather than by whatever it claims.
- JSON-LD (design §9): both suites run the strict expansion of :mod:`shared.jsonld` (allow-listed
  contexts, no dropped terms, no issuer-dependent terms when ``strict``). JCS itself needs no
  JSON-LD, but a credential means what its JSON-LD means, so the same document is accepted or
  refused whichever suite secures it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from shared import jsonld
from shared.crypto import Ed25519PublicKey, PublicKey, Signer, sha256
from shared.did.document import ResolveMethod, VerificationMethod
from shared.encoding import jcs, multibase_decode, multibase_encode
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError

PROOF_TYPE: Final = "DataIntegrityProof"
RDFC: Final = "eddsa-rdfc-2022"
JCS: Final = "eddsa-jcs-2022"
CRYPTOSUITES: Final = (RDFC, JCS)
MAX_PROOFS: Final = 16
MAX_FIELD_LENGTH: Final = 4096
DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)

# XML Schema 1.1 Part 2 §3.4.28 dateTimeStamp (dateTime with a required time zone); years 0001–9999
_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", re.ASCII)


@dataclass(frozen=True)
class VerifiedDocument:
    """A document whose proofs all verified. ``controller`` is the controller of the first proof's
    method (all proofs are bound to the same issuer or holder)."""

    document: dict[str, Any]  # without ``proof``
    proofs: tuple[dict[str, Any], ...]
    verification_methods: tuple[str, ...]
    controller: str


# --- small parsers -------------------------------------------------------------------------------


def _invalid(message: str) -> VerificationError:
    return VerificationError(message, code="invalid_proof")


def parse_datetime(value: Any, name: str) -> datetime:
    """An XML Schema ``dateTimeStamp`` as an aware datetime (fractions beyond µs are truncated)."""
    if not isinstance(value, str) or len(value) > 64:
        raise _invalid(f"proof {name} must be a dateTimeStamp string")
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        raise _invalid(f"proof {name} {value[:40]!r} is not an XML Schema dateTimeStamp")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = UTC
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise _invalid(f"proof {name} has an invalid time zone")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    except ValueError as exc:
        raise _invalid(f"proof {name} {value[:40]!r} is not a valid date and time") from exc


def format_datetime(value: datetime | str) -> str:
    """A dateTimeStamp in UTC with ``Z``; a string is checked and kept as it is."""
    if isinstance(value, str):
        parse_datetime(value, "date")
        return value
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise MalformedError("proof dates must be timezone-aware datetimes")
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _optional_string(proof: dict[str, Any], name: str) -> str | None:
    value = proof.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_LENGTH:
        raise _invalid(f"proof {name} must be a non-empty string")
    return value


def _string(proof: dict[str, Any], name: str) -> str:
    value = _optional_string(proof, name)
    if value is None:
        raise _invalid(f"proof {name} is missing")
    return value


def _check_suite(proof: dict[str, Any]) -> str:
    if proof.get("type") != PROOF_TYPE:
        raise UnsupportedError(f"proof type must be {PROOF_TYPE}", code="unsupported_cryptosuite")
    suite = proof.get("cryptosuite")
    if suite not in CRYPTOSUITES:
        shown = suite[:40] if isinstance(suite, str) else suite
        raise UnsupportedError(f"unsupported cryptosuite {shown!r}", code="unsupported_cryptosuite")
    return str(suite)


def decode_proof_value(value: Any) -> bytes:
    """``proofValue``: multibase base58btc (``z``) of a 64-byte Ed25519 signature (EdDSA §2.2.1)."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 100:
        raise _invalid("proofValue must be a base58btc multibase string")
    try:
        signature = multibase_decode(value)
    except MalformedError as exc:
        raise _invalid("proofValue is not valid base58btc") from exc
    if len(signature) != 64:
        raise _invalid("proofValue must hold a 64-byte Ed25519 signature")
    return signature


def _proof_list(value: Any) -> list[dict[str, Any]]:
    proofs = value if isinstance(value, list) else [value]
    if not proofs or len(proofs) > MAX_PROOFS:
        raise _invalid(f"a document carries 1 to {MAX_PROOFS} proofs")
    if not all(isinstance(p, dict) for p in proofs):
        raise _invalid("each proof must be a JSON object")
    return proofs


def _previous_ids(proof: dict[str, Any]) -> list[str]:
    previous = proof.get("previousProof")
    if previous is None:
        return []
    ids = previous if isinstance(previous, list) else [previous]
    if not ids or not all(isinstance(i, str) and i and len(i) <= MAX_FIELD_LENGTH for i in ids):
        raise _invalid("previousProof must be a proof id or a list of proof ids")
    return ids


def _matching_proofs(all_proofs: Sequence[dict[str, Any]], ids: list[str]) -> list[dict[str, Any]]:
    """DI §4.3 step 5 / §4.5 step 3.2: the proofs a chained proof refers to, in reference order."""
    matching = []
    for proof_id in ids:
        found = next((p for p in all_proofs if p.get("id") == proof_id), None)
        if found is None:
            raise _invalid(f"previousProof {proof_id[:80]!r} refers to no proof of the document")
        matching.append(found)
    return matching


# --- the cryptosuite stages ----------------------------------------------------------------------


def transform(unsecured_document: dict[str, Any], cryptosuite: str, *, strict: bool = True) -> bytes:
    """EdDSA §3.2.3 / §3.3.3 Transformation: RDFC-1.0 N-Quads or JCS bytes of the unsecured document."""
    if cryptosuite == RDFC:
        return jsonld.canonicalize(unsecured_document, strict=strict).encode("utf-8")
    if cryptosuite == JCS:
        jsonld.validate(unsecured_document, strict=strict)  # the same JSON-LD rules as RDFC (module doc)
        return jcs(unsecured_document)
    raise UnsupportedError(f"unsupported cryptosuite {cryptosuite!r}", code="unsupported_cryptosuite")


def proof_configuration(proof_options: dict[str, Any], document_context: Any, *, strict: bool = True) -> bytes:
    """EdDSA §3.2.5 / §3.3.5 Proof Configuration: options (without ``proofValue``) with the document's
    ``@context``, canonicalized by the options' cryptosuite."""
    suite = _check_suite(proof_options)
    if "created" in proof_options:
        parse_datetime(proof_options["created"], "created")
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if document_context is not None:
        config["@context"] = document_context
    if suite == RDFC:
        return jsonld.canonicalize(config, strict=strict).encode("utf-8")
    return jcs(config)


def hash_data(transformed_document: bytes, canonical_proof_config: bytes) -> bytes:
    """EdDSA §3.2.4 / §3.3.4 Hashing: SHA-256(proof config) || SHA-256(document), 64 bytes."""
    return sha256(canonical_proof_config) + sha256(transformed_document)


def serialize_proof(data: bytes, signer: Signer) -> bytes:
    """EdDSA §3.2.6 / §3.3.6 Proof Serialization: the Ed25519 signature over the hash data."""
    if signer.alg != "EdDSA":
        raise UnsupportedError("EdDSA cryptosuites sign with Ed25519 keys", code="unsupported_algorithm")
    return signer.sign(data)


def verify_proof_value(data: bytes, signature: bytes, public_key: PublicKey) -> None:
    """EdDSA §3.2.7 / §3.3.7 Proof Verification; raises ``invalid_signature``."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise UnsupportedError("EdDSA proofs verify with Ed25519 keys only", code="unsupported_key_type")
    public_key.verify(data, signature)


def _document_context(unsecured: dict[str, Any], proof: dict[str, Any]) -> Any:
    """EdDSA §3.2.2/§3.3.2 steps 3–4: a proof's own @context must prefix the document's, and wins."""
    proof_context = proof.get("@context")
    if proof_context is None:
        return unsecured.get("@context")
    doc_context = unsecured.get("@context")
    doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    if doc_list[: len(proof_list)] != proof_list:
        raise _invalid("the document's @context does not start with the proof's @context")
    return proof_context


def _hash_for(
    unsecured: dict[str, Any],
    proof: dict[str, Any],
    previous: list[dict[str, Any]],
    *,
    strict: bool,
    transformed: dict[tuple[Any, ...], bytes] | None = None,
) -> bytes:
    """Hash data of one proof. ``transformed`` memoizes the document transformation across the
    proofs of a set, which usually share suite, context and (no) previous proofs."""
    suite = _check_suite(proof)
    context = _document_context(unsecured, proof)
    document = dict(unsecured)
    if context is not None:
        document["@context"] = context
    if previous:
        document["proof"] = previous
    key = (suite, repr(context), tuple(id(p) for p in previous))
    memo = transformed if transformed is not None else {}
    if key not in memo:
        memo[key] = transform(document, suite, strict=strict)
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    return hash_data(memo[key], proof_configuration(options, context, strict=strict))


# --- sign ----------------------------------------------------------------------------------------


def sign(
    document: dict[str, Any],
    *,
    signer: Signer,
    verification_method: str,
    cryptosuite: str = RDFC,
    created: datetime | str | None,
    proof_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    expires: datetime | str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    proof_id: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """A copy of ``document`` with a new ``DataIntegrityProof`` (DI §4.2, §4.3).

    An existing proof makes the result a proof set (``proof`` becomes a list); ``previous_proof``
    names earlier proofs (by ``id``) to chain to, and ``proof_id`` gives the new proof an id.
    """
    if not isinstance(document, dict):
        raise MalformedError("a document to sign must be a JSON object")
    if cryptosuite not in CRYPTOSUITES:
        raise UnsupportedError(f"unsupported cryptosuite {cryptosuite!r}", code="unsupported_cryptosuite")
    if not isinstance(verification_method, str) or not verification_method:
        raise MalformedError("verification_method must be a DID URL")
    unsecured = copy.deepcopy({k: v for k, v in document.items() if k != "proof"})
    existing = _proof_list(copy.deepcopy(document["proof"])) if "proof" in document else []

    proof: dict[str, Any] = {"type": PROOF_TYPE}
    if proof_id is not None:
        proof["id"] = proof_id
    proof["cryptosuite"] = cryptosuite
    if created is not None:
        proof["created"] = format_datetime(created)
    if expires is not None:
        proof["expires"] = format_datetime(expires)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain if isinstance(domain, str) else list(domain)
    previous_ids = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof or [])
    if previous_ids:
        proof["previousProof"] = previous_ids[0] if isinstance(previous_proof, str) else previous_ids
    if cryptosuite == JCS and "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])  # EdDSA §3.3.1 step 2

    previous = _matching_proofs(existing, previous_ids)
    data = _hash_for(unsecured, proof, previous, strict=strict)
    proof["proofValue"] = multibase_encode(serialize_proof(data, signer), "z")
    secured = dict(unsecured)
    secured["proof"] = [*existing, proof] if existing else proof
    return secured


# --- verify --------------------------------------------------------------------------------------


def _controller_of(document: dict[str, Any], member: str) -> str | None:
    value = document.get(member)
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _resolve(resolve_method: ResolveMethod, vm_id: str) -> VerificationMethod:
    try:
        method = resolve_method(vm_id)
    except Exception as exc:  # an injected resolver may fail in any way: report, never crash
        code = exc.code if isinstance(exc, TesseraError) else type(exc).__name__
        raise VerificationError(
            f"verification method {vm_id[:120]!r} not resolved ({code})", code="unknown_key"
        ) from exc
    if not isinstance(method, VerificationMethod) or method.id != vm_id:
        raise VerificationError(f"the resolver returned another method than {vm_id[:120]!r}", code="unknown_key")
    return method


def _check_binding(document: dict[str, Any], method: VerificationMethod, purpose: str) -> None:
    if not method.allows(purpose):
        raise VerificationError(f"{method.id[:120]!r} is not listed under {purpose}", code="key_mismatch")
    member = {"assertionMethod": "issuer", "authentication": "holder"}.get(purpose)
    if member is not None and _controller_of(document, member) != method.controller:
        raise VerificationError(f"the proof's key is not controlled by the document's {member}", code="key_mismatch")


def _domain_matches(value: Any, expected: str) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value) and expected in value
    return isinstance(value, str) and value == expected


def verify(
    document: dict[str, Any],
    *,
    resolve_method: ResolveMethod,
    now: datetime,
    expected_proof_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    strict: bool = True,
) -> VerifiedDocument:
    """Verify every proof of a secured document (DI §4.4, §4.5); raise a TesseraError on the first failure."""
    if not isinstance(document, dict):
        raise MalformedError("a secured document must be a JSON object")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise MalformedError("now must be a timezone-aware datetime")
    if "proof" not in document:
        raise VerificationError(code="missing_proof")
    proofs = _proof_list(document["proof"])
    unsecured = {k: v for k, v in document.items() if k != "proof"}

    methods: list[VerificationMethod] = []
    transformed: dict[tuple[Any, ...], bytes] = {}
    for proof in proofs:
        _check_suite(proof)
        signature = decode_proof_value(proof.get("proofValue"))
        vm_id = _string(proof, "verificationMethod")
        purpose = _string(proof, "proofPurpose")
        created = parse_datetime(proof["created"], "created") if "created" in proof else None
        expires = parse_datetime(proof["expires"], "expires") if "expires" in proof else None
        for name in ("id", "challenge"):
            _optional_string(proof, name)
        previous = _matching_proofs(proofs, _previous_ids(proof))
        if purpose != expected_proof_purpose:
            raise VerificationError(
                f"proof purpose {purpose[:40]!r}, expected {expected_proof_purpose!r}", code="proof_purpose_mismatch"
            )
        method = _resolve(resolve_method, vm_id)
        _check_binding(unsecured, method, expected_proof_purpose)

        data = _hash_for(unsecured, proof, previous, strict=strict, transformed=transformed)
        verify_proof_value(data, signature, method.public_key)

        if expires is not None and expires <= now:
            raise VerificationError("the proof has expired", code="expired")
        if created is not None and created > now + max_clock_skew:
            raise VerificationError("the proof was created in the future", code="not_yet_valid")
        if challenge is not None and proof.get("challenge") != challenge:
            raise VerificationError(code="challenge_mismatch")
        if domain is not None and not _domain_matches(proof.get("domain"), domain):
            raise VerificationError(code="domain_mismatch")
        methods.append(method)

    return VerifiedDocument(
        document=copy.deepcopy(unsecured),
        proofs=tuple(copy.deepcopy(proofs)),
        verification_methods=tuple(m.id for m in methods),
        controller=methods[0].controller,
    )
