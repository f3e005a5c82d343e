"""A fast, exact path from a JSON-LD credential to canonical N-Quads (RDFC-1.0).

Why: pyld spends ~480-700 µs turning a credential into RDF, because it re-processes every
``@context`` on every call and builds an expanded document and a node map first. Here:

* **Contexts are processed once** (:mod:`shared.jsonld_context`). Term definitions come from
  pyld's own context processing (so protected terms, scoped contexts and ``@propagate`` behave
  exactly as in pyld), run once per (active context, local context) pair and memoized, like every
  term → IRI expansion.
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

Bundled contexts only: contexts load through ``shared.jsonld.document_loader``, the same allow-list
as the pyld path, so a context URL not in ``shared/contexts/index.json`` never loads here.
Byte-for-byte parity with pyld's URDNA2015 is checked by ``tests/core/test_jsonld_fast.py``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from c14n.Canonicalize import canonicalize as _jcs

from shared.jsonld_context import (
    ABSOLUTE_IRI,
    JSONLD_KEYWORDS,
    UNDEFINED_NAMESPACES,
    ActiveContext,
    Unsupported,
    defined_iri,
    initial_context,
)
from shared.rdfc import Quad, canonicalize_quads

__all__ = ["UNDEFINED_NAMESPACES", "fast_canonicalize", "fast_to_quads"]

_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_TYPE: Final = f"<{_RDF}type>"
_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"'})


def _literal(value: Any, datatype: str | None, language: str | None) -> str:
    """pyld ``_object_to_rdf`` for a value object (rdfDirection unset), serialized as N-Quads."""
    if datatype == "@json":
        lexical, datatype = _jcs(value).decode("utf-8"), _RDF + "JSON"
    elif isinstance(value, bool):
        lexical, datatype = ("true" if value else "false"), datatype or _XSD + "boolean"
    elif isinstance(value, float) and not math.isfinite(value):
        raise Unsupported("non-finite number")
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
        raise Unsupported("literal")
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
            raise Unsupported("pyld would emit this quad twice")

    def fresh(self) -> str:
        self.fresh_count += 1
        return f"_:f{self.fresh_count}"

    def node_term(self, iri: str | None) -> str:
        """An expanded @id as an N-Quads term (input blank-node labels are renamed apart)."""
        if iri is None or not ABSOLUTE_IRI.fullmatch(iri):
            raise Unsupported("relative or invalid IRI")
        if iri[:2] == "_:":
            label = self.bnodes.get(iri)
            if label is None:
                label = self.bnodes[iri] = f"_:u{len(self.bnodes)}"
            return label
        return f"<{iri}>"

    def vocab_term(self, ctx: ActiveContext, value: str) -> str:
        """A @type value or a property key as an IRI (never a blank node, never relative)."""
        term = ctx.term_iri(value)
        if term is None:
            raise Unsupported("not an absolute IRI of a defined term")
        return term


def _node(walk: _Walk, ctx: ActiveContext, element: dict[str, Any], graph: str) -> str:
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
                raise Unsupported("@id")
            subject = walk.node_term(ctx.id_iri(value))
        elif expanded == "@type":
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise Unsupported("@type value")
            types.extend(walk.vocab_term(type_scoped, v) for v in values)
        elif expanded is None or expanded in JSONLD_KEYWORDS:
            raise Unsupported(f"key {key!r}")
        else:
            predicate = walk.vocab_term(ctx, key)
            if predicate == _RDF_TYPE:  # pyld keeps it apart from @type: the same quad could come out twice
                raise Unsupported("rdf:type as a property")
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


def _property(
    walk: _Walk, ctx: ActiveContext, subject: str, key: str, *, predicate: str, value: Any, graph: str
) -> None:
    """Expand one property of a node (pyld ``_expand_object``'s per-key branch) into quads."""
    mapping = ctx.term(key) or {}
    if mapping.get("reverse"):
        raise Unsupported("@reverse term")
    scoped = mapping.get("@context")
    term_ctx = ctx.child(scoped, source=ctx, term=key) if scoped is not None else ctx
    container = mapping.get("@container") or ()
    if any(c not in ("@set", "@graph") for c in container):
        raise Unsupported("container")
    quads = walk.quads
    if mapping.get("@type") == "@json":
        if value is None:
            raise Unsupported("null")
        walk.add_literal((subject, predicate, _literal(value, "@json", None), graph), _json_key(value))
        return
    in_graph = "@graph" in container
    for item in _flatten(value):
        if isinstance(item, dict):
            if "@value" in item:
                if in_graph:
                    raise Unsupported("value in @graph container")
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
            raise Unsupported("null or scalar in @graph container")
        else:
            obj, value_key = _scalar(walk, term_ctx, key, item)
            if value_key is not None:
                walk.add_literal((subject, predicate, obj, graph), value_key)
                continue
        quads.add((subject, predicate, obj, graph))


def _nested_ctx(term_ctx: ActiveContext, key: str, element: dict[str, Any]) -> ActiveContext:
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


def _value_object(term_ctx: ActiveContext, key: str, item: dict[str, Any]) -> tuple[str, _ValueKey | None]:
    """A value object with ``@value`` and at most one of ``@language`` / ``@type``."""
    if not set(item) <= {"@value", "@language", "@type"}:
        raise Unsupported("value object keys")
    value = item["@value"]
    language = item.get("@language")
    datatype = item.get("@type")
    if language is not None and (not isinstance(language, str) or not isinstance(value, str)):
        raise Unsupported("@language")
    if datatype is not None:
        if language is not None or not isinstance(datatype, str):
            raise Unsupported("@type in value object")
        datatype = _nested_ctx(term_ctx, key, item).vocab_iri(datatype)
        if datatype != "@json":
            datatype = defined_iri(datatype)
    elif "@type" in item:
        raise Unsupported("null @type")
    if datatype != "@json" and (value is None or isinstance(value, dict | list)):
        raise Unsupported("@value")
    language = language.lower() if language is not None else None
    value_key = _json_key(value) if datatype == "@json" else _value_key(datatype, language, value)
    return _literal(value, datatype, language), value_key


def _scalar(walk: _Walk, term_ctx: ActiveContext, key: str, value: Any) -> tuple[str, _ValueKey | None]:
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
            raise Unsupported("@json through a scoped context")
        return _literal(value, defined_iri(type_), None), _value_key(type_, None, value)
    language = None
    if isinstance(value, str):
        raw = term_ctx.raw
        language = raw.get("@language")
        direction = raw.get("@direction")
        if mapping is not None:
            language = mapping.get("@language", language)
            direction = mapping.get("@direction", direction)
        if direction is not None:
            raise Unsupported("@direction")
    return _literal(value, None, language), _value_key(None, language, value)


def fast_to_quads(doc: Any) -> set[Quad] | None:
    """The RDF dataset pyld's toRDF would produce, as N-Quads term tuples; None = use pyld."""
    if not isinstance(doc, dict):
        return None
    walk = _Walk()
    try:
        _node(walk, initial_context(), doc, "")
    except (Unsupported, RecursionError):
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
