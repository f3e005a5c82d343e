"""DID syntax, DID documents and verification methods (DID Core 1.0, Controlled Identifiers 1.0).

A resolver turns a DID URL into a :class:`VerificationMethod`: the key, who controls it, and
which verification relationships (``assertionMethod``, ``authentication``, …) the DID document
lists it under. Data Integrity and SD-JWT verification take such a resolver as an injected
callable, so the core does no I/O of its own.

:func:`parse_did_document` reads any DID document (did:key, did:jwk and did:web build theirs and
parse them back through it, so there is one reading of a document). Choices, with the sections
they come from:

- Verification method types (DID Core §5.2.1, Controlled Identifiers §2.2): ``Multikey``
  (``publicKeyMultibase``), ``JsonWebKey`` / ``JsonWebKey2020`` (``publicKeyJwk``),
  ``Ed25519VerificationKey2020`` (``publicKeyMultibase``) and, to read the older did:key
  documents, ``Ed25519VerificationKey2018`` (``publicKeyBase58``). Keys Tessera cannot verify with
  (X25519, secp256k1, RSA, unknown types) are skipped and their ids kept in
  :attr:`DidDocument.unsupported`; a supported type carrying a broken key fails the whole document.
- Relative ids (``#key-1``) are resolved against the document ``id`` (DID Core §3.2.2).
- Relationships (DID Core §5.3) hold references or embedded methods. A reference to a method of
  another DID is ignored (following it would need another resolution); a dangling reference
  within this DID is an error. Private key material (``d`` in a JWK) is rejected (§5.2.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from shared.crypto import Ed25519PublicKey, P256PublicKey, PublicKey
from shared.encoding import b58_decode, multibase_decode
from shared.errors import MalformedError, UnsupportedError
from shared.keys import ED25519_PUB_PREFIX, P256_PUB_PREFIX, key_from_jwk

MAX_DID_LENGTH: Final = 4096
MAX_METHODS: Final = 64

RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)

X25519_PUB_PREFIX: Final = b"\xec\x01"

# DID Core §3.1 (ABNF): did = "did:" method-name ":" method-specific-id
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID_RE = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)")
# RFC 3986 §3.5: fragment = *( pchar / "/" / "?" )
_FRAGMENT_RE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+")


# --- DID syntax ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DidUrl:
    """A DID, optionally with a fragment (DID Core §3.2). Paths and queries are not supported."""

    did: str
    method: str
    method_specific_id: str
    fragment: str | None = None

    def __str__(self) -> str:
        return self.did if self.fragment is None else f"{self.did}#{self.fragment}"


def parse_did_url(text: Any, *, allow_fragment: bool = True) -> DidUrl:
    """Split a DID URL into DID and fragment, checking the DID Core §3.1 syntax."""
    if not isinstance(text, str):
        raise MalformedError("a DID must be a string", code="invalid_did")
    if len(text) > MAX_DID_LENGTH:
        raise MalformedError(f"a DID is at most {MAX_DID_LENGTH} characters", code="invalid_did")
    did, sep, fragment = text.partition("#")
    match = _DID_RE.fullmatch(did)
    if match is None:
        if re.fullmatch(r"did:[a-z0-9]+:[^/?]*[/?].*", did):
            raise MalformedError("DID URLs with a path or query are not supported", code="invalid_did")
        raise MalformedError(f"not a valid DID: {text[:80]!r}", code="invalid_did")
    if sep:
        if not allow_fragment:
            raise MalformedError("a DID, not a DID URL with a fragment, is expected", code="invalid_did")
        if not _FRAGMENT_RE.fullmatch(fragment):
            raise MalformedError("the DID URL fragment is not valid", code="invalid_did")
    return DidUrl(did, match.group(1), match.group(2), fragment if sep else None)


def parse_did(text: Any) -> DidUrl:
    """A bare DID (no fragment)."""
    return parse_did_url(text, allow_fragment=False)


# --- data model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationMethod:
    id: str
    controller: str
    type: str
    public_key: PublicKey
    relationships: frozenset[str] = field(default_factory=frozenset)

    def allows(self, relationship: str) -> bool:
        return relationship in self.relationships


@dataclass(frozen=True)
class DidDocument:
    """A parsed DID document. ``document`` is the JSON as received; treat it as read-only (it may be cached)."""

    id: str
    document: dict[str, Any]
    methods: tuple[VerificationMethod, ...]
    # ids of methods present in the document whose key type Tessera does not verify with
    unsupported: frozenset[str] = frozenset()

    def method(self, vm_id: str) -> VerificationMethod | None:
        return next((m for m in self.methods if m.id == vm_id), None)


ResolveMethod = Callable[[str], VerificationMethod]


# --- keys in verification methods --------------------------------------------------------------


def public_key_from_multikey(value: Any) -> PublicKey:
    """A key from a Multikey ``publicKeyMultibase`` (Controlled Identifiers §2.2.2), with exact lengths.

    Ed25519: ``0xed01`` + 32 bytes; P-256: ``0x8024`` + 33-byte compressed point. Other codecs raise
    ``unsupported_key_type``; a supported codec with the wrong length raises ``invalid_key``.
    """
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 1024:
        raise MalformedError("publicKeyMultibase must be a base58btc multibase string", code="invalid_key")
    data = multibase_decode(value)
    if data.startswith(ED25519_PUB_PREFIX):
        if len(data) != 2 + 32:
            raise MalformedError("an Ed25519 Multikey holds 32 bytes", code="invalid_key")
        return Ed25519PublicKey(data[2:])
    if data.startswith(P256_PUB_PREFIX):
        if len(data) != 2 + 33 or data[2] not in (2, 3):
            raise MalformedError("a P-256 Multikey holds a 33-byte compressed point", code="invalid_key")
        return P256PublicKey(data[2:])
    raise UnsupportedError(f"unsupported Multikey codec 0x{data[:2].hex()}", code="unsupported_key_type")


def _jwk_key(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise MalformedError("publicKeyJwk must be a JSON object", code="invalid_key")
    if "d" in jwk:
        raise MalformedError("a public JWK must not carry private key material", code="invalid_key")
    # a tuple, not a set: kty/crv may be unhashable JSON values
    if (jwk.get("kty"), jwk.get("crv")) not in (("OKP", "Ed25519"), ("EC", "P-256")):
        raise UnsupportedError(f"unsupported JWK {jwk.get('kty')!r}/{jwk.get('crv')!r}", code="unsupported_key_type")
    return key_from_jwk(jwk)


def _key_of(entry: dict[str, Any], vm_type: str) -> PublicKey:
    if vm_type == "Multikey":
        return public_key_from_multikey(entry.get("publicKeyMultibase"))
    if vm_type in ("JsonWebKey", "JsonWebKey2020"):
        return _jwk_key(entry.get("publicKeyJwk"))
    if vm_type == "Ed25519VerificationKey2020":
        key = public_key_from_multikey(entry.get("publicKeyMultibase"))
        if not isinstance(key, Ed25519PublicKey):
            raise MalformedError("an Ed25519VerificationKey2020 holds an Ed25519 key", code="invalid_key")
        return key
    if vm_type == "Ed25519VerificationKey2018":
        raw = entry.get("publicKeyBase58")
        if not isinstance(raw, str) or len(raw) > 64:
            raise MalformedError("publicKeyBase58 must be a base58 string", code="invalid_key")
        return Ed25519PublicKey(b58_decode(raw))
    raise UnsupportedError(f"unsupported verification method type {vm_type!r}", code="unsupported_key_type")


# --- documents -------------------------------------------------------------------------------


def _absolute(ref: Any, did: str, what: str) -> str:
    """A method id or reference as an absolute DID URL; ``#frag`` is relative to the document (§3.2.2)."""
    if not isinstance(ref, str) or not ref:
        raise MalformedError(f"{what} must be a non-empty string")
    full = did + ref if ref.startswith("#") else ref
    url = parse_did_url(full)
    if url.fragment is None:
        raise MalformedError(f"{what} {ref[:80]!r} has no fragment")
    return full


def _method_entry(entry: Any, did: str) -> tuple[str, str, str, PublicKey | None]:
    """(id, type, controller, key or None when the key type is unsupported)."""
    if not isinstance(entry, dict):
        raise MalformedError("a verification method must be a JSON object")
    vm_id = _absolute(entry.get("id"), did, "verification method id")
    vm_type, controller = entry.get("type"), entry.get("controller")
    if not isinstance(vm_type, str) or not vm_type:
        raise MalformedError(f"verification method {vm_id!r} has no type")
    parse_did(controller)  # DID Core §5.2: controller is required and is a DID
    try:
        key: PublicKey | None = _key_of(entry, vm_type)
    except UnsupportedError:
        key = None
    return vm_id, vm_type, str(controller), key


def parse_did_document(doc: Any, *, did: str | None = None) -> DidDocument:
    """Read a DID document (DID Core §4–5). Raises MalformedError (``malformed``, ``invalid_did``,
    ``invalid_key``); callers that fetched the document report it as ``did_resolution_failed``.
    """
    if not isinstance(doc, dict):
        raise MalformedError("a DID document must be a JSON object")
    doc_id = parse_did(doc.get("id")).did
    if did is not None and doc_id != did:
        raise MalformedError(f"the DID document is for {doc_id!r}, not {did!r}")

    entries: list[tuple[str, str, str, PublicKey | None]] = []
    listed = doc.get("verificationMethod", [])
    if not isinstance(listed, list):
        raise MalformedError("verificationMethod must be an array")
    entries.extend(_method_entry(e, doc_id) for e in listed)

    references: dict[str, set[str]] = {}
    for rel in RELATIONSHIPS:
        items = doc.get(rel, [])
        if not isinstance(items, list):
            raise MalformedError(f"{rel} must be an array")
        for item in items:
            if isinstance(item, dict):
                entry = _method_entry(item, doc_id)
                entries.append(entry)
                references.setdefault(entry[0], set()).add(rel)
            else:
                references.setdefault(_absolute(item, doc_id, f"{rel} reference"), set()).add(rel)

    if len(entries) > MAX_METHODS:
        raise MalformedError(f"a DID document may list at most {MAX_METHODS} verification methods", code="too_large")
    ids = [e[0] for e in entries]
    if len(set(ids)) != len(ids):
        raise MalformedError("verification method ids must be unique")
    for ref in references:
        if ref not in ids and ref.partition("#")[0] == doc_id:
            raise MalformedError(f"{ref!r} is referenced but not defined")

    methods = tuple(
        VerificationMethod(vm_id, controller, vm_type, key, frozenset(references.get(vm_id, ())))
        for vm_id, vm_type, controller, key in entries
        if key is not None
    )
    unsupported = frozenset(vm_id for vm_id, _, _, key in entries if key is None)
    return DidDocument(doc_id, doc, methods, unsupported)
