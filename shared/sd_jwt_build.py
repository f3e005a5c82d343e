"""SD-JWT issuance internals (RFC 9901 §4, §5): Disclosures, the issuer-signed payload, the issuer JWT.

:func:`shared.sd_jwt.issue` is the public face. Issuing is a hot path (one issuer signs many
credentials), so the common shape has its own route: when every disclosable path is a top-level member
name (an SD-JWT VC's usual claims), :func:`build` follows a memoized :class:`_Plan` of the claims' shape
and writes the payload's JSON as it goes; nested paths, array elements and recursive disclosures go
through :class:`_Builder`. Both give the same bytes (a property test compares them), with the choices
:mod:`shared.sd_jwt` lists; both refuse reserved (``_sd``, ``...``, ``_sd_alg``) and non-string member
names anywhere in the claims, nesting past the cap (``too_deep``) and too many Disclosures (``too_large``).

Why the code looks as it does (CPython 3.11, counted with callgrind on the benchmark's credential):
per-item Python work dominates, so Disclosures are base64url-encoded and hashed in batches (one join,
one split), ``bytes.replace`` makes base64 base64url (several times cheaper than ``bytes.translate``),
and the payload's JSON is written from parts known in advance (names from the plan, the digests need
no escaping, the holder's JWK memoized) instead of a second encoder pass over the payload.
"""

from __future__ import annotations

import binascii
import json
import struct
from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256
from itertools import compress, repeat
from typing import Any, Final, NamedTuple, TypeAlias

from shared import jose
from shared.crypto import RandomBytes, Signer
from shared.encoding import MAX_JSON_DEPTH
from shared.errors import MalformedError
from shared.sd_jwt_select import PathLike, expand, normalize_path
from shared.sd_jwt_verify import MAX_DISCLOSURES, RESERVED, Disclosure, Path, digest_of

_STR_ONLY: Final = frozenset({str})
_CONTAINERS: Final = frozenset({dict, list})
MEMO_MAX: Final = 256  # entries in each memo of issuance (here and in shared.sd_jwt)

_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_quote_utf8: Callable[[str], str] = json.encoder.encode_basestring  # as jose.dumps quotes (UTF-8 kept)
# The C encoder json.dumps builds on every call, built once: without a markers dict it keeps no state
# between calls, and a circular value ends in RecursionError (caught) instead of ValueError.
_disclosure_encoder: Any = jose._make_encoder(
    None, json.JSONEncoder().default, _quote, None, ": ", ", ", False, False, False
)
_b2a = binascii.b2a_base64
_new_disclosure = tuple.__new__  # Disclosure(...) without the Python-level __new__ of a NamedTuple
# (alg, typ, kid) → header segment; claims shape → _Plan. Bounded like jose's memos (emptied when
# full); single dict get/set/clear calls are atomic under the GIL, so threads at worst recompute.
_SEGMENTS: dict[tuple[str, str, str | None], str] = {}
_PLANS: dict[tuple[tuple[Any, ...], tuple[Any, ...], frozenset[str]], _Plan] = {}


def _value_json(value: Any) -> str:
    # The same text json.dumps gives, without building an encoder for the common scalar claims.
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encoded(value)


def _encoded(value: Any) -> str:
    try:
        return "".join(_disclosure_encoder(value, 0))
    except (TypeError, ValueError, RecursionError) as exc:
        raise MalformedError(f"claim value is not JSON: {exc}") from exc


def make_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    head = f"[{_quote(salt)}, " if name is None else f"[{_quote(salt)}, {_quote(name)}, "
    encoded = jose.b64e((head + _value_json(value) + "]").encode()).encode()
    return Disclosure(encoded.decode("ascii"), digest_of(encoded), salt, name, value)


def _salts(random_bytes: RandomBytes, count: int) -> list[str]:
    """``count`` salts of 128 bits (§9.3) from one ``random_bytes`` call, base64url-encoded."""
    pool = random_bytes(16 * count)
    if not isinstance(pool, bytes) or len(pool) != 16 * count:
        raise MalformedError("random_bytes returned the wrong number of bytes")
    # b2a_base64 gives each 16 bytes as 22 characters, "==" and a newline: one join, one split
    out = b"".join(map(_b2a, struct.unpack("16s" * count, pool))).replace(b"+", b"-").replace(b"/", b"_")
    salts = out.decode("ascii").split("==\n")
    salts.pop()
    return salts


def _encode(encoded: list[bytes]) -> tuple[list[str], list[str]]:
    """The base64url texts and digests (§4.2.3) of Disclosures from their JSONs' ``b2a_base64`` (which
    the callers make as they write the JSON), all at once: one pass makes them base64url, less "=",
    and each ``b2a_base64`` output ends with a newline, so one split separates them."""
    joined = b"".join(encoded).replace(b"+", b"-").replace(b"/", b"_").replace(b"=", b"")
    texts = joined.decode("ascii").split("\n")
    texts.pop()
    # the digests are over the base64url texts (encoding each again is cheaper than a second split);
    # each digest encodes as 43 characters, "=" and a newline
    raw = b"".join([_b2a(sha256(text.encode()).digest()) for text in texts]).replace(b"+", b"-").replace(b"/", b"_")
    digests = raw.decode("ascii").split("=\n")
    digests.pop()
    return texts, digests


def _decoys(random_bytes: RandomBytes, decoys: int) -> list[str]:
    """Up to ``decoys`` decoy digests (§4.2.5), the count drawn at random too."""
    count = random_bytes(1)[0] % (decoys + 1) if decoys else 0
    return [digest_of(random_bytes(16)) for _ in range(count)]


# --- the common shape: top-level names ------------------------------------------------------------


class _Plan(NamedTuple):
    """The flat route's layout of claims of one shape, with the JSON of their names (which repeats)."""

    names: tuple[str, ...]  # the disclosed members, in claims order (the creation order)
    heads: tuple[str, ...]  # '", "name", ': what comes between a Disclosure's salt and its value
    visible: tuple[str, ...]  # the other members, in claims order
    visible_heads: tuple[str, ...]  # '"name":', as jose.dumps writes a member name


def _plan(claims: dict[str, Any], paths: list[PathLike], never: frozenset[str]) -> _Plan | None:
    """The flat route's plan when every path is a top-level member name (None otherwise), memoized by
    (member names, paths, ``never``): a hit means the names were checked, exact strings, none reserved
    (a key only equal to one, a str subclass, is harmless: the plan's names are what the Disclosures
    and the payload carry). At most 256 plans of at most 128 names; emptied when full."""
    try:
        key = (tuple(claims), tuple(paths), never)
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable path, such as a list, is not a member name
        return None
    if plan is None:
        if not _STR_ONLY.issuperset(map(type, paths)) or not claims.keys() >= (top := set(paths)):
            return None
        if not RESERVED.isdisjoint(claims) or not _STR_ONLY.issuperset(map(type, claims)):
            raise _bad_name(claims)
        if not never.isdisjoint(top):
            raise _never(next(p for p in paths if p in never))
        if len(top) > MAX_DISCLOSURES:
            raise MalformedError(f"more than {MAX_DISCLOSURES} Disclosures", code="too_large")
        names = tuple([name for name in claims if name in top])
        visible = tuple([name for name in claims if name not in top])
        plan = _Plan(
            names,
            tuple([f'", {_quote(name)}, ' for name in names]),
            visible,
            tuple([f"{_quote_utf8(name)}:" for name in visible]),
        )
        if len(claims) + len(paths) <= 128:
            if len(_PLANS) >= MEMO_MAX:
                _PLANS.clear()
            _PLANS[key] = plan
    return plan


def _never(name: Any) -> MalformedError:
    return MalformedError(f"claim {name!r} may not be selectively disclosable")


def _flat(
    claims: dict[str, Any], plan: _Plan, random_bytes: RandomBytes, decoys: int
) -> tuple[dict[str, Any], tuple[Disclosure, ...], list[str]]:
    """:func:`build` along ``plan``; the third item lists the payload's members as JSON text, as
    :func:`jose.dumps` writes them. Objects and arrays among the values are checked for reserved
    names (:func:`_check_names`) where they are met, saving a pass over all values."""
    names = plan.names
    values = list(map(claims.__getitem__, names))
    salts = _salts(random_bytes, len(names))
    texts, digests = _encode(
        [  # the JSONs are ASCII (non-ASCII is escaped), and salts need no escaping
            _b2a(f'["{salt}{head}{_quote(value) if type(value) is str else _claim_json(value)}]'.encode())
            for salt, head, value in zip(salts, plan.heads, values, strict=True)
        ]
    )
    made = tuple(map(_new_disclosure, repeat(Disclosure), zip(texts, digests, salts, names, values, strict=True)))
    payload: dict[str, Any] = {}
    members: list[str] = []
    for name, head in zip(plan.visible, plan.visible_heads, strict=True):
        payload[name] = value = claims[name]
        kind = type(value)  # strings and NumericDates (exp, nbf, iat) are the usual visible claims
        text = _quote_utf8(value) if kind is str else int.__repr__(value) if kind is int else _compact(value)
        members.append(head + text)
    if names:
        sd = digests + _decoys(random_bytes, decoys) if decoys else digests[:]
        sd.sort()
        payload["_sd"] = sd
        members.append('"_sd":["' + '","'.join(sd) + '"]')  # base64url digests need no escaping
    return payload, made, members


def _compact(value: Any) -> str:
    """A visible claim value's JSON as :func:`jose.dumps` writes it, objects and arrays checked first."""
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is dict or kind is list:
        _check_names(value, 1)
    return jose.dumps(value)


def _claim_json(value: Any) -> str:
    """A disclosed claim value's JSON, objects and arrays checked for reserved names first."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is dict or kind is list:
        _check_names(value, 1)
        return _encoded(value)
    return _value_json(value)


# --- any paths ----------------------------------------------------------------------------------


_Todo: TypeAlias = list[tuple[int, str, str | None, Any]]  # (slot in made, salt, name, value)


class _Builder:
    """Turns claims into the issuer-signed payload (§4.2), making Disclosures inner-first.

    ``targets[p]`` and ``under[p]`` are the member names / indices of the container at ``p`` that
    become Disclosures / hold targets deeper down, so untouched members cost one set lookup. Member
    names were checked by :func:`_check_names` before. The Disclosures of one object or array are
    encoded and hashed together (:func:`_encode`); each keeps its place in ``made`` and its salt."""

    __slots__ = ("decoys", "made", "random_bytes", "salts", "targets", "under")

    def __init__(self, targets: dict[Path, set[str | int]], count: int, random_bytes: RandomBytes, decoys: int) -> None:
        self.targets = targets
        self.under: dict[Path, set[str | int]] = {}
        for parent in targets:
            for n in range(len(parent)):
                self.under.setdefault(parent[:n], set()).add(parent[n])
        self.salts = iter(_salts(random_bytes, count))
        self.random_bytes = random_bytes
        self.decoys = decoys
        self.made: list[Any] = []  # Disclosures in creation order; a slot is None until filled

    def disclose(self, todo: _Todo) -> list[str]:
        """Make the Disclosures ``todo`` lists into their slots of ``made``; return their digests."""
        heads = [f'["{salt}", ' if name is None else f'["{salt}", {_quote(name)}, ' for _, salt, name, _ in todo]
        texts, digests = _encode(
            [_b2a(f"{head}{_value_json(item[3])}]".encode()) for head, item in zip(heads, todo, strict=True)]
        )
        made = self.made
        for (slot, salt, name, value), text, digest in zip(todo, texts, digests, strict=True):
            made[slot] = _new_disclosure(Disclosure, (text, digest, salt, name, value))
        return digests

    def build(self, node: Any, path: Path) -> Any:
        if len(path) > MAX_JSON_DEPTH:
            raise MalformedError("claims nested too deeply", code="too_deep")
        targets, under = self.targets.get(path, ()), self.under.get(path, ())
        made, salts = self.made, self.salts
        todo: _Todo = []
        if type(node) is dict:
            out: dict[str, Any] = {}
            for key, value in node.items():
                inner = self.build(value, (*path, key)) if key in under else value
                if key in targets:
                    todo.append((len(made), next(salts), key, inner))
                    made.append(None)
                else:
                    out[key] = inner
            if todo:
                sd = self.disclose(todo) + _decoys(self.random_bytes, self.decoys)
                sd.sort()
                out["_sd"] = sd
            return out
        if type(node) is list:
            items: list[Any] = []
            spots: list[int] = []
            for n, value in enumerate(node):
                inner = self.build(value, (*path, n)) if n in under else value
                if n in targets:
                    todo.append((len(made), next(salts), None, inner))
                    made.append(None)
                    spots.append(n)
                items.append(inner)
            if todo:
                for n, digest in zip(spots, self.disclose(todo), strict=True):
                    items[n] = {"...": digest}
            return items
        return node


def _bad_name(node: dict[Any, Any]) -> MalformedError:
    bad = next(k for k in node if type(k) is not str or k in RESERVED)
    return MalformedError(f"{bad!r} is not a claim name an SD-JWT can carry")


def _check_names(node: dict[Any, Any] | list[Any], depth: int) -> None:
    """Reserved names anywhere in the claims would be misread by every verifier (§4.2.x)."""
    if depth > MAX_JSON_DEPTH:
        raise MalformedError("claims nested too deeply", code="too_deep")
    values: Iterable[Any] = node
    if type(node) is dict:
        if not RESERVED.isdisjoint(node) or not _STR_ONLY.issuperset(map(type, node)):
            raise _bad_name(node)
        values = node.values()
    if _CONTAINERS.isdisjoint(map(type, values)):  # all leaves: nothing deeper to look at
        return
    # only the objects and arrays among the values, picked without a Python-level loop over all
    for value in compress(values, map(_CONTAINERS.__contains__, map(type, values))):
        _check_names(value, depth + 1)


def _targets(claims: dict[str, Any], paths: Iterable[PathLike], never: frozenset[str]) -> dict[Path, set[str | int]]:
    """Container path → the members there that become Disclosures."""
    targets: dict[Path, set[str | int]] = {(): set()}
    for raw in paths:
        path = normalize_path(raw)
        if path[0] in never:
            raise _never(path[0])
        found = expand(claims, path)
        if not found:
            raise MalformedError(f"disclosable claim {raw!r} is not in the claims", code="missing_claims")
        for concrete in found:
            targets.setdefault(concrete[:-1], set()).add(concrete[-1])
    return targets


def build(
    claims: dict[str, Any],
    disclosable: Iterable[PathLike],
    random_bytes: RandomBytes,
    decoys: int,
    never: frozenset[str],
) -> tuple[dict[str, Any], Sequence[Disclosure], list[str] | None]:
    """The payload (without ``iat``, ``cnf``, ``_sd_alg``), the Disclosures in creation order, and the
    payload's members as JSON text when the flat route made them (None otherwise). No path may be at
    or under a member named in ``never``."""
    paths = disclosable if type(disclosable) is list else list(disclosable)
    plan = _plan(claims, paths, never)
    if plan is not None:  # the usual case: top-level names
        return _flat(claims, plan, random_bytes, decoys)
    _check_names(claims, 0)
    targets = _targets(claims, paths, never)
    count = sum(map(len, targets.values()))
    if count > MAX_DISCLOSURES:
        raise MalformedError(f"more than {MAX_DISCLOSURES} Disclosures", code="too_large")
    builder = _Builder(targets, count, random_bytes, decoys)
    return builder.build(claims, ()), builder.made, None


# --- the signature -------------------------------------------------------------------------------


def sign(
    payload: dict[str, Any],
    members: list[str] | None,
    signer: Signer,
    *,
    typ: str,
    kid: str | None,
    extra_header: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    """The issuer JWT over ``payload`` (whose JSON members are ``members`` when known) and its header."""
    alg = signer.alg
    if extra_header or members is None or type(typ) is not str or (kid is not None and type(kid) is not str):
        header: dict[str, Any] = {"typ": typ, **(extra_header or {})}
        if kid is not None:
            header["kid"] = kid
        return jose.sign_compact(header, payload, signer), {"alg": alg, **header}
    header = {"alg": alg, "typ": typ} if kid is None else {"alg": alg, "typ": typ, "kid": kid}
    # what jose.sign_compact does, for a header known to be {alg, typ[, kid]} and JSON already written
    memo = (alg, typ, kid)
    segment = _SEGMENTS.get(memo)
    if segment is None:
        segment = jose.b64e(jose.dumps(header).encode())
        if len(_SEGMENTS) >= MEMO_MAX:
            _SEGMENTS.clear()
        _SEGMENTS[memo] = segment
    # jose.b64e, inlined
    body = _b2a(("{" + ",".join(members) + "}").encode(), newline=False).replace(b"+", b"-").replace(b"/", b"_")
    signing_input = segment + "." + body.rstrip(b"=").decode("ascii")
    signature = _b2a(signer.sign(signing_input.encode("ascii")), newline=False).replace(b"+", b"-").replace(b"/", b"_")
    return signing_input + "." + signature.rstrip(b"=").decode("ascii"), header
