"""The project's own issuer and verifier, in-process, for wallet tests (issue #6).

Both FastAPI apps run inside the test through Starlette's ``TestClient`` (an ``httpx.Client`` that calls
the ASGI app); :class:`Router` is the one httpx transport the wallet, the verifier's outbound fetches
and the wallet's DID resolver all share, dispatching each request by origin to the right app and
keeping a copy of it so tests can read exactly what left the wallet.

- The issuer is ``https://issuer.test``: an https public URL makes it ``did:web:issuer.test`` (DID
  document at ``/.well-known/did.json``) and the ``iss`` of its SD-JWT VCs, whose keys the wallet fetches
  from JWT VC Issuer Metadata over https only. Nothing is encrypted: the router hands the request to the
  app directly.
- The verifier is ``http://127.0.0.1:8200``: plain http to loopback, which the wallet accepts, makes it a
  ``did:key`` verifier. Its config is the shipped ``verifier/examples/verifier.toml`` (client name and
  policies) with a trust registry naming the test issuer, plus a few test policies for the other formats
  and for a claim the person may leave out.
- Both share the test's database (SQLite file or PostgreSQL schema from ``database_url``); their tables
  carry an ``issuer_``/``verifier_`` prefix.

The shipped policies and ``issuer/catalogue.toml`` agree on the ``vct``; :func:`verifier_config` still
points the policies at the catalogue's value, so the tests follow the catalogue if it changes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi.testclient import TestClient

from shared.did import DidResolver
from shared.encoding import b64url_decode, b64url_encode
from wallet.client import Client
from wallet.core import Wallet
from wallet.model import CredentialRecord
from wallet.transport import Http
from wallet.vault import Vault

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CLAIMS = ROOT / "issuer" / "examples" / "birth-certificate.json"
EXAMPLE_CONFIG = ROOT / "verifier" / "examples" / "verifier.toml"
ISSUER_URL = "https://issuer.test"
VERIFIER_URL = "http://127.0.0.1:8200"
ISSUER_DID = "did:web:issuer.test"
TYPE = "BirthCertificate"
FORMATS = ("dc+sd-jwt", "ldp_vc", "vc+sd-jwt")
SD_JWT_FORMATS = ("dc+sd-jwt", "vc+sd-jwt")

CHILD: dict[str, Any] = json.loads(EXAMPLE_CLAIMS.read_text(encoding="utf-8"))  # born 2026: not over 18
ADULT: dict[str, Any] = {
    **CHILD,
    "givenName": "Ngozi",
    "familyName": "Eze",
    "birthDate": "1990-04-02",
    "parent": [{"givenName": "Obi", "familyName": "Eze"}],
    "registrationNumber": "ENU-1990-001203",
    "registrationDate": "1990-04-20",
}


def catalogue_vct() -> str:
    from issuer.catalogue import load_catalogue

    return load_catalogue().get(TYPE).vct


def _prefix(fmt: str) -> list[str]:
    """Where the person's claims sit in a credential of this format (DCQL paths start at the credential)."""
    return [] if fmt == "dc+sd-jwt" else ["credentialSubject"]


def _meta(fmt: str, vct: str) -> dict[str, Any]:
    return {"vct_values": [vct]} if fmt == "dc+sd-jwt" else {"type_values": [[TYPE]]}


def enrolment_policy(fmt: str, vct: str, *, optional_nationality: bool) -> dict[str, Any]:
    """A school enrolment in any format: names and date of birth, and the nationality if the person agrees
    (a ``claim_sets`` option without it: DCQL's way of making a claim optional)."""
    names = ["givenName", "familyName", "birthDate"] + (["nationality"] if optional_nationality else [])
    query: dict[str, Any] = {
        "id": "birth_certificate",
        "format": fmt,
        "meta": _meta(fmt, vct),
        "claims": [{"id": name, "path": [*_prefix(fmt), name]} for name in names],
    }
    if optional_nationality:
        query["claim_sets"] = [names, names[:-1]]
    return {
        "purpose": {"en": "Enrol your child at school.", "fr": "Inscrire votre enfant à l'école."},
        "require_holder_binding": True,
        "require_status": True,
        "retention_days": 1,
        "dcql": {"credentials": [query]},
    }


def extra_policies(vct: str) -> dict[str, dict[str, Any]]:
    """``enrolment-<format>`` (every claim required) and ``enrolment-optional-<format>`` (nationality optional)."""
    out = {}
    for fmt in FORMATS:
        out[f"enrolment-{fmt}"] = enrolment_policy(fmt, vct, optional_nationality=False)
        out[f"enrolment-optional-{fmt}"] = enrolment_policy(fmt, vct, optional_nationality=True)
    return out


def _retarget(table: dict[str, Any], vct: str) -> dict[str, Any]:
    """A shipped policy asking for the catalogue's ``vct`` (see the module docstring)."""
    table = copy.deepcopy(table)
    query = json.loads(table["dcql_json"]) if "dcql_json" in table else table["dcql"]
    for credential in query["credentials"]:
        if "vct_values" in credential.get("meta", {}):
            credential["meta"]["vct_values"] = [vct]
    if "dcql_json" in table:
        table["dcql_json"] = json.dumps(query)
    return table


def verifier_config(issuer_did: str) -> Any:
    """The shipped example config (client name, policies) trusting the test issuer, plus the test policies."""
    from verifier.policy import parse_config
    from verifier.settings import read_toml

    vct = catalogue_vct()
    data = read_toml(EXAMPLE_CONFIG)
    data["trust"] = {
        "issuers": [
            {"did": issuer_did, "name": "Test civil registry", "types": [vct, TYPE]},
            # SD-JWT VCs name the issuer by its URL (iss), with keys in its JWT VC Issuer Metadata
            {"did": ISSUER_URL, "name": "Test civil registry", "types": [vct]},
        ]
    }
    data["policies"] = {name: _retarget(t, vct) for name, t in data["policies"].items()} | extra_policies(vct)
    return parse_config(data)


# --- routing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    method: str
    url: httpx.URL
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("ascii"), keep_blank_values=True))


@dataclass
class Router(httpx.BaseTransport):
    """Requests to each origin go to its in-process app; every request is kept in ``seen``."""

    apps: dict[str, TestClient] = field(default_factory=dict)
    seen: list[Sent] = field(default_factory=list)

    def mount(self, base_url: str, client: TestClient) -> None:
        self.apps[_origin(httpx.URL(base_url))] = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.seen.append(Sent(request.method, request.url, body))
        app = self.apps.get(_origin(request.url))
        if app is None:
            return httpx.Response(502, json={"error": f"no app at {request.url}"})
        reply = app.send(request, follow_redirects=False)
        headers = [
            (k, v) for k, v in reply.headers.multi_items() if k.lower() not in ("content-length", "content-encoding")
        ]
        return httpx.Response(reply.status_code, headers=headers, content=reply.content)


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def wallet_resolver(http: Http) -> DidResolver:
    """did:key and did:jwk offline; did:web fetched through the wallet's own transport (to the router).
    ``allow_private``: ``issuer.test`` is a reserved name the SSRF guard would refuse before any fetch."""

    def fetch(url: str, *, timeout: float, max_bytes: int) -> bytes:
        return http.expect(http.request("GET", url), url, "fetching a DID document").body

    return DidResolver(fetch=fetch, allow_private=True)


# --- the two services -------------------------------------------------------------------------------


@dataclass
class Services:
    issuer: TestClient
    verifier: TestClient
    router: Router
    http: httpx.Client  # routed: what the wallet and the verifier's outbound fetches use
    issuer_auth: dict[str, str]
    verifier_auth: dict[str, str]

    # issuer (admin API) --

    def offer(self, fmt: str | None, claims: dict[str, Any] | None = None, *, tx_code: bool = True) -> dict[str, Any]:
        """An offer for one format (or every format the catalogue offers, ``fmt=None``)."""
        body: dict[str, Any] = {"type": TYPE, "claims": claims or CHILD, "tx_code": tx_code}
        if fmt is not None:
            body["formats"] = [fmt]
        reply = self.issuer.post("/admin/offers", json=body, headers=self.issuer_auth)
        assert reply.status_code == 201, reply.text
        offer: dict[str, Any] = reply.json()
        return offer

    def record(self, record_id: str) -> dict[str, Any]:
        reply = self.issuer.get(f"/admin/records/{record_id}", headers=self.issuer_auth)
        assert reply.status_code == 200, reply.text
        record: dict[str, Any] = reply.json()
        return record

    def revoke(self, record_id: str) -> dict[str, Any]:
        reply = self.issuer.post(f"/admin/records/{record_id}/revoke", headers=self.issuer_auth)
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result

    # verifier (session API) --

    def new_session(self, policy: str) -> dict[str, Any]:
        reply = self.verifier.post("/sessions", json={"policy": policy}, headers=self.verifier_auth)
        assert reply.status_code == 201, reply.text
        session: dict[str, Any] = reply.json()
        return session

    def session(self, session_id: str) -> dict[str, Any]:
        reply = self.verifier.get(f"/sessions/{session_id}", headers=self.verifier_auth)
        assert reply.status_code == 200, reply.text
        status: dict[str, Any] = reply.json()
        return status

    def posted_to_verifier(self) -> list[dict[str, str]]:
        """Every direct_post form the verifier received (``vp_token`` or ``error``, and ``state``)."""
        return [
            s.form()
            for s in self.router.seen
            if s.method == "POST" and _origin(s.url) == _origin(httpx.URL(VERIFIER_URL)) and "/responses/" in s.url.path
        ]

    # wallet --

    def wallet(self, vault: Vault) -> Client:
        """The wallet core over ``vault``, talking to both services through the router."""
        http = Http(self.http)
        return Client(Wallet(vault, resolver=wallet_resolver(http)), http)

    def receive(
        self, client: Client, fmt: str, claims: dict[str, Any] | None = None, *, copies: int = 1
    ) -> tuple[list[CredentialRecord], dict[str, Any]]:
        """Offer ``claims`` in ``fmt`` and redeem the offer (by reference, with its transaction code)."""
        offer = self.offer(fmt, claims)
        records = client.receive(client.start_issuance(offer["offer_link"]), tx_code=offer["tx_code"], copies=copies)
        return records, offer


@contextmanager
def running_services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    from issuer.app import create_app as create_issuer
    from issuer.settings import IssuerSettings
    from verifier.app import create_app as create_verifier
    from verifier.settings import VerifierSettings

    router = Router()
    routed = httpx.Client(transport=router, follow_redirects=False)
    issuer_app = create_issuer(
        IssuerSettings(
            database_url=database_url,
            data_dir=tmp_path / "issuer",
            key_encryption_key=b64url_encode(b"i" * 32),
            public_url=ISSUER_URL,
        )
    )
    did = issuer_app.state.service.identity.active().did
    verifier_app = create_verifier(
        VerifierSettings(
            database_url=database_url,
            key_secret=b64url_encode(b"v" * 32),
            public_url=VERIFIER_URL,
            allow_private_fetch=True,  # the issuer's status lists and DID document are at a .test host
            status_cache_seconds=0,  # refetch status lists every time: a revocation shows at once
        ),
        config=verifier_config(did),
        http_client=routed,
    )
    issuer = TestClient(issuer_app, base_url=ISSUER_URL)
    verifier = TestClient(verifier_app, base_url=VERIFIER_URL)
    router.mount(ISSUER_URL, issuer)
    router.mount(VERIFIER_URL, verifier)
    issuer_key = issuer_app.state.service.create_api_key(["issue", "revoke"])
    verifier_key = verifier_app.state.service.create_api_key()
    try:
        yield Services(
            issuer=issuer,
            verifier=verifier,
            router=router,
            http=routed,
            issuer_auth={"Authorization": f"Bearer {issuer_key}"},
            verifier_auth={"Authorization": f"Bearer {verifier_key}"},
        )
    finally:
        routed.close()
        issuer.close()
        verifier.close()
        issuer_app.state.service.db.dispose()
        verifier_app.state.engine.dispose()


# --- reading what the wallet sent -------------------------------------------------------------------


def vp_token(form: dict[str, str]) -> dict[str, list[Any]]:
    token: dict[str, list[Any]] = json.loads(form["vp_token"])
    return token


def disclosed(presentation: str) -> dict[str, Any]:
    """Name → value of every Disclosure in an SD-JWT presentation (``<jwt>~<d1>~…~<kb-jwt>``)."""
    parts = presentation.split("~")
    out: dict[str, Any] = {}
    for part in parts[1:-1]:
        _salt, name, value = json.loads(b64url_decode(part))
        out[name] = value
    return out


def kb_jwt_claims(presentation: str) -> dict[str, Any]:
    payload = presentation.rsplit("~", 1)[1].split(".")[1]
    claims: dict[str, Any] = json.loads(b64url_decode(payload))
    return claims
