"""Consent planning: matching DCQL to held credentials, required vs optional claims, withheld claims."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dcql import parse_query
from shared.errors import TesseraError
from wallet import consent
from wallet.model import CredentialRecord, Display

BIRTH_VCT = "https://example.org/birth-certificate"
CLAIMS = {
    "iss": "https://registry.example",
    "vct": BIRTH_VCT,
    "given_name": "Amara",
    "family_name": "Okafor",
    "birth_date": "2026-01-10",
    "place_of_birth": {"locality": "Enugu", "country": "NG"},
    "age_over_18": False,
}
DISCLOSABLE = (("given_name",), ("family_name",), ("birth_date",), ("place_of_birth",), ("age_over_18",))


def record(rid: str = "c-1", **changes: Any) -> CredentialRecord:
    base: dict[str, Any] = {
        "id": rid,
        "format": "dc+sd-jwt",
        "raw": "x~",
        "issuer": "https://registry.example",
        "types": (BIRTH_VCT,),
        "claims": CLAIMS,
        "holder_key_id": "k-1",
        "display": Display(claims={"given_name": {"en": "Given name", "fr": "Prénom"}}),
        "disclosable": DISCLOSABLE,
    }
    base.update(changes)
    return CredentialRecord(**base)


def query(claim_sets: list[list[str]] | None = None, vct: str = BIRTH_VCT) -> Any:
    cq: dict[str, Any] = {
        "id": "birth",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [vct]},
        "claims": [
            {"id": "g", "path": ["given_name"]},
            {"id": "b", "path": ["birth_date"]},
            {"id": "p", "path": ["place_of_birth", "locality"]},
        ],
    }
    if claim_sets is not None:
        cq["claim_sets"] = claim_sets
    return parse_query({"credentials": [cq]})


def test_all_claims_required_without_claim_sets() -> None:
    plan = consent.plan(query(), [record()])
    choice = plan.choice("birth")
    assert [(c.name, c.required, c.value) for c in choice.claims] == [
        ("given_name", True, "Amara"),
        ("birth_date", True, "2026-01-10"),
        ("place_of_birth.locality", True, "Enugu"),
    ]
    # What is withheld: every disclosable claim not chosen (place_of_birth is revealed as the parent).
    assert set(choice.withheld()) == {("family_name",), ("age_over_18",)}
    with pytest.raises(TesseraError) as err:
        consent.toggle_claim(plan, "birth", ("given_name",))
    assert err.value.code == "missing_claims"


def test_optional_claim_can_be_deselected() -> None:
    plan = consent.plan(query([["g", "b", "p"], ["g", "b"]]), [record()])
    choice = plan.choice("birth")
    assert [c.required for c in choice.claims] == [True, True, False]
    plan = consent.toggle_claim(plan, "birth", ("place_of_birth", "locality"))
    ((qid, rec, paths),) = consent.disclosures(plan)
    assert (qid, rec.id, paths) == ("birth", "c-1", (("given_name",), ("birth_date",)))
    assert ("place_of_birth",) in plan.choice("birth").withheld()
    # and back on again
    plan = consent.toggle_claim(plan, "birth", ("place_of_birth", "locality"))
    assert len(consent.disclosures(plan)[0][2]) == 3


def test_two_optionals_that_cannot_both_go() -> None:
    q = parse_query(
        {
            "credentials": [
                {
                    "id": "birth",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [BIRTH_VCT]},
                    "claims": [
                        {"id": "g", "path": ["given_name"]},
                        {"id": "b", "path": ["birth_date"]},
                        {"id": "a", "path": ["age_over_18"]},
                    ],
                    "claim_sets": [["g", "b", "a"], ["g", "b"], ["g", "a"]],
                }
            ]
        }
    )
    plan = consent.plan(q, [record()])
    assert [c.required for c in plan.choice("birth").claims] == [True, False, False]
    plan = consent.toggle_claim(plan, "birth", ("birth_date",))
    with pytest.raises(TesseraError, match="at least one"):
        consent.toggle_claim(plan, "birth", ("age_over_18",))


def test_no_matching_credential_is_reported() -> None:
    plan = consent.plan(query(vct="https://example.org/passport"), [record()])
    assert plan.unanswerable == ("birth",)
    assert not plan.can_send
    with pytest.raises(TesseraError) as err:
        consent.disclosures(plan)
    assert err.value.code == "no_matching_credential"


def test_missing_claim_means_no_match() -> None:
    claims = {k: v for k, v in CLAIMS.items() if k != "birth_date"}
    plan = consent.plan(query(), [record(claims=claims)])
    assert plan.unanswerable == ("birth",)


def test_choose_among_several_credentials() -> None:
    other = record("c-2", claims={**CLAIMS, "given_name": "Ngozi"})
    plan = consent.plan(query(), [record(), other])
    assert [r.id for r in plan.choice("birth").candidates] == ["c-1", "c-2"]
    plan = consent.choose_credential(plan, "birth", 1)
    assert plan.choice("birth").claims[0].value == "Ngozi"
    assert consent.disclosures(plan)[0][1].id == "c-2"


def test_ldp_vc_is_all_or_nothing() -> None:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "BirthCertificate"],
        "issuer": "did:key:z6Mk",
        "credentialSubject": {"givenName": "Amara", "birthDate": "2026-01-10"},
    }
    rec = record(format="ldp_vc", raw=doc, claims=doc, types=tuple(doc["type"]), disclosable=())
    q = parse_query(
        {
            "credentials": [
                {
                    "id": "bc",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["BirthCertificate"]]},
                    "claims": [{"path": ["credentialSubject", "givenName"]}],
                }
            ]
        }
    )
    plan = consent.plan(q, [rec])
    choice = plan.choice("bc")
    # Everything is shown as revealed, including what was not asked for; nothing can be deselected.
    assert [c.name for c in choice.claims] == ["credentialSubject.givenName", "credentialSubject.birthDate"]
    assert all(c.required for c in choice.claims)
    assert choice.withheld() == ()


def test_optional_credential_set() -> None:
    q = parse_query(
        {
            "credentials": [
                {"id": "birth", "format": "dc+sd-jwt", "meta": {"vct_values": [BIRTH_VCT]}},
                {"id": "pass", "format": "dc+sd-jwt", "meta": {"vct_values": [BIRTH_VCT]}},
            ],
            "credential_sets": [{"options": [["birth"]]}, {"options": [["pass"]], "required": False}],
        }
    )
    plan = consent.plan(q, [record()])
    assert not plan.choice("birth").optional and plan.choice("pass").optional
    plan = consent.toggle_credential(plan, "pass")
    assert [d[0] for d in consent.disclosures(plan)] == ["birth"]
    with pytest.raises(TesseraError):
        consent.toggle_credential(plan, "birth")


def test_value_text_is_plain() -> None:
    assert consent.value_text("[b]bold[/b]") == "[b]bold[/b]"
    assert consent.value_text(True) == "true"
    assert consent.value_text({"a": 1}) == '{"a": 1}'


def test_labels_follow_language() -> None:
    rec = record()
    assert rec.display.label(("given_name",), "fr-FR") == "Prénom"
    assert rec.display.label(("given_name",), "de") == "Given name"
    assert rec.display.label(("birth_date",), "fr") == "birth_date"
