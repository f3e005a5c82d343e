"""DID documents and verification methods (DID Core 1.0, Controlled Identifiers 1.0).

A resolver turns a DID URL into a :class:`VerificationMethod`: the key, who controls it, and
which verification relationships (``assertionMethod``, ``authentication``, …) the DID document
lists it under. Data Integrity and SD-JWT verification take such a resolver as an injected
callable, so the core does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.crypto import PublicKey


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
    id: str
    document: dict[str, Any]
    methods: tuple[VerificationMethod, ...]

    def method(self, vm_id: str) -> VerificationMethod | None:
        return next((m for m in self.methods if m.id == vm_id), None)


ResolveMethod = Callable[[str], VerificationMethod]
