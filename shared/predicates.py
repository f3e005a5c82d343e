"""Age predicates: ``age_over_NN`` booleans derived from a birth date (data minimization, design.md §1.2).

The issuer computes, at issuance, one boolean per threshold and issues each as its *own* selectively
disclosable claim, so a holder proves "over 18" by disclosing ``age_over_18`` alone and the birth date
stays hidden. This is the SD-JWT practice of RFC 9901 §A.3 / SD-JWT VC §A.1 (``age_equal_or_over``)
with ISO/IEC 18013-5's flat ``age_over_NN`` names (NN two digits). Choices:

- "Over NN" means "NN years old or more" on ``today`` (ISO 18013-5 §7.2.5: ``age_over_NN`` is true when
  the age is *at least* NN). ``today`` is passed in: a predicate is true as of issuance, so the issuer
  should let such a credential expire no later than the next day a predicate would turn true
  (:func:`next_change`), otherwise a "false" ages badly.
- 29 February birthdays: in a common year the birthday is taken to be 1 March (``leap_day="mar1"``,
  the rule in e.g. the United Kingdom and Hong Kong; it never declares someone older early);
  ``leap_day="feb28"`` follows the jurisdictions that use 28 February.
- Thresholds are whole years 1–99; by default 13, 16, 18, 21 and 65.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Final, Literal

from shared.errors import MalformedError

DEFAULT_THRESHOLDS: Final = (13, 16, 18, 21, 65)
LeapDay = Literal["mar1", "feb28"]


def parse_birthdate(value: date | str) -> date:
    """A calendar date, or an ISO 8601 ``YYYY-MM-DD`` string (the form of OIDC ``birthdate``)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise MalformedError("a birth date is a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise MalformedError("a birth date is a YYYY-MM-DD string") from exc


def birthday_in(year: int, birth: date, *, leap_day: LeapDay = "mar1") -> date:
    """The day in ``year`` on which someone born on ``birth`` has a birthday."""
    if birth.month == 2 and birth.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 3, 1) if leap_day == "mar1" else date(year, 2, 28)
    return date(year, birth.month, birth.day)


def age_on(birth: date | str, today: date, *, leap_day: LeapDay = "mar1") -> int:
    """Completed years of age on ``today``."""
    born = parse_birthdate(birth)
    if today < born:
        raise MalformedError("the birth date is in the future")
    years = today.year - born.year
    return years if today >= birthday_in(today.year, born, leap_day=leap_day) else years - 1


def _thresholds(values: Iterable[int]) -> tuple[int, ...]:
    out = tuple(sorted(set(values)))
    if not out or not all(type(n) is int and 1 <= n <= 99 for n in out):
        raise MalformedError("age thresholds are whole years from 1 to 99")
    return out


def claim_name(threshold: int) -> str:
    return f"age_over_{threshold:02d}"


def age_over(
    birth: date | str, *, today: date, thresholds: Iterable[int] = DEFAULT_THRESHOLDS, leap_day: LeapDay = "mar1"
) -> dict[str, bool]:
    """``{"age_over_13": True, "age_over_18": False, …}`` as of ``today``."""
    age = age_on(birth, today, leap_day=leap_day)
    return {claim_name(n): age >= n for n in _thresholds(thresholds)}


def next_change(
    birth: date | str, *, today: date, thresholds: Iterable[int] = DEFAULT_THRESHOLDS, leap_day: LeapDay = "mar1"
) -> date | None:
    """The first day after ``today`` on which one of the predicates turns true (None: all true already)."""
    born = parse_birthdate(birth)
    age = age_on(born, today, leap_day=leap_day)
    pending = [n for n in _thresholds(thresholds) if n > age]
    return birthday_in(born.year + pending[0], born, leap_day=leap_day) if pending else None


def with_age_predicates(
    claims: dict[str, Any],
    *,
    today: date,
    birthdate_claim: str = "birthdate",
    thresholds: Iterable[int] = DEFAULT_THRESHOLDS,
    leap_day: LeapDay = "mar1",
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``claims`` plus the ``age_over_NN`` claims, and their names (to make each one disclosable).

    The birth date itself is left in ``claims``; make it disclosable too, so it can be withheld.
    """
    if not isinstance(claims, dict) or birthdate_claim not in claims:
        raise MalformedError(f"the claims have no {birthdate_claim!r}", code="missing_claims")
    predicates = age_over(claims[birthdate_claim], today=today, thresholds=thresholds, leap_day=leap_day)
    clash = set(predicates) & set(claims)
    if clash:
        raise MalformedError(f"the claims already carry {sorted(clash)}")
    return {**claims, **predicates}, tuple(predicates)
