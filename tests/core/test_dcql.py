"""DCQL (OpenID4VP 1.0 §6/§7): parsing the spec's example queries (shared/dcql.py); path pointers, wallet
matching, evaluation, projection (shared/dcql_match.py)."""

from __future__ import annotations

from typing import Any

import pytest

from shared import dcql, dcql_match
from shared.errors import MalformedError
from tests.conftest import load_vector

EXAMPLES = (
    "claims_alternatives.json",
    "complex_mdoc.json",
    "credentials_alternatives.json",
    "multi_credentials.json",
    "simple.json",
    "simple_mdoc.json",
    "value_matching_simple.json",
)

PID = {
    "last_name": "Doe",
    "first_name": "Jane",
    "postal_code": "90210",
    "locality": "Springfield",
    "region": "CA",
    "date_of_birth": "2001-02-03",
    "address": {"street_address": "1 Main St", "country": "US"},
    "nationalities": ["DE", "FR"],
    "age_over_18": True,
}


def vp_query(name: str) -> Any:
    return load_vector("openid4vp-1.0-final-examples", "query_lang", name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_spec_examples_parse_and_round_trip(name: str) -> None:
    raw = vp_query(name)
    query = dcql.parse_query(raw)
    assert dcql.parse_query(query.to_json()) == query
    assert [c.id for c in query.credentials] == [c["id"] for c in raw["credentials"]]


@pytest.mark.parametrize("name", ["dcql_jwt_vc.json", "dcql_ldp_vc.json"])
def test_request_examples_parse(name: str) -> None:
    query = dcql.parse_query(load_vector("openid4vp-1.0-final-examples", "request", name))
    assert query.credentials[0].type_values == (("IDCredential",),)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda q: q.pop("credentials"), "credentials"),
        (lambda q: q.update(credentials=[]), "credentials"),
        (lambda q: q["credentials"][0].update(id="a b"), "id"),
        (lambda q: q["credentials"][0].pop("format"), "format"),
        (lambda q: q["credentials"][0].pop("meta"), "meta"),
        (lambda q: q["credentials"][0]["meta"].update(vct_values=[]), "vct_values"),
        (lambda q: q["credentials"][0]["meta"].update(type_values=[["X"]]), "type_values"),
        (lambda q: q["credentials"].append(dict(q["credentials"][0])), "unique"),
        (lambda q: q["credentials"][0]["claims"][0].update(path=[]), "claim path"),
        (lambda q: q["credentials"][0]["claims"][0].update(path=["a", -1]), "components"),
        (lambda q: q["credentials"][0]["claims"][0].update(path=["a", 1.5]), "components"),
        (lambda q: q["credentials"][0]["claims"][0].update(values=[{"x": 1}]), "values"),
        (lambda q: q["credentials"][0].update(claim_sets=[["nope"]]), "claim"),
        (lambda q: q["credentials"][0].update(multiple="yes"), "multiple"),
        (lambda q: q.update(credential_sets=[{"options": [["ghost"]]}]), "credential query id"),
        (lambda q: q.update(credential_sets=[{"options": [["my_credential"]], "required": 1}]), "required"),
    ],
)
def test_invalid_queries_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    raw = vp_query("simple.json")
    mutate(raw)
    with pytest.raises(MalformedError, match=message) as info:
        dcql.parse_query(raw)
    assert info.value.code == "malformed"


def test_claim_sets_need_claim_ids() -> None:
    raw = vp_query("claims_alternatives.json")
    del raw["credentials"][0]["claims"][0]["id"]
    with pytest.raises(MalformedError, match="needs an id"):
        dcql.parse_query(raw)


def test_path_pointer_semantics() -> None:
    doc = {"a": [{"b": 1}, {"b": 2}, {"c": 3}], "s": "x"}
    assert dcql_match.select(["a", None, "b"], doc) == [1, 2]
    assert dcql_match.select(["a", 2, "c"], doc) == [3]
    with pytest.raises(MalformedError, match="nothing"):
        dcql_match.select(["a", 7], doc)
    with pytest.raises(MalformedError, match="not an object"):
        dcql_match.select(["s", "x"], doc)
    with pytest.raises(MalformedError, match="not an array"):
        dcql_match.select(["s", None], doc)
    assert dcql.format_path(["a", None, "b"]) == "a[*].b"
    assert dcql.format_path(["a", 0]) == "a[0]"


def test_values_match_by_type_and_value() -> None:
    claim = dcql.ClaimQuery(path=("age_over_18",), values=(True,))
    assert dcql_match.claim_satisfied(claim, {"age_over_18": True})
    assert not dcql_match.claim_satisfied(claim, {"age_over_18": 1})
    assert not dcql_match.claim_satisfied(claim, {"age_over_18": False})
    nat = dcql.ClaimQuery(path=("nationalities", None), values=("FR",))
    assert dcql_match.claim_satisfied(nat, PID)


def test_wallet_match_prefers_the_first_satisfiable_claim_set() -> None:
    query = dcql.parse_query(vp_query("claims_alternatives.json")).credentials[0]
    vct = "https://credentials.example.com/identity_credential"
    match = dcql_match.match_credential(query, PID, fmt="dc+sd-jwt", vct=vct)
    assert match is not None
    assert match.paths == (("last_name",), ("locality",), ("region",), ("date_of_birth",))
    without_region = {k: v for k, v in PID.items() if k != "region"}
    match = dcql_match.match_credential(query, without_region, fmt="dc+sd-jwt", vct=vct)
    assert match is not None and match.paths == (("last_name",), ("postal_code",), ("date_of_birth",))
    assert dcql_match.match_credential(query, PID, fmt="dc+sd-jwt", vct="https://other") is None
    assert dcql_match.match_credential(query, PID, fmt="ldp_vc", vct=vct) is None
    assert dcql_match.match_credential(query, {"last_name": "x"}, fmt="dc+sd-jwt", vct=vct) is None


def test_wallet_match_honours_values_and_type_values() -> None:
    query = dcql.parse_query(vp_query("value_matching_simple.json")).credentials[0]
    vct = "https://credentials.example.com/identity_credential"
    assert dcql_match.match_credential(query, PID, fmt="dc+sd-jwt", vct=vct) is not None
    assert dcql_match.match_credential(query, {**PID, "postal_code": "10001"}, fmt="dc+sd-jwt", vct=vct) is None
    ldp = dcql.parse_query(load_vector("openid4vp-1.0-final-examples", "request", "dcql_ldp_vc.json"))
    subject = load_vector("openid4vp-1.0-final-examples", "credentials", "ldp_vc.json")
    types = subject["type"]
    assert dcql_match.match_credential(ldp.credentials[0], subject, fmt="ldp_vc", types=types) is not None
    assert (
        dcql_match.match_credential(ldp.credentials[0], subject, fmt="ldp_vc", types=["VerifiableCredential"]) is None
    )


def test_query_without_claims_discloses_nothing_optional() -> None:
    query = dcql.parse_query({"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}}]})
    match = dcql_match.match_credential(query.credentials[0], PID, fmt="dc+sd-jwt", vct="v")
    assert match == dcql_match.CredentialMatch("c", ())


def test_evaluate_reports_missing_claims_per_query() -> None:
    query = dcql.parse_query(vp_query("simple.json"))
    ok = dcql_match.evaluate(query, {"my_credential": [PID]})
    assert ok.satisfied and ok.missing == {}
    assert ok.answered["my_credential"] == (("last_name",), ("first_name",), ("address", "street_address"))
    partial = {"last_name": "Doe", "first_name": "Jane"}
    bad = dcql_match.evaluate(query, {"my_credential": [partial]})
    assert not bad.satisfied
    assert bad.missing == {"my_credential": (("address", "street_address"),)}
    assert bad.missing_text() == ["my_credential: address.street_address"]
    none = dcql_match.evaluate(query, {})
    assert none.missing == {"my_credential": ()} and none.missing_text() == ["my_credential: (credential)"]
    extra = dcql_match.evaluate(query, {"my_credential": [PID], "unasked": [PID]})
    assert not extra.satisfied and "unasked" in extra.missing


def test_evaluate_credential_sets() -> None:
    query = dcql.parse_query(vp_query("credentials_alternatives.json"))
    reduced = {
        "pid_reduced_cred_1": [{"family_name": "D", "given_name": "J"}],
        "pid_reduced_cred_2": [{"postal_code": "1", "locality": "L", "region": "R"}],
    }
    assert dcql_match.evaluate(query, reduced).satisfied
    only_one = {"pid_reduced_cred_1": reduced["pid_reduced_cred_1"]}
    result = dcql_match.evaluate(query, only_one)
    assert not result.satisfied and "pid_reduced_cred_2" in result.missing
    full = {"given_name": "J", "family_name": "D", "address": {"street_address": "s"}}
    assert dcql_match.evaluate(query, {"other_pid": [full]}).satisfied
    # an optional set's credential that is sent but incomplete is still reported
    broken = dcql_match.evaluate(query, {"other_pid": [full], "nice_to_have": [{}]})
    assert not broken.satisfied and broken.missing == {"nice_to_have": (("rewards_number",),)}


def test_evaluate_multiple_presentations_must_all_satisfy() -> None:
    query = dcql.parse_query(vp_query("simple.json"))
    assert not dcql_match.evaluate(query, {"my_credential": [PID, {"last_name": "x"}]}).satisfied


def test_project_keeps_only_requested_paths() -> None:
    doc = {
        "givenName": "Amara",
        "birthDate": "2026-01-10",
        "parent": [{"givenName": "Chidi", "familyName": "O", "id": 1}, {"givenName": "Ngozi", "familyName": "O"}],
        "address": {"locality": "Enugu", "country": "NG"},
    }
    paths = [("givenName",), ("parent", None, "givenName"), ("address", "country"), ("missing",)]
    assert dcql_match.project(doc, paths) == {
        "givenName": "Amara",
        "parent": [{"givenName": "Chidi"}, {"givenName": "Ngozi"}],
        "address": {"country": "NG"},
    }
    assert dcql_match.project(doc, [("parent", 1)]) == {"parent": [{"givenName": "Ngozi", "familyName": "O"}]}


def test_leaf_paths_and_coverage() -> None:
    doc = {"a": 1, "b": {"c": [10, {"d": 2}]}, "e": []}
    leaves = dcql_match.leaf_paths(doc)
    assert leaves == [("a",), ("b", "c", 0), ("b", "c", 1, "d"), ("e",)]
    assert dcql_match.covered(("b", "c", 1, "d"), [("b", "c", None)])
    assert not dcql_match.covered(("a",), [("b",)])
    extra = [p for p in leaves if not dcql_match.covered(p, [("b",)])]
    assert extra == [("a",), ("e",)]


def test_moved_names_stay_importable_from_dcql() -> None:
    moved = set(dcql._MOVED_TO_MATCH)  # not vars(): a name used once is cached in the module's globals
    assert moved >= {"evaluate", "select", "claim_satisfied", "project", "covered", "leaf_paths"}
    assert moved <= set(dcql.__all__)
    for name in moved:
        assert getattr(dcql, name) is getattr(dcql_match, name)
    from shared.dcql import evaluate, select

    assert (evaluate, select) == (dcql_match.evaluate, dcql_match.select)
    with pytest.raises(AttributeError):
        _ = dcql.no_such_name
