"""The order of the story's steps and what each must show; :func:`run_story` runs them.

Every step's result goes to ``on_step`` as soon as it exists (the narrator prints it, a test keeps it),
and is then checked against the story. The first step that turns out differently stops the run with a
:class:`~wallet.demo.services.DemoError` naming the step, what was expected and what happened, with the
reason code of what happened where there is one (``untrusted_issuer``, ``invalid_tx_code``, …).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import REASONS, TesseraError
from wallet.demo.services import DemoError
from wallet.demo.story import (
    PARENT_CLAIMS,
    SCHOOL,
    SHOP,
    Offered,
    Presented,
    Received,
    Revoked,
    StatusChecked,
    Story,
    child_claims,
)

Result = Offered | Received | Presented | Revoked | StatusChecked
SCHOOL_CLAIMS = frozenset({"givenName", "familyName", "birthDate"})
SHOP_CLAIMS = frozenset({"age_over_18"})


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    expected: str  # the story's expectation, in words
    result: Result


OnStep = Callable[[Step], None]
Check = Callable[[Result], str | None]  # None when the result is as expected, else what was seen


def _offered(result: Result) -> str | None:
    assert isinstance(result, Offered)
    ok = result.link.startswith("openid-credential-offer://") and bool(result.tx_code)
    return None if ok else f"got link {result.link[:40]!r} and tx_code {result.tx_code!r}"


def _received(result: Result) -> str | None:
    assert isinstance(result, Received)
    c = result.credential
    ok = c.format in result.offer.formats and c.status_result == "valid"
    return None if ok else f"got a {c.format} credential whose status is {c.status_result}"


def _verified(claims: frozenset[str], credential_of: Callable[[], str]) -> Check:
    def check(result: Result) -> str | None:
        assert isinstance(result, Presented)
        v = result.verdict
        if v.status != "verified":
            return f"got {v.status} ({v.code})"
        if set(result.consent.shared) != claims or set(result.sent.disclosed) != claims:
            return f"the wallet shared {sorted(result.sent.disclosed)}"
        if result.consent.credential_id != credential_of():
            return "the wallet answered with another credential"
        return None

    return check


def _rejected(code: str) -> Check:
    def check(result: Result) -> str | None:
        assert isinstance(result, Presented)
        v = result.verdict
        return None if (v.status, v.code) == ("rejected", code) else f"got {v.status} ({v.code or 'no code'})"

    return check


def _revoked(result: Result) -> str | None:
    seen = result.status if isinstance(result, Revoked) else result.result if isinstance(result, StatusChecked) else ""
    return None if seen == "revoked" else f"got {seen}"


def _code_of(result: Result) -> str:
    code = result.verdict.code if isinstance(result, Presented) else ""
    return code if code in REASONS else "server_error"


def run_story(story: Story, on_step: OnStep | None = None) -> list[Step]:
    """Run the whole story; returns every step, or raises at the first that turns out differently."""
    steps: list[Step] = []

    def step(title: str, expected: str, action: Callable[[], Result], check: Check) -> Result:
        number = len(steps) + 1
        try:
            result = action()
        except TesseraError as exc:
            raise DemoError(f"step {number} ({title}): {exc.message}", code=exc.code) from exc
        steps.append(Step(number, title, expected, result))
        if on_step is not None:
            on_step(steps[-1])
        problem = check(result)
        if problem is not None:
            raise DemoError(f"step {number} ({title}): expected {expected}; {problem}", code=_code_of(result))
        return result

    child_offer = step(
        "The civil registry offers Amara's birth certificate to her father's wallet",
        "an offer link and a transaction code",
        lambda: story.offer("Amara Okafor", child_claims()),
        _offered,
    )
    assert isinstance(child_offer, Offered)
    child = step(
        "Chidi's wallet receives the certificate and checks it",
        "a valid credential in the wallet",
        lambda: story.receive(child_offer),
        _received,
    )
    assert isinstance(child, Received)
    child_id = child.credential.id
    step(
        "The school asks for Amara's names and date of birth",
        "verified, with only those three claims shared",
        lambda: story.present(SCHOOL, credential_id=child_id),
        _verified(SCHOOL_CLAIMS, lambda: child_id),
    )
    parent_offer = step(
        "The registry offers Chidi his own birth certificate, to the same wallet",
        "an offer link and a transaction code",
        lambda: story.offer("Chidi Okafor", PARENT_CLAIMS),
        _offered,
    )
    assert isinstance(parent_offer, Offered)
    parent = step(
        "The wallet receives Chidi's certificate and checks it",
        "a valid credential in the wallet",
        lambda: story.receive(parent_offer),
        _received,
    )
    assert isinstance(parent, Received)
    step(
        "A shop asks only whether Chidi is over 18",
        "verified, with age_over_18 the only claim shared",
        lambda: story.present(SHOP),
        _verified(SHOP_CLAIMS, lambda: parent.credential.id),
    )
    step(
        "The registry revokes Amara's certificate",
        "the record revoked",
        lambda: story.revoke(child_offer),
        _revoked,
    )
    step(
        "The school checks Amara's certificate again",
        "rejected with reason revoked",
        lambda: story.present(SCHOOL, credential_id=child_id),
        _rejected("revoked"),
    )
    step(
        "Chidi's wallet checks the certificate's status itself",
        "revoked",
        lambda: story.check_status(child_id),
        _revoked,
    )
    return steps
