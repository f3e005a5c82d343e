"""SD-JWT issuance internals (shared.sd_jwt_build): the flat route for top-level names gives byte for byte
what the general route gives, and keeps every check; the memos hand out nothing shared."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import jose, sd_jwt, sd_jwt_build, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey, P256PrivateKey
from shared.errors import TesseraError

NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(64, 96)))
HOLDER_P256 = P256PrivateKey(bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"))
NEVER = sd_jwt_vc.NEVER_DISCLOSABLE


def _fixed_bytes(n: int) -> bytes:
    """Deterministic "randomness", so that two issuances can be compared byte for byte (Ed25519
    signatures are deterministic too)."""
    return bytes((i * 73 + 41) % 256 for i in range(n))


def _issue(claims: dict[str, Any], disclosable: Any, holder: Any = HOLDER, **kw: Any) -> sd_jwt.SdJwt:
    return sd_jwt.issue(
        claims,
        disclosable=disclosable,
        signer=ISSUER,
        holder_key=None if holder is None else holder.public_key,
        now=NOW,
        random_bytes=_fixed_bytes,
        **kw,
    )


def _refused(claims: dict[str, Any], disclosable: Any, **kw: Any) -> str:
    with pytest.raises(TesseraError) as info:
        _issue(claims, disclosable, **kw)
    return info.value.code


_names = st.sampled_from(["a", "b", "c", "given_name", "ü", "x y", 'q"uote', "back\\slash", "tab\t", "iat", "😀"])
_scalars = st.one_of(
    st.text(max_size=8),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=st.dictionaries(_names, _values, max_size=7),
    data=st.data(),
    decoys=st.integers(0, 3),
    holder=st.sampled_from([None, HOLDER, HOLDER_P256]),
    kid=st.sampled_from([None, "key-1", "ü"]),
)
def test_flat_route_gives_what_the_general_route_gives(
    claims: dict[str, Any], data: st.DataObject, decoys: int, holder: Any, kid: str | None
) -> None:
    names = data.draw(st.lists(st.sampled_from(sorted(claims)), unique=True)) if claims else []
    # twice: the second issuance reads the memoized plan
    flat = [_issue(claims, names, holder, decoys=decoys, kid=kid) for _ in range(2)]
    # 1-tuples are the same paths, but they take the general route (and jose.sign_compact)
    general = _issue(claims, [(n,) for n in names], holder, decoys=decoys, kid=kid)
    for ours in flat:
        assert ours.issuer_jwt == general.issuer_jwt
        assert ours.disclosures == general.disclosures
        assert list(ours.payload.items()) == list(general.payload.items())
        assert list(ours.header.items()) == list(general.header.items())
        # the spliced payload JSON is what jose.dumps writes
        assert ours.issuer_jwt.split(".")[1] == jose.b64e(jose.dumps(ours.payload).encode())
    assert flat[0].payload is not flat[1].payload
    if holder is not None:
        assert flat[0].payload["cnf"] is not flat[1].payload["cnf"]
        assert flat[0].payload["cnf"]["jwk"] is not flat[1].payload["cnf"]["jwk"]


def test_flat_route_checks_names_values_and_counts() -> None:
    assert _refused({"a": 1, "_sd": [1]}, ["a"]) == "malformed"
    assert _refused({"a": 1, "...": 2}, []) == "malformed"
    assert _refused({"a": 1, 2: "x"}, ["a"]) == "malformed"  # type: ignore[dict-item]
    for value in ({"_sd": 1}, [{"...": 1}], {"x": [{"_sd_alg": 1}]}, {1: 2}):
        assert _refused({"a": value, "b": 1}, ["a"]) == "malformed"  # disclosed
        assert _refused({"a": value, "b": 1}, ["b"]) == "malformed"  # visible
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    assert _refused({"a": deep, "b": 1}, ["a"]) == "too_deep"
    assert _refused({"a": deep, "b": 1}, ["b"]) == "too_deep"
    for bad in (math.nan, math.inf, object()):
        assert _refused({"a": bad, "b": 1}, ["a"]) == "malformed"
        assert _refused({"a": bad, "b": 1}, ["b"]) == "malformed"
    assert _refused({"a": 1}, ["b"]) == "missing_claims"
    many = {f"c{i}": i for i in range(1001)}
    assert _refused(many, list(many)) == "too_large"


def test_a_str_subclass_key_that_matches_a_plan_leaves_only_plain_names_in_the_output() -> None:
    class Name(str):
        pass

    claims = {"a": 1, "b": "x"}
    _issue(claims, ["a"])  # the plan for these names is memoized now
    odd = _issue({Name("a"): 1, Name("b"): "x"}, ["a"])
    assert odd.issuer_jwt == _issue(claims, ["a"]).issuer_jwt
    assert all(type(k) is str for k in odd.payload) and all(type(d.name) is str for d in odd.disclosures)


@pytest.mark.parametrize("disclosable", [["iss"], [("status", "idx")], ["given_name", "vct"]])
def test_never_disclosable_is_refused_on_either_route(disclosable: Any) -> None:
    claims = {"iss": "https://x.example", "vct": "t", "status": {"idx": 1}, "given_name": "A"}
    with pytest.raises(TesseraError) as info:
        _issue(claims, disclosable, never_disclosable=NEVER)
    assert "may not be selectively disclosable" in str(info.value)
    with pytest.raises(TesseraError):
        sd_jwt_vc.issue_sd_jwt_vc(
            claims, disclosable=disclosable, signer=ISSUER, holder_key=None, now=NOW, random_bytes=_fixed_bytes
        )
    # without the profile's rule the engine allows them
    _issue(claims, disclosable)


def test_memos_are_bounded() -> None:
    for i in range(300):
        _issue({f"n{i}": 1, "v": 2}, [f"n{i}"], kid=f"k{i}")
    assert len(sd_jwt_build._PLANS) <= 256
    assert len(sd_jwt_build._SEGMENTS) <= 256


def test_extra_header_and_odd_kid_take_jose_sign_compact() -> None:
    claims = {"a": 1, "b": 2}
    with_cty = _issue(claims, ["a"], extra_header={"cty": "vc"})
    assert with_cty.header == {"alg": "EdDSA", "typ": "dc+sd-jwt", "cty": "vc"}
    assert jose.decode_unverified(with_cty.issuer_jwt).header == with_cty.header
    assert _refused(claims, ["a"], extra_header={"alg": "ES256"}) == "unsupported_algorithm"
    assert _refused(claims, ["a"], typ=None) == "malformed"


@pytest.mark.parametrize("exp", [10**20, -(10**20), math.nan, math.inf, "soon", True])
def test_sd_jwt_vc_dates_out_of_range_are_malformed(exp: Any) -> None:
    with pytest.raises(TesseraError) as info:
        sd_jwt_vc.issue_sd_jwt_vc(
            {"vct": "t", "exp": exp, "a": 1},
            disclosable=["a"],
            signer=ISSUER,
            holder_key=None,
            now=NOW,
            random_bytes=_fixed_bytes,
        )
    assert info.value.code == "malformed"
