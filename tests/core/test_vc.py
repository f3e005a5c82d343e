"""VCDM 2.0 structure and validity rules (shared/vc.py).

The W3C test-suite inputs (tests/vectors/vcdm2-test-suite-inputs, 120 files) are classified here:

- ``*-ok``: accepted. ``*-fail``: refused with the code and field in ``EXPECTED_FAILURES`` (the
  field pins the reason, so a file cannot pass by failing for an incidental one).
- ``*-fail-or-inject`` (no base context): refused; Tessera does not inject the context.
- Issuer inputs are completed as the suite's harness does before it POSTs them (tests/mock.data.js
  ``createRequestBody``): a missing ``issuer``, or an issuer object without ``id``, gets the
  harness's issuer id; ``"PAST DATE"``/``"FUTURE DATE"`` become one year before/after ``NOW``.
  Without that completion every issuer input lacking ``issuer`` is (rightly) refused.
- ``credential-no-issuer-fail`` is refused for its empty ``credentialSubject``: the harness fills
  in the issuer, so that is the only rule the file can exercise.
- ``presentation-self-asserted-*`` carry no ``-ok``/``-fail`` suffix except ``-ok``: their outcome
  depends on proofs the harness adds (VCDM 2.0 §4.13.4). As plain documents all four are
  well-formed; :func:`check_holder_claims` (what a verifier runs once the holder's proof checks)
  accepts ``-ok`` and refuses the ``holder-mismatch``, ``issuer-mismatch`` and ``no-holder`` files.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import jsonld, vc
from shared.errors import MalformedError, TesseraError, VerificationError
from tests.conftest import VECTORS

SUITE = VECTORS / "vcdm2-test-suite-inputs"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HARNESS_ISSUER = "did:key:z6MkpJySvETLnxhQG9DzEdmKJtysBDjuuTeDfUj1uNNCUqcj"
V2 = vc.V2_CONTEXT

# file -> (code, field)
EXPECTED_FAILURES: dict[str, tuple[str, str]] = {
    "credential-context-combo3-fail.json": ("invalid_credential", "@context[1]"),
    "credential-context-combo4-fail.json": ("invalid_credential", "@context[1]"),
    "credential-evidence-missing-type-fail.json": ("invalid_credential", "evidence.type"),
    "credential-id-multi-fail.json": ("invalid_credential", "id"),
    "credential-id-nonidentifier-fail.json": ("invalid_credential", "id"),
    "credential-id-not-url-fail.json": ("invalid_credential", "id"),
    "credential-id-subject-multi-fail.json": ("invalid_credential", "credentialSubject.id"),
    "credential-issuer-no-url-fail.json": ("invalid_credential", "issuer"),
    "credential-issuer-null-fail.json": ("invalid_credential", "issuer"),
    "credential-issuer-object-id-no-url-fail.json": ("invalid_credential", "issuer.id"),
    "credential-issuer-object-id-null-fail.json": ("invalid_credential", "issuer.id"),
    "credential-missing-base-context-fail-or-inject.json": ("invalid_credential", "@context"),
    "credential-missing-required-type-fail.json": ("invalid_credential", "type"),
    "credential-no-context-fail-or-inject.json": ("invalid_credential", "@context"),
    "credential-no-issuer-fail.json": ("invalid_credential", "credentialSubject"),
    "credential-no-subject-fail.json": ("invalid_credential", "credentialSubject"),
    "credential-no-type-fail.json": ("invalid_credential", "type"),
    "credential-proof-missing-type-fail.json": ("invalid_credential", "proof.type"),
    "credential-redef-type-fail.json": ("invalid_credential", "@context[1].VerifiableCredential"),
    "credential-redef-type2-fail.json": ("invalid_credential", "@context[2].ExampleVerifiableCredential"),
    "credential-refresh-no-type-fail.json": ("invalid_credential", "refreshService.type"),
    "credential-schema-no-id-fail.json": ("invalid_credential", "credentialSchema.id"),
    "credential-schema-no-type-fail.json": ("invalid_credential", "credentialSchema.type"),
    "credential-schema-non-url-id-fail.json": ("invalid_credential", "credentialSchema.id"),
    "credential-status-missing-type-fail.json": ("invalid_credential", "credentialStatus.type"),
    "credential-status-multiple-id-fail.json": ("invalid_credential", "credentialStatus.id"),
    "credential-status-nonurl-id-fail.json": ("invalid_credential", "credentialStatus.id"),
    "credential-status-type-nonurl-fail.json": ("invalid_credential", "credentialStatus.type"),
    "credential-subject-multiple-empty-fail.json": ("invalid_credential", "credentialSubject[1]"),
    "credential-subject-no-claims-fail.json": ("invalid_credential", "credentialSubject"),
    "credential-termsofuse-missing-type-fail.json": ("invalid_credential", "termsOfUse.type"),
    "credential-termsofuse-no-type-fail.json": ("invalid_credential", "termsOfUse.type"),
    "credential-type-mapped-nonurl-fail.json": ("invalid_credential", "@context[1].ExampleTestCredential"),
    "credential-type-unmapped-fail.json": ("invalid_credential", "type"),
    "credential-validUntil-validFrom-fail.json": ("invalid_credential", "validUntil"),
    "credential-validfrom-invalid-fail.json": ("invalid_credential", "validFrom"),
    "credential-validuntil-invalid-fail.json": ("invalid_credential", "validUntil"),
    "names-and-descriptions/credential-description-extra-prop-en-fail.json": ("invalid_credential", "description"),
    "names-and-descriptions/credential-name-extra-prop-en-fail.json": ("invalid_credential", "name"),
    "names-and-descriptions/issuer-description-extra-prop-en-fail.json": ("invalid_credential", "issuer.description"),
    "names-and-descriptions/issuer-name-extra-prop-en-fail.json": ("invalid_credential", "issuer.name"),
    "presentation-context-order-fail.json": ("invalid_presentation", "@context"),
    # an envelope without its type reads as a credential, and a credential needs a type
    "presentation-enveloped-vc-missing-type-fail.json": ("invalid_credential", "verifiableCredential[0].type"),
    "presentation-holder-fail.json": ("invalid_presentation", "holder"),
    "presentation-holder-name-fail.json": ("invalid_presentation", "holder.id"),
    "presentation-holder-object-fail.json": ("invalid_presentation", "holder.id"),
    "presentation-missing-base-context-fail.json": ("invalid_presentation", "@context"),
    "presentation-missing-required-type-fail.json": ("invalid_presentation", "type"),
    "presentation-no-context-fail-or-inject.json": ("invalid_presentation", "@context"),
    "presentation-no-type-fail.json": ("invalid_presentation", "type"),
    "presentation-vc-as-string-fail.json": ("invalid_presentation", "verifiableCredential[0]"),
    "presentation-vc-missing-required-type-fail.json": ("invalid_credential", "verifiableCredential[0].type"),
}
SELF_ASSERTED = {
    "presentation-self-asserted-vc-ok.json": None,
    "presentation-self-asserted-vc-holder-mismatch.json": "verifiableCredential[0].issuer",
    "presentation-self-asserted-vc-issuer-mismatch.json": "verifiableCredential[0].issuer",
    "presentation-self-asserted-vc-no-holder.json": "verifiableCredential[0].issuer",
}
ALL_FILES = sorted(str(p.relative_to(SUITE)) for p in SUITE.rglob("*.json"))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_harness_sends(name: str, doc: Any) -> Any:
    """Complete an issuer input the way the W3C suite's harness does before it POSTs it."""
    if Path(name).name.startswith("presentation"):
        return doc
    doc = copy.deepcopy(doc)
    if "issuer" not in doc:
        doc["issuer"] = HARNESS_ISSUER
    elif isinstance(doc["issuer"], dict) and "id" not in doc["issuer"]:
        doc["issuer"]["id"] = HARNESS_ISSUER
    dates = {"PAST DATE": _stamp(NOW - timedelta(days=365)), "FUTURE DATE": _stamp(NOW + timedelta(days=365))}
    for key in ("validFrom", "validUntil"):
        if doc.get(key) in dates:
            doc[key] = dates[doc[key]]
    return doc


def load(name: str) -> Any:
    return json.loads((SUITE / name).read_text(encoding="utf-8"))


def check_for(name: str) -> Callable[[Any], None]:
    return vc.check_presentation if Path(name).name.startswith("presentation") else vc.check_credential


def raises(code: str, fn: Callable[..., Any], *args: Any, field: str | None = None, **kwargs: Any) -> TesseraError:
    with pytest.raises(TesseraError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    if field is not None:
        assert info.value.detail.get("field") == field, info.value.message
    return info.value


# --- the W3C test-suite inputs --------------------------------------------------------------------


def test_the_suite_copy_is_complete_and_every_file_is_classified() -> None:
    assert len(ALL_FILES) == 120
    assert (SUITE / "README.md").is_file()
    unclassified = [
        n for n in ALL_FILES if not n.endswith("-ok.json") and n not in EXPECTED_FAILURES and n not in SELF_ASSERTED
    ]
    assert unclassified == []
    assert all(("-fail" in n) for n in EXPECTED_FAILURES)


@pytest.mark.parametrize("name", [n for n in ALL_FILES if n.endswith("-ok.json")])
def test_suite_ok_inputs_are_accepted(name: str) -> None:
    check_for(name)(as_harness_sends(name, load(name)))


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_suite_fail_inputs_are_refused_for_the_named_reason(name: str) -> None:
    code, field = EXPECTED_FAILURES[name]
    error = raises(code, check_for(name), as_harness_sends(name, load(name)), field=field)
    assert isinstance(error, MalformedError) and isinstance(error, ValueError)
    assert field in error.message


@pytest.mark.parametrize("name", sorted(SELF_ASSERTED))
def test_self_asserted_inputs_are_well_formed_and_holder_claims_decide(name: str) -> None:
    doc = load(name)
    vc.check_presentation(doc)  # no proof on the presentation: nothing binds the claims yet
    field = SELF_ASSERTED[name]
    if field is None:
        vc.check_holder_claims(doc)
    else:
        raises("invalid_presentation", vc.check_holder_claims, doc, field=field)
    # once the holder's proof is on the presentation, check_presentation applies §4.13.4 itself
    signed = dict(doc, proof={"type": "DataIntegrityProof"})
    if field is None:
        vc.check_presentation(signed)
    else:
        raises("invalid_presentation", vc.check_presentation, signed, field=field)


def test_issuer_inputs_without_the_harness_completion_are_refused() -> None:
    raises("invalid_credential", vc.check_credential, load("credential-ok.json"), field="issuer")
    raises("invalid_credential", vc.check_credential, load("credential-issuer-object-ok.json"), field="issuer.id")


@pytest.mark.parametrize(
    "name",
    [
        "credential-redef-type-fail.json",
        "credential-redef-type2-fail.json",
        "credential-type-unmapped-fail.json",
        "credential-type-mapped-nonurl-fail.json",
    ],
)
def test_json_ld_level_failures_are_also_refused_by_the_json_ld_stage(name: str) -> None:
    # vc.py predicts these JSON-LD errors from the JSON; the expansion must agree
    with pytest.raises(TesseraError):
        jsonld.validate(as_harness_sends(name, load(name)), strict=False)


# --- §4.3 contexts ----------------------------------------------------------------------------------


def credential(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject", "name": "Ada"},
    }
    for given_key, value in changes.items():
        key = given_key.replace("__", "@") if given_key.startswith("__") else given_key
        if value is _DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


_DROP = object()


def presentation(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": [V2], "type": ["VerifiablePresentation"]}
    doc.update(changes)
    return doc


def test_a_minimal_credential_passes() -> None:
    vc.check_credential(credential())


@pytest.mark.parametrize(
    "context",
    [
        V2,
        [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        [V2, {"ex": "https://example.org/#"}],
        [V2, "https://contexts.example/unknown/v1"],  # unknown here; the JSON-LD allow-list decides
        [V2, "https://w3id.org/security/data-integrity/v2", "https://w3id.org/security/v2"],
        [V2, {"@protected": True, "Thing": "https://example.org/#Thing"}, {"Thing": "https://example.org/#Thing"}],
        [V2, {"id": "@id", "name": {"@id": "https://schema.org/name"}, "x": None}],
        [V2, {"Thing": {"@id": None}, "Other": {"@type": "@id"}, "ex": "https://example.org/#", "T": "ex:T"}],
    ],
)
def test_context_forms_that_are_accepted(context: Any) -> None:
    vc.check_credential(credential(__context=context))


@pytest.mark.parametrize(
    ("context", "field"),
    [
        (_DROP, "@context"),
        ("https://www.w3.org/2018/credentials/v1", "@context"),
        ([], "@context"),
        ({"@vocab": "https://example.org/#"}, "@context"),
        (["https://www.w3.org/ns/credentials/examples/v2", V2], "@context"),
        ([V2 + "/"], "@context"),
        ([V2, None], "@context[1]"),
        ([V2, ["https://example.org/c"]], "@context[1]"),
        ([V2, True], "@context[1]"),
        ([V2, "relative/context.jsonld"], "@context[1]"),
        ([V2, {"Thing": 5}], "@context[1].Thing"),
        ([V2, {"Thing": ["https://example.org/#Thing"]}], "@context[1].Thing"),
        ([V2, {"Thing": {"@id": "not an iri"}}], "@context[1].Thing"),
        ([V2, {"@vocab": 7}], "@context[1].@vocab"),
        ([V2, {"name": "https://example.org/#name"}], "@context[1].name"),
        ([V2, "https://www.w3.org/2018/credentials/v1"], "@context[1].VerifiableCredential"),
    ],
)
def test_context_forms_that_are_refused(context: Any, field: str) -> None:
    raises("invalid_credential", vc.check_credential, credential(__context=context), field=field)


def test_protected_redefinition_agrees_with_json_ld_for_bundled_context_pairs() -> None:
    # A JSON reader must not refuse what JSON-LD accepts (nor the reverse) for the contexts Tessera ships
    urls = sorted(jsonld.allowed_contexts())
    checked = 0
    for first in urls:
        for second in [None, *urls]:
            doc = credential(__context=[V2, first] + ([second] if second else []))
            try:
                jsonld.expand(doc, strict=False)
                ld_refuses = False
            except TesseraError as exc:
                if exc.code == "context_not_allowed":
                    continue  # pyld stopped at a context it may not load: no verdict to compare
                ld_refuses = "protected term redefinition" in exc.message
            try:
                vc.check_credential(doc)
                ours = False
            except TesseraError as exc:
                ours = "redefines the protected term" in exc.message
            assert ours == ld_refuses, doc["@context"]
            checked += 1
    assert checked > 200


# --- §4.4 identifiers, §4.5 types -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "did:example:123",
        "urn:uuid:9c9a36f8-518f-4976-a934-6649502d0008",
        "https://example.org/credentials/1",
        "http://localhost:8080/x",
        "data:application/vc+jwt,eyJ",
        "mailto:ada@example.org",
    ],
)
def test_urls(value: str) -> None:
    assert vc.is_url(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "fake-issuer",
        "z6MkpJySvETLnxhQG9DzEdmKJtysBDjuuTeDfUj1uNNCUqcj",
        "https ://not-a-url/x",
        "https://",
        "https:example.org",
        "https://example.org:99999999999/",
        "https://[::1/",
        "did:",
        "1did:example:x",
        "did:example:a b",
        "did:example:a\nb",
        None,
        5,
        ["did:example:x"],
        {"id": "did:example:x"},
    ],
)
def test_not_urls(value: Any) -> None:
    assert not vc.is_url(value)


@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], {}, ["did:example:a"], "", "not a url"])
def test_credential_id_must_be_one_url(value: Any) -> None:
    raises("invalid_credential", vc.check_credential, credential(id=value), field="id")


@pytest.mark.parametrize(
    "value",
    [
        "VerifiableCredential",
        ["VerifiableCredential", "https://example.org/#Thing"],
        ["https://example.org/#Thing", "VerifiableCredential"],
    ],
)
def test_type_forms_that_are_accepted(value: Any) -> None:
    vc.check_credential(credential(type=value))


@pytest.mark.parametrize(
    "value",
    [_DROP, None, 3, [], [""], [None], ["VerifiableCredential", 3], {"VerifiableCredential": 1}, "Thing", ["Thing"]],
)
def test_type_forms_that_are_refused(value: Any) -> None:
    raises("invalid_credential", vc.check_credential, credential(type=value), field="type")


def test_a_type_term_needs_a_context_that_defines_it() -> None:
    types = ["VerifiableCredential", "ExampleCredential"]
    raises("invalid_credential", vc.check_credential, credential(type=types), field="type")
    vc.check_credential(credential(type=types, __context=[V2, {"ExampleCredential": "https://example.org/#E"}]))
    vc.check_credential(credential(type=types, __context=[V2, "https://www.w3.org/ns/credentials/examples/v2"]))
    vc.check_credential(credential(type=types, __context=[V2, {"@vocab": "https://example.org/#"}]))
    nulled = [V2, {"@vocab": "https://example.org/#"}, {"ExampleCredential": None}]
    raises("invalid_credential", vc.check_credential, credential(type=types, __context=nulled), field="type")
    prefixed = [V2, {"ex": "https://example.org/#"}]
    vc.check_credential(credential(type=["VerifiableCredential", "ex:Thing"], __context=prefixed))


@pytest.mark.parametrize("key", ["@id", "@type"])
def test_keyword_forms_are_refused_where_aliases_exist(key: str) -> None:
    raises("invalid_credential", vc.check_credential, credential(**{key: "https://example.org/x"}), field=key)
    subject = {"name": "Ada", key: "did:example:s"}
    raises("invalid_credential", vc.check_credential, credential(credentialSubject=subject))


# --- §4.6 names, §4.7 issuer, §4.8 subjects ----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Birth certificate",
        {"@value": "Acte de naissance", "@language": "fr"},
        {"@value": "شهادة ميلاد", "@language": "ar", "@direction": "rtl"},
        {"@value": "no language"},
        [{"@value": "Dog", "@language": "en"}, {"@value": "Chien", "@language": "fr-CA"}, "plain"],
    ],
)
def test_name_and_description_forms_that_are_accepted(value: Any) -> None:
    vc.check_credential(credential(name=value, description=value))
    vc.check_credential(credential(issuer={"id": "did:example:i", "name": value, "description": value}))


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        [],
        [None],
        {"@value": 5},
        {"@language": "en"},
        {"@value": "x", "@language": "not a tag"},
        {"@value": "x", "@language": 5},
        {"@value": "x", "@direction": "up"},
        {"@value": "x", "@type": "https://example.org/t"},
        {"@value": "x", "url": "did:example:credential"},
    ],
)
def test_name_and_description_forms_that_are_refused(value: Any) -> None:
    raises("invalid_credential", vc.check_credential, credential(name=value))
    raises("invalid_credential", vc.check_credential, credential(description=value))
    issuer = {"id": "did:example:i", "description": value}
    raises("invalid_credential", vc.check_credential, credential(issuer=issuer))


@pytest.mark.parametrize(
    ("issuer", "field"),
    [
        (_DROP, "issuer"),
        (None, "issuer"),
        (7, "issuer"),
        (["did:example:a"], "issuer"),
        ("issuer", "issuer"),
        ({}, "issuer.id"),
        ({"name": "Registry"}, "issuer.id"),
        ({"id": ["did:example:a"]}, "issuer.id"),
        ({"id": "did:example:a", "@id": "did:example:b"}, "issuer.@id"),
    ],
)
def test_issuer_must_be_a_url_or_an_object_with_one(issuer: Any, field: str) -> None:
    raises("invalid_credential", vc.check_credential, credential(issuer=issuer), field=field)


@pytest.mark.parametrize(
    ("subject", "field"),
    [
        (_DROP, "credentialSubject"),
        (None, "credentialSubject"),
        ("did:example:s", "credentialSubject"),
        ([], "credentialSubject"),
        ({}, "credentialSubject"),
        ([{"id": "did:example:s"}, "x"], "credentialSubject[1]"),
        ({"id": 5}, "credentialSubject.id"),
        ({"id": "Ada"}, "credentialSubject.id"),
        ([{"name": "Ada"}, {"id": ["did:example:a"]}], "credentialSubject[1].id"),
    ],
)
def test_credential_subject_rules(subject: Any, field: str) -> None:
    raises("invalid_credential", vc.check_credential, credential(credentialSubject=subject), field=field)


def test_a_subject_without_id_is_fine() -> None:
    vc.check_credential(credential(credentialSubject={"name": "Ada"}))
    vc.check_credential(credential(credentialSubject=[{"name": "Ada"}, {"id": "did:example:b"}]))


# --- §4.9 validity period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2023-02-26T01:02:58Z", datetime(2023, 2, 26, 1, 2, 58, tzinfo=UTC)),
        ("2023-02-26T01:02:58.447Z", datetime(2023, 2, 26, 1, 2, 58, 447000, tzinfo=UTC)),
        ("2023-02-25T19:10:39-06:00", datetime(2023, 2, 26, 1, 10, 39, tzinfo=UTC)),
        ("2024-02-29T00:00:00+14:00", datetime(2024, 2, 28, 10, 0, tzinfo=UTC)),
        ("2023-12-31T24:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2023-01-01T00:00:00.123456789Z", datetime(2023, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("4023-02-26T01:02:58.447Z", datetime(4023, 2, 26, 1, 2, 58, 447000, tzinfo=UTC)),
        ("0001-01-01T12:00:00+00:00", datetime(1, 1, 1, 12, tzinfo=UTC)),
    ],
)
def test_date_time_stamps(text: str, utc: datetime) -> None:
    parsed = vc.parse_datetime(text)
    assert parsed == utc and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-26T01:02:58",  # no time zone: a dateTime, not a dateTimeStamp
        "2023-02-26",
        "2023-02-26 01:02:58Z",
        "2023-02-26t01:02:58Z",
        "2023-02-26T01:02:58z",
        "2023-02-26T01:02:58+0100",
        "2023-02-26T01:02:58+14:01",
        "2023-02-26T01:02:60Z",
        "2023-02-26T24:00:01Z",
        "2023-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z",
        "2023-13-01T00:00:00Z",
        "23-02-26T01:02:58Z",
        "02023-02-26T01:02:58Z",
        "10000-01-01T00:00:00Z",  # valid XML Schema, beyond what Tessera represents
        "-0001-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T24:00:00Z",
        "２０２３-02-26T01:02:58Z",  # non-ASCII digits
        "Sat 25 Feb 2023 07:16:31 PM CST",
        "",
    ],
)
def test_not_date_time_stamps(text: str) -> None:
    raises("invalid_credential", vc.check_credential, credential(validFrom=text), field="validFrom")
    raises("invalid_credential", vc.check_credential, credential(validUntil=text), field="validUntil")


@pytest.mark.parametrize("value", [None, 1700000000, [], {}, ["2023-02-26T01:02:58Z"]])
def test_validity_dates_must_be_strings(value: Any) -> None:
    raises("invalid_credential", vc.check_credential, credential(validFrom=value), field="validFrom")


def test_valid_until_may_equal_but_not_precede_valid_from() -> None:
    vc.check_credential(credential(validFrom="2023-01-01T00:00:00Z", validUntil="2023-01-01T01:00:00+01:00"))
    bad = credential(validFrom="2023-01-01T00:00:00Z", validUntil="2023-01-01T00:59:59+01:00")
    raises("invalid_credential", vc.check_credential, bad, field="validUntil")


def test_validity_period_against_now() -> None:
    doc = credential(validFrom="2025-01-01T00:00:00Z", validUntil="2026-01-01T00:00:00Z")
    vc.check_validity_period(doc, NOW)
    vc.check_validity_period(doc, datetime(2025, 1, 1, tzinfo=UTC))  # bounds are inclusive
    vc.check_validity_period(doc, datetime(2026, 1, 1, tzinfo=UTC))
    vc.check_validity_period(doc, datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    early = raises("not_yet_valid", vc.check_validity_period, doc, datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert isinstance(early, VerificationError) and early.detail["valid_from"].startswith("2025-01-01")
    late = raises("expired", vc.check_validity_period, doc, datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert isinstance(late, VerificationError)
    vc.check_validity_period(doc, datetime(2026, 1, 1, 0, 4, tzinfo=UTC), leeway=timedelta(minutes=5))
    vc.check_validity_period(doc, datetime(2024, 12, 31, 23, 56, tzinfo=UTC), leeway=timedelta(minutes=5))
    vc.check_validity_period(credential(), NOW)  # no dates: always within


def test_validity_period_refuses_a_naive_clock_and_bad_input() -> None:
    raises("malformed", vc.check_validity_period, credential(), datetime(2025, 1, 1))
    raises("malformed", vc.check_validity_period, credential(), "2025-01-01T00:00:00Z")
    raises("invalid_credential", vc.check_validity_period, ["not", "a", "credential"], NOW)
    raises("invalid_credential", vc.check_validity_period, credential(validUntil="tomorrow"), NOW)


# --- §4.10 status, §4.11 schemas, §5 advanced --------------------------------------------------------


@pytest.mark.parametrize("key", ["credentialStatus", "evidence", "termsOfUse", "refreshService", "proof"])
def test_typed_objects_need_a_type_and_an_optional_url_id(key: str) -> None:
    vc.check_credential(credential(**{key: {"type": "https://example.org/#T"}}))
    vc.check_credential(credential(**{key: [{"type": ["https://example.org/#T"], "id": "urn:x:1"}, {"type": "T"}]}))
    for bad, field in [
        ({}, f"{key}.type"),
        ({"type": None}, f"{key}.type"),
        ({"type": []}, f"{key}.type"),
        ({"type": 2}, f"{key}.type"),
        ({"type": "T", "id": "not a url"}, f"{key}.id"),
        ({"type": "T", "id": ["urn:x:1", "urn:x:2"]}, f"{key}.id"),
        ([], key),
        ("urn:x:1", key),
        (None, key),
        ([{"type": "T"}, 5], f"{key}[1]"),
        ([{"type": "T"}, {"id": "urn:x:1"}], f"{key}[1].type"),
    ]:
        raises("invalid_credential", vc.check_credential, credential(**{key: bad}), field=field)


def test_credential_schema_needs_a_url_id() -> None:
    vc.check_credential(credential(credentialSchema={"id": "https://example.org/s.json", "type": "JsonSchema"}))
    raises("invalid_credential", vc.check_credential, credential(credentialSchema={"type": "JsonSchema"}))


SRI = "sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0YbeV7shwhCS88G8SCXeFq82PafhCrW"
MULTIHASH = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"  # sha2-256, as in VCDM 2.0 §5.3


@pytest.mark.parametrize(
    "resource",
    [
        {"id": "https://www.w3.org/ns/credentials/v2", "digestSRI": SRI},
        {"id": "https://example.org/logo.png", "digestMultibase": MULTIHASH, "mediaType": "image/png"},
        [{"id": "https://a.example/", "digestSRI": SRI, "digestMultibase": MULTIHASH}],
    ],
)
def test_related_resources_that_are_accepted(resource: Any) -> None:
    vc.check_credential(credential(relatedResource=resource))


@pytest.mark.parametrize(
    "resource",
    [
        {"digestSRI": SRI},
        {"id": "not a url", "digestSRI": SRI},
        {"id": "https://a.example/"},
        {"id": "https://a.example/", "digestSRI": "md5-abc"},
        {"id": "https://a.example/", "digestSRI": 5},
        {"id": "https://a.example/", "digestMultibase": "xnot-multibase"},
        {"id": "https://a.example/", "digestMultibase": "uAAAA"},
        {"id": "https://a.example/", "digestMultibase": None},
        {"id": "https://a.example/", "digestSRI": SRI, "mediaType": 5},
        [],
        "https://a.example/",
    ],
)
def test_related_resources_that_are_refused(resource: Any) -> None:
    raises("invalid_credential", vc.check_credential, credential(relatedResource=resource))


# --- views ----------------------------------------------------------------------------------------


def test_parse_credential_returns_a_detached_view() -> None:
    doc = credential(
        id="urn:uuid:1",
        issuer={"id": "did:example:registry", "name": "Civil registry"},
        credentialSubject=[{"id": "did:example:child", "name": "Ada"}, {"name": "Parent"}],
        validFrom="2025-01-01T01:00:00+01:00",
        credentialStatus={"type": "BitstringStatusListEntry", "statusListIndex": "7"},
        proof={"type": "DataIntegrityProof"},
    )
    view = vc.parse_credential(doc)
    assert view.issuer == "did:example:registry"
    assert view.types == ("VerifiableCredential",) and view.id == "urn:uuid:1" and view.contexts == (V2,)
    assert view.subject_ids == ("did:example:child", None)
    assert view.valid_from == datetime(2025, 1, 1, tzinfo=UTC) and view.valid_until is None
    assert view.status[0]["statusListIndex"] == "7" and view.has_proof
    doc["credentialSubject"][0]["name"] = "changed"
    assert view.subjects[0]["name"] == "Ada"
    with pytest.raises(AttributeError):
        view.issuer = "did:example:other"  # type: ignore[misc]


def test_parse_presentation_separates_embedded_and_enveloped_credentials() -> None:
    envelope = {
        "@context": V2,
        "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.sig",
        "type": "EnvelopedVerifiableCredential",
    }
    view = vc.parse_presentation(
        presentation(holder={"id": "did:example:holder"}, verifiableCredential=[credential(), envelope])
    )
    assert view.holder == "did:example:holder" and view.types == ("VerifiablePresentation",)
    assert len(view.credentials) == 1 and view.credentials[0].issuer == "did:example:issuer"
    assert view.enveloped == (envelope["id"],)


# --- §4.13 presentations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"verifiableCredential": []}, "invalid_presentation", "verifiableCredential"),
        ({"verifiableCredential": None}, "invalid_presentation", "verifiableCredential"),
        ({"verifiableCredential": ["eyJ.x.y"]}, "invalid_presentation", "verifiableCredential[0]"),
        (
            {"verifiableCredential": {"type": "VerifiableCredential"}},
            "invalid_credential",
            "verifiableCredential.@context",
        ),
        ({"holder": None}, "invalid_presentation", "holder"),
        ({"holder": ["did:example:h"]}, "invalid_presentation", "holder"),
        ({"holder": {"id": None}}, "invalid_presentation", "holder.id"),
        ({"id": "presentation-1"}, "invalid_presentation", "id"),
        ({"type": "VerifiableCredential"}, "invalid_presentation", "type"),
        ({"proof": {"proofValue": "z"}}, "invalid_presentation", "proof.type"),
        (
            {
                "verifiableCredential": [
                    {"@context": V2, "id": "https://e.example/1", "type": "EnvelopedVerifiableCredential"}
                ]
            },
            "invalid_presentation",
            "verifiableCredential[0].id",
        ),
        (
            {"verifiableCredential": [{"@context": [], "id": "data:,x", "type": "EnvelopedVerifiableCredential"}]},
            "invalid_presentation",
            "verifiableCredential[0].@context",
        ),
        (
            {"verifiableCredential": [{"id": "data:,x", "type": ["EnvelopedVerifiableCredential"]}]},
            "invalid_presentation",
            "verifiableCredential[0].@context",
        ),
    ],
)
def test_presentation_rules(changes: dict[str, Any], code: str, field: str) -> None:
    raises(code, vc.check_presentation, presentation(**changes), field=field)


def test_a_signed_presentation_may_carry_signed_credentials_from_other_issuers() -> None:
    signed_vc = credential(proof={"type": "DataIntegrityProof"})
    vc.check_presentation(presentation(proof={"type": "DataIntegrityProof"}, verifiableCredential=signed_vc))
    unsigned = presentation(
        proof={"type": "DataIntegrityProof"}, holder="did:example:h", verifiableCredential=credential()
    )
    raises("invalid_presentation", vc.check_presentation, unsigned, field="verifiableCredential.issuer")
    mine = credential(issuer={"id": "did:example:h"})
    vc.check_presentation(
        presentation(proof={"type": "DataIntegrityProof"}, holder="did:example:h", verifiableCredential=mine)
    )


def test_an_embedded_credential_is_checked_in_full() -> None:
    bad = credential(validFrom="yesterday")
    error = raises("invalid_credential", vc.check_presentation, presentation(verifiableCredential=[bad]))
    assert error.detail["field"] == "verifiableCredential[0].validFrom"


# --- type confusion and fuzzing --------------------------------------------------------------------

ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x", [], [None], [[]], {}, {"": None}, {"@value": None}]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


FUZZ_SEEDS = [
    "credential-ok.json",
    "credential-status-ok.json",
    "credential-schemas-ok.json",
    "credential-validuntil-tz-ok.json",
    "names-and-descriptions/issuer-multi-language-name-ok.json",
    "presentation-holder-object-ok.json",
    "presentation-enveloped-vc-ok.json",
]


@pytest.mark.parametrize("name", FUZZ_SEEDS)
def test_odd_json_types_anywhere_raise_only_tessera_errors(name: str) -> None:
    doc = as_harness_sends(name, load(name))
    doc.setdefault("relatedResource", [{"id": "https://a.example/", "digestSRI": SRI}])
    check = check_for(name)
    tried = 0
    for path in list(_paths(doc)):
        for odd in ODD_VALUES:
            mutated = _replace(doc, path, odd)
            for fn in (check, vc.check_holder_claims if check is vc.check_presentation else vc.parse_credential):
                with contextlib.suppress(TesseraError):
                    fn(mutated)
            with contextlib.suppress(TesseraError):
                vc.check_validity_period(mutated, NOW)
            tried += 1
    assert tried > 100


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
FIELDS = [
    "@context", "id", "type", "issuer", "credentialSubject", "validFrom", "validUntil", "name", "description",
    "credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService", "relatedResource", "proof",
    "holder", "verifiableCredential",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values, as_vp=st.booleans())
def test_random_json_in_any_field_raises_only_tessera_errors(field: str, value: Any, as_vp: bool) -> None:
    doc = presentation(verifiableCredential=[credential()]) if as_vp else credential()
    doc[field] = value
    for fn in (vc.check_presentation, vc.check_credential, lambda d: vc.check_validity_period(d, NOW)):
        with contextlib.suppress(TesseraError):
            fn(doc)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_random_json_documents_raise_only_tessera_errors(value: Any) -> None:
    for fn in (vc.check_presentation, vc.check_credential, vc.parse_credential):
        with contextlib.suppress(TesseraError):
            fn(value)
