"""The wallet's protocol client: OpenID4VCI 1.0 to receive, OpenID4VP 1.0 to present (httpx, synchronous).

Receive (OpenID4VCI 1.0, pre-authorized code flow):
1. the offer (§4.1): an ``openid-credential-offer://`` link with ``credential_offer`` (by value) or
   ``credential_offer_uri`` (by reference), an https offer URI, or the offer JSON itself;
2. issuer metadata at ``/.well-known/openid-credential-issuer`` inserted before the issuer's path (§12.2.2),
   then the authorization server's metadata (RFC 8414) for ``token_endpoint``;
3. token request with ``pre-authorized_code`` and ``tx_code`` (§6.1); ``invalid_grant`` → ``invalid_tx_code``
   when a tx_code was sent;
4. a fresh ``c_nonce`` from the Nonce Endpoint (§7) and, per credential, a fresh holder key and a proof JWT
   (``typ`` ``openid4vci-proof+jwt``, ``aud`` the credential issuer, ``nonce``; Appendix F.1) — several proofs
   in ``proofs.jwt`` are batch issuance (§8.2), one credential per key;
5. everything that arrives is verified (:meth:`wallet.core.Wallet.accept`) before anything is stored.
   An SD-JWT issuer named by an https URL (``iss``) is verified with the key its JWT VC Issuer Metadata
   lists (SD-JWT VC §4), fetched through this client's transport, https only, once per exchange.

Present (OpenID4VP 1.0): parse the ``openid4vp://`` link; fetch the request object from ``request_uri``
and verify its signature with the key its ``kid`` names, which must belong to the DID of the
``decentralized_identifier:`` client_id; match the DCQL query (:mod:`wallet.consent`); after consent,
``direct_post`` the ``vp_token`` (§8.2), or ``error=access_denied`` when the person declines (§8.5).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared import oid4vp
from shared.dcql import DcqlQuery, parse_query
from shared.did import DidResolver
from shared.errors import MalformedError, TesseraError
from shared.keys import public_jwk
from wallet import bridge, consent, status
from wallet.core import Received, Verifier, Wallet
from wallet.formats import Verified
from wallet.model import CredentialRecord, Display, pick_locale
from wallet.transport import Http, TransportError, check_url

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEMES = ("openid-credential-offer",)
PROOF_TYP = "openid4vci-proof+jwt"


def _bad_offer(message: str) -> TesseraError:
    return TesseraError(message, code="invalid_offer")


def well_known(base: str, name: str) -> str:
    """``https://host/.well-known/<name>/<path>`` (RFC 8615 placement used by OpenID4VCI §12.2.2 and RFC 8414)."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{path}"


# --- offers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: Mapping[str, Any] | None = None  # input_mode, length, description

    @property
    def needs_tx_code(self) -> bool:
        return self.tx_code is not None


def parse_offer(value: Any) -> Offer:
    if not isinstance(value, dict):
        raise _bad_offer("a credential offer is a JSON object")
    issuer, ids = value.get("credential_issuer"), value.get("credential_configuration_ids")
    if not isinstance(issuer, str) or not issuer:
        raise _bad_offer("the offer has no credential_issuer")
    check_url(issuer)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise _bad_offer("the offer has no credential_configuration_ids")
    grant = (value.get("grants") or {}).get(PRE_AUTH_GRANT)
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise _bad_offer("the offer has no pre-authorized code (only the pre-authorized code flow is supported)")
    tx_code = grant.get("tx_code")
    if tx_code is not None and not isinstance(tx_code, dict):
        raise _bad_offer("tx_code must be a JSON object")
    return Offer(issuer, tuple(ids), grant["pre-authorized_code"], tx_code)


def read_offer(text: str, http: Http) -> Offer:
    """An offer from a link, an https offer URI, or offer JSON."""
    text = text.strip()
    if text.startswith("{"):
        return parse_offer(json.loads(text))
    parts = urlsplit(text)
    if parts.scheme in OFFER_SCHEMES or (parts.scheme in ("https", "http") and "credential_offer" in parts.query):
        params = dict(parse_qsl(parts.query))
        if "credential_offer" in params:
            try:
                return parse_offer(json.loads(params["credential_offer"]))
            except ValueError as exc:
                raise _bad_offer("credential_offer is not JSON") from exc
        if "credential_offer_uri" in params:
            return parse_offer(http.get_json(params["credential_offer_uri"], "fetching the offer"))
        raise _bad_offer("the link has neither credential_offer nor credential_offer_uri")
    if parts.scheme in ("https", "http"):
        return parse_offer(http.get_json(text, "fetching the offer"))
    raise _bad_offer("not a credential offer link, URL or JSON")


# --- receiving -----------------------------------------------------------------------------------


@dataclass
class Issuance:
    """What the person is shown before accepting: who issues what, and whether a code is needed."""

    offer: Offer
    metadata: dict[str, Any]
    token_endpoint: str

    def configuration(self, config_id: str) -> dict[str, Any]:
        configs = self.metadata.get("credential_configurations_supported") or {}
        config = configs.get(config_id)
        if not isinstance(config, dict):
            raise _bad_offer(f"the issuer does not describe credential configuration {config_id!r}")
        return config

    def issuer_name(self, lang: str) -> str:
        return (
            Display.from_metadata(self.metadata, {}).issuer_name.get(lang)
            or pick_locale(Display.from_metadata(self.metadata, {}).issuer_name, lang)
            or self.offer.credential_issuer
        )


@dataclass
class Client:
    wallet: Wallet
    http: Http = field(default_factory=Http)
    clock: Any = time.time

    def __post_init__(self) -> None:
        # A wallet opened by the CLI or the TUI has an offline resolver (did:key, did:jwk); issuers and
        # verifiers on the web are did:web, so the client lends it its own https-only, size-capped transport.
        if self.wallet.resolver.fetch is None:
            self.wallet.resolver = DidResolver(fetch=self._fetch_did_document)

    def _fetch_did_document(self, url: str, *, timeout: float, max_bytes: int) -> bytes:
        return self.http.expect(self.http.request("GET", url), url, "fetching a DID document").body

    # OpenID4VCI ------------------------------------------------------------------------------

    def start_issuance(self, link: str) -> Issuance:
        offer = read_offer(link, self.http)
        metadata = self.http.get_json(
            well_known(offer.credential_issuer, "openid-credential-issuer"), "issuer metadata"
        )
        if not isinstance(metadata, dict) or metadata.get("credential_issuer") != offer.credential_issuer:
            raise _bad_offer("the issuer's metadata does not name the issuer of the offer")
        servers = metadata.get("authorization_servers") or [offer.credential_issuer]
        server = servers[0] if isinstance(servers, list) and servers else offer.credential_issuer
        as_meta = self.http.get_json(
            well_known(str(server), "oauth-authorization-server"), "authorization server metadata"
        )
        token_endpoint = as_meta.get("token_endpoint") if isinstance(as_meta, dict) else None
        if not isinstance(token_endpoint, str):
            raise _bad_offer("the authorization server has no token_endpoint")
        issuance = Issuance(offer, metadata, check_url(token_endpoint))
        for config_id in offer.configuration_ids:
            issuance.configuration(config_id)
        return issuance

    def _token(self, issuance: Issuance, tx_code: str | None) -> str:
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": issuance.offer.pre_authorized_code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        reply = self.http.request("POST", issuance.token_endpoint, data=form)
        if reply.status >= 400 and reply.error()[0] == "invalid_grant" and tx_code is not None:
            raise TesseraError("the issuer refused the transaction code", code="invalid_tx_code")
        body = self.http.expect(reply, issuance.token_endpoint, "the token request").json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise TesseraError("the token response has no access_token", code="server_error")
        return token

    def _nonce(self, issuance: Issuance) -> str | None:
        endpoint = issuance.metadata.get("nonce_endpoint")
        if not isinstance(endpoint, str):
            return None
        body = self.http.expect(self.http.request("POST", endpoint), endpoint, "the nonce request").json()
        nonce = body.get("c_nonce") if isinstance(body, dict) else None
        if not isinstance(nonce, str):
            raise TesseraError("the nonce response has no c_nonce", code="server_error")
        return nonce

    def receive(self, issuance: Issuance, *, tx_code: str | None = None, copies: int = 1) -> list[CredentialRecord]:
        """Redeem the offer, verify what arrives, and store it (all or nothing)."""
        if issuance.offer.needs_tx_code and not tx_code:
            raise TesseraError("this offer needs a transaction code", code="invalid_tx_code")
        endpoint = issuance.metadata.get("credential_endpoint")
        if not isinstance(endpoint, str):
            raise _bad_offer("the issuer has no credential_endpoint")
        token = self._token(issuance, tx_code)
        batch = issuance.metadata.get("batch_credential_issuance")
        max_batch = batch.get("batch_size", 1) if isinstance(batch, dict) else 1
        copies = max(1, min(copies, int(max_batch)))
        received: list[Received] = []
        for config_id in issuance.offer.configuration_ids:
            config = issuance.configuration(config_id)
            fmt = str(config.get("format"))
            keys = [self.wallet.new_holder_key() for _ in range(copies)]
            nonce = self._nonce(issuance)
            proofs = [self._proof(key, issuance.offer.credential_issuer, nonce) for _, key in keys]
            body = self.http.expect(
                self.http.request(
                    "POST",
                    endpoint,
                    headers={"Authorization": f"Bearer {token}"},
                    json_body={"credential_configuration_id": config_id, "proofs": {"jwt": proofs}},
                ),
                endpoint,
                "the credential request",
            ).json()
            credentials = body.get("credentials") if isinstance(body, dict) else None
            if not isinstance(credentials, list) or len(credentials) != len(keys):
                raise TesseraError("the issuer sent a different number of credentials than asked", code="server_error")
            for (key_id, key), item in zip(keys, credentials, strict=True):
                raw = item.get("credential") if isinstance(item, dict) else None
                if raw is None:
                    raise TesseraError("a credential entry has no credential", code="server_error")
                received.append(Received(fmt, raw, key_id, key))
        config = issuance.configuration(issuance.offer.configuration_ids[0])
        return self.wallet.accept(
            received,
            issuer_url=issuance.offer.credential_issuer,
            display=Display.from_metadata(issuance.metadata, config),
            expected_issuer=issuance.offer.credential_issuer,
            status_of=self._status_of,
            fetch_json=self.issuer_metadata_fetcher(),
        )

    def issuer_metadata_fetcher(self) -> Callable[[str], Any]:
        """``fetch_json`` for SD-JWT issuer key discovery: https only (never http, not even to loopback:
        a key is trusted for what it signs), through the capped transport, each URL fetched once."""
        cache: dict[str, Any] = {}

        def fetch(url: str) -> Any:
            if urlsplit(url).scheme != "https":
                raise TransportError(
                    f"refusing {url[:120]!r}: issuer keys come over https only", code="insecure_transport"
                )
            if url not in cache:
                cache[url] = self.http.get_json(url, "fetching the issuer's keys")
            return cache[url]

        return fetch

    def _status_of(self, fmt: str, checked: Verified) -> str:
        return status.check(fmt, checked.claims, checked.issuer, http=self.http, resolver=self.wallet.resolver,
                            now=self.wallet.now(), fetch_json=self.issuer_metadata_fetcher())  # fmt: skip

    def refresh_status(self, credential_id: str) -> CredentialRecord:
        """Check a held credential's status again and record the answer and when it was obtained."""
        record = self.wallet.credential(credential_id)
        try:
            result = status.check(record.format, record.claims, record.issuer, http=self.http,
                                  resolver=self.wallet.resolver, now=self.wallet.now(),
                                  fetch_json=self.issuer_metadata_fetcher())  # fmt: skip
        except TesseraError as exc:
            result = exc.code
        if result == "unknown":
            return record  # keep the last successful check and its time
        return self.wallet.update_status(record.id, result)

    def _proof(self, key: Any, audience: str, nonce: str | None) -> str:
        header = {"typ": PROOF_TYP, "alg": key.alg, "jwk": public_jwk(key)}
        claims: dict[str, Any] = {"aud": audience, "iat": int(self.clock())}
        if nonce is not None:
            claims["nonce"] = nonce
        return bridge.sign_jwt(header, claims, key)

    # OpenID4VP -------------------------------------------------------------------------------

    def open_request(self, link: str, *, lang: str = "en") -> PresentationRequest:
        parsed = oid4vp.parse_link(link)
        extra: dict[str, Any] = {}
        if parsed.request is not None:
            request = parsed.request
        else:
            assert parsed.request_uri is not None
            method = "POST" if parsed.request_uri_method == "post" else "GET"
            reply = self.http.expect(
                self.http.request(method, parsed.request_uri, headers={"Accept": "application/oauth-authz-req+jwt"}),
                parsed.request_uri,
                "fetching the request",
            )
            claims = bridge.verify_request_object(
                reply.body.decode("ascii", "replace").strip(),
                client_id=parsed.client_id,
                resolver=self.wallet.resolver,
                now=int(self.clock()),
            )
            request = oid4vp.parse_request(claims)
            extra = claims
            if request.client_id != parsed.client_id:
                raise TesseraError("the request object names another client than the link", code="invalid_request")
        check_url(request.response_uri)
        query = parse_query(request.dcql_query)
        metadata = dict(request.client_metadata)
        verifier = Verifier(
            client_id=request.client_id,
            name=_localized(metadata, "client_name", lang) or "",
            trusted=self.wallet.is_trusted(request.client_id),
            purpose=_localized(extra, "purpose", lang) or _localized(metadata, "purpose", lang) or "",
        )
        return PresentationRequest(request, query, verifier, self.wallet.plan(query), signed=parsed.request is None)

    def send(self, pending: PresentationRequest) -> dict[str, Any]:
        """Build the presentations of exactly what the plan says, post them, and record the exchange."""
        vp_token = self.wallet.respond(pending.plan, client_id=pending.request.client_id, nonce=pending.request.nonce)
        form = {"vp_token": json.dumps(vp_token, separators=(",", ":")), "state": pending.request.state}
        try:
            reply = self.http.expect(
                self.http.request("POST", pending.request.response_uri, data=form),
                pending.request.response_uri,
                "sending the presentation",
            )
        except TransportError as exc:
            self.wallet.record_presentation(pending.plan, pending.verifier, result=exc.code, detail=exc.message)
            raise
        self.wallet.record_presentation(pending.plan, pending.verifier)
        try:
            answer = reply.json() if reply.body else {}
        except MalformedError:
            answer = {}
        return answer if isinstance(answer, dict) else {}

    def decline(self, pending: PresentationRequest) -> None:
        """Tell the verifier the person said no (``access_denied``), and keep that in the history."""
        form = {"error": "access_denied", "state": pending.request.state}
        requested = [c.name for q in pending.plan.queries for c in q.claims]
        self.wallet.record_decline(pending.verifier, requested)
        self.http.expect(
            self.http.request("POST", pending.request.response_uri, data=form),
            pending.request.response_uri,
            "telling the verifier",
        )


@dataclass
class PresentationRequest:
    request: oid4vp.AuthorizationRequest
    query: DcqlQuery
    verifier: Verifier
    plan: consent.Plan
    signed: bool


def _localized(source: Mapping[str, Any], name: str, lang: str) -> str | None:
    """``name#lang`` members (RFC 7591 §2.2 language tags) with fallback to the plain member."""
    texts = {k.partition("#")[2] or "und": v for k, v in source.items() if k.partition("#")[0] == name}
    texts = {k: v for k, v in texts.items() if isinstance(v, str)}
    if isinstance(source.get(name), dict):  # a {lang: text} map, as Tessera policies hold them
        texts = {k: v for k, v in source[name].items() if isinstance(v, str)}
    return pick_locale(texts, lang)
