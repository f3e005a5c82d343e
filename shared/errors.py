"""One error root for all of Tessera, with stable reason codes (design.md §7).

Every failure the core can report is a :class:`TesseraError` carrying a ``code`` from
:data:`REASONS`. Codes are part of the public contract — the API, the CLI and the wallet
all show them — so a code is never renamed; new ones are only added.

Errors about input that is not well-formed also subclass :class:`ValueError`, so callers
that only know the standard library still catch them.
"""

from __future__ import annotations

from typing import Any, Final

# code -> a sentence for people. Sentences may be reworded; codes never change.
REASONS: Final[dict[str, str]] = {
    # input shape
    "malformed": "The input is not well-formed.",
    "too_large": "The input is larger than allowed.",
    "too_deep": "The input is nested more deeply than allowed.",
    "duplicate_key": "The input repeats a JSON member name.",
    "unsupported_format": "The format is not supported.",
    "unsupported_algorithm": "The signature algorithm is not allowed.",
    "unsupported_cryptosuite": "The proof uses a cryptosuite that is not supported.",
    "invalid_key": "The key is not a valid key of the expected type.",
    "unsupported_key_type": "The key type is not supported.",
    # JSON-LD
    "context_not_allowed": "The document uses a JSON-LD context that is not on the allow-list.",
    "data_loss": "The document has terms that are not defined by its contexts and would be dropped.",
    "canonicalization_limit": "Canonicalizing the document needed more work than allowed.",
    "undefined_term": "The document uses terms that only an issuer-dependent vocabulary defines.",
    # data model
    "invalid_credential": "The credential does not follow the VC Data Model 2.0.",
    "invalid_presentation": "The presentation does not follow the VC Data Model 2.0.",
    # proofs and signatures
    "missing_proof": "The document carries no proof.",
    "invalid_proof": "The proof is not well-formed.",
    "invalid_signature": "The signature does not match the content.",
    "unknown_key": "The signing key could not be found.",
    "key_mismatch": "The signing key does not belong to the issuer.",
    "proof_purpose_mismatch": "The proof was made for another purpose.",
    "challenge_mismatch": "The proof was made for another challenge.",
    "domain_mismatch": "The proof was made for another domain.",
    # DIDs
    "invalid_did": "The identifier is not a valid DID.",
    "unsupported_did_method": "The DID method is not supported.",
    "did_resolution_failed": "The DID could not be resolved.",
    # trust and time
    "untrusted_issuer": "The issuer is not trusted for this kind of credential.",
    "not_yet_valid": "The credential is not valid yet.",
    "expired": "The credential has expired.",
    # status
    "revoked": "The credential has been revoked.",
    "suspended": "The credential is suspended.",
    "status_unavailable": "The credential's status could not be checked.",
    "status_index_out_of_range": "The credential's status index is outside its status list.",
    "status_list_too_short": "The status list is shorter than the minimum that keeps holders in a crowd.",
    "status_list_mismatch": "The status list is not the one the credential refers to.",
    "status_list_expired": "The status list has expired.",
    "unknown_status": "The credential has a status value that is not recognised.",
    # holder binding and presentation
    "holder_binding_failed": "The presentation is not bound to the holder's key.",
    "nonce_mismatch": "The presentation was made for another request (nonce).",
    "audience_mismatch": "The presentation was made for another verifier (audience).",
    "stale_kb": "The holder's key binding proof was made too long ago, or claims a time in the future.",
    "replayed": "The response was already used.",
    "disclosure_mismatch": "The disclosed claims do not match what the issuer signed.",
    "missing_claims": "Claims the verifier requires were not presented.",
    # wallet (vault, receive, present)
    "wrong_passphrase": "The passphrase is not correct.",
    "weak_passphrase": "The passphrase is too short.",
    "vault_locked": "The wallet is locked; unlock it first.",
    "vault_not_found": "There is no wallet here yet; create one with 'tessera wallet init'.",
    "vault_exists": "A wallet already exists here.",
    "vault_corrupt": "The wallet file is damaged and cannot be opened.",
    "damaged_record": "A record in the wallet is damaged and cannot be read.",
    "not_found": "There is no such record in the wallet.",
    "invalid_backup": "The file is not a Tessera wallet backup, or it is damaged.",
    "insecure_transport": "Plain http is allowed only for loopback addresses; use https.",
    "network_error": "The server could not be reached.",
    "server_error": "The server answered with an error.",
    "invalid_offer": "The credential offer is not valid.",
    "invalid_request": "The presentation request is not valid.",
    "invalid_tx_code": "The transaction code is not correct.",
    "no_matching_credential": "The wallet holds no credential with the claims that were asked for.",
    # verifier service (sessions, policies, API keys)
    "unknown_session": "There is no such presentation session.",
    "session_expired": "The presentation session has expired.",
    "declined": "The person declined to share the credential.",
    "unknown_policy": "There is no presentation policy with that name.",
    "unauthorized": "A valid API key is required.",
    "state_mismatch": "The response does not belong to this session (state).",
    # service configuration
    "invalid_config": "A setting in the environment or the config file is not valid.",
}


class TesseraError(Exception):
    """Root of every Tessera error. ``code`` is a stable key of :data:`REASONS`."""

    default_code: str = "malformed"

    def __init__(self, message: str | None = None, *, code: str | None = None, **detail: Any) -> None:
        self.code: str = code or self.default_code
        if self.code not in REASONS:
            raise AssertionError(f"unregistered reason code {self.code!r}")
        self.message: str = message or REASONS[self.code]
        self.detail: dict[str, Any] = detail
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        """The sentence for people that goes with the code."""
        return REASONS[self.code]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail:
            out["detail"] = self.detail
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class MalformedError(TesseraError, ValueError):
    """Input that is not well-formed: wrong type, shape, encoding, size or depth."""

    default_code = "malformed"


class UnsupportedError(TesseraError, ValueError):
    """Well-formed input using something Tessera does not accept (format, algorithm, suite)."""

    default_code = "unsupported_format"


class JsonLdError(TesseraError, ValueError):
    """JSON-LD processing refused the document (unknown context, dropped terms, limits)."""

    default_code = "data_loss"


class KeyResolutionError(TesseraError):
    """A DID or key could not be resolved."""

    default_code = "did_resolution_failed"


class VerificationError(TesseraError):
    """A well-formed object failed a verification check (signature, time, trust, binding)."""

    default_code = "invalid_signature"
