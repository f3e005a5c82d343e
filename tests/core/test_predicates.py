"""Age predicates: date arithmetic (29 February included) and "over 18" without the birth date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import predicates, sd_jwt, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.errors import TesseraError


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        ("2008-06-15", date(2026, 6, 14), 17),
        ("2008-06-15", date(2026, 6, 15), 18),
        ("2008-12-31", date(2026, 1, 1), 17),
        ("2026-01-10", date(2026, 1, 10), 0),
    ],
)
def test_age_on(birth: str, today: date, age: int) -> None:
    assert predicates.age_on(birth, today) == age


def test_leap_day_birthdays() -> None:
    born = date(2008, 2, 29)
    # 2026 is a common year: 1 March by default, 28 February where the law says so
    assert predicates.age_on(born, date(2026, 2, 28)) == 17
    assert predicates.age_on(born, date(2026, 3, 1)) == 18
    assert predicates.age_on(born, date(2026, 2, 28), leap_day="feb28") == 18
    assert predicates.age_on(born, date(2026, 2, 27), leap_day="feb28") == 17
    # 2028 is a leap year: the birthday itself
    assert predicates.age_on(born, date(2028, 2, 28)) == 19
    assert predicates.age_on(born, date(2028, 2, 29)) == 20
    assert predicates.next_change(born, today=date(2026, 1, 1), thresholds=[18]) == date(2026, 3, 1)


def test_age_over_claims() -> None:
    out = predicates.age_over("2008-06-15", today=date(2026, 6, 15))
    assert out == {"age_over_13": True, "age_over_16": True, "age_over_18": True, "age_over_21": False,
                   "age_over_65": False}  # fmt: skip
    assert predicates.age_over("2020-01-01", today=date(2026, 1, 1), thresholds=[5]) == {"age_over_05": True}
    assert predicates.next_change("2008-06-15", today=date(2026, 6, 15)) == date(2029, 6, 15)
    assert predicates.next_change("1950-01-01", today=date(2026, 1, 1)) is None


@pytest.mark.parametrize("bad", ["2026-02-30", "15/06/2008", "", 20080615, None, "2008-6-15"])
def test_bad_birth_dates(bad: object) -> None:
    with pytest.raises(TesseraError):
        predicates.age_over(bad, today=date(2026, 1, 1))  # type: ignore[arg-type]


def test_bad_thresholds_and_future_birth() -> None:
    for thresholds in ([], [0], [100], [18.5], [True]):
        with pytest.raises(TesseraError):
            predicates.age_over("2000-01-01", today=date(2026, 1, 1), thresholds=thresholds)  # type: ignore[list-item]
    with pytest.raises(TesseraError):
        predicates.age_on("2030-01-01", date(2026, 1, 1))


@given(birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), days=st.integers(0, 40000))
def test_age_matches_naive_counting(birth: date, days: int) -> None:
    today = birth + timedelta(days=days)
    age = predicates.age_on(birth, today)
    # the age is the number of birthdays (1 March for 29 February in common years) passed
    birthdays = sum(1 for year in range(birth.year + 1, today.year + 1)
                    if predicates.birthday_in(year, birth) <= today)  # fmt: skip
    assert age == birthdays
    assert predicates.age_over(birth, today=today, thresholds=[18])["age_over_18"] == (age >= 18)


def test_over_18_without_revealing_the_birth_date() -> None:
    issuer, holder = Ed25519PrivateKey(bytes(range(32))), Ed25519PrivateKey(bytes(range(64, 96)))
    now = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    claims, names = predicates.with_age_predicates(
        {"vct": "https://credentials.example/birth-certificate", "given_name": "Ada", "birthdate": "2008-06-15"},
        today=now.date(),
    )
    assert names == ("age_over_13", "age_over_16", "age_over_18", "age_over_21", "age_over_65")
    issued = sd_jwt_vc.issue_sd_jwt_vc(
        claims, disclosable=["given_name", "birthdate", *names], signer=issuer, holder_key=holder.public_key,
        now=now, random_bytes=random_bytes,
    )  # fmt: skip
    text = sd_jwt.present(issued, reveal=["age_over_18"], holder_signer=holder, audience="a", nonce="n", now=now)
    assert "2008-06-15" not in text and "birthdate" not in text
    out = sd_jwt_vc.verify_sd_jwt_vc(
        text, resolve_issuer_key=lambda _h, _p: issuer.public_key, now=now, audience="a", nonce="n", require_kb=True
    )
    assert out.claims["age_over_18"] is True
    assert "birthdate" not in out.claims and "age_over_21" not in out.claims
    with pytest.raises(TesseraError):
        predicates.with_age_predicates({"name": "x"}, today=now.date())
    with pytest.raises(TesseraError):
        predicates.with_age_predicates({"birthdate": "2008-06-15", "age_over_18": True}, today=now.date())
