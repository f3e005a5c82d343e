"""shared.sd_jwt_select: claim paths, batched Disclosure reading, and choosing a presentation's
Disclosures straight from an SD-JWT's text (RFC 9901 §7.2).

What the module promises, checked here: paths normalize and expand as DCQL-style paths; a batch of
Disclosure texts reads exactly as reading them one by one (same values, same errors and reason codes);
``select`` picks the Disclosures a path needs (its own, those under it, those enclosing it) in §7.1
processing order, the same bytes ``present`` gives for a parsed SD-JWT; it reads the issuer JWT and
every Disclosure strictly; it hands back None for paths it does not follow (array indices, unknown
names), and ``present`` then decides, with a reason code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import jose, sd_jwt, sd_jwt_select
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.sd_jwt_verify import read_disclosure

NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(64, 96)))
AUD, NONCE = "https://verifier.example", "n-0S6_WzA2Mj"

CLAIMS: dict[str, Any] = {
    "iss": "https://civil-registry.example",
    "given_name": "Amara",
    "family_name": "Okafor",
    "place_of_birth": {"locality": "Enugu", "country": "NG"},
    "address": {"street": "1 Ogui Road", "city": "Enugu"},
    "nationalities": ["NG", "GH"],
    "note": "Zoë, née Okafor",
}
DISCLOSABLE: list[Any] = [
    "given_name",
    "family_name",
    "place_of_birth",
    ("place_of_birth", "locality"),
    ("place_of_birth", "country"),
    ("address", "street"),
    ("nationalities", None),
    "note",
]


def _issue(claims: dict[str, Any] | None = None, disclosable: Any = None, **kw: Any) -> sd_jwt.SdJwt:
    return sd_jwt.issue(
        CLAIMS if claims is None else claims,
        disclosable=DISCLOSABLE if disclosable is None else disclosable,
        signer=ISSUER,
        holder_key=HOLDER.public_key,
        now=NOW,
        random_bytes=random_bytes,
        **kw,
    )


def _text_of(issued: sd_jwt.SdJwt, *names: str | None) -> list[str]:
    """The texts of the issued Disclosures with these claim names (None: array elements), in issue order."""
    return [d.text for d in issued.disclosures if d.name in names]


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _disclosure(*content: Any) -> tuple[str, str]:
    text = _b64(list(content))
    return text, jose.b64e(hashlib.sha256(text.encode()).digest())


def _forged(payload: dict[str, Any], disclosures: list[str]) -> str:
    return "~".join([jose.sign_compact({"typ": "dc+sd-jwt"}, payload, ISSUER), *disclosures, ""])


def _code(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(TesseraError) as info:
        fn(*args, **kw)
    return info.value.code


# --- paths ------------------------------------------------------------------------------------


def test_normalize_path() -> None:
    assert sd_jwt_select.normalize_path("given_name") == ("given_name",)
    assert sd_jwt_select.normalize_path(["nationalities", 0]) == ("nationalities", 0)
    assert sd_jwt_select.normalize_path(("nationalities", None)) == ("nationalities", None)
    for bad in [(), [], ("a", -1), ("a", 1.5), ("a", True), (b"a",), ("a", ["b"])]:
        assert _code(sd_jwt_select.normalize_path, bad) == "malformed", bad


def test_expand_names_every_concrete_path() -> None:
    claims = {"a": [{"b": 1}, {"c": 2}, {"b": 3}], "d": {"e": None}}
    expand = sd_jwt_select.expand
    assert expand(claims, ("d", "e")) == [("d", "e")]  # a null value is still there
    assert set(expand(claims, ("a", None))) == {("a", 0), ("a", 1), ("a", 2)}
    assert set(expand(claims, ("a", None, "b"))) == {("a", 0, "b"), ("a", 2, "b")}
    assert expand(claims, ("a", 1, "c")) == [("a", 1, "c")]
    for missing in [("x",), ("a", 3), ("a", "b"), ("d", 0), ("d", None), ("d", "e", "f")]:
        assert expand(claims, missing) == [], missing


def test_matches_is_a_prefix_test_where_none_spans_indices() -> None:
    matches = sd_jwt_select.matches
    assert matches(("a",), ("a", 3, "x"))
    assert matches(("a", None), ("a", 3, "x"))
    assert matches(("a", None, "x"), ("a", 3, "x"))
    assert not matches(("a", None), ("a", "b"))
    assert not matches(("a", 2), ("a", 3))
    assert not matches(("a", "b", "c"), ("a", "b"))


# --- reading Disclosures in a batch --------------------------------------------------------------


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except TesseraError as exc:
        return ("error", type(exc), exc.code, str(exc))


def _one_by_one(texts: list[str]) -> Any:
    return [read_disclosure(t) for t in texts]


def _raw(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


GOOD = [
    _b64(["c2FsdA", "given_name", "Amara"]),
    _b64(["c2FsdHNhbHQ", "NG"]),
    _b64(["c2FsdDI", "place", {"locality": "Enugu", "list": [1, 2.5, None, True]}]),
    _b64(["c2FsdDM", "note", "Zo\u00eb"]),  # json.dumps escapes it: plain ASCII
    _b64(["c2FsdDU", "n", "abc"]),  # 4k+3 characters: the last one has 2 spare bits
    _raw('["c2FsdDQ", "note", "Zoë"]'.encode()),  # raw UTF-8: read text by text
]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spare_bit_set(text: str) -> str:
    """The same bytes, encoded with the lowest spare bit of the last character set."""
    assert len(text) % 4 in (2, 3)
    return text[:-1] + ALPHABET[ALPHABET.index(text[-1]) | 1]


BAD = {
    "not base64url": "!!!!",
    "4k+1 characters": GOOD[0] + "A" * (4 - len(GOOD[0]) % 4 + 1),
    "padding": GOOD[0] + "=" * (-len(GOOD[0]) % 4 or 4),
    "standard alphabet": _raw(b'["s", "n", "??>"]').replace("-", "+").replace("_", "/") + "+/",
    "non-canonical, 4k+2": _spare_bit_set(GOOD[2]),
    "non-canonical, 4k+3": _spare_bit_set(GOOD[4]),
    "not JSON": _raw(b"[1, 2"),
    "not an array": _raw(b'{"s": 1}'),
    "four elements": _raw(b'["s", "n", 1, 2]'),
    "salt not a string": _raw(b'[1, "n", 1]'),
    "name not a string": _raw(b'["s", 5, 1]'),
    "reserved name": _raw(b'["s", "_sd", 1]'),
    "duplicate member": _raw(b'["s", "n", {"a": 1, "a": 2}]'),
    "NaN": _raw(b'["s", "n", NaN]'),
    "NUL byte": _raw(b'["s", "n", 1]\x00'),
    "control character in a string": _raw(b'["s", "n\x01", 1]'),
    "trailing data": _raw(b'["s", "n", 1] x'),
    "two values": _raw(b'["s", "n", 1]["s", "n", 1]'),
    "invalid UTF-8": _raw(b'["s", "n", "\xff"]'),
    "too deep": _raw(b'["s", "n", ' + b"[" * 70 + b"]" * 70 + b"]"),
}
SPACED = [
    _raw(b' ["s", "n", 1]'),  # whitespace around the JSON array is allowed, and read text by text
    _raw(b'["s", "n", 1] \n'),
    _raw(b'[ "s" , "n" , 1 ]'),
]


def test_batch_reads_as_one_by_one() -> None:
    texts = GOOD + SPACED
    assert sd_jwt_select.read_disclosures(texts) == _one_by_one(texts)
    plain = GOOD[:5]
    assert sd_jwt_select._read_batch(plain) is not None  # these take the batch path itself
    assert sd_jwt_select.read_disclosures(plain) == _one_by_one(plain)
    assert sd_jwt_select.read_disclosures([]) == []
    salt, name, value = sd_jwt_select.read_disclosures([GOOD[1]])[0]
    assert (salt, name, value) == ("c2FsdHNhbHQ", None, "NG")  # an array element has no name


@pytest.mark.parametrize("case", sorted(BAD))
def test_batch_rejects_as_one_by_one(case: str) -> None:
    bad = BAD[case]
    for texts in ([bad], [GOOD[0], bad], [bad, *GOOD], [*GOOD[:2], bad, GOOD[3], GOOD[4]]):
        expected = _outcome(_one_by_one, texts)
        assert expected[0] == "error", case
        assert _outcome(sd_jwt_select.read_disclosures, texts) == expected, case
    assert _outcome(read_disclosure, bad)[2] in {"malformed", "duplicate_key", "too_deep", "disclosure_mismatch"}


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_changed_character_reads_as_one_by_one(data: st.DataObject) -> None:
    texts = list(GOOD[:5])
    i = data.draw(st.integers(0, len(texts) - 1))
    at = data.draw(st.integers(0, len(texts[i])))
    char = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/! é"))
    keep = data.draw(st.integers(0, 1))  # replace the character at ``at``, or insert before it
    texts[i] = texts[i][:at] + char + texts[i][at + keep :]
    assert _outcome(sd_jwt_select.read_disclosures, texts) == _outcome(_one_by_one, texts)


# --- select --------------------------------------------------------------------------------------


def test_top_level_claims_bring_their_own_disclosures() -> None:
    issued = _issue()
    found = sd_jwt_select.select(str(issued), [("given_name",), ("note",)])
    assert found is not None
    jwt, payload, texts = found
    assert jwt == issued.issuer_jwt and payload == issued.payload
    assert set(texts) == set(_text_of(issued, "given_name", "note"))
    assert sd_jwt_select.select(str(issued), []) == (issued.issuer_jwt, issued.payload, [])


def test_nested_claim_brings_the_disclosures_it_depends_on() -> None:
    issued = _issue()
    found = sd_jwt_select.select(str(issued), [("place_of_birth", "locality")])
    assert found is not None
    place, locality = _text_of(issued, "place_of_birth")[0], _text_of(issued, "locality")[0]
    assert found[2] == [place, locality]  # the enclosing Disclosure first, as §7.1 processes them
    # through an always-visible object only the claim's own Disclosure is needed
    found = sd_jwt_select.select(str(issued), [("address", "street")])
    assert found is not None and found[2] == _text_of(issued, "street")


def test_a_claim_reveals_everything_under_it() -> None:
    issued = _issue()
    found = sd_jwt_select.select(str(issued), [("place_of_birth",)])
    assert found is not None
    assert set(found[2]) == set(_text_of(issued, "place_of_birth", "locality", "country"))
    assert found[2][0] == _text_of(issued, "place_of_birth")[0]
    found = sd_jwt_select.select(str(issued), [("nationalities",)])  # visible array, disclosable elements
    assert found is not None and set(found[2]) == set(_text_of(issued, None))
    found = sd_jwt_select.select(str(issued), [("iss",)])  # always visible, nothing under it
    assert found is not None and found[2] == []


def test_a_visible_claim_needs_only_the_disclosure_enclosing_it() -> None:
    issued = _issue()
    claims = {"place": {"town": "Enugu", "zip": "400001"}}
    nested = _issue(claims=claims, disclosable=["place", ("place", "town")])
    place = _text_of(nested, "place")
    for source in (issued, str(issued)):  # from a parsed SD-JWT and from its text alike
        # address is always visible and holds the disclosable street: its city discloses nothing
        assert sd_jwt.present(source, reveal=[("address", "city")]).split("~")[1:-1] == []
    for source in (nested, str(nested)):
        # zip is visible inside the place Disclosure: that one is needed, the town's is not
        assert sd_jwt.present(source, reveal=[("place", "zip")]).split("~")[1:-1] == place


def test_order_is_the_processing_order_of_present_on_a_parsed_sd_jwt() -> None:
    issued = _issue(decoys=4)
    reveal = ["note", ("place_of_birth", "country"), "given_name", ("address", "street"), "family_name"]
    found = sd_jwt_select.select(str(issued), [sd_jwt_select.normalize_path(p) for p in reveal])
    assert found is not None
    assert "~".join([found[0], *found[2], ""]) == sd_jwt.present(issued, reveal=reveal)
    assert sd_jwt.present(str(issued), reveal=reveal) == sd_jwt.present(issued, reveal=reveal)


def test_paths_it_does_not_follow_are_left_to_present() -> None:
    issued = _issue()
    text = str(issued)
    assert sd_jwt_select.select(text, [("nationalities", 0)]) is None  # array index
    assert sd_jwt_select.select(text, [("nationalities", None)]) is None
    assert sd_jwt_select.select(text, [("no_such_claim",)]) is None
    assert sd_jwt_select.select(text, [("given_name", "deeper")]) is None  # a string has no members
    # present then processes the whole SD-JWT: an index is served, an unknown claim is a clear error
    shown = sd_jwt.present(text, reveal=[("nationalities", 1)])
    assert shown == sd_jwt.present(issued, reveal=[("nationalities", 1)])
    assert shown.split("~")[1:-1] == [_text_of(issued, None)[1]]
    with pytest.raises(MalformedError) as info:
        sd_jwt.present(text, reveal=["no_such_claim"])
    assert info.value.code == "missing_claims"


def test_present_from_text_verifies_with_key_binding() -> None:
    issued = _issue()
    kb = {"holder_signer": HOLDER, "audience": AUD, "nonce": NONCE, "now": NOW}
    shown = sd_jwt.present(str(issued), reveal=[("place_of_birth", "locality"), "note"], **kb)
    check = {"now": NOW, "audience": AUD, "nonce": NONCE, "require_kb": True}
    out = sd_jwt.verify(shown, resolve_issuer_key=lambda _h, _p: ISSUER.public_key, **check)
    assert out.claims["place_of_birth"] == {"locality": "Enugu"}
    assert out.claims["note"] == CLAIMS["note"]
    assert "given_name" not in out.claims and "country" not in out.claims["place_of_birth"]


def test_claim_both_visible_and_disclosed_is_a_mismatch() -> None:
    text, digest = _disclosure("c2FsdA", "given_name", "Other")
    forged = _forged({"given_name": "Amara", "_sd": [digest]}, [text])
    assert _code(sd_jwt_select.select, forged, [("given_name",)]) == "disclosure_mismatch"


def test_disclosure_referenced_from_the_wrong_place_is_a_mismatch() -> None:
    element, e_digest = _disclosure("c2FsdA", "NG")
    forged = _forged({"obj": {"_sd": [e_digest]}}, [element])  # an array element under an object's _sd
    assert _code(sd_jwt_select.select, forged, [("obj",)]) == "disclosure_mismatch"
    named, n_digest = _disclosure("c2FsdA", "name", "NG")
    forged = _forged({"list": [{"...": n_digest}]}, [named])  # an object property as an array element
    assert _code(sd_jwt_select.select, forged, [("list",)]) == "disclosure_mismatch"


def test_issuer_jwt_and_every_disclosure_are_read_strictly() -> None:
    issued = _issue()
    jwt, *disclosures, _ = str(issued).split("~")
    with pytest.raises(UnsupportedError) as unsupported:
        sd_jwt_select.select(_forged({**issued.payload, "_sd_alg": "sha-512"}, disclosures), [("given_name",)])
    assert unsupported.value.code == "unsupported_algorithm"
    # a withheld Disclosure that is not one is refused too, with its reason
    for bad, code in [("!!!!", "malformed"), (BAD["duplicate member"], "duplicate_key"), (BAD["too deep"], "too_deep")]:
        text = "~".join([jwt, *disclosures, bad, ""])
        assert _code(sd_jwt_select.select, text, [("given_name",)]) == code
    header, payload, signature = jwt.split(".")
    for broken in [f"{header}.{payload}", f"{header}.{payload}.{signature}=", f"{header}.{payload[:-1]}.{signature}"]:
        assert _code(sd_jwt_select.select, "~".join([broken, *disclosures, ""]), [("given_name",)]) == "malformed"
    assert _code(sd_jwt_select.select, "~".join([jwt, "", *disclosures, ""]), [("given_name",)]) == "malformed"
    assert _code(sd_jwt_select.select, 42, [("given_name",)]) == "malformed"


def test_size_caps() -> None:
    issued = _issue()
    many = "~".join([issued.issuer_jwt, *[issued.disclosures[0].text] * (sd_jwt.MAX_DISCLOSURES + 1), ""])
    assert _code(sd_jwt_select.select, many, [("given_name",)]) == "too_large"
    huge = str(issued) + "A" * sd_jwt.MAX_BYTES
    assert _code(sd_jwt_select.select, huge, [("given_name",)]) == "too_large"


def test_decoys_and_withheld_claims_are_skipped() -> None:
    issued = _issue(decoys=8)
    found = sd_jwt_select.select(str(issued), [("place_of_birth",), ("address",)])
    assert found is not None
    assert set(found[2]) == set(_text_of(issued, "place_of_birth", "locality", "country", "street"))
    # a holder that dropped a Disclosure still presents the others
    kept = [d.text for d in issued.disclosures if d.name != "country"]
    found = sd_jwt_select.select("~".join([issued.issuer_jwt, *kept, ""]), [("place_of_birth",)])
    assert found is not None and set(found[2]) == set(_text_of(issued, "place_of_birth", "locality"))


def test_mismatch_in_a_presentation_from_text_is_a_verification_error() -> None:
    text, digest = _disclosure("c2FsdA", "given_name", "Other")
    with pytest.raises(VerificationError):
        sd_jwt.present(_forged({"given_name": "Amara", "_sd": [digest]}, [text]), reveal=["given_name"])


# --- from text and from a parsed SD-JWT: the same presentation --------------------------------------

_names = st.sampled_from(["a", "b", "c", "given_name", "ü", "x y", "é\u2028"])
_scalars = st.one_of(st.text(max_size=6), st.integers(-(10**6), 10**6), st.booleans(), st.none())
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)),
    max_leaves=8,
)


def _member_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_member_paths(value, (*prefix, key)))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=st.dictionaries(_names, _values, min_size=1, max_size=5), data=st.data())
def test_present_from_text_equals_present_from_parsed(claims: dict[str, Any], data: st.DataObject) -> None:
    paths = _member_paths(claims)
    disclosable = data.draw(st.lists(st.sampled_from(paths), unique=True)) if paths else []
    issued = _issue(claims=claims, disclosable=disclosable, decoys=data.draw(st.integers(0, 3)))
    reveal = data.draw(st.lists(st.sampled_from(paths), unique=True, max_size=4)) if paths else []
    kb = {"holder_signer": HOLDER, "audience": AUD, "nonce": NONCE, "now": NOW}
    assert sd_jwt.present(str(issued), reveal=reveal, **kb) == sd_jwt.present(issued, reveal=reveal, **kb)
