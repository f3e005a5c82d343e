"""OpenID for Verifiable Presentations 1.0 message models (final, 2025-07), with no I/O.

What a verifier sends and receives, as frozen dataclasses with builders and strict parsers:

- the Authorization Request (§5) as a Request Object's claims: ``client_id``, ``response_type``
  (``vp_token``), ``response_mode`` (``direct_post``, §8.2), ``response_uri``, ``nonce``, ``state``,
  ``dcql_query`` (§6), ``client_metadata`` with ``vp_formats_supported`` (§5.1, §11.1), and for a
  signed request object ``aud`` = ``https://self-issued.me/v2`` (§5.8, static discovery), ``iat``/``exp``.
  The JWS header ``typ`` is ``oauth-authz-req+jwt`` (RFC 9101 §10.8); signing is :mod:`shared.jose`'s job.
- Client Identifier Prefixes (§5.9.3): ``decentralized_identifier:`` (the request MUST be signed with a
  key of that DID; ``kid`` is a DID URL of it) and ``redirect_uri:`` (the request MUST NOT be signed;
  with ``direct_post`` the identifier is the ``response_uri`` itself). Other prefixes are parsed so
  they can be refused by name.
- The ``openid4vp://`` link (§5, §5.10 ``request_uri``; the scheme of Appendix A.1 / §13): by reference
  (``client_id`` + ``request_uri``) or by value (every parameter in the query, JSON members encoded
  as JSON text), which is what unsigned ``redirect_uri:`` requests use.
- The direct_post response (§8.2): a form with ``vp_token`` — a JSON object whose keys are the DCQL
  Credential Query ids and whose values are arrays of presentations (§8.1) — and ``state``; or an
  error response (§8.5) with ``error``, ``error_description``, ``state``.

Choices: a form with a repeated parameter is refused (it is ambiguous); a presentation is a string
(SD-JWT, JWT) or an object (``ldp_vp``); a non-array value in ``vp_token`` is refused as the final text
requires arrays. Sizes are capped (:data:`MAX_RESPONSE_BYTES`) before any parsing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from shared.encoding import dumps_compact, loads_strict
from shared.errors import MalformedError, UnsupportedError

REQUEST_OBJECT_TYP: Final = "oauth-authz-req+jwt"
SELF_ISSUED_AUD: Final = "https://self-issued.me/v2"
LINK_SCHEME: Final = "openid4vp"
DID_PREFIX: Final = "decentralized_identifier"
REDIRECT_URI_PREFIX: Final = "redirect_uri"
KNOWN_PREFIXES: Final = frozenset(
    {
        DID_PREFIX,
        REDIRECT_URI_PREFIX,
        "x509_san_dns",
        "x509_hash",
        "verifier_attestation",
        "openid_federation",
        "origin",
    }
)
MAX_RESPONSE_BYTES: Final = 1_000_000
MAX_FORM_FIELDS: Final = 16
MAX_PRESENTATIONS: Final = 16

# §8.5 plus RFC 6749 §4.1.2.1: the errors a wallet may return
ERROR_CODES: Final = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "vp_formats_not_supported",
        "invalid_request_uri_method",
        "invalid_transaction_data",
        "wallet_unavailable",
    }
)
_JSON_PARAMS: Final = frozenset({"dcql_query", "client_metadata"})


def _bad(message: str) -> MalformedError:
    return MalformedError(f"OpenID4VP: {message}")


def _string(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise _bad(f"{name} must be a non-empty string")
    return value


# --- client identifiers ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientId:
    prefix: str | None  # None: a pre-registered client (§5.9.2)
    identifier: str

    def __str__(self) -> str:
        return self.identifier if self.prefix is None else f"{self.prefix}:{self.identifier}"


def parse_client_id(text: Any) -> ClientId:
    """Split a Client Identifier into its prefix (§5.9.3) and the rest.

    A value with a colon whose first part is not a known prefix is a pre-registered identifier (§5.9.2)."""
    if not isinstance(text, str) or not text or len(text) > 2048:
        raise _bad("client_id must be a non-empty string")
    head, sep, rest = text.partition(":")
    if not sep or head not in KNOWN_PREFIXES:
        return ClientId(None, text)
    if not rest:
        raise _bad(f"client_id {head}: has nothing after the prefix")
    if head == DID_PREFIX and not rest.startswith("did:"):
        raise _bad("a decentralized_identifier client_id must be a DID")
    if head == REDIRECT_URI_PREFIX and urlsplit(rest).scheme not in ("https", "http"):
        raise _bad("a redirect_uri client_id must be a URL")
    return ClientId(head, rest)


def did_client_id(did: str) -> str:
    return f"{DID_PREFIX}:{did}"


def redirect_uri_client_id(response_uri: str) -> str:
    return f"{REDIRECT_URI_PREFIX}:{response_uri}"


# --- client metadata ---------------------------------------------------------------------------


def vp_formats_supported(formats: Sequence[str]) -> dict[str, Any]:
    """``vp_formats_supported`` (§11.1 and Appendix B) for the formats Tessera verifies."""
    sd_jwt = {"sd-jwt_alg_values": ["EdDSA", "ES256"], "kb-jwt_alg_values": ["EdDSA", "ES256"]}
    known: dict[str, Any] = {
        "dc+sd-jwt": sd_jwt,
        "vc+sd-jwt": sd_jwt,
        "ldp_vc": {
            "proof_type_values": ["DataIntegrityProof"],
            "cryptosuite_values": ["eddsa-rdfc-2022", "eddsa-jcs-2022"],
        },
    }
    out = {}
    for fmt in formats:
        if fmt not in known:
            raise UnsupportedError(f"format {fmt!r} is not supported", code="unsupported_format")
        out[fmt] = known[fmt]
    return out


# --- the authorization request -----------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: Mapping[str, Any]
    client_metadata: Mapping[str, Any] = field(default_factory=dict)
    response_type: str = "vp_token"
    response_mode: str = "direct_post"
    aud: str | None = None
    iat: int | None = None
    exp: int | None = None

    def to_claims(self, *, iss: bool = False) -> dict[str, Any]:
        """The Request Object's claims (or the by-value parameters, before JSON members are encoded).

        No ``iss`` unless ``iss=True`` (then ``iss`` = ``client_id``): OpenID4VP 1.0 does not require it
        (its own ``decentralized_identifier:`` request object example has none) and RFC 9101 §4 only says
        SHOULD. The signer is named by ``kid`` and ``client_id``; a prefixed client_id as ``iss`` breaks
        wallets that require the kid's DID to start with ``iss`` (@openid4vc/openid4vp 0.4.6)."""
        out: dict[str, Any] = {
            "client_id": self.client_id,
            "response_type": self.response_type,
            "response_mode": self.response_mode,
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "state": self.state,
            "dcql_query": dict(self.dcql_query),
        }
        if self.client_metadata:
            out["client_metadata"] = dict(self.client_metadata)
        for name in ("aud", "iat", "exp"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if iss:
            out["iss"] = self.client_id
        return out


def parse_request(claims: Any) -> AuthorizationRequest:
    """Validate a Request Object's claims (or by-value parameters with JSON members already decoded)."""
    if not isinstance(claims, dict):
        raise _bad("a request object must be a JSON object")
    client_id = str(parse_client_id(claims.get("client_id")))
    if claims.get("response_type") != "vp_token":
        raise UnsupportedError("only response_type vp_token is supported", code="unsupported_format")
    mode = claims.get("response_mode")
    if mode not in ("direct_post", "direct_post.jwt"):
        raise UnsupportedError("only response_mode direct_post is supported", code="unsupported_format")
    response_uri = _string(claims, "response_uri")
    client = parse_client_id(client_id)
    if client.prefix == REDIRECT_URI_PREFIX and client.identifier != response_uri:
        raise _bad("with a redirect_uri client_id, the response_uri must be that URI (§5.9.3)")
    dcql_query = claims.get("dcql_query")
    metadata = claims.get("client_metadata", {})
    if not isinstance(dcql_query, dict) or not isinstance(metadata, dict):
        raise _bad("dcql_query and client_metadata must be JSON objects")
    numbers = {}
    for name in ("iat", "exp"):
        value = claims.get(name)
        if value is not None and (type(value) is not int or value < 0):
            raise _bad(f"{name} must be a NumericDate")
        numbers[name] = value
    aud = claims.get("aud")
    if aud is not None and not isinstance(aud, str):
        raise _bad("aud must be a string")
    return AuthorizationRequest(
        client_id=client_id,
        response_uri=response_uri,
        nonce=_string(claims, "nonce"),
        state=_string(claims, "state"),
        dcql_query=dcql_query,
        client_metadata=metadata,
        response_type="vp_token",
        response_mode=str(mode),
        aud=aud,
        iat=numbers["iat"],
        exp=numbers["exp"],
    )


# --- the openid4vp:// link ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequestLink:
    """What a link or QR code carries: a reference (``request_uri``) or the whole request by value."""

    client_id: str
    request_uri: str | None = None
    request_uri_method: str | None = None
    request: AuthorizationRequest | None = None


def build_link(client_id: str, request_uri: str, *, scheme: str = LINK_SCHEME) -> str:
    """``openid4vp://?client_id=…&request_uri=…`` (§5.10): what the QR code carries."""
    return f"{scheme}://?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def build_link_by_value(request: AuthorizationRequest, *, scheme: str = LINK_SCHEME) -> str:
    """An unsigned request by value (for ``redirect_uri:`` clients): JSON members as JSON text."""
    params = {k: dumps_compact(v) if k in _JSON_PARAMS else str(v) for k, v in request.to_claims().items()}
    return f"{scheme}://?" + urlencode(params)


def _pairs(query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=64)
    except ValueError as exc:
        raise _bad("the parameters are not a valid query string") from exc
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise _bad(f"parameter {key!r} is repeated")
        out[key] = value
    return out


def parse_link(link: str) -> RequestLink:
    """Read an ``openid4vp://`` (or any custom-scheme / https) authorization request link."""
    if not isinstance(link, str) or len(link) > 16_384:
        raise _bad("a request link is a string of at most 16 KiB")
    params = _pairs(urlsplit(link).query)
    client_id = str(parse_client_id(params.get("client_id")))
    if "request_uri" in params:
        uri = params["request_uri"]
        if urlsplit(uri).scheme not in ("https", "http"):
            raise _bad("request_uri must be an http(s) URL")
        method = params.get("request_uri_method")
        if method not in (None, "get", "post"):
            raise _bad("request_uri_method is get or post")
        return RequestLink(client_id, request_uri=uri, request_uri_method=method)
    if parse_client_id(client_id).prefix == DID_PREFIX:
        raise _bad("a decentralized_identifier client must send a signed request object")
    decoded: dict[str, Any] = dict(params)
    for name in _JSON_PARAMS & params.keys():
        decoded[name] = loads_strict(params[name], max_bytes=64_000)
    return RequestLink(client_id, request=parse_request(decoded))


# --- the wallet's response ---------------------------------------------------------------------

Presentation = str | dict[str, Any]


@dataclass(frozen=True)
class AuthorizationResponse:
    vp_token: Mapping[str, tuple[Presentation, ...]]
    state: str | None


@dataclass(frozen=True)
class ErrorResponse:
    error: str
    error_description: str | None = None
    state: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.error_description is not None:
            out["error_description"] = self.error_description
        if self.state is not None:
            out["state"] = self.state
        return out


def parse_form(body: bytes, *, max_bytes: int = MAX_RESPONSE_BYTES) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict; repeated names are refused."""
    if len(body) > max_bytes:
        raise MalformedError(f"the response is larger than {max_bytes} bytes", code="too_large")
    try:
        text = body.decode("ascii")  # form encoding is ASCII; anything else is percent-encoded
    except UnicodeDecodeError as exc:
        raise _bad("a form body is ASCII") from exc
    params = _pairs(text)
    if len(params) > MAX_FORM_FIELDS:
        raise _bad("too many form fields")
    return params


def parse_vp_token(text: Any) -> dict[str, tuple[Presentation, ...]]:
    """``vp_token`` (§8.1): a JSON object, credential query id -> non-empty array of presentations."""
    if not isinstance(text, str) or not text:
        raise _bad("vp_token must be present")
    value = loads_strict(text, max_bytes=MAX_RESPONSE_BYTES)
    if not isinstance(value, dict) or not value:
        raise _bad("vp_token must be a non-empty JSON object keyed by credential query id")
    out: dict[str, tuple[Presentation, ...]] = {}
    for key, items in value.items():
        if not isinstance(items, list) or not items or len(items) > MAX_PRESENTATIONS:
            raise _bad(f"vp_token[{key[:40]!r}] must be a non-empty array of presentations")
        if not all(isinstance(p, (str, dict)) and p for p in items):
            raise _bad("a presentation is a non-empty string or a JSON object")
        out[key] = tuple(items)
    return out


def parse_response(params: Mapping[str, str]) -> AuthorizationResponse | ErrorResponse:
    """The direct_post form (§8.2) as a response or an error response (§8.5)."""
    state = params.get("state")
    if state is not None and not state:
        raise _bad("state must not be empty")
    if "error" in params:
        error = params["error"]
        if error not in ERROR_CODES:
            raise _bad(f"unknown error code {error[:40]!r}")
        description = params.get("error_description")
        return ErrorResponse(error, description[:500] if description else None, state)
    return AuthorizationResponse(parse_vp_token(params.get("vp_token")), state)


# --- errors the verifier returns ---------------------------------------------------------------


def oauth_error(code: str) -> str:
    """The OAuth error name for a Tessera reason code, for responses to wallets (§8.5, RFC 6749)."""
    if code in ("unsupported_format", "unsupported_algorithm"):
        return "vp_formats_not_supported"
    return "invalid_request"
