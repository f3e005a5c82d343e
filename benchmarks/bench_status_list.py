"""Status lists: decode and look up in a 1,000,000-entry list (target: under 50 ms).

Run: ``.venv/bin/python -m benchmarks.bench_status_list``. Each row builds a list of 1,000,000 entries with
1 % of them set to random non-zero values (a realistic, not a best-case, compression ratio), then times:

- ``decode``: text form -> :class:`StatusList` (base64url, inflate with the bomb cap, validation);
- ``lookup``: one :meth:`StatusList.get`;
- ``encode``: :class:`StatusList` -> text form (level-9 compression), what the issuer pays per publish;
- ``update``: one :meth:`StatusList.with_value` (copy of the list plus one write), the issuer's revoke.

As design.md §8 asks, the last column relates decode + lookup to the PyNaCl Ed25519 verify measured in the
same run: checking a status costs that many signature verifications.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import nacl.signing

from shared.bitstring_status import decode_bitstring, encode_bitstring
from shared.status_bits import LSB_FIRST, MSB_FIRST, StatusList
from shared.status_list import decode_token_list, encode_token_list

ENTRIES = 1_000_000
SET_FRACTION = 0.01


def _time(fn: Callable[[], object], *, repeat: int = 15) -> float:
    """Median seconds per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _ed25519_verify_seconds() -> float:
    key = nacl.signing.SigningKey(bytes(32))
    signed = key.sign(b"x" * 64)
    verify_key = key.verify_key
    loops = 2000
    start = time.perf_counter()
    for _ in range(loops):
        verify_key.verify(signed)
    return (time.perf_counter() - start) / loops


def _sample_list(bits: int, order: str, rng: random.Random) -> StatusList:
    values = {rng.randrange(ENTRIES): rng.randrange(1, 1 << bits) for _ in range(int(ENTRIES * SET_FRACTION))}
    return StatusList.zeros(ENTRIES, bits=bits, order=order).with_values(values)  # type: ignore[arg-type]


def main() -> None:
    rng = random.Random(2025)
    floor = _ed25519_verify_seconds()
    rows = []
    for label, bits, order in [
        ("token 1-bit", 1, LSB_FIRST),
        ("token 2-bit", 2, LSB_FIRST),
        ("token 4-bit", 4, LSB_FIRST),
        ("token 8-bit", 8, LSB_FIRST),
        ("bitstring 1-bit", 1, MSB_FIRST),
        ("bitstring 2-bit", 2, MSB_FIRST),
    ]:
        sl = _sample_list(bits, order, rng)
        probe = rng.randrange(ENTRIES)
        if order == LSB_FIRST:
            obj = encode_token_list(sl)
            text_len = len(obj["lst"])

            def decode(obj: dict[str, object] = obj) -> StatusList:
                return decode_token_list(obj)

            def encode(sl: StatusList = sl) -> object:
                return encode_token_list(sl)
        else:
            text = encode_bitstring(sl)
            text_len = len(text)

            def decode(text: str = text, bits: int = bits) -> StatusList:
                return decode_bitstring(text, status_size=bits)

            def encode(sl: StatusList = sl) -> object:
                return encode_bitstring(sl)

        assert decode() == sl
        t_decode = _time(decode)
        t_lookup = _time(lambda sl=sl, probe=probe: sl.get(probe), repeat=2001)
        t_both = _time(lambda decode=decode, probe=probe: decode().get(probe))
        t_encode = _time(encode, repeat=5)
        t_update = _time(lambda sl=sl, probe=probe: sl.with_value(probe, 1))
        rows.append((label, len(sl.data), text_len, t_decode, t_lookup, t_both, t_encode, t_update))

    print(f"Status lists: {ENTRIES:,} entries, {SET_FRACTION:.0%} set; Ed25519 verify (PyNaCl) = {floor * 1e6:.1f} µs")
    head = (
        f"{'list':<16} {'raw B':>9} {'text B':>8} {'decode ms':>10} {'lookup µs':>10} "
        f"{'dec+look ms':>12} {'encode ms':>10} {'update ms':>10} {'× verify':>9}"
    )
    print(head)
    print("-" * len(head))
    for label, raw, text_len, t_dec, t_look, t_both, t_enc, t_upd in rows:
        print(
            f"{label:<16} {raw:>9,} {text_len:>8,} {t_dec * 1e3:>10.2f} {t_look * 1e6:>10.2f} "
            f"{t_both * 1e3:>12.2f} {t_enc * 1e3:>10.2f} {t_upd * 1e3:>10.3f} {t_both / floor:>9.0f}"
        )
    worst = max(r[5] for r in rows)
    print(f"target: decode + lookup < 50 ms; worst here {worst * 1e3:.2f} ms -> {'met' if worst < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
