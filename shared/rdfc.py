"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024) over pre-serialized quads.

Covers the whole algorithm: first-degree hashing (§4.6), the N-degree hashing of blank nodes
that first-degree hashes cannot tell apart (§4.8, with the related-node hashes of §4.7), and
the canonical N-Quads output (§4.4 step 7). SHA-256 is the hash, as RDFC-1.0 requires.

Why a second implementation next to pyld's ``URDNA2015``: pyld works on dicts of dicts per
RDF term and deep-copies identifier issuers, which costs more than the whole fast JSON-LD
path. Here a quad is a tuple of four N-Quads *term strings* — ``<iri>``, ``_:label``, or a
fully serialized literal — and ``""`` as the graph of the default graph, so serializing a
quad is one string join. Credentials give most blank nodes a unique first-degree hash, so
the common case is one hashing pass and a sort.

Byte parity with pyld 3.3.0 (``tests/core/test_jsonld_fast.py`` checks it) includes two pyld
details. A quad that names the same blank node twice (subject and graph, say) is listed twice for
that node, and so is hashed twice, as pyld's list-based blank-node-to-quads map does. And a group
of related blank nodes lists a node once per quad (a graph-name node relates to every node of its
graph many times); pyld permutes such lists with its Steinhaus-Johnson-Trotter generator, which
on repeated entries visits far fewer orders than n!, so :func:`_permutations` uses that same
generator whenever a group repeats a node, and ``itertools.permutations`` (same minimum, since all
orders are visited) otherwise. The group-size bound counts distinct nodes for the same reason.

Work bounds: RDFC-1.0 §4.1 asks implementations to guard against poisoned datasets, whose
N-degree hashing explodes combinatorially. :func:`canonicalize_quads` applies the same bounds,
charged the same way, as ``shared.jsonld``'s bounded pyld canonicalizer (``Limits``): quads,
blank nodes, the size of one group of indistinguishable related nodes, and N-degree work
(each call and each group's n! permutations, weighted by the path issuer's size). Past a bound
it raises ``JsonLdError(code="canonicalization_limit")``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterator
from itertools import permutations
from typing import Final

from shared.errors import JsonLdError

Quad = tuple[str, str, str, str]

DEFAULT_MAX_QUADS: Final = 10_000
DEFAULT_MAX_BLANK_NODES: Final = 2_000
DEFAULT_MAX_NDEGREE_WORK: Final = 5_000
DEFAULT_MAX_PERMUTATION_GROUP: Final = 7
_sha256 = hashlib.sha256


class _Issuer:
    """Identifier issuer (RDFC-1.0 §4.3): hands out ``prefix0``, ``prefix1``, … in issue order."""

    __slots__ = ("ids", "prefix")

    def __init__(self, prefix: str, ids: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.ids: dict[str, str] = {} if ids is None else ids

    def issue(self, existing: str) -> str:
        issued = self.ids.get(existing)
        if issued is None:
            issued = self.ids[existing] = f"{self.prefix}{len(self.ids)}"
        return issued

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, dict(self.ids))


def serialize_quad(s: str, p: str, o: str, g: str) -> str:
    """One N-Quads line; ``g == ""`` is the default graph."""
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


class _State:
    __slots__ = ("bnode_quads", "canonical", "first_hashes", "max_group", "max_work", "work")

    def __init__(self, bnode_quads: dict[str, list[Quad]], max_work: int, max_group: int) -> None:
        self.bnode_quads = bnode_quads
        self.canonical = _Issuer("_:c14n")
        self.first_hashes: dict[str, str] = {}
        self.work = 0
        self.max_work = max_work
        self.max_group = max_group

    def charge(self, units: int, issuer: _Issuer) -> None:
        self.work += units * (1 + len(issuer.ids) // 8)
        if self.work > self.max_work:
            raise JsonLdError(
                "canonicalization needs too much work (Hash N-Degree Quads)", code="canonicalization_limit"
            )

    def first_degree(self, ident: str) -> str:
        """Hash First Degree Quads (§4.6): the node's quads with itself as _:a, others as _:z."""
        cached = self.first_hashes.get(ident)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.bnode_quads[ident]:
            lines.append(
                serialize_quad(
                    ("_:a" if s == ident else "_:z") if s[:2] == "_:" else s,
                    p,
                    ("_:a" if o == ident else "_:z") if o[:2] == "_:" else o,
                    ("_:a" if g == ident else "_:z") if g[:2] == "_:" else g,
                )
            )
        lines.sort()
        digest = _sha256("".join(lines).encode()).hexdigest()
        self.first_hashes[ident] = digest
        return digest

    def related_hash(self, related: str, predicate: str, issuer: _Issuer, position: str) -> str:
        """Hash Related Blank Node (§4.7)."""
        ident = self.canonical.ids.get(related) or issuer.ids.get(related) or self.first_degree(related)
        data = position + (predicate if position != "g" else "") + ident
        return _sha256(data.encode()).hexdigest()

    def n_degree(self, ident: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        """Hash N-Degree Quads (§4.8); returns the hash and the issuer of the chosen path."""
        self.charge(1, issuer)
        related_map: dict[str, list[str]] = {}
        for quad in self.bnode_quads[ident]:
            s, p, o, g = quad
            for position, component in (("s", s), ("o", o), ("g", g)):
                if component[:2] == "_:" and component != ident:
                    key = self.related_hash(component, p, issuer, position)
                    related_map.setdefault(key, []).append(component)
        for group in related_map.values():
            distinct = len(set(group))
            if distinct > self.max_group:
                raise JsonLdError(
                    f"{distinct} indistinguishable blank nodes in one group (at most {self.max_group})",
                    code="canonicalization_limit",
                )
            self.charge(math.factorial(distinct), issuer)

        md = _sha256()
        canonical_ids = self.canonical.ids
        for related_hash, blank_nodes in sorted(related_map.items()):
            md.update(related_hash.encode())
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in _permutations(blank_nodes):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    canonical = canonical_ids.get(related)
                    if canonical is not None:
                        path += canonical
                    else:
                        if related not in issuer_copy.ids:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, issuer_copy = self.n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related) + "<" + result_hash + ">"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode())
            assert chosen_issuer is not None  # the first permutation is never skipped
            issuer = chosen_issuer
        return md.hexdigest(), issuer


def _permutations(nodes: list[str]) -> Iterator[tuple[str, ...]]:
    """The orders Hash N-Degree Quads tries (see the module docstring for why two generators)."""
    if len(set(nodes)) == len(nodes):
        yield from permutations(sorted(nodes))
        return
    # pyld.canon.permutations, step for step: Steinhaus-Johnson-Trotter over the sorted list
    elements = sorted(nodes)
    left = dict.fromkeys(elements, True)
    last = len(elements) - 1
    while True:
        yield tuple(elements)
        k: str | None = None
        pos = 0
        for i, e in enumerate(elements):
            is_left = left[e]
            if (k is None or e > k) and (
                (is_left and i > 0 and e > elements[i - 1]) or (not is_left and i < last and e > elements[i + 1])
            ):
                k, pos = e, i
        if k is None:
            return
        swap = pos - 1 if left[k] else pos + 1
        elements[pos], elements[swap] = elements[swap], k
        for e in elements:
            if e > k:
                left[e] = not left[e]


def canonicalize_quads(
    quads: Collection[Quad],
    *,
    max_quads: int = DEFAULT_MAX_QUADS,
    max_blank_nodes: int = DEFAULT_MAX_BLANK_NODES,
    max_ndegree_work: int = DEFAULT_MAX_NDEGREE_WORK,
    max_permutation_group: int = DEFAULT_MAX_PERMUTATION_GROUP,
) -> str:
    """Canonical N-Quads (sorted lines, ``_:c14n<n>`` labels) of a set of quads.

    Duplicate quads must already be removed (an RDF dataset is a set); callers pass a set.
    """
    if len(quads) > max_quads:
        raise JsonLdError(f"{len(quads)} quads (at most {max_quads})", code="canonicalization_limit")
    quad_list = list(quads)
    bnode_quads: dict[str, list[Quad]] = {}
    for quad in quad_list:
        s, _, o, g = quad
        if s[:2] == "_:":
            bnode_quads.setdefault(s, []).append(quad)
        if o[:2] == "_:":
            bnode_quads.setdefault(o, []).append(quad)
        if g[:2] == "_:":
            bnode_quads.setdefault(g, []).append(quad)

    if len(bnode_quads) > max_blank_nodes:
        raise JsonLdError(f"{len(bnode_quads)} blank nodes (at most {max_blank_nodes})", code="canonicalization_limit")
    state = _State(bnode_quads, max_ndegree_work, max_permutation_group)
    canonical = state.canonical
    pending = set(bnode_quads)
    # §4.4 steps 4-5: issue ids, in hash order, to nodes whose first-degree hash is unique;
    # repeat while that makes progress (pyld repeats too; hashes are cached, so it is cheap).
    hash_to_nodes: dict[str, list[str]] = {}
    simple = True
    while simple:
        simple = False
        hash_to_nodes = {}
        for ident in pending:
            hash_to_nodes.setdefault(state.first_degree(ident), []).append(ident)
        for digest, idents in sorted(hash_to_nodes.items()):
            if len(idents) > 1:
                continue
            canonical.issue(idents[0])
            pending.discard(idents[0])
            del hash_to_nodes[digest]
            simple = True

    # §4.4 step 6: the rest through N-degree hashing, group by group in hash order.
    for _digest, idents in sorted(hash_to_nodes.items()):
        results = []
        for ident in idents:
            if ident in canonical.ids:
                continue
            temporary = _Issuer("_:b")
            temporary.issue(ident)
            results.append(state.n_degree(ident, temporary))
        for _hash, issuer in sorted(results, key=lambda r: r[0]):
            for existing in issuer.ids:
                canonical.issue(existing)

    ids = canonical.ids
    lines = [
        serialize_quad(
            ids[s] if s[:2] == "_:" else s,
            p,
            ids[o] if o[:2] == "_:" else o,
            ids[g] if g[:2] == "_:" else g,
        )
        for s, p, o, g in quad_list
    ]
    lines.sort()
    return "".join(lines)
