"""What a credential's JSON-LD contexts define, as far as a JSON reader can tell (VCDM 2.0 §4.3, §4.5).

:mod:`shared.vc` checks the structure of ``@context`` (the base URL first, then URLs or objects) and
asks this module what the contexts, applied in order, define — with no JSON-LD expansion:

- which terms are defined, which are ``@protected``, and whether an ``@vocab`` catches the rest
  (:class:`ContextTerms`). A term mapped to ``null`` is not defined, even under ``@vocab``;
- a redefinition of a protected term is refused unless it is the same definition (compared with
  compact IRIs expanded and ``@protected`` dropped), for bundled contexts and inline ``@protected``
  objects alike: JSON-LD expansion would refuse it too;
- in an inline context object, a term mapping (a string, or an object's ``@id``) must be an absolute
  IRI, a compact IRI whose prefix is defined, a defined term, a keyword, a blank node or ``null``.

Bundled contexts (``shared/contexts``, the JSON-LD allow-list) are read for their terms, nested
context URLs up to four levels deep. Any other URL is opaque here: it might define anything, so every
term counts as defined — the JSON-LD allow-list refuses it later. Failures are raised through the
caller's :class:`Where`, so they carry its JSON path and error code.

Not to be confused with :mod:`shared.jsonld_context`, the compiled active contexts of the JSON-LD
fast path (pyld's context processing); this module never calls pyld's processor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, NoReturn, Protocol

_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_BAD_CHAR: Final = re.compile(r"[\s\x00-\x1f\x7f]")


class Where(Protocol):
    """Where a check is: ``fail`` raises the caller's error for a field (see ``shared.vc._Path``)."""

    def fail(self, name: str, message: str) -> NoReturn: ...


def is_iri(value: str) -> bool:
    """A JSON-LD IRI mapping: a scheme, a colon and no whitespace or control characters.

    Looser than a URL (``ex:thing`` is fine; :func:`shared.vc.is_url` adds its own rules)."""
    scheme, sep, _ = value.partition(":")
    return bool(sep and _SCHEME.fullmatch(scheme)) and not _BAD_CHAR.search(value)


@dataclass
class ContextTerms:
    """What a JSON reader can know of the active context: terms, protection, @vocab."""

    defs: dict[str, dict[str, Any] | None]
    protected: set[str]
    vocab: bool = False
    opaque: bool = False  # an unknown context URL might define anything

    def defined(self, term: str) -> bool:
        return self.opaque or self.defs.get(term) is not None or (term not in self.defs and self.vocab)


def _bundled(url: str) -> Any:
    """The ``@context`` value of a bundled context, or None for any other URL (opaque here)."""
    from shared.jsonld import allowed_contexts  # noqa: PLC0415 - pyld only when a URL context is read

    # only allow-listed URLs reach the cache: a verifier must not remember every URL it is sent
    return _load_bundled(url) if url in allowed_contexts() else None


@cache
def _load_bundled(url: str) -> Any:
    from shared.jsonld import document_loader  # noqa: PLC0415

    return document_loader(url)["document"].get("@context")


def _normal(definition: Any, local: dict[str, Any], terms: ContextTerms) -> dict[str, Any] | None:
    """A term definition in a form two contexts can be compared in (JSON-LD 1.1 §4.1.2: a protected
    term may be "redefined" with the same definition): compact IRIs expanded, ``@protected`` dropped."""
    if not isinstance(definition, str | dict):
        return None
    plain = {"@id": definition} if isinstance(definition, str) else dict(definition)
    plain.pop("@protected", None)
    for key in ("@id", "@type"):
        value = plain.get(key)
        prefix, sep, suffix = value.partition(":") if isinstance(value, str) else ("", "", "")
        if sep and not suffix.startswith("//"):
            base = local.get(prefix, terms.defs.get(prefix))
            base = base.get("@id") if isinstance(base, dict) else base
            if isinstance(base, str) and ":" in base:
                plain[key] = base + suffix
    return plain


def apply_context(item: Any, terms: ContextTerms, p: Where, name: str, *, inline: bool, depth: int = 0) -> None:
    """Add one ``@context`` item (a URL or an object) to ``terms``; ``inline`` for an object in the document."""
    if isinstance(item, str):
        loaded = _bundled(item) if depth < 4 else None
        if loaded is None:
            terms.opaque = True
            return
        for sub in loaded if isinstance(loaded, list) else [loaded]:
            apply_context(sub, terms, p, name, inline=False, depth=depth + 1)
        return
    if not isinstance(item, dict):
        return
    if "@vocab" in item:
        if item["@vocab"] is not None and not isinstance(item["@vocab"], str):
            p.fail(f"{name}.@vocab", "must be an IRI or null")
        terms.vocab = item["@vocab"] is not None
    default_protected = item.get("@protected") is True
    for term, definition in item.items():
        if term.startswith("@"):
            continue
        if inline:
            _check_mapping(definition, terms, p, f"{name}.{term}")
        new = _normal(definition, item, terms)
        if term in terms.protected and new != terms.defs.get(term):
            p.fail(f"{name}.{term}", f"redefines the protected term {term!r}")
        terms.defs[term] = new
        is_protected = (
            definition.get("@protected", default_protected) if isinstance(definition, dict) else default_protected
        )
        if is_protected is True:
            terms.protected.add(term)


def _check_mapping(definition: Any, terms: ContextTerms, p: Where, name: str) -> None:
    if definition is None:
        return
    if isinstance(definition, dict):
        definition = definition.get("@id")
        if definition is None:  # no @id (vocabulary-relative) or @id null (JSON-LD 1.1 §4.2.2)
            return
    if not isinstance(definition, str):
        p.fail(name, "a term definition must be an IRI, an object or null")
    if definition.startswith(("@", "_:")):
        return
    prefix, sep, _ = definition.partition(":")
    if sep and terms.defs.get(prefix) is not None:
        return
    if not (is_iri(definition) or (not sep and terms.defined(definition))):
        p.fail(name, f"maps to {definition!r}, which is not an absolute IRI")
