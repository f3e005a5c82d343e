"""did:key (W3C CCG did:key Method v0.7, "Document Creation Algorithm").

``did:key:`` + the Multikey value of a public key: base58btc multibase over a multicodec prefix
(``0xed01`` Ed25519 → ``z6Mk…``, ``0x8024`` + compressed point P-256 → ``zDn…``).

The document follows the spec with ``publicKeyFormat = Multikey``: one verification method
``did:key:z…#z…`` of type ``Multikey`` listed under ``authentication``, ``assertionMethod``,
``capabilityInvocation`` and ``capabilityDelegation``. With ``enableEncryptionKeyDerivation``
(on by default, as in the spec's examples) an Ed25519 key also gets an embedded X25519
``keyAgreement`` Multikey (``0xec01``, ``z6LS…``) derived by the birational map (RFC 7748 §4.1);
P-256 keys get no key agreement method. Contexts: ``https://www.w3.org/ns/did/v1`` and
``https://w3id.org/security/multikey/v1`` (both bundled in shared/contexts; the spec's newer
``did/v1.1`` is not). The version-prefixed form (``did:key:1.0:…``) is not accepted.
"""

from __future__ import annotations

from typing import Any, Final

from shared.crypto import Ed25519PublicKey, PublicKey, ed25519_to_x25519_public
from shared.did.document import (
    X25519_PUB_PREFIX,
    DidDocument,
    parse_did,
    parse_did_document,
    public_key_from_multikey,
)
from shared.encoding import multibase_encode
from shared.errors import MalformedError, UnsupportedError
from shared.keys import PrivateKey, multikey_encode

CONTEXT: Final = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
SIGNING_RELATIONSHIPS: Final = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")


def did_key_from_public_key(key: PublicKey | PrivateKey) -> str:
    """``did:key:z…`` for an Ed25519 or P-256 key (the public half of a private key is used)."""
    return "did:key:" + multikey_encode(key)


def public_key_from_did_key(did: str) -> PublicKey:
    """The key a did:key encodes. Raises ``invalid_did``, ``unsupported_did_method``, ``invalid_key``
    or ``unsupported_key_type``.
    """
    url = parse_did(did)
    if url.method != "key":
        raise UnsupportedError(f"not a did:key: {did[:80]!r}", code="unsupported_did_method")
    value = url.method_specific_id
    # did-key §3.1.1: the identifier is exactly one multibase base58btc value
    if ":" in value or not value.startswith("z"):
        raise MalformedError("a did:key identifier is one base58btc multibase value", code="invalid_did")
    try:
        return public_key_from_multikey(value)
    except MalformedError as exc:
        # a base58 decoding failure is a syntax error of the DID; a wrong length is a key error
        if exc.code == "malformed":
            raise MalformedError("a did:key identifier is one base58btc multibase value", code="invalid_did") from exc
        raise


def did_key_document(did: str, *, key_agreement: bool = True) -> dict[str, Any]:
    """The did:key DID document as JSON, built from the identifier alone (did-key §3.1.2)."""
    key = public_key_from_did_key(did)
    value = parse_did(did).method_specific_id
    vm_id = f"{did}#{value}"
    doc: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": value}],
    }
    for rel in SIGNING_RELATIONSHIPS:
        doc[rel] = [vm_id]
    if key_agreement and isinstance(key, Ed25519PublicKey):
        x25519 = multibase_encode(X25519_PUB_PREFIX + ed25519_to_x25519_public(key.raw), "z")
        doc["keyAgreement"] = [
            {"id": f"{did}#{x25519}", "type": "Multikey", "controller": did, "publicKeyMultibase": x25519}
        ]
    return doc


def resolve_did_key(did: str, *, key_agreement: bool = True) -> DidDocument:
    """Resolve a did:key offline."""
    return parse_did_document(did_key_document(did, key_agreement=key_agreement), did=did)
