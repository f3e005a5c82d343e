"""The catalogue: BirthCertificate, claim validation with one error per field, predicates, metadata."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from issuer.catalogue import age_predicates, claims_metadata, load_catalogue, parse_catalogue, validate_claims
from shared.errors import MalformedError


def test_birth_certificate_is_offered_in_three_formats() -> None:
    ctype = load_catalogue().get("BirthCertificate")
    assert ctype.formats == ("dc+sd-jwt", "ldp_vc", "vc+sd-jwt")
    assert ctype.configuration_ids == [
        "BirthCertificate_sd_jwt_vc",
        "BirthCertificate_ldp_vc",
        "BirthCertificate_vc_sd_jwt",
    ]
    assert ctype.display["en"]["name"] == "Birth certificate"
    assert ctype.display["fr"]["name"] == "Acte de naissance"
    assert ctype.context == "https://w3id.org/tessera/contexts/birth-certificate/v1"
    assert load_catalogue().configuration("BirthCertificate_ldp_vc") == (ctype, "ldp_vc")


def test_example_claims_are_valid(claims: dict[str, Any]) -> None:
    ctype = load_catalogue().get("BirthCertificate")
    assert validate_claims(ctype, claims) == claims


def test_every_bad_field_is_reported(claims: dict[str, Any]) -> None:
    ctype = load_catalogue().get("BirthCertificate")
    bad = copy.deepcopy(claims)
    del bad["givenName"]
    bad["birthDate"] = "2026-02-30"
    bad["sex"] = "female"
    bad["placeOfBirth"]["country"] = "Nigeria"
    bad["parent"][1]["givenName"] = 7
    bad["eyeColour"] = "brown"
    with pytest.raises(MalformedError) as info:
        validate_claims(ctype, bad)
    fields = {e["field"]: e["message"] for e in info.value.detail["fields"]}
    assert fields == {
        "givenName": "is required",
        "birthDate": "is not a real calendar date",
        "sex": "must be one of F, M, X",
        "placeOfBirth.country": "must match ^[A-Z]{2}$",
        "parent[1].givenName": "must be a non-empty string",
        "eyeColour": "is not a claim of this credential type",
    }


def test_claims_must_be_an_object() -> None:
    with pytest.raises(MalformedError):
        validate_claims(load_catalogue().get("BirthCertificate"), ["x"])


def test_age_predicates() -> None:
    ctype = load_catalogue().get("BirthCertificate")
    preds = age_predicates(ctype, {"birthDate": "2008-06-15"}, date(2026, 6, 14))
    assert preds == {"age_over_13": True, "age_over_16": True, "age_over_18": False, "age_over_21": False}
    assert age_predicates(ctype, {"birthDate": "2008-06-15"}, date(2026, 6, 15))["age_over_18"] is True


def test_claims_metadata_has_labels_in_two_languages() -> None:
    meta = claims_metadata(load_catalogue().get("BirthCertificate"))
    by_path = {tuple(m["path"]): m for m in meta}
    assert by_path[("givenName",)]["mandatory"] is True
    assert {"name": "Prénom", "locale": "fr"} in by_path[("givenName",)]["display"]
    assert ("placeOfBirth", "locality") in by_path
    assert ("parent", None, "familyName") in by_path


def test_unknown_type_is_refused() -> None:
    with pytest.raises(MalformedError, match="unknown credential type"):
        load_catalogue().get("Passport")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "at least one type"),
        ({"types": {"X": {"formats": ["jwt_vc"]}}}, "formats"),
        ({"types": {"X": {"formats": ["dc+sd-jwt"], "display": {"en": {"name": "X"}}}}}, "claims"),
        (
            {
                "types": {
                    "X": {
                        "formats": ["ldp_vc"],
                        "vct": "urn:x",
                        "display": {"en": {"name": "X"}},
                        "claims": {"a": {"type": "string"}},
                    }
                }
            },
            "context",
        ),
    ],
)
def test_bad_catalogues_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_catalogue(raw)
