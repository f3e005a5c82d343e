"""The verdict model shared by the CLI, the verifier service and the wallet (design.md §1.3, §7).

A verdict lists every check that ran, in order, each with a stable reason code and a sentence
for people. A check is ``passed``, ``failed`` or ``skipped`` (not applicable, or not reached
because an earlier check failed). ``verified`` is true only when no check failed and every
check the caller marked as required passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from shared.errors import REASONS, TesseraError

Outcome = Literal["passed", "failed", "skipped"]

# Check names, in the order a pipeline runs them.
CHECK_LABELS: Final[dict[str, str]] = {
    "format": "The input is a well-formed credential or presentation.",
    "data_model": "The document follows the VC Data Model 2.0.",
    "signature": "The issuer's signature matches the content.",
    "issuer_trust": "The issuer is trusted for this kind of credential.",
    "validity_period": "The credential is within its validity period.",
    "status": "The credential has not been revoked or suspended.",
    "holder_binding": "The presentation comes from the credential's holder.",
    "requested_claims": "The presentation holds every claim that was asked for.",
}


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    code: str = "ok"
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def to_dict(self) -> dict[str, str]:
        return {"check": self.name, "outcome": self.outcome, "code": self.code, "message": self.message}


def passed(name: str, message: str | None = None) -> Check:
    return Check(name, "passed", "ok", message or CHECK_LABELS.get(name, name))


def failed(name: str, error: TesseraError) -> Check:
    return Check(name, "failed", error.code, error.message)


def skipped(name: str, message: str = "Not checked.") -> Check:
    return Check(name, "skipped", "skipped", message)


@dataclass(frozen=True)
class Verdict:
    format: str
    checks: tuple[Check, ...] = ()
    issuer: str | None = None
    holder: str | None = None
    types: tuple[str, ...] = ()
    disclosed: dict[str, Any] = field(default_factory=dict)
    extra_disclosed: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.outcome != "failed" for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome == "failed")

    @property
    def code(self) -> str:
        """The first failure's code, or ``ok``."""
        return self.failures[0].code if self.failures else "ok"

    def with_check(self, check: Check) -> Verdict:
        return replace(self, checks=(*self.checks, check))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "code": self.code,
            "format": self.format,
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.issuer is not None:
            out["issuer"] = self.issuer
        if self.holder is not None:
            out["holder"] = self.holder
        if self.types:
            out["types"] = list(self.types)
        if self.disclosed:
            out["disclosed"] = self.disclosed
        if self.extra_disclosed:
            out["extra_disclosed"] = self.extra_disclosed
        return out


class Pipeline:
    """Runs named checks in order; after the first failure the rest are reported as skipped.

    Each step is a callable that raises :class:`TesseraError` on failure and may return a
    sentence to report on success (``None`` keeps the default label).
    """

    def __init__(self, fmt: str) -> None:
        self.verdict = Verdict(format=fmt)
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def run(self, name: str, step: Callable[[], str | None]) -> bool:
        if self._stopped:
            self.verdict = self.verdict.with_check(skipped(name, "Not checked because an earlier check failed."))
            return False
        try:
            message = step()
        except TesseraError as exc:
            self.verdict = self.verdict.with_check(failed(name, exc))
            self._stopped = True
            return False
        self.verdict = self.verdict.with_check(passed(name, message))
        return True

    def skip(self, name: str, message: str) -> None:
        self.verdict = self.verdict.with_check(skipped(name, message))

    def annotate(self, **changes: Any) -> None:
        self.verdict = replace(self.verdict, **changes)


def describe(code: str) -> str:
    """The sentence for a reason code (unknown codes are described as such, not raised)."""
    return REASONS.get(code, f"Reason {code}.")


def summarize(checks: Iterable[Check]) -> str:
    """One line for people: what failed, or that everything passed."""
    failures = [c for c in checks if c.outcome == "failed"]
    if not failures:
        return "Verified: every check passed."
    first = failures[0]
    return f"Not verified: {first.message} ({first.code})"


# Which check a reason code belongs to, for verifiers that run a whole format check in one call
# (e.g. SD-JWT verification) and learn only the first failure.
STAGE_OF_CODE: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("malformed", "too_large", "too_deep", "duplicate_key", "unsupported_format", "invalid_credential"), "format"
    ),
    **dict.fromkeys(
        (
            "unsupported_algorithm",
            "invalid_signature",
            "unknown_key",
            "key_mismatch",
            "invalid_key",
            "unsupported_key_type",
            "did_resolution_failed",
            "disclosure_mismatch",
        ),
        "signature",
    ),
    "untrusted_issuer": "issuer_trust",
    **dict.fromkeys(("expired", "not_yet_valid"), "validity_period"),
    **dict.fromkeys(("revoked", "suspended", "status_unavailable"), "status"),
    **dict.fromkeys(("holder_binding_failed", "audience_mismatch", "nonce_mismatch", "stale_kb"), "holder_binding"),
    "missing_claims": "requested_claims",
}


def verdict_from_error(
    fmt: str, stages: Iterable[str], error: TesseraError | None, skip: dict[str, str] | None = None, **notes: Any
) -> Verdict:
    """A verdict for a check run in one call: stages before the failing one passed, the failing one
    failed, later ones were not reached. ``skip`` names stages that did not apply, with why."""
    skip = skip or {}
    failing = STAGE_OF_CODE.get(error.code, "format") if error is not None else None
    names = list(stages)
    if failing is not None and failing not in names:
        names.append(failing)  # a failure must always show, even from a stage the caller did not list
    checks: list[Check] = []
    reached_failure = False
    for name in names:
        if reached_failure:
            checks.append(skipped(name, "Not checked because an earlier check failed."))
        elif error is not None and name == failing:
            checks.append(failed(name, error))
            reached_failure = True
        elif name in skip:
            checks.append(skipped(name, skip[name]))
        else:
            checks.append(passed(name))
    return Verdict(format=fmt, checks=tuple(checks), **notes)
