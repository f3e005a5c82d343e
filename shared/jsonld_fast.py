"""A fast, exact path from a JSON-LD credential to canonical N-Quads (RDFC-1.0).

Why: pyld spends ~480-700 µs turning a credential into RDF, because it re-processes every
``@context`` on every call and builds an expanded document and a node map first. Here:

* **Contexts are processed once.** Term definitions come from pyld's own context processing
  (so protected terms, scoped contexts and ``@propagate`` behave exactly as in pyld), run once
  per (active context, local context) pair and memoized, like every term → IRI expansion.
* **Expansion and toRDF are one walk.** The walk follows pyld 3.3.0's ``_expand`` step by step
  for the shapes credentials and presentations use — node objects, ``@id``/``@type`` and their
  aliases, type coercion (``@id``, ``@vocab``, datatypes, ``@json``), ``@vocab``, compact IRIs,
  embedded ``@context``, property- and type-scoped contexts (type-scoped ones do not propagate),
  ``@graph`` containers (``proof``, ``verifiableCredential``), ``@set``, value objects with
  ``@language``/``@type``, default ``@language`` — and emits quads directly.
* **Canonicalization** is :mod:`shared.rdfc` over those quads.

Anything outside that subset makes :func:`fast_canonicalize` return ``None`` and the caller
falls back to pyld (``shared.jsonld.canonicalize`` does). That includes everything pyld would
*drop* — keys that do not expand to an absolute IRI, ``null`` values, relative IRIs, blank-node
predicates or types — and ``@list``, ``@reverse``, ``@nest``, ``@index``/``@language``/``@id``/
``@type`` maps, ``@included``, ``@direction``, top-level ``@graph``, non-finite numbers, and any
context pyld refuses or that is not bundled. So the fast path never omits a term: it either
produces exactly pyld's quads or steps aside, and the strict pyld path decides.

Properties, types and datatypes in an "undefined term" namespace (:data:`UNDEFINED_NAMESPACES`,
where the VC 2.0 ``@vocab`` and the ``undefined-terms/v2`` context put terms nobody defined) also
step aside, so ``shared.jsonld``'s strict mode reports them (``undefined_term``) exactly as before.

Bundled contexts only: a context URL not in ``shared/contexts/index.json`` never loads here.
Byte-for-byte parity with pyld's URDNA2015 is checked by ``tests/core/test_jsonld_fast.py``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any, Final

from c14n.Canonicalize import canonicalize as _jcs
from cachetools import LRUCache
from pyld.context_resolver import ContextResolver
from pyld.jsonld import KEYWORDS, JsonLdProcessor

from shared.rdfc import Quad, canonicalize_quads

_CONTEXTS_DIR: Final = Path(__file__).parent / "contexts"
_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_TYPE: Final = f"<{_RDF}type>"
_KEYWORDS: Final = frozenset(KEYWORDS)
_KEYWORD_LIKE: Final = re.compile(r"@[a-zA-Z]+")
# pyld's _is_absolute_iri, but with fullmatch: pyld's ``$`` also accepts a trailing newline,
# which we would rather hand back to pyld than emit.
_ABSOLUTE_IRI: Final = re.compile(r"([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*")
_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"'})
_MEMO_LIMIT: Final = 512

#: IRIs under these mean "the issuer did not define this term"; ``shared.jsonld`` checks them
#: (``undefined_term`` in strict mode), so the fast path leaves such documents to it.
UNDEFINED_NAMESPACES: Final = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)


class _Unsupported(Exception):
    """Raised inside the walk when the document leaves the supported subset."""


@cache
def _context_index() -> dict[str, str]:
    index: dict[str, str] = json.loads((_CONTEXTS_DIR / "index.json").read_text("utf-8"))
    return index


@cache
def _bundled(url: str) -> Any:
    name = _context_index().get(url)
    if name is None:
        raise _Unsupported(url)
    return json.loads((_CONTEXTS_DIR / name).read_text("utf-8"))


def _load(url: str, options: Any = None) -> dict[str, Any]:
    # a copy: pyld may rewrite a loaded context in place; runs once per URL (the resolver caches)
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_bundled(url)), "tag": "static"}


_PROCESSOR: Final = JsonLdProcessor()
_OPTIONS: Final[dict[str, Any]] = {
    "documentLoader": _load,
    "contextResolver": ContextResolver(LRUCache(maxsize=256), _load),
    "base": "",
    "processingMode": "json-ld-1.1",
    "isFrame": False,
}


class _Ctx:
    """A pyld active context plus memos: term → IRI expansions and derived child contexts.

    Not a frozen dataclass: its whole point is to remember work. Entries depend only on the
    wrapped (immutable after creation) pyld context and the key, so memoizing is exact.
    """

    __slots__ = ("_children", "_iris", "_vocab", "mappings", "previous", "raw")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.mappings: dict[str, Any] = raw["mappings"]
        previous = raw.get("previousContext")
        self.previous: _Ctx | None = _wrap(previous) if previous else None
        self._vocab: dict[str, str | None] = {}
        self._iris: dict[str, str | None] = {}
        self._children: dict[Any, _Ctx] = {}

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
        """A property or @type value as an N-Quads ``<IRI>`` term; None when :func:`_defined_iri` refuses it."""
        try:
            return self._iris[value]
        except KeyError:
            if len(self._iris) > _MEMO_LIMIT:
                self._iris.clear()
            try:
                term: str | None = f"<{_defined_iri(self.vocab_iri(value))}>"
            except _Unsupported:
                term = None
            self._iris[value] = term
            return term

    def id_iri(self, value: str) -> str | None:
        """pyld ``_expand_iri(vocab=False)`` for @id values; None when relative."""
        return self._expand(value, vocab=False)

    def _expand(self, value: str, *, vocab: bool) -> str | None:
        if value in _KEYWORDS:
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
            if _ABSOLUTE_IRI.fullmatch(value):
                return value
        if vocab and "@vocab" in self.raw:
            return self.raw["@vocab"] + value  # type: ignore[no-any-return]
        return None  # relative: pyld would resolve it against a base, shared.jsonld rejects it

    def term(self, key: str) -> dict[str, Any] | None:
        mapping: dict[str, Any] | None = self.mappings.get(key)
        return mapping

    def child(
        self, local: Any, *, source: _Ctx | None, term: str | None, propagate: bool = True, override: bool = True
    ) -> _Ctx:
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
                raise _Unsupported("context") from exc
            if len(self._children) > _MEMO_LIMIT:
                self._children.clear()
            hit = self._children[key] = _wrap(raw)
        return hit


_WRAPPERS: dict[int, _Ctx] = {}


def _wrap(raw: dict[str, Any]) -> _Ctx:
    hit = _WRAPPERS.get(id(raw))
    if hit is None or hit.raw is not raw:
        if len(_WRAPPERS) > 4 * _MEMO_LIMIT:
            _WRAPPERS.clear()
        hit = _WRAPPERS[id(raw)] = _Ctx(raw)
    return hit


@cache
def _initial() -> _Ctx:
    return _wrap(_PROCESSOR._get_initial_context(_OPTIONS))


def _literal(value: Any, datatype: str | None, language: str | None) -> str:
    """pyld ``_object_to_rdf`` for a value object (rdfDirection unset), serialized as N-Quads."""
    if datatype == "@json":
        lexical, datatype = _jcs(value).decode("utf-8"), _RDF + "JSON"
    elif isinstance(value, bool):
        lexical, datatype = ("true" if value else "false"), datatype or _XSD + "boolean"
    elif isinstance(value, float) and not math.isfinite(value):
        raise _Unsupported("non-finite number")
    elif isinstance(value, float) and not value.is_integer():
        lexical, datatype = _double(value), datatype or _XSD + "double"
    elif datatype == _XSD + "double":
        try:
            lexical = _double(float(value))
        except (TypeError, ValueError):
            lexical = value
    elif isinstance(value, int | float) and abs(value) >= 1e21:
        lexical, datatype = _double(value), datatype or _XSD + "double"
    elif isinstance(value, int | float):
        lexical, datatype = str(int(value)), datatype or _XSD + "integer"
    elif language is not None:
        return f'"{value.translate(_ESCAPES)}"@{language}' if language else f'"{value.translate(_ESCAPES)}"'
    else:
        lexical = value
    if not isinstance(lexical, str):
        raise _Unsupported("literal")
    if datatype is None or datatype == _XSD + "string":
        return f'"{lexical.translate(_ESCAPES)}"'
    return f'"{lexical.translate(_ESCAPES)}"^^<{datatype}>'


def _double(value: float) -> str:
    # pyld's _canonicalize_double, verbatim: canonical xsd:double lexical form
    return re.sub(r"(\d)0*E\+?(-)?0*(\d)", r"\1E\2\3", f"{value:1.15E}")


_ValueKey = tuple[str | None, str | None, bool, Any]


def _value_key(datatype: str | None, language: str | None, value: Any) -> _ValueKey:
    """What pyld's ``compare_values`` compares: @type, @language, and @value (booleans apart from numbers)."""
    return datatype, language, isinstance(value, bool), value


def _json_key(value: Any) -> _ValueKey:
    # pyld compares @json values with ==, which also equates 1, 1.0 and True; equal JSON text is
    # stricter (never equal where == is not), so a mismatch only ever sends the document to pyld
    return "@json", None, False, json.dumps(value, sort_keys=True)


class _Walk:
    """The quads found so far and the blank-node labels issued."""

    __slots__ = ("bnodes", "fresh_count", "literals", "quads")

    def __init__(self) -> None:
        self.quads: set[Quad] = set()
        self.bnodes: dict[str, str] = {}
        self.fresh_count = 0
        self.literals: dict[Quad, _ValueKey | None] = {}

    def add_literal(self, quad: Quad, key: _ValueKey | None) -> None:
        """Add a literal quad. pyld's node map de-duplicates JSON-LD *values*, not RDF terms: two
        different values with one lexical form (``""`` and ``{"@value": "", "@type": "xsd:string"}``)
        come out as the same quad twice. We never copy that; we let pyld do it (``key`` None: unknown)."""
        if quad not in self.literals:
            self.literals[quad] = key
            self.quads.add(quad)
            return
        seen = self.literals[quad]
        if key is None or seen is None or seen != key:
            raise _Unsupported("pyld would emit this quad twice")

    def fresh(self) -> str:
        self.fresh_count += 1
        return f"_:f{self.fresh_count}"

    def node_term(self, iri: str | None) -> str:
        """An expanded @id as an N-Quads term (input blank-node labels are renamed apart)."""
        if iri is None or not _ABSOLUTE_IRI.fullmatch(iri):
            raise _Unsupported("relative or invalid IRI")
        if iri[:2] == "_:":
            label = self.bnodes.get(iri)
            if label is None:
                label = self.bnodes[iri] = f"_:u{len(self.bnodes)}"
            return label
        return f"<{iri}>"

    def vocab_term(self, ctx: _Ctx, value: str) -> str:
        """A @type value or a property key as an IRI (never a blank node, never relative)."""
        term = ctx.term_iri(value)
        if term is None:
            raise _Unsupported("not an absolute IRI of a defined term")
        return term


def _defined_iri(iri: str | None) -> str:
    """A predicate, type or datatype IRI: absolute, not a blank node, not an undefined term."""
    if iri is None or iri[:2] == "_:" or not _ABSOLUTE_IRI.fullmatch(iri) or iri.startswith(UNDEFINED_NAMESPACES):
        raise _Unsupported("not an absolute IRI of a defined term")
    return iri


def _node(walk: _Walk, ctx: _Ctx, element: dict[str, Any], graph: str) -> str:
    """Expand one node object (pyld ``_prepare_nested_context`` + ``_expand_object``)."""
    if "@context" in element:
        ctx = ctx.child(element["@context"], source=None, term=None)
    type_scoped = ctx
    for key in sorted(element):
        if key != "@context" and ctx.vocab_iri(key) == "@type":
            value = element[key]
            for type_ in sorted(t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)):
                mapping = type_scoped.term(type_)
                scoped = mapping.get("@context") if mapping else None
                if scoped is not None and scoped is not False:
                    ctx = ctx.child(scoped, source=type_scoped, term=type_, propagate=False, override=False)

    subject: str | None = None
    types: list[str] = []
    properties: list[tuple[str, str]] = []
    for key, value in element.items():
        if key == "@context":
            continue
        expanded = ctx.vocab_iri(key)
        if expanded == "@id":
            if subject is not None or not isinstance(value, str):
                raise _Unsupported("@id")
            subject = walk.node_term(ctx.id_iri(value))
        elif expanded == "@type":
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise _Unsupported("@type value")
            types.extend(walk.vocab_term(type_scoped, v) for v in values)
        elif expanded is None or expanded in _KEYWORDS:
            raise _Unsupported(f"key {key!r}")
        else:
            predicate = walk.vocab_term(ctx, key)
            if predicate == _RDF_TYPE:  # pyld keeps it apart from @type: the same quad could come out twice
                raise _Unsupported("rdf:type as a property")
            properties.append((key, predicate))

    if subject is None:
        subject = walk.fresh()
    quads = walk.quads
    for type_iri in types:
        quads.add((subject, _RDF_TYPE, type_iri, graph))
    for key, predicate in properties:
        _property(walk, ctx, subject, key, predicate=predicate, value=element[key], graph=graph)
    return subject


def _flatten(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    out: list[Any] = []
    for item in value:
        out.extend(_flatten(item))
    return out


def _property(walk: _Walk, ctx: _Ctx, subject: str, key: str, *, predicate: str, value: Any, graph: str) -> None:
    """Expand one property of a node (pyld ``_expand_object``'s per-key branch) into quads."""
    mapping = ctx.term(key) or {}
    if mapping.get("reverse"):
        raise _Unsupported("@reverse term")
    scoped = mapping.get("@context")
    term_ctx = ctx.child(scoped, source=ctx, term=key) if scoped is not None else ctx
    container = mapping.get("@container") or ()
    if any(c not in ("@set", "@graph") for c in container):
        raise _Unsupported("container")
    quads = walk.quads
    if mapping.get("@type") == "@json":
        if value is None:
            raise _Unsupported("null")
        walk.add_literal((subject, predicate, _literal(value, "@json", None), graph), _json_key(value))
        return
    in_graph = "@graph" in container
    for item in _flatten(value):
        if isinstance(item, dict):
            if "@value" in item:
                if in_graph:
                    raise _Unsupported("value in @graph container")
                obj, value_key = _value_object(term_ctx, key, item)
                walk.add_literal((subject, predicate, obj, graph), value_key)
                continue
            else:
                nested = _nested_ctx(term_ctx, key, item)
                if in_graph:
                    obj = walk.fresh()
                    _node(walk, nested, item, obj)
                else:
                    obj = _node(walk, nested, item, graph)
        elif item is None or in_graph:
            raise _Unsupported("null or scalar in @graph container")
        else:
            obj, value_key = _scalar(walk, term_ctx, key, item)
            if value_key is not None:
                walk.add_literal((subject, predicate, obj, graph), value_key)
                continue
        quads.add((subject, predicate, obj, graph))


def _nested_ctx(term_ctx: _Ctx, key: str, element: dict[str, Any]) -> _Ctx:
    """The context a nested object expands in (pyld ``_expand``: revert type-scoped, apply property-scoped)."""
    active = term_ctx
    must_revert = True
    if term_ctx.previous is not None and len(element) <= 2 and "@context" not in element:
        for k in sorted(element):
            expanded = term_ctx.vocab_iri(k)
            if expanded == "@value":
                must_revert = False
                break
            if expanded == "@id" and len(element) == 1:
                must_revert = False
                break
    if must_revert and active.previous is not None:
        active = active.previous
    mapping = term_ctx.term(key)
    scoped = mapping.get("@context") if mapping else None
    if scoped is not None:
        active = active.child(scoped, source=term_ctx, term=key)
    return active


def _value_object(term_ctx: _Ctx, key: str, item: dict[str, Any]) -> tuple[str, _ValueKey | None]:
    """A value object with ``@value`` and at most one of ``@language`` / ``@type``."""
    if not set(item) <= {"@value", "@language", "@type"}:
        raise _Unsupported("value object keys")
    value = item["@value"]
    language = item.get("@language")
    datatype = item.get("@type")
    if language is not None and (not isinstance(language, str) or not isinstance(value, str)):
        raise _Unsupported("@language")
    if datatype is not None:
        if language is not None or not isinstance(datatype, str):
            raise _Unsupported("@type in value object")
        datatype = _nested_ctx(term_ctx, key, item).vocab_iri(datatype)
        if datatype != "@json":
            datatype = _defined_iri(datatype)
    elif "@type" in item:
        raise _Unsupported("null @type")
    if datatype != "@json" and (value is None or isinstance(value, dict | list)):
        raise _Unsupported("@value")
    language = language.lower() if language is not None else None
    value_key = _json_key(value) if datatype == "@json" else _value_key(datatype, language, value)
    return _literal(value, datatype, language), value_key


def _scalar(walk: _Walk, term_ctx: _Ctx, key: str, value: Any) -> tuple[str, _ValueKey | None]:
    """pyld ``_expand_value`` for a string, number or boolean: (N-Quads object, value key if a literal)."""
    mapping = term_ctx.term(key)
    type_ = mapping.get("@type") if mapping else None
    if isinstance(value, str):
        if type_ == "@id":
            return walk.node_term(term_ctx.id_iri(value)), None
        if type_ == "@vocab":
            return walk.node_term(term_ctx.vocab_iri(value)), None
    if type_ is not None and type_ not in ("@id", "@vocab", "@none"):
        if type_ == "@json":
            raise _Unsupported("@json through a scoped context")
        return _literal(value, _defined_iri(type_), None), _value_key(type_, None, value)
    language = None
    if isinstance(value, str):
        raw = term_ctx.raw
        language = raw.get("@language")
        direction = raw.get("@direction")
        if mapping is not None:
            language = mapping.get("@language", language)
            direction = mapping.get("@direction", direction)
        if direction is not None:
            raise _Unsupported("@direction")
    return _literal(value, None, language), _value_key(None, language, value)


def fast_to_quads(doc: Any) -> set[Quad] | None:
    """The RDF dataset pyld's toRDF would produce, as N-Quads term tuples; None = use pyld."""
    if not isinstance(doc, dict):
        return None
    walk = _Walk()
    try:
        _node(walk, _initial(), doc, "")
    except (_Unsupported, RecursionError):
        return None
    return walk.quads


def fast_canonicalize(doc: Any) -> str | None:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, or None when pyld must do it.

    Raises ``JsonLdError(code="canonicalization_limit")`` for poisoned blank-node graphs.
    """
    quads = fast_to_quads(doc)
    if quads is None:
        return None
    return canonicalize_quads(quads)
