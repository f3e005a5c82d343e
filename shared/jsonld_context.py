"""Compiled JSON-LD active contexts for the fast path of :mod:`shared.jsonld_fast`.

Contexts are processed once: term definitions come from pyld's own context processing (so protected
terms, scoped contexts and ``@propagate`` behave exactly as in pyld 3.3.0), run once per (active
context, local context) pair and memoized in :class:`ActiveContext`, like every term → IRI expansion.

Contexts load through :func:`shared.jsonld.document_loader`, the one allow-listed, offline loader over
``shared/contexts/`` (``"tag": "static"``, so pyld's resolver keeps each processed context): a URL it
does not serve never loads here either. Any refusal while processing a context (unknown URL, protected
term redefinition, bad syntax) raises :class:`Unsupported`, which sends the document to pyld's strict
path, and that path reports the refusal (``context_not_allowed`` …).

Also here, because contexts and the walk both need them: :func:`defined_iri` and
:data:`UNDEFINED_NAMESPACES` (IRIs of terms nobody defined step aside to ``shared.jsonld``'s strict mode).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Final

from cachetools import LRUCache
from pyld.context_resolver import ContextResolver
from pyld.jsonld import KEYWORDS, JsonLdProcessor

from shared import jsonld

JSONLD_KEYWORDS: Final = frozenset(KEYWORDS)
_KEYWORD_LIKE: Final = re.compile(r"@[a-zA-Z]+")
# pyld's _is_absolute_iri, but with fullmatch: pyld's ``$`` also accepts a trailing newline,
# which we would rather hand back to pyld than emit.
ABSOLUTE_IRI: Final = re.compile(r"([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*")
_MEMO_LIMIT: Final = 512

#: IRIs under these mean "the issuer did not define this term"; ``shared.jsonld`` checks them
#: (``undefined_term`` in strict mode), so the fast path leaves such documents to it.
UNDEFINED_NAMESPACES: Final = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)


class Unsupported(Exception):
    """Raised inside the fast path when the document leaves the supported subset."""


def defined_iri(iri: str | None) -> str:
    """A predicate, type or datatype IRI: absolute, not a blank node, not an undefined term."""
    if iri is None or iri[:2] == "_:" or not ABSOLUTE_IRI.fullmatch(iri) or iri.startswith(UNDEFINED_NAMESPACES):
        raise Unsupported("not an absolute IRI of a defined term")
    return iri


def _load(url: str, options: Any = None) -> dict[str, Any]:
    # Looked up on each call, not bound at import: shared.jsonld imports the fast path inside its
    # functions today, and this keeps working should that import move to its top.
    return jsonld.document_loader(url, options)


_PROCESSOR: Final = JsonLdProcessor()
_OPTIONS: Final[dict[str, Any]] = {
    "documentLoader": _load,
    "contextResolver": ContextResolver(LRUCache(maxsize=256), _load),
    "base": "",
    "processingMode": "json-ld-1.1",
    "isFrame": False,
}


class ActiveContext:
    """A pyld active context plus memos: term → IRI expansions and derived child contexts.

    Not a frozen dataclass: its whole point is to remember work. Entries depend only on the
    wrapped (immutable after creation) pyld context and the key, so memoizing is exact.
    """

    __slots__ = ("_children", "_iris", "_vocab", "mappings", "previous", "raw")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.mappings: dict[str, Any] = raw["mappings"]
        previous = raw.get("previousContext")
        self.previous: ActiveContext | None = _wrap(previous) if previous else None
        self._vocab: dict[str, str | None] = {}
        self._iris: dict[str, str | None] = {}
        self._children: dict[Any, ActiveContext] = {}

    def vocab_iri(self, value: str) -> str | None:
        """pyld ``_expand_iri(vocab=True)``: an IRI, a keyword, or None (dropped or relative)."""
        try:
            return self._vocab[value]
        except KeyError:
            if len(self._vocab) > _MEMO_LIMIT:
                self._vocab.clear()
            iri = self._vocab[value] = self._expand(value, vocab=True)
            return iri

    def term_iri(self, value: str) -> str | None:
        """A property or @type value as an N-Quads ``<IRI>`` term; None when :func:`defined_iri` refuses it."""
        try:
            return self._iris[value]
        except KeyError:
            if len(self._iris) > _MEMO_LIMIT:
                self._iris.clear()
            try:
                term: str | None = f"<{defined_iri(self.vocab_iri(value))}>"
            except Unsupported:
                term = None
            self._iris[value] = term
            return term

    def id_iri(self, value: str) -> str | None:
        """pyld ``_expand_iri(vocab=False)`` for @id values; None when relative."""
        return self._expand(value, vocab=False)

    def _expand(self, value: str, *, vocab: bool) -> str | None:
        if value in JSONLD_KEYWORDS:
            return value
        if _KEYWORD_LIKE.fullmatch(value):
            return None
        mappings = self.mappings
        if vocab and value in mappings:
            mapping = mappings[value]
            return None if mapping is None else mapping["@id"]
        colon = value.find(":")
        if colon > 0:
            prefix, suffix = value[:colon], value[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return value
            mapping = mappings.get(prefix)
            if mapping and mapping["_prefix"]:
                return mapping["@id"] + suffix  # type: ignore[no-any-return]
            if ABSOLUTE_IRI.fullmatch(value):
                return value
        if vocab and "@vocab" in self.raw:
            return self.raw["@vocab"] + value  # type: ignore[no-any-return]
        return None  # relative: pyld would resolve it against a base, shared.jsonld rejects it

    def term(self, key: str) -> dict[str, Any] | None:
        mapping: dict[str, Any] | None = self.mappings.get(key)
        return mapping

    def child(
        self,
        local: Any,
        *,
        source: ActiveContext | None,
        term: str | None,
        propagate: bool = True,
        override: bool = True,
    ) -> ActiveContext:
        """The context after processing ``local`` on top of this one (memoized).

        ``source``/``term`` name where a scoped context came from (its identity is stable as
        long as ``source`` lives, and the memo keeps it alive); a document's own inline
        ``@context`` is keyed by its JSON text instead.
        """
        if source is not None:
            key: Any = (source, term, propagate, override)
        else:
            key = json.dumps(local, sort_keys=True)
        hit = self._children.get(key)
        if hit is None:
            try:
                raw = _PROCESSOR._process_context(
                    self.raw, local, _OPTIONS, override_protected=override and source is not None, propagate=propagate
                )
            except Exception as exc:  # any refusal (unknown URL, protected term, bad syntax) → pyld
                raise Unsupported("context") from exc
            if len(self._children) > _MEMO_LIMIT:
                self._children.clear()
            hit = self._children[key] = _wrap(raw)
        return hit


_WRAPPERS: dict[int, ActiveContext] = {}


def _wrap(raw: dict[str, Any]) -> ActiveContext:
    hit = _WRAPPERS.get(id(raw))
    if hit is None or hit.raw is not raw:
        if len(_WRAPPERS) > 4 * _MEMO_LIMIT:
            _WRAPPERS.clear()
        hit = _WRAPPERS[id(raw)] = ActiveContext(raw)
    return hit


@cache
def initial_context() -> ActiveContext:
    return _wrap(_PROCESSOR._get_initial_context(_OPTIONS))
