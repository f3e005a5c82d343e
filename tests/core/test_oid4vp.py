"""OpenID4VP 1.0 messages: client ids, request objects, links, direct_post responses, errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from shared import oid4vp
from shared.errors import MalformedError, UnsupportedError
from tests.conftest import load_vector

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
QUERY = load_vector("openid4vp-1.0-final-examples", "query_lang", "simple.json")


def request(**changes: object) -> oid4vp.AuthorizationRequest:
    fields = {
        "client_id": oid4vp.did_client_id(DID),
        "response_uri": "https://verifier.example/sessions/s1/response",
        "nonce": "n-0S6_WzA2Mj",
        "state": "st-1",
        "dcql_query": QUERY,
        "client_metadata": {"vp_formats_supported": oid4vp.vp_formats_supported(["dc+sd-jwt"])},
        "aud": oid4vp.SELF_ISSUED_AUD,
        "iat": 1_700_000_000,
        "exp": 1_700_000_300,
    }
    fields.update(changes)
    return oid4vp.AuthorizationRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "prefix", "identifier"),
    [
        (f"decentralized_identifier:{DID}", "decentralized_identifier", DID),
        ("redirect_uri:https://v.example/cb", "redirect_uri", "https://v.example/cb"),
        ("x509_san_dns:client.example.org", "x509_san_dns", "client.example.org"),
        ("client.example.org", None, "client.example.org"),
        ("urn:example:client", None, "urn:example:client"),
    ],
)
def test_client_id_prefixes(text: str, prefix: str | None, identifier: str) -> None:
    client = oid4vp.parse_client_id(text)
    assert (client.prefix, client.identifier, str(client)) == (prefix, identifier, text)


@pytest.mark.parametrize("bad", ["", "decentralized_identifier:", "decentralized_identifier:web", "redirect_uri:x", 5])
def test_bad_client_ids(bad: object) -> None:
    with pytest.raises(MalformedError):
        oid4vp.parse_client_id(bad)


def test_request_claims_round_trip_and_match_the_spec_example_shape() -> None:
    req = request()
    claims = req.to_claims()
    example = load_vector("openid4vp-1.0-final-examples", "client_metadata", "sd_jwt_vc_verifier_metadata.json")
    assert set(example["vp_formats_supported"]["dc+sd-jwt"]) == set(
        claims["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]
    )
    assert claims["response_type"] == "vp_token" and claims["response_mode"] == "direct_post"
    assert claims["aud"] == "https://self-issued.me/v2" and "iss" not in claims
    assert req.to_claims(iss=True) == claims | {"iss": req.client_id}
    assert oid4vp.parse_request(json.loads(json.dumps(claims))) == req


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "code"}, UnsupportedError),
        ({"response_mode": "fragment"}, UnsupportedError),
        ({"nonce": ""}, MalformedError),
        ({"state": None}, MalformedError),
        ({"dcql_query": "[]"}, MalformedError),
        ({"iat": "now"}, MalformedError),
        ({"client_id": "redirect_uri:https://elsewhere.example/cb"}, MalformedError),
    ],
)
def test_bad_requests(change: dict[str, object], error: type[Exception]) -> None:
    claims = request().to_claims() | change
    with pytest.raises(error):
        oid4vp.parse_request(claims)


def test_link_by_reference() -> None:
    link = oid4vp.build_link(oid4vp.did_client_id(DID), "https://v.example/r/abc")
    assert link.startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A")
    parsed = oid4vp.parse_link(link)
    assert parsed == oid4vp.RequestLink(oid4vp.did_client_id(DID), request_uri="https://v.example/r/abc")


def test_link_by_value_for_redirect_uri_clients() -> None:
    uri = "https://v.example/sessions/s1/response"
    req = request(client_id=oid4vp.redirect_uri_client_id(uri), response_uri=uri, aud=None, iat=None, exp=None)
    link = oid4vp.build_link_by_value(req)
    assert json.loads(parse_qs(urlsplit(link).query)["dcql_query"][0]) == QUERY
    parsed = oid4vp.parse_link(link)
    assert parsed.request == req and parsed.request_uri is None


def test_did_clients_cannot_send_unsigned_requests_by_value() -> None:
    link = oid4vp.build_link_by_value(request())
    with pytest.raises(MalformedError, match="signed"):
        oid4vp.parse_link(link)


@pytest.mark.parametrize(
    "link",
    [
        "openid4vp://?client_id=a&client_id=b&request_uri=https://x.example/r",
        "openid4vp://?client_id=a&request_uri=file:///etc/passwd",
        "openid4vp://?client_id=a&request_uri=https://x.example/r&request_uri_method=put",
        "openid4vp://?request_uri=https://x.example/r",
    ],
)
def test_bad_links(link: str) -> None:
    with pytest.raises(MalformedError):
        oid4vp.parse_link(link)


def form(**params: str) -> bytes:
    return urlencode(params).encode()


def test_direct_post_response() -> None:
    token = {"my_credential": ["eyJ...~WyJ...~eyJ..."], "ldp": [{"type": "VerifiablePresentation"}]}
    params = oid4vp.parse_form(form(vp_token=json.dumps(token), state="st-1"))
    response = oid4vp.parse_response(params)
    assert isinstance(response, oid4vp.AuthorizationResponse)
    assert response.state == "st-1"
    assert response.vp_token == {
        "my_credential": ("eyJ...~WyJ...~eyJ...",),
        "ldp": ({"type": "VerifiablePresentation"},),
    }


def test_error_response() -> None:
    response = oid4vp.parse_response(oid4vp.parse_form(form(error="access_denied", state="st-1")))
    assert response == oid4vp.ErrorResponse("access_denied", None, "st-1")
    assert response.to_json() == {"error": "access_denied", "state": "st-1"}


@pytest.mark.parametrize(
    "body",
    [
        form(state="s"),
        form(vp_token="[]", state="s"),
        form(vp_token="{}", state="s"),
        form(vp_token='{"a": "not-an-array"}', state="s"),
        form(vp_token='{"a": []}', state="s"),
        form(vp_token='{"a": [1]}', state="s"),
        form(vp_token='{"a": ["x"], "a": ["y"]}', state="s"),
        form(vp_token="{", state="s"),
        form(error="made_up", state="s"),
        b"vp_token=1&vp_token=2",
        b"state=\xff",
        form(vp_token='{"a": ["x"]}', state=""),
    ],
)
def test_malformed_responses(body: bytes) -> None:
    with pytest.raises(MalformedError):
        oid4vp.parse_response(oid4vp.parse_form(body))


def test_oversized_response() -> None:
    with pytest.raises(MalformedError) as info:
        oid4vp.parse_form(b"vp_token=" + quote("x" * 2000).encode(), max_bytes=1000)
    assert info.value.code == "too_large"


def test_vp_formats_supported_refuses_unknown_formats() -> None:
    assert "ldp_vc" in oid4vp.vp_formats_supported(["ldp_vc", "dc+sd-jwt"])
    with pytest.raises(UnsupportedError):
        oid4vp.vp_formats_supported(["mso_mdoc"])


def test_oauth_error_names() -> None:
    assert oid4vp.oauth_error("replayed") == "invalid_request"
    assert oid4vp.oauth_error("unsupported_format") == "vp_formats_not_supported"
