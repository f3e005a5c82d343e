"""The verification pipeline behind ``response_uri`` and the VC API, over the pure core.

Per presented credential (OpenID4VP §8.1: ``vp_token`` maps each DCQL credential query id to its
presentations) the format's own pipeline runs — format → data model → signature → issuer trust →
validity period → status → holder binding — and then the whole answer is checked against the
policy's DCQL query (``requested_claims``, ``missing_claims``). Formats:

- ``ldp_vc``: :func:`shared.verify_ldp.verify_ldp` with ``challenge`` = nonce and ``domain`` = the full
  client_id (OpenID4VP Appendix B.1.3.2); the VP's proof is the holder binding.
- ``dc+sd-jwt`` / ``vc+sd-jwt``: :mod:`shared.sd_jwt` with the KB-JWT's ``aud`` = the full client_id,
  ``nonce``, ``sd_hash`` and an ``iat`` window (Appendix B.3.6). See :meth:`PresentationVerifier._sd_jwt`.

Status checks (fetching, verifying and caching status lists) are :mod:`verifier.status`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import dcql, jose, oid4vp, sd_jwt, sd_jwt_vc, vc
from shared.did import DidResolver
from shared.errors import MalformedError, TesseraError, UnsupportedError, VerificationError
from shared.verification import Check, Pipeline, Verdict, failed, passed
from verifier.http import CachedJson, SafeFetch
from verifier.identity import Identity
from verifier.policy import Policy, VerifierConfig
from verifier.service import Outcome
from verifier.settings import VerifierSettings
from verifier.status import StatusCache, StatusChecker
from verifier.store.db import SessionRecord

# JWT and SD-JWT VC members that describe the credential rather than the person (RFC 7519, SD-JWT VC §3.2.2)
REGISTERED_CLAIMS = frozenset({"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd_alg"})


def request_signer(identity: Identity) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """Signs request objects with the verifier's key (``oauth-authz-req+jwt``, OpenID4VP §5)."""

    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        return jose.sign_compact(header, claims, identity.key)

    return sign


# --- the pipeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presented:
    """One presentation's verdict and the claims it disclosed (held in memory only)."""

    verdict: Verdict
    claims: dict[str, Any]


class PresentationVerifier:
    def __init__(
        self,
        *,
        settings: VerifierSettings,
        config: VerifierConfig,
        fetch: SafeFetch,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.config = config
        self.now = now
        self.resolver = DidResolver(
            fetch=fetch, allow_private=settings.allow_private_fetch, timeout=settings.fetch_timeout_seconds
        )
        # the core's issuer key discovery (SD-JWT VC §3.5, §4): DID URL kids through the resolver (which
        # caches documents), https issuers through JWT VC Issuer Metadata fetched with the SSRF-guarded
        # client and remembered as long as the resolver remembers a document
        metadata = CachedJson(
            fetch,
            ttl=self.resolver.cache_ttl,
            timeout=settings.fetch_timeout_seconds,
            max_bytes=settings.fetch_max_bytes,
            now=now,
        )
        self.issuer_key = sd_jwt_vc.issuer_key_resolver(
            resolve_method=self.resolver.resolve_method, fetch_json=metadata.get
        )
        self.status = StatusChecker(
            fetch=fetch,
            resolver=self.resolver,
            cache=StatusCache(ttl=settings.status_cache_seconds, now=now),
            settings=settings,
            issuer_key=self.issuer_key,
        )

    # -- per format --

    def _ldp(self, presentation: Any, policy: Policy | None, *, nonce: str | None, client_id: str | None) -> Presented:
        from shared.verify_ldp import verify_ldp  # noqa: PLC0415 - JSON-LD stack; only ldp_vc needs it

        now = datetime.fromtimestamp(self.now(), UTC)
        max_stale = policy.max_status_staleness_seconds if policy else 0

        def trust(credential: dict[str, Any]) -> str:
            issuer = credential.get("issuer")
            issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
            types = credential.get("type")
            return self.config.trust.check(
                issuer if isinstance(issuer, str) else None,
                [types] if isinstance(types, str) else types if isinstance(types, list) else [],
                policy,
            )

        def status(credential: dict[str, Any]) -> str:
            return self.status.bitstring_status(credential, now=now, max_stale=max_stale)

        verdict = verify_ldp(
            presentation,
            resolve_method=self.resolver,
            now=now,
            challenge=nonce,
            domain=client_id,
            # the VC API (no policy) serves test suites with any issuer: trust is a session matter
            check_trust=trust if policy is not None else None,
            check_status=status if policy is None or policy.require_status else None,
            require_holder_binding=bool(policy and policy.require_holder_binding),
        )
        doc = presentation if isinstance(presentation, dict) else {}
        credentials = doc.get("verifiableCredential", [doc]) if verdict.format == "ldp_vp" else [doc]
        first = credentials[0] if isinstance(credentials, list) and credentials else credentials
        subject = first.get("credentialSubject") if isinstance(first, dict) else None
        # DCQL paths for W3C credentials start at the credential (["credentialSubject", …]); only the
        # subject is about the person, so only it is matched, kept or reported as extra
        return Presented(verdict, {"credentialSubject": subject} if isinstance(subject, dict) else {})

    def _sd_jwt(
        self, fmt: str, presentation: Any, policy: Policy | None, *, nonce: str | None, client_id: str | None
    ) -> Presented:
        """SD-JWT VC (``dc+sd-jwt``) and VCDM 2.0 secured with SD-JWT (``vc+sd-jwt``): one check per
        stage of RFC 9901 §7.1/§7.3, through :mod:`shared.sd_jwt`'s step functions."""
        pipe = Pipeline(fmt)
        now_s = int(self.now())
        state: dict[str, Any] = {}

        def form() -> None:
            if not isinstance(presentation, str):
                raise MalformedError(f"a {fmt} presentation is a string")
            parts = sd_jwt.split(presentation, max_bytes=self.settings.max_body_bytes)
            state["parts"] = parts
            state["jws"] = jose.decode_unverified(parts[0])
            state["disclosures"] = tuple(sd_jwt.parse_disclosure(p) for p in parts[1:-1])

        def signature() -> None:
            decoded = state["jws"]
            jose.verify_decoded(decoded, key=self.issuer_key(decoded.header, decoded.payload), typ=fmt)
            claims, placed = sd_jwt.process(decoded.payload, state["disclosures"])
            _check_profile(fmt, decoded.payload, claims, placed)
            state["claims"] = claims

        def trust() -> str:
            claims = state["claims"]
            return self.config.trust.check(_issuer_of(claims), _types_of(fmt, claims), policy)

        def validity() -> None:
            claims = state["claims"]
            sd_jwt.check_validity(claims, now_s, self.settings.clock_skew_seconds)
            if fmt == sd_jwt_vc.VC_TYP:  # VCDM 2.0 §4.9 validFrom / validUntil
                now = datetime.fromtimestamp(now_s, UTC)
                vc.check_validity_period(claims, now, leeway=timedelta(seconds=self.settings.clock_skew_seconds))

        def status() -> str:
            claims = state["claims"]
            max_stale = policy.max_status_staleness_seconds if policy else 0
            if fmt == sd_jwt_vc.VC_TYP and "credentialStatus" in claims:  # VCDM 2.0: Bitstring Status List
                now = datetime.fromtimestamp(now_s, UTC)
                return self.status.bitstring_status(claims, now=now, max_stale=max_stale)
            if "status" not in claims:
                return "The credential has no status entry."
            return self.status.token_status(claims["status"], str(_issuer_of(claims)), now=now_s, max_stale=max_stale)

        def binding() -> str:
            kb_jwt = state["parts"][-1]
            if not kb_jwt:
                raise VerificationError("a key binding JWT is required", code="holder_binding_failed")
            sd_jwt.verify_kb(
                kb_jwt,
                presentation[: len(presentation) - len(kb_jwt)],
                state["jws"].payload,
                now_s=now_s,
                audience=client_id,
                nonce=nonce,
                kb_max_age=self.settings.kb_jwt_max_age_seconds,
                leeway=self.settings.clock_skew_seconds,
            )
            return "The presentation is signed by the holder's key for this verifier and request."

        pipe.run("format", form)
        pipe.run("signature", signature)
        if "claims" in state:
            pipe.annotate(issuer=_issuer_of(state["claims"]), types=tuple(_types_of(fmt, state["claims"])))
        pipe.run("issuer_trust", trust)
        pipe.run("validity_period", validity)
        if policy is not None and not policy.require_status:
            pipe.skip("status", "The policy does not ask for a status check.")
        else:
            pipe.run("status", status)
        has_kb = bool(state.get("parts") and state["parts"][-1])
        if policy is not None and not policy.require_holder_binding and not has_kb:
            pipe.skip("holder_binding", "The policy does not ask for holder binding.")
        else:
            pipe.run("holder_binding", binding)
        return Presented(pipe.verdict, state.get("claims", {}) if pipe.verdict.verified else {})

    def verify_one(
        self, fmt: str, presentation: Any, policy: Policy | None, *, nonce: str | None, client_id: str | None
    ) -> Presented:
        if fmt == "ldp_vc":
            return self._ldp(presentation, policy, nonce=nonce, client_id=client_id)
        if fmt in ("dc+sd-jwt", "vc+sd-jwt"):
            return self._sd_jwt(fmt, presentation, policy, nonce=nonce, client_id=client_id)
        pipe = Pipeline(fmt)

        def unsupported() -> None:
            raise UnsupportedError(f"{fmt[:40]} presentations are not supported", code="unsupported_format")

        pipe.run("format", unsupported)
        return Presented(pipe.verdict, {})

    # -- OpenID4VP response --

    def verify_response(
        self, policy: Policy, vp_token: Mapping[str, tuple[oid4vp.Presentation, ...]], record: SessionRecord
    ) -> Outcome:
        checks: list[Check] = []
        presented: dict[str, list[dict[str, Any]]] = {}
        first: Verdict | None = None
        for query_id, items in vp_token.items():
            try:
                query = policy.query.credential(query_id)
            except KeyError:
                error = TesseraError(f"vp_token answers {query_id[:40]!r}, which was not asked for", code="malformed")
                checks.append(failed("format", error))
                continue
            for item in items:
                result = self.verify_one(query.format, item, policy, nonce=record.nonce, client_id=record.client_id)
                first = first or result.verdict
                label = f"{query_id}: " if len(vp_token) > 1 or len(items) > 1 else ""
                checks.extend(Check(c.name, c.outcome, c.code, label + c.message) for c in result.verdict.checks)
                if result.verdict.verified:
                    presented.setdefault(query_id, []).append(result.claims)
        evaluation = dcql.evaluate(policy.query, presented)
        if any(c.outcome == "failed" for c in checks):
            checks.append(
                Check("requested_claims", "skipped", "skipped", "Not checked because an earlier check failed.")
            )
        elif evaluation.satisfied:
            checks.append(passed("requested_claims"))
        else:
            missing = "; ".join(evaluation.missing_text())
            checks.append(failed("requested_claims", VerificationError(f"Missing: {missing}.", code="missing_claims")))
        verdict = Verdict(
            format=first.format if first else "openid4vp",
            checks=tuple(checks),
            issuer=first.issuer if first else None,
            holder=first.holder if first else None,
            types=first.types if first else (),
        )
        requested: dict[str, Any] = {}
        extra: list[str] = []
        for query_id, claim_sets in presented.items():
            paths = policy.query.credential(query_id).requested_paths()
            kept = [dcql.project(_person_claims(c), paths) for c in claim_sets]
            requested[query_id] = kept[0] if len(kept) == 1 else kept
            for claims in claim_sets:
                extra.extend(
                    f"{query_id}: {dcql.format_path(p)}"
                    for p in dcql.leaf_paths(_person_claims(claims))
                    if not dcql.covered(p, paths)
                )
        return Outcome(verdict, requested, tuple(dict.fromkeys(extra)))


def _check_profile(fmt: str, payload: Mapping[str, Any], claims: Mapping[str, Any], placed: Any) -> None:
    """The payload profile's rules that need no clock: SD-JWT VC (``vct``; ``iss``, ``exp``, ``status``, … never
    disclosed) or VCDM 2.0 secured with SD-JWT (a VCDM 2.0 credential; ``@context``, ``type``, ``issuer``,
    ``validFrom``/``validUntil``, ``credentialStatus`` and ``credentialSubject`` itself never disclosed)."""
    if fmt == sd_jwt_vc.DC_TYP:
        fixed, whole = sd_jwt_vc.NEVER_DISCLOSABLE, None
        if "@context" in payload or not isinstance(payload.get("vct"), str) or not payload["vct"]:
            raise MalformedError("an SD-JWT VC carries a vct string and is not a VCDM document")
    else:
        fixed, whole = sd_jwt_vc.VCDM_ALWAYS_DISCLOSED, "credentialSubject"
        vc.check_credential(claims)
    for item in placed:
        if item.path and (item.path[0] in fixed or item.path == (whole,)):
            raise VerificationError(f"claim {item.path[0]!r} must not be a Disclosure", code="disclosure_mismatch")


def _issuer_of(claims: Mapping[str, Any]) -> str | None:
    """``iss`` (SD-JWT VC) or the VCDM ``issuer`` (a string or an object with ``id``)."""
    issuer = claims.get("iss", claims.get("issuer"))
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer if isinstance(issuer, str) else None


def _types_of(fmt: str, claims: Mapping[str, Any]) -> list[str]:
    """What the trust registry is keyed by: ``vct`` for SD-JWT VC, the VCDM ``type`` list otherwise."""
    if fmt == "dc+sd-jwt":
        vct = claims.get("vct")
        return [vct] if isinstance(vct, str) else []
    types = claims.get("type")
    return (
        [types]
        if isinstance(types, str)
        else [t for t in types if isinstance(t, str)]
        if isinstance(types, list)
        else []
    )


def _person_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims about the person: without JWT/SD-JWT VC registered members."""
    return {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}
