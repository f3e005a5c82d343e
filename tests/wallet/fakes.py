"""An in-process OpenID4VCI issuer and OpenID4VP verifier for wallet tests (httpx.MockTransport).

They speak the wire protocol the wallet speaks, built from the shared core (jose, data_integrity,
sd_jwt, oid4vp), so wallet tests run before the real services exist. Every request the wallet sends is
kept in ``.seen`` so tests can assert exactly what left the wallet.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from shared import data_integrity, jose, oid4vp, sd_jwt, status_list
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.did import did_key_from_public_key
from shared.keys import key_from_jwk, public_jwk

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BIRTH_CONTEXT = "https://w3id.org/tessera/contexts/birth-certificate/v1"
BIRTH_VCT = "https://registry.example/birth-certificate"
SUBJECT = {
    "type": "Person",
    "givenName": "Amara",
    "familyName": "Okafor",
    "birthDate": "2026-01-10",
    "nationality": "NG",
}
SD_CLAIMS = {"given_name": "Amara", "family_name": "Okafor", "birth_date": "2026-01-10", "nationality": "NG"}


def did_key_method(key: Ed25519PrivateKey) -> tuple[str, str]:
    did = did_key_from_public_key(key.public_key)
    return did, f"{did}#{did.removeprefix('did:key:')}"


def _display() -> dict[str, Any]:
    return {
        "display": [{"name": "Birth certificate", "locale": "en"}, {"name": "Acte de naissance", "locale": "fr"}],
        "claims": [
            {
                "path": ["given_name"],
                "display": [{"name": "Given name", "locale": "en"}, {"name": "Prénom", "locale": "fr"}],
            },
            {
                "path": ["birth_date"],
                "display": [{"name": "Date of birth", "locale": "en"}, {"name": "Date de naissance", "locale": "fr"}],
            },
            {
                "path": ["credentialSubject", "givenName"],
                "display": [{"name": "Given name", "locale": "en"}, {"name": "Prénom", "locale": "fr"}],
            },
        ],
    }


@dataclass
class FakeIssuer:
    base: str = "https://issuer.example"
    tx_code: str | None = "493536"
    tamper: bool = False
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seen: list[httpx.Request] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # pre-authorized code -> configuration id
    revoked: set[int] = field(default_factory=set)  # status list indices
    next_index: int = 7
    # SD-JWTs name the issuer by its https URL; the key is in its JWT VC Issuer Metadata (SD-JWT VC §4).
    sd_issuer_url: bool = False
    metadata_key: Ed25519PrivateKey | None = None  # publish another key there (a forged metadata answer)
    # (configuration id, holder public JWK) -> the credential, for issuers outside this module (interop).
    issue_hook: Callable[[str, dict[str, str]], Any] | None = None

    @property
    def did(self) -> str:
        return did_key_method(self.key)[0]

    def offer(self, config_id: str = "birth_ldp", code: str = "code-1") -> str:
        self.codes[code] = config_id
        grant: dict[str, Any] = {"pre-authorized_code": code}
        if self.tx_code is not None:
            grant["tx_code"] = {"input_mode": "numeric", "length": len(self.tx_code)}
        offer = {
            "credential_issuer": self.base,
            "credential_configuration_ids": [config_id],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": grant},
        }
        return "openid-credential-offer://?" + httpx.QueryParams({"credential_offer": json.dumps(offer)}).__str__()

    def metadata(self) -> dict[str, Any]:
        return {
            "credential_issuer": self.base,
            "credential_endpoint": f"{self.base}/credential",
            "nonce_endpoint": f"{self.base}/nonce",
            "batch_credential_issuance": {"batch_size": 3},
            "display": [{"name": "Civil Registry", "locale": "en"}, {"name": "État civil", "locale": "fr"}],
            "credential_configurations_supported": {
                "birth_ldp": {"format": "ldp_vc", "credential_metadata": _display()},
                "birth_sd": {"format": "dc+sd-jwt", "vct": BIRTH_VCT, "credential_metadata": _display()},
                "birth_vcsd": {"format": "vc+sd-jwt", "credential_metadata": _display()},
            },
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path == "/.well-known/openid-credential-issuer":
            return httpx.Response(200, json=self.metadata())
        if path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"issuer": self.base, "token_endpoint": f"{self.base}/token"})
        if path == "/token":
            form = dict(parse_qsl(request.content.decode()))
            code = form.get("pre-authorized_code", "")
            if code not in self.codes or (self.tx_code is not None and form.get("tx_code") != self.tx_code):
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json={"access_token": f"at-{code}", "token_type": "Bearer"})
        if path == "/nonce":
            nonce = f"n{len(self.nonces)}"
            self.nonces.add(nonce)
            return httpx.Response(200, json={"c_nonce": nonce})
        if path == "/credential":
            return self._credential(request)
        if path == "/.well-known/jwt-vc-issuer":
            jwk = {**public_jwk((self.metadata_key or self.key).public_key), "kid": "k1"}
            return httpx.Response(200, json={"issuer": self.base, "jwks": {"keys": [jwk]}})
        if path == "/status/1":
            return httpx.Response(200, json=self.status_list_credential())
        return httpx.Response(404)

    def _credential(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        code = token.removeprefix("at-")
        if code not in self.codes:
            return httpx.Response(401, json={"error": "invalid_token"})
        body = json.loads(request.content)
        config_id = body["credential_configuration_id"]
        out = []
        for proof in body["proofs"]["jwt"]:
            header = jose.decode_unverified(proof).header
            holder = key_from_jwk(header["jwk"])
            _, claims = jose.verify_compact(proof, key=holder, typ="openid4vci-proof+jwt")
            if claims.get("nonce") not in self.nonces or claims.get("aud") != self.base:
                return httpx.Response(400, json={"error": "invalid_proof"})
            if self.issue_hook is not None:
                credential: Any = self.issue_hook(config_id, header["jwk"])
            else:
                credential = self._issue(config_id, header["jwk"], holder)
            if self.tamper:
                credential = _tamper(credential)
            out.append({"credential": credential})
        return httpx.Response(200, json={"credentials": out})

    def _issue(self, config_id: str, holder_jwk: dict[str, str], holder: Any) -> Any:
        did, method = did_key_method(self.key)
        if config_id == "birth_ldp":
            vc = {
                "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
                "type": ["VerifiableCredential", "BirthCertificate"],
                "issuer": did,
                "validFrom": "2026-01-15T00:00:00Z",
                "credentialSubject": {"id": did_key_from_public_key(holder), **SUBJECT},
                "credentialStatus": {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": str(self.next_index),
                    "statusListCredential": f"{self.base}/status/1",
                },
            }
            return data_integrity.sign(vc, signer=self.key, verification_method=method, created=NOW)
        if config_id == "birth_vcsd":
            claims: dict[str, Any] = {
                "@context": ["https://www.w3.org/ns/credentials/v2", BIRTH_CONTEXT],
                "type": ["VerifiableCredential", "BirthCertificate"],
                "issuer": did,
                "validFrom": "2026-01-15T00:00:00Z",
                "credentialSubject": dict(SUBJECT),
            }
            paths: list[Any] = [("credentialSubject", k) for k in SUBJECT if k != "type"]
            typ = "vc+sd-jwt"
        else:
            claims = {"iss": self.base if self.sd_issuer_url else did, "vct": BIRTH_VCT, **SD_CLAIMS}
            paths = list(SD_CLAIMS)
            typ = "dc+sd-jwt"
        kid = "k1" if self.sd_issuer_url else method
        issued = sd_jwt.issue(
            claims, disclosable=paths, signer=self.key, holder_key=holder, now=NOW, random_bytes=random_bytes,
            typ=typ, kid=kid, decoys=2,
        )  # fmt: skip
        return str(issued)

    def status_list_credential(self) -> dict[str, Any]:
        did, method = did_key_method(self.key)
        bits = status_list.StatusList.zeros(status_list.MIN_BITSTRING_ENTRIES, bits=1, order=status_list.MSB_FIRST)
        bits = bits.with_values({i: 1 for i in self.revoked})
        unsigned = status_list.build_status_list_credential(
            bits, id=f"{self.base}/status/1", issuer=did, status_purpose="revocation", valid_from=NOW
        )
        return data_integrity.sign(unsigned, signer=self.key, verification_method=method, created=NOW)


def _tamper(credential: Any) -> Any:
    if isinstance(credential, dict):
        changed = copy.deepcopy(credential)
        changed["credentialSubject"]["birthDate"] = "2000-01-01"
        return changed
    issuer_jwt, _, rest = credential.partition("~")
    head, payload, sig = issuer_jwt.split(".")
    sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    return f"{head}.{payload}.{sig}~{rest}"


@dataclass
class FakeVerifier:
    base: str = "https://verifier.example"
    dcql: dict[str, Any] = field(default_factory=dict)
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    sign_with: Ed25519PrivateKey | None = None  # another key: a forged request
    nonce: str = "nonce-123"
    state: str = "state-456"
    seen: list[httpx.Request] = field(default_factory=list)
    responses: list[dict[str, str]] = field(default_factory=list)

    @property
    def client_id(self) -> str:
        return oid4vp.did_client_id(did_key_method(self.key)[0])

    def link(self) -> str:
        return oid4vp.build_link(self.client_id, f"{self.base}/request")

    def request_object(self) -> str:
        request = oid4vp.AuthorizationRequest(
            client_id=self.client_id,
            response_uri=f"{self.base}/response",
            nonce=self.nonce,
            state=self.state,
            dcql_query=self.dcql,
            client_metadata={"client_name": "City School", "client_name#fr": "École de la ville"},
            aud=oid4vp.SELF_ISSUED_AUD,
        )
        claims = request.to_claims()
        claims["purpose"] = {"en": "Enrol your child", "fr": "Inscrire votre enfant"}
        header = {"typ": oid4vp.REQUEST_OBJECT_TYP, "kid": did_key_method(self.key)[1]}
        return jose.sign_compact(header, claims, self.sign_with or self.key)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path == "/request":
            return httpx.Response(
                200, text=self.request_object(), headers={"content-type": "application/oauth-authz-req+jwt"}
            )
        if request.url.path == "/response":
            self.responses.append(dict(parse_qsl(request.content.decode())))
            return httpx.Response(200, json={})
        return httpx.Response(404)


def client_for(*parts: FakeIssuer | FakeVerifier) -> httpx.Client:
    """One httpx client routing each host to its fake."""
    routes = {httpx.URL(p.base).host: p.handler for p in parts}

    def route(request: httpx.Request) -> httpx.Response:
        return routes[request.url.host](request)

    return httpx.Client(transport=httpx.MockTransport(route))
