"""API keys: format, hashing, constant-time check, bearer parsing."""

from __future__ import annotations

import itertools

import pytest

from shared import apikeys
from shared.errors import MalformedError


def counter_bytes() -> apikeys.RandomBytes:
    counter = itertools.count()
    return lambda n: bytes((next(counter) * 7 + i) % 256 for i in range(n))


def test_generate_is_deterministic_with_injected_randomness() -> None:
    a = apikeys.generate("tsv", counter_bytes())
    b = apikeys.generate("tsv", counter_bytes())
    assert a == b
    assert a.key.startswith("tsv_") and len(a.key) == 4 + 11 + 1 + 43
    assert apikeys.key_id_of(a.key, "tsv") == a.key_id
    assert a.key_hash == apikeys.hash_key(a.key) and a.key not in a.key_hash


def test_check_accepts_the_key_and_nothing_else() -> None:
    key = apikeys.generate("tsv", counter_bytes())
    assert apikeys.check(key.key, key.key_hash)
    assert not apikeys.check(key.key[:-1] + ("A" if key.key[-1] != "A" else "B"), key.key_hash)
    assert not apikeys.check("tsv_é", key.key_hash)


@pytest.mark.parametrize("bad", ["", "tsv_short_key", "tsi_" + "a" * 11 + "_" + "b" * 43, "x" * 60])
def test_key_id_of_refuses_foreign_keys(bad: str) -> None:
    with pytest.raises(MalformedError):
        apikeys.key_id_of(bad, "tsv")


def test_key_ids_with_underscores_split_unambiguously() -> None:
    key = "tsv_" + "a_b" * 3 + "cd" + "_" + "_" * 43
    assert apikeys.key_id_of(key, "tsv") == "a_ba_ba_bcd"


def test_prefix_is_checked() -> None:
    with pytest.raises(MalformedError):
        apikeys.generate("TS V", counter_bytes())


@pytest.mark.parametrize(
    ("header", "token"),
    [(None, None), ("", None), ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert apikeys.bearer_token(header) == token
