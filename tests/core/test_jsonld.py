"""shared.jsonld: offline loader, strict expansion (data loss, undefined terms), bounded RDFC-1.0."""

from __future__ import annotations

import copy
import socket
import time
from typing import Any

import pytest

from shared import jsonld
from shared.errors import JsonLdError, MalformedError, TesseraError
from tests.conftest import load_vector

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
UNDEFINED_TERMS = "https://www.w3.org/ns/credentials/undefined-terms/v2"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def v2_credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V2, {"@protected": True, "givenName": "https://schema.org/givenName"}],
        "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "givenName": "Amara", **subject},
    }


def v1_credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V1],
        "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", **subject},
    }


def via_pyld(doc: Any, *, strict: bool = True, limits: jsonld.Limits = jsonld.DEFAULT_LIMITS) -> str:
    """The pyld path alone (canonicalize may answer from the compiled fast path first)."""
    return jsonld.canonicalize_dataset(jsonld.to_dataset(doc, strict=strict, limits=limits), limits=limits)


CANONICALIZERS = pytest.mark.parametrize("canon", [jsonld.canonicalize, via_pyld], ids=["entry", "pyld"])


def code_of(call: Any) -> str:
    with pytest.raises(TesseraError) as info:
        call()
    return info.value.code


# --- document loader ---------------------------------------------------------------------------


def test_loader_serves_bundled_contexts_as_static() -> None:
    remote = jsonld.document_loader(V2)
    assert remote["tag"] == "static"
    assert remote["documentUrl"] == V2
    assert "@context" in remote["document"]
    assert V2 in jsonld.allowed_contexts()


def test_loader_returns_fresh_copies() -> None:
    first = jsonld.document_loader(V2)
    first["document"]["@context"]["name"] = "https://evil.example/name"
    assert jsonld.document_loader(V2)["document"]["@context"]["name"] == "https://schema.org/name"


@pytest.mark.parametrize("url", ["https://evil.example/ctx", "http://www.w3.org/ns/credentials/v2", "", 42])
def test_loader_refuses_unknown_urls(url: Any) -> None:
    with pytest.raises(JsonLdError) as info:
        jsonld.document_loader(url)
    assert info.value.code == "context_not_allowed"


@pytest.mark.parametrize(
    "context",
    [
        ["https://evil.example/ctx"],
        [V2, "https://evil.example/ctx"],
        [V2, {"@import": "https://evil.example/ctx"}],
        [V2, {"Scoped": {"@id": "https://example.org/Scoped", "@context": "https://evil.example/ctx"}}],
    ],
)
def test_unknown_context_in_a_document_is_refused(context: list[Any]) -> None:
    doc = {**v2_credential(), "@context": context}
    if isinstance(context[-1], dict) and "Scoped" in context[-1]:
        doc["credentialSubject"]["type"] = "Scoped"
    assert code_of(lambda: jsonld.canonicalize(doc)) == "context_not_allowed"
    assert code_of(lambda: jsonld.expand(doc, strict=False)) == "context_not_allowed"


# --- canonical N-Quads against the W3C vectors ---------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (("unsigned.json",), ("eddsa-rdfc-2022", "canonDocDataInt.txt")),
        (("eddsa-rdfc-2022", "proofConfigDataInt.json"), ("eddsa-rdfc-2022", "proofCanonDataInt.txt")),
        (("employmentAuth.json",), ("eddsa-rdfc-2022", "employ", "canonDocDataInt.txt")),
        (
            ("eddsa-rdfc-2022", "employ", "proofConfigDataInt.json"),
            ("eddsa-rdfc-2022", "employ", "proofCanonDataInt.txt"),
        ),
        (("Ed25519Signature2020", "proofConfigEdSig.json"), ("Ed25519Signature2020", "proofCanonEdSig.txt")),
        (("proof-set-chain", "proofChainTempDoc1.json"), None),
    ],
)
@CANONICALIZERS
def test_canonical_nquads_match_vectors(
    canon: Any, document: tuple[str, ...], expected: tuple[str, ...] | None
) -> None:
    doc = load_vector("di-eddsa", *document)
    before = copy.deepcopy(doc)
    out = canon(doc)
    assert doc == before  # the input is not modified
    if expected is not None:
        assert out == load_vector("di-eddsa", *expected)
    assert out.endswith(" .\n")
    assert out == canon(doc)  # repeatable (cached contexts give the same result)
    assert out == jsonld.canonicalize(doc)


def test_edsig_document_canonical_form() -> None:
    signed = load_vector("di-eddsa", "Ed25519Signature2020", "signedEdSig.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert jsonld.canonicalize(unsigned) == load_vector("di-eddsa", "Ed25519Signature2020", "canonDocEdSig.txt")


@CANONICALIZERS
def test_blank_node_labels_do_not_matter(canon: Any) -> None:
    def ring(prefix: str, n: int) -> dict[str, Any]:
        return {
            "@graph": [
                {"@id": f"_:{prefix}{i}", "https://example.org/next": {"@id": f"_:{prefix}{(i + 1) % n}"}}
                for i in range(n)
            ]
        }

    out = canon(ring("x", 5))
    assert out == canon(ring("other", 5))
    assert "_:c14n0" in out and "_:x" not in out


def test_expand_returns_expanded_form() -> None:
    expanded = jsonld.expand(v2_credential())
    assert isinstance(expanded, list)
    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject["https://schema.org/givenName"] == [{"@value": "Amara"}]


# --- no silent data loss -------------------------------------------------------------------------


def test_v1_undefined_property_is_data_loss() -> None:
    doc = v1_credential(favouriteColour="blue")
    with pytest.raises(JsonLdError) as info:
        jsonld.canonicalize(doc)
    assert info.value.code == "data_loss"
    assert info.value.detail["terms"] == ["favouriteColour"]
    # strict only concerns issuer-dependent terms: dropping data is refused in every mode
    assert code_of(lambda: jsonld.canonicalize(doc, strict=False)) == "data_loss"
    assert code_of(lambda: jsonld.expand(doc, strict=False)) == "data_loss"


def test_v1_undefined_top_level_term_is_data_loss() -> None:
    doc = {**v1_credential(), "evidenceNote": "added"}
    assert code_of(lambda: jsonld.canonicalize(doc)) == "data_loss"


def test_v1_relative_type_is_data_loss() -> None:
    doc = {**v1_credential(), "type": ["VerifiableCredential", "UniversityDegreeCredential"]}
    assert code_of(lambda: jsonld.canonicalize(doc)) == "data_loss"


def test_relative_id_is_data_loss_not_resolved_against_a_default_base() -> None:
    doc = {**v2_credential(), "id": "credentials/1"}
    assert code_of(lambda: jsonld.canonicalize(doc, strict=False)) == "data_loss"


def test_v1_credential_with_defined_terms_canonicalizes() -> None:
    out = jsonld.canonicalize(v1_credential())
    assert "<https://www.w3.org/2018/credentials#issuanceDate>" in out


def test_rec_v2_context_has_no_vocab_so_undefined_terms_are_dropped() -> None:
    """The VCDM 2.0 REC context has no @vocab: an undefined term would vanish, so it is data_loss."""
    doc = v2_credential(favouriteColour="blue")
    assert code_of(lambda: jsonld.canonicalize(doc)) == "data_loss"


# --- issuer-dependent (undefined) terms ----------------------------------------------------------


@pytest.mark.parametrize(
    "extra_context",
    [UNDEFINED_TERMS, {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"}],
)
def test_issuer_dependent_terms_are_refused_in_strict_mode(extra_context: Any) -> None:
    doc = v2_credential(favouriteColour="blue")
    doc["@context"] = [*doc["@context"], extra_context]
    with pytest.raises(JsonLdError) as info:
        jsonld.canonicalize(doc)
    assert info.value.code == "undefined_term"
    assert info.value.detail["terms"] == ["favouriteColour"]
    assert code_of(lambda: jsonld.expand(doc)) == "undefined_term"
    # detectable without refusing
    assert jsonld.undefined_terms(doc) == ("favouriteColour",)
    out = jsonld.canonicalize(doc, strict=False)
    assert "#favouriteColour>" in out


def test_issuer_dependent_type_is_refused() -> None:
    doc = v2_credential()
    doc["@context"] = [*doc["@context"], UNDEFINED_TERMS]
    doc["type"] = ["VerifiableCredential", "MysteryCredential"]
    assert code_of(lambda: jsonld.canonicalize(doc)) == "undefined_term"
    assert jsonld.undefined_terms(doc) == ("MysteryCredential",)


def test_defined_terms_have_no_undefined_terms() -> None:
    assert jsonld.undefined_terms(v2_credential()) == ()
    assert jsonld.undefined_terms(load_vector("di-eddsa", "unsigned.json")) == ()


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [[], "https://www.w3.org/ns/credentials/v2", None, 3])
def test_non_object_documents_are_malformed(doc: Any) -> None:
    with pytest.raises(MalformedError) as info:
        jsonld.canonicalize(doc)
    assert info.value.code == "malformed"


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": {"x": {"@id": 5}}, "x": 1},
        {"@context": [V2], "@type": [1]},
        {"@context": 7, "a": 1},
        {"@context": [V2], "id": "urn:x", "name": {"@value": {"nested": 1}}},
        {"@context": [V2], "credentialSubject": float("nan")},
        {"@context": [V2], "credentialSubject": {1: "non-string key"}},
        {"@context": [V2], "credentialSubject": object()},
    ],
)
def test_invalid_json_ld_is_a_tessera_error(doc: dict[str, Any]) -> None:
    with pytest.raises(TesseraError) as info:
        jsonld.canonicalize(doc, strict=False)
    assert info.value.code == "malformed"


def test_deep_nesting_is_refused_before_pyld_recurses() -> None:
    doc: dict[str, Any] = {"@context": [V2], "id": "urn:x"}
    node = doc
    for _ in range(5000):
        node["https://example.org/p"] = {}
        node = node["https://example.org/p"]
    assert code_of(lambda: jsonld.canonicalize(doc)) == "too_deep"


# --- bounded work --------------------------------------------------------------------------------


def clique(n: int) -> dict[str, Any]:
    """n blank nodes all linked to each other: every node looks the same to first-degree hashing."""
    return {
        "@graph": [
            {"@id": f"_:n{i}", "https://example.org/p": [{"@id": f"_:n{j}"} for j in range(n) if j != i]}
            for i in range(n)
        ]
    }


def ring(n: int) -> dict[str, Any]:
    return {"@graph": [{"@id": f"_:n{i}", "https://example.org/p": {"@id": f"_:n{(i + 1) % n}"}} for i in range(n)]}


@CANONICALIZERS
def test_small_symmetric_graphs_still_canonicalize(canon: Any) -> None:
    assert len(canon(clique(4)).splitlines()) == 12
    assert len(canon(ring(20)).splitlines()) == 20
    assert canon(clique(4)) == jsonld.canonicalize(clique(4))


@CANONICALIZERS
@pytest.mark.parametrize("doc", [clique(6), clique(10), clique(30), ring(200)], ids=["c6", "c10", "c30", "r200"])
def test_poisoned_graphs_hit_the_work_limit_quickly(canon: Any, doc: dict[str, Any]) -> None:
    start = time.perf_counter()
    assert code_of(lambda: canon(doc)) == "canonicalization_limit"
    assert time.perf_counter() - start < 2.0


@CANONICALIZERS
def test_quad_and_blank_node_limits(canon: Any) -> None:
    many = {"@graph": [{"https://example.org/p": i} for i in range(50)]}
    assert len(canon(many).splitlines()) == 50
    assert code_of(lambda: canon(many, limits=jsonld.Limits(max_quads=49))) == "canonicalization_limit"
    assert code_of(lambda: canon(many, limits=jsonld.Limits(max_blank_nodes=49))) == "canonicalization_limit"
    assert code_of(lambda: canon(ring(4), limits=jsonld.Limits(max_ndegree_work=0))) == "canonicalization_limit"
    assert code_of(lambda: canon(clique(3), limits=jsonld.Limits(max_permutation_group=1))) == "canonicalization_limit"


def test_oversized_input_is_refused() -> None:
    many_values = {"@context": [V2], "https://example.org/list": list(range(30_000))}
    assert code_of(lambda: jsonld.canonicalize(many_values)) == "canonicalization_limit"
    long_text = {"@context": [V2], "name": "x" * 1_000_001}
    assert code_of(lambda: jsonld.canonicalize(long_text)) == "canonicalization_limit"
