"""did:jwk (did:jwk Method Specification, github.com/quartzjer/did-jwk, "Create", "Read").

``did:jwk:`` + base64url (no padding) of the UTF-8 JSON of a public JWK. Tessera writes the JWK
as RFC 8785 (JCS) JSON — members sorted, no whitespace — so one key gives one DID; when reading,
any serialization is accepted, as the spec requires, and kept as-is.

The document has one verification method ``did:jwk:…#0`` (the spec fixes the fragment at ``0``
and ignores ``kid``). Type ``JsonWebKey2020`` with the ``https://w3id.org/security/suites/jws-2020/v1``
context, as in the spec's examples (not the newer ``JsonWebKey`` of Controlled Identifiers 1.0;
:func:`~shared.did.document.parse_did_document` reads both). Relationships follow the JWK's
``use``: ``sig`` → all but ``keyAgreement``; ``enc`` → only ``keyAgreement``; absent → all five.
A JWK carrying private key material is rejected. Keys read: OKP/Ed25519 and EC/P-256 (verification)
and OKP/X25519 (key agreement only, so it is listed in :attr:`DidDocument.unsupported`).
"""

from __future__ import annotations

from typing import Any, Final

from shared.crypto import PublicKey
from shared.did.document import MAX_DID_LENGTH, RELATIONSHIPS, DidDocument, parse_did, parse_did_document
from shared.encoding import b64url_decode, b64url_encode, jcs, loads_strict
from shared.errors import MalformedError, UnsupportedError
from shared.keys import PrivateKey, key_from_jwk, public_jwk

CONTEXT: Final = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1")
VM_TYPE: Final = "JsonWebKey2020"
# RFC 7518 §6.2.2, §6.3.2, §6.4.1: members that only a private or symmetric key has
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_USE_RELATIONSHIPS: Final[dict[str | None, tuple[str, ...]]] = {
    "sig": tuple(r for r in RELATIONSHIPS if r != "keyAgreement"),
    "enc": ("keyAgreement",),
    None: RELATIONSHIPS,
}


def did_jwk_from_public_key(key: PublicKey | PrivateKey) -> str:
    """``did:jwk:…`` for an Ed25519 or P-256 key (the public half of a private key is used)."""
    return "did:jwk:" + b64url_encode(jcs(public_jwk(key)))


def jwk_from_did_jwk(did: str) -> dict[str, Any]:
    """The public JWK a did:jwk encodes, checked. Raises ``invalid_did``, ``unsupported_did_method``,
    ``invalid_key`` or ``unsupported_key_type``.
    """
    url = parse_did(did)
    if url.method != "jwk":
        raise UnsupportedError(f"not a did:jwk: {did[:80]!r}", code="unsupported_did_method")
    try:
        jwk = loads_strict(b64url_decode(url.method_specific_id), max_bytes=MAX_DID_LENGTH, max_depth=4)
    except MalformedError as exc:
        raise MalformedError(f"a did:jwk identifier is base64url JSON: {exc.message}", code="invalid_did") from exc
    if not isinstance(jwk, dict):
        raise MalformedError("a did:jwk identifier encodes a JSON object", code="invalid_did")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise MalformedError("a did:jwk must not carry private key material", code="invalid_key")
    use = jwk.get("use")
    if use is not None and use not in ("sig", "enc"):
        raise MalformedError(f"unsupported JWK use {use!r}", code="invalid_key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    # tuples, not sets: a member may be an unhashable JSON value
    if (kty, crv) in (("OKP", "Ed25519"), ("EC", "P-256")):
        key_from_jwk(jwk)  # checks coordinates and the point
    elif (kty, crv) == ("OKP", "X25519"):
        x = jwk.get("x")
        if not isinstance(x, str) or len(b64url_decode(x)) != 32:
            raise MalformedError("an X25519 JWK holds a 32-byte x", code="invalid_key")
    else:
        raise UnsupportedError(f"unsupported JWK {kty!r}/{crv!r}", code="unsupported_key_type")
    return jwk


def did_jwk_document(did: str) -> dict[str, Any]:
    """The did:jwk DID document as JSON (spec "Read")."""
    jwk = jwk_from_did_jwk(did)
    vm_id = did + "#0"
    doc: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": VM_TYPE, "controller": did, "publicKeyJwk": jwk}],
    }
    for rel in _USE_RELATIONSHIPS[jwk.get("use")]:
        doc[rel] = [vm_id]
    return doc


def resolve_did_jwk(did: str) -> DidDocument:
    """Resolve a did:jwk offline."""
    return parse_did_document(did_jwk_document(did), did=did)
