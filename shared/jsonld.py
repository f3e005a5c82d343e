"""JSON-LD processing for Data Integrity: an offline document loader, strict expansion and RDFC-1.0.

Everything goes through pyld (JSON-LD 1.1 processing mode) with these choices:

- **Offline, allow-listed contexts.** :func:`document_loader` serves only the contexts bundled in
  ``shared/contexts/`` (``index.json`` maps URL → file); any other URL raises
  ``context_not_allowed`` and nothing is ever fetched. Documents are returned with
  ``"tag": "static"`` so pyld keeps the *processed* context in its shared cache (design §9: this
  is most of the JSON-LD cost).
- **No silent data loss** (the spirit of jsonld.js "safe mode", which Digital Bazaar's verifier
  runs). Expansion fails with ``data_loss`` when it would drop a property (a term no context
  defines, e.g. under the VC 1.1 context, which has no ``@vocab``), or when a node ``@id`` or a
  ``@type`` stays a relative IRI (``toRdf`` drops those). Such content would not be signed by
  ``eddsa-rdfc-2022`` and could be changed at will.
- **Undefined terms** (VCDM 2.0 §5.2 "Extensibility"/"Vocabularies"): a term that only resolves
  through the VC 2.0 context's ``@vocab`` lands in ``https://www.w3.org/ns/credentials/issuer-dependent#``;
  the ``undefined-terms/v2`` context uses ``…/undefined-term#``. With ``strict=True`` (the default,
  used for verification) either namespace raises ``undefined_term``: such a term means whatever
  each issuer wants, and Digital Bazaar's verifier rejects it too (design §9).
- **Bounded work.** Inputs are capped (JSON values, depth, text size), then the RDF dataset
  (quads, blank nodes), then the RDFC-1.0 "Hash N-Degree Quads" step (§4.8), whose permutations
  grow factorially on crafted graphs (the "poison graph" cases of the RDF canonicalization test
  suite). Exceeding a bound raises ``canonicalization_limit`` — deterministic, no timers.

:func:`canonicalize` is the single entry point for canonical N-Quads (RDF Dataset Canonicalization
1.0, W3C REC 2024, identical output to pyld's ``URDNA2015``); faster back ends plug in behind it.

pyld's expansion result is turned into RDF with ``JsonLdProcessor._create_node_map`` and
``_graph_to_rdf`` — the two steps ``to_rdf`` runs after expansion — so the document is expanded
once, with our checks in between. They are private methods of pyld 3.3; the vector tests pin them.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from pyld import jsonld as _pyld
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer

from shared.errors import JsonLdError, MalformedError, TesseraError

ISSUER_DEPENDENT_VOCAB: Final = "https://www.w3.org/ns/credentials/issuer-dependent#"
UNDEFINED_TERM_VOCAB: Final = "https://www.w3.org/ns/credentials/undefined-term#"
_UNDEFINED_NAMESPACES: Final = (ISSUER_DEPENDENT_VOCAB, UNDEFINED_TERM_VOCAB)


@dataclass(frozen=True)
class Limits:
    """Work bounds. The defaults leave ample room for credentials and presentations (a VC is
    tens of quads, a presentation of a few VCs some hundreds) and stop crafted input fast."""

    max_values: int = 20_000  # JSON values (objects, arrays, scalars) in the input
    max_depth: int = 64
    max_text: int = 1_000_000  # characters in all keys and strings together
    max_quads: int = 10_000
    max_blank_nodes: int = 2_000
    # Hash N-Degree Quads: calls + permutations (n! per group of blank nodes sharing a related
    # hash, before pruning: the worst case is what counts), weighted by the path issuer's size
    max_ndegree_work: int = 5_000
    max_permutation_group: int = 7  # 7! = 5040 permutations of one group


DEFAULT_LIMITS: Final = Limits()

_CONTEXT_PACKAGE: Final = "shared.contexts"


# --- document loader -----------------------------------------------------------------------------


@cache
def _index() -> dict[str, str]:
    text = resources.files(_CONTEXT_PACKAGE).joinpath("index.json").read_text(encoding="utf-8")
    index = json.loads(text)
    assert isinstance(index, dict)
    return {str(k): str(v) for k, v in index.items()}


@cache
def _context_file(name: str) -> Any:
    return json.loads(resources.files(_CONTEXT_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


def allowed_contexts() -> frozenset[str]:
    """The context URLs the loader serves."""
    return frozenset(_index())


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader over the bundled contexts. Unknown URLs raise ``context_not_allowed``.

    The returned document is a fresh copy: pyld rewrites ``@context`` arrays of loaded documents in
    place (relative URL resolution), which must not leak into the cached file.
    """
    name = _index().get(url) if isinstance(url, str) else None
    if name is None:
        shown = url[:200] if isinstance(url, str) else repr(url)[:200]
        raise JsonLdError(f"JSON-LD context {shown!r} is not on the allow-list", code="context_not_allowed", url=shown)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(_context_file(name)),
        "tag": "static",
    }


# --- input bounds --------------------------------------------------------------------------------


def _check_input(doc: Any, limits: Limits) -> None:
    """Size, depth and type checks before pyld sees the input (pyld recurses per level)."""
    if not isinstance(doc, dict):
        raise MalformedError("a JSON-LD document must be a JSON object")
    values = text = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        values += 1
        if values > limits.max_values:
            raise JsonLdError(f"more than {limits.max_values} JSON values", code="canonicalization_limit")
        if isinstance(node, dict):
            if depth > limits.max_depth:
                raise MalformedError(f"JSON-LD nested deeper than {limits.max_depth} levels", code="too_deep")
            for key, value in node.items():
                if not isinstance(key, str):
                    raise MalformedError("JSON object keys must be strings")
                text += len(key)
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            if depth > limits.max_depth:
                raise MalformedError(f"JSON-LD nested deeper than {limits.max_depth} levels", code="too_deep")
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            text += len(node)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise MalformedError("NaN and Infinity are not JSON")
        elif node is not None and not isinstance(node, (bool, int)):
            raise MalformedError(f"{type(node).__name__} is not a JSON value")
        if text > limits.max_text:
            raise JsonLdError(f"more than {limits.max_text} characters of text", code="canonicalization_limit")


# --- expansion -----------------------------------------------------------------------------------


def _tessera_cause(exc: BaseException) -> TesseraError | None:
    """pyld wraps loader errors (several levels deep); find ours in the cause chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TesseraError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _run_pyld(step: Callable[[], Any]) -> Any:
    """Run a pyld call on untrusted input; every failure becomes a TesseraError with a stable code."""
    try:
        return step()
    except TesseraError:
        raise
    except RecursionError as exc:
        raise MalformedError("JSON-LD nested too deeply", code="too_deep") from exc
    except Exception as exc:  # pyld raises its own JsonLdError and, on odd input, TypeError/KeyError/…
        ours = _tessera_cause(exc)
        if ours is not None:
            raise ours from exc
        detail = getattr(exc, "code", None) or type(exc).__name__
        raise JsonLdError(f"invalid JSON-LD: {detail}", code="malformed") from exc


def _options() -> dict[str, Any]:
    return {"documentLoader": document_loader, "base": None, "processingMode": "json-ld-1.1"}


def _is_absolute_iri(value: Any) -> bool:
    # the test pyld itself applies before dropping a relative IRI (RFC 3987 scheme ":")
    return isinstance(value, str) and bool(_pyld._is_absolute_iri(value))


def _node_id_ok(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("_:") or _is_absolute_iri(value))


def _scan_expanded(expanded: Any) -> tuple[list[str], list[str]]:
    """(relative IRIs that toRdf would drop, IRIs in an undefined-term namespace) of expanded JSON-LD."""
    undefined: list[str] = []
    relative: list[str] = []
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "@value" in node:
            datatype = node.get("@type")
            if datatype is not None and datatype != "@json":
                if not _is_absolute_iri(datatype):
                    relative.append(f"@type {datatype!r}")
                elif datatype.startswith(_UNDEFINED_NAMESPACES):
                    undefined.append(datatype)
            continue  # a literal: nothing below it is JSON-LD
        for key, value in node.items():
            if key == "@id":
                if not _node_id_ok(value):
                    relative.append(f"@id {value!r}")
            elif key == "@type":
                for item in value if isinstance(value, list) else [value]:
                    if not _node_id_ok(item):
                        relative.append(f"@type {item!r}")
                    elif item.startswith(_UNDEFINED_NAMESPACES):
                        undefined.append(item)
            else:
                if key.startswith(_UNDEFINED_NAMESPACES):
                    undefined.append(key)
                stack.append(value)
    return relative, undefined


def _term_names(iris: list[str]) -> list[str]:
    return sorted({iri.rsplit("#", 1)[-1] for iri in iris})


def _check_expanded(expanded: Any, *, strict: bool) -> None:
    relative, undefined = _scan_expanded(expanded)
    if relative:
        shown = ", ".join(sorted(set(relative))[:5])
        raise JsonLdError(f"relative IRIs would be dropped: {shown}", code="data_loss")
    if strict and undefined:
        names = _term_names(undefined)
        raise JsonLdError(
            f"terms not defined by any context (issuer-dependent): {', '.join(names[:5])}",
            code="undefined_term",
            terms=names[:20],
        )


def _expand_with(processor: Any, doc: dict[str, Any], *, strict: bool, limits: Limits) -> Any:
    _check_input(doc, limits)
    dropped: list[str] = []
    processor.on_property_dropped = lambda prop: dropped.append(str(prop))
    expanded = _run_pyld(lambda: processor.expand(doc, _options()))
    if dropped:
        names = sorted(set(dropped))
        raise JsonLdError(
            f"terms not defined by the document's contexts would be dropped: {', '.join(names[:5])}",
            code="data_loss",
            terms=names[:20],
        )
    _check_expanded(expanded, strict=strict)
    return expanded


def expand(doc: dict[str, Any], *, strict: bool = True, limits: Limits = DEFAULT_LIMITS) -> list[Any]:
    """JSON-LD 1.1 expansion with the offline loader; raises instead of dropping anything.

    Raises ``context_not_allowed``, ``data_loss``, ``undefined_term`` (strict only), ``malformed``,
    ``too_deep`` or ``canonicalization_limit``.
    """
    expanded = _expand_with(_pyld.JsonLdProcessor(), doc, strict=strict, limits=limits)
    return list(expanded)


def validate(doc: dict[str, Any], *, strict: bool = True, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse what :func:`canonicalize` refuses, without canonicalizing: for suites such as
    ``eddsa-jcs-2022`` that sign JSON but must agree with the JSON-LD reading of the document.

    The compiled path answers first: it only yields quads for documents that lose nothing and use
    no undefined term; anything else goes through the strict pyld expansion, which decides.
    """
    from shared.jsonld_fast import fast_to_quads  # noqa: PLC0415 - as in canonicalize

    _check_input(doc, limits)
    if fast_to_quads(doc) is None:
        _expand_with(_pyld.JsonLdProcessor(), doc, strict=strict, limits=limits)


def undefined_terms(doc: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """Names of the terms that only an issuer-dependent ``@vocab`` defines (empty when there are none).

    For issuers and wallets that want to warn rather than refuse; raises like :func:`expand` otherwise.
    """
    expanded = _expand_with(_pyld.JsonLdProcessor(), doc, strict=False, limits=limits)
    return tuple(_term_names(_scan_expanded(expanded)[1]))


def to_dataset(doc: dict[str, Any], *, strict: bool = True, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The RDF dataset of a document (pyld's ``{graph name: [triples]}``), after the expansion checks."""
    processor = _pyld.JsonLdProcessor()
    expanded = _expand_with(processor, doc, strict=strict, limits=limits)

    def build() -> dict[str, Any]:
        issuer = IdentifierIssuer("_:b")
        node_map: dict[str, Any] = {"@default": {}}
        processor._create_node_map(expanded, node_map, "@default", issuer)
        options = {**_options(), "produceGeneralizedRdf": False, "rdfDirection": None}
        return {
            name: processor._graph_to_rdf(graph, issuer, options)
            for name, graph in sorted(node_map.items())
            if name == "@default" or _is_absolute_iri(name)
        }

    dataset: dict[str, Any] = _run_pyld(build)
    return dataset


# --- RDFC-1.0 ------------------------------------------------------------------------------------


class _BoundedRdfc10(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 (= RDFC-1.0 with SHA-256) with a work budget on Hash N-Degree Quads.

    Each step is charged by the size of the path issuer it copies (pyld deep-copies the issuer
    for every permutation), so the budget tracks time on long chains as well as on cliques.
    """

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._work = 0

    def _charge(self, units: int, issuer: Any) -> None:
        self._work += units * (1 + len(issuer.existing) // 8)
        if self._work > self._limits.max_ndegree_work:
            raise JsonLdError(
                "canonicalization needs too much work (Hash N-Degree Quads)", code="canonicalization_limit"
            )

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._charge(1, issuer)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        groups = super().create_hash_to_related(id_, issuer)
        for nodes in groups.values():
            # a node is listed once per quad relating it (a graph name relates to its whole graph);
            # pyld's permutation generator visits orders of distinct nodes only, so count those
            distinct = len(set(nodes))
            if distinct > self._limits.max_permutation_group:
                raise JsonLdError(
                    f"{distinct} indistinguishable blank nodes in one group (at most "
                    f"{self._limits.max_permutation_group})",
                    code="canonicalization_limit",
                )
            self._charge(math.factorial(distinct), issuer)
        return groups


def canonicalize_dataset(dataset: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS) -> str:
    """RDFC-1.0 canonical N-Quads of a pyld dataset, within ``limits``."""
    quads = sum(len(triples) for triples in dataset.values())
    if quads > limits.max_quads:
        raise JsonLdError(f"{quads} quads (at most {limits.max_quads})", code="canonicalization_limit")
    blank: set[str] = set()
    for name, triples in dataset.items():
        if name.startswith("_:"):
            blank.add(name)
        for triple in triples:
            blank.update(
                part["value"] for part in (triple["subject"], triple["object"]) if part["type"] == "blank node"
            )
    if len(blank) > limits.max_blank_nodes:
        raise JsonLdError(f"{len(blank)} blank nodes (at most {limits.max_blank_nodes})", code="canonicalization_limit")
    result = _run_pyld(lambda: _BoundedRdfc10(limits).main(dataset, {"format": "application/n-quads"}))
    assert isinstance(result, str)
    return result


def canonicalize(doc: dict[str, Any], *, strict: bool = True, limits: Limits = DEFAULT_LIMITS) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document: expansion checks, toRdf, canonicalization.

    The one entry point every caller uses. Raises like :func:`expand`, plus ``canonicalization_limit``.
    The compiled fast path (:mod:`shared.jsonld_fast`, byte-identical output) answers first; it steps
    aside (None) for anything pyld would drop or these checks would refuse, and pyld decides.
    """
    from shared.jsonld_fast import fast_to_quads  # noqa: PLC0415 - wiring kept inside this body; may move up
    from shared.rdfc import canonicalize_quads  # noqa: PLC0415

    _check_input(doc, limits)
    quads = fast_to_quads(doc)
    if quads is not None:
        return canonicalize_quads(
            quads,
            max_quads=limits.max_quads,
            max_blank_nodes=limits.max_blank_nodes,
            max_ndegree_work=limits.max_ndegree_work,
            max_permutation_group=limits.max_permutation_group,
        )
    return canonicalize_dataset(to_dataset(doc, strict=strict, limits=limits), limits=limits)
