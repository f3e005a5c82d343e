"""Decentralized identifiers: did:key, did:jwk, did:web and one resolver over them (DID Core 1.0)."""

from shared.did.document import (
    DidDocument,
    DidUrl,
    ResolveMethod,
    VerificationMethod,
    parse_did,
    parse_did_document,
    parse_did_url,
)
from shared.did.jwk import did_jwk_from_public_key, resolve_did_jwk
from shared.did.key import did_key_from_public_key, public_key_from_did_key, resolve_did_key
from shared.did.resolver import DidResolver
from shared.did.web import Fetch, address_allowed, check_url, did_web_from_url, did_web_to_url, resolve_did_web

__all__ = [
    "DidDocument",
    "DidResolver",
    "DidUrl",
    "Fetch",
    "ResolveMethod",
    "VerificationMethod",
    "address_allowed",
    "check_url",
    "did_jwk_from_public_key",
    "did_key_from_public_key",
    "did_web_from_url",
    "did_web_to_url",
    "parse_did",
    "parse_did_document",
    "parse_did_url",
    "public_key_from_did_key",
    "resolve_did_jwk",
    "resolve_did_key",
    "resolve_did_web",
]
