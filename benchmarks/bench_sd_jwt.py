"""SD-JWT VC: issue, present and verify a 12-claim birth certificate (``dc+sd-jwt``), against the floor.

Run: ``.venv/bin/python -m benchmarks.bench_sd_jwt``. Issuer and holder keys are Ed25519; every spec
check is on (typ, alg against the key, crit, strict base64url and JSON, digests, duplicate and
unreferenced Disclosures, validity period, never-disclosable claims, KB-JWT typ/alg/signature/iat/
aud/nonce/sd_hash).

The *floor* of each operation is the cryptography it cannot avoid, measured with raw PyNaCl and
hashlib in the same run:

- issue: one Ed25519 signature + one SHA-256 per Disclosure (12);
- present: one Ed25519 signature (the KB-JWT) + the SHA-256 ``sd_hash`` of the presentation;
- verify: two Ed25519 verifications (issuer JWT, KB-JWT) + the 3 Disclosure digests + ``sd_hash``.

Targets (one core): verify ≤ 1.5× its floor, issue and present ≤ 2×.

Each operation and its floor parts are timed in short alternating rounds (a few milliseconds, less
than a scheduler time slice), and each keeps its best round, as ``timeit`` advises: slower rounds are
other processes' doing. On a shared machine the load changes from moment to moment; an operation
timed long after its floor, or a median over long rounds, compares costs taken under different loads.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import nacl.signing

from shared import sd_jwt, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey, random_bytes

NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
AUDIENCE = "https://school.example"
NONCE = "n-0S6_WzA2Mj"

ISSUER = Ed25519PrivateKey(bytes(range(32)))
HOLDER = Ed25519PrivateKey(bytes(range(64, 96)))

CLAIMS = {
    "iss": "https://civil-registry.example",
    "vct": "https://credentials.example/birth-certificate",
    "exp": int(NOW.timestamp()) + 10 * 365 * 86400,
    "given_name": "Amara",
    "family_name": "Okafor",
    "birthdate": "2026-01-10",
    "birth_time": "06:42",
    "sex": 2,
    "place_of_birth": {"locality": "Enugu", "region": "Enugu State", "country": "NG"},
    "nationality": "NG",
    "mother_name": "Ngozi Okafor",
    "father_name": "Chukwuemeka Okafor",
    "registration_number": "NG-EN-2026-000123",
    "registration_date": "2026-01-12",
    "age_over_18": False,
}
DISCLOSABLE = [k for k in CLAIMS if k not in {"iss", "vct", "exp"}]
REVEAL = ["given_name", "birthdate", "age_over_18"]


def _round(fn: Callable[[], object], loops: int) -> float:
    """Seconds per call over ``loops`` calls."""
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def _paired(
    fn: Callable[[], object], floor: list[Callable[[], object]], loops: int, rounds: int
) -> tuple[float, float]:
    """(seconds per call, floor seconds): the best of ``rounds`` rounds for ``fn`` and for each part
    of its floor, the rounds alternating so that all see the same spells of load."""
    best = [float("inf")] * (1 + len(floor))
    for _ in range(rounds):
        for i, part in enumerate([fn, *floor]):
            best[i] = min(best[i], _round(part, loops))
    return best[0], sum(best[1:])


def _floors(issued: sd_jwt.SdJwt, presentation: str) -> dict[str, list[Callable[[], object]]]:
    """Raw PyNaCl and hashlib calls for the signatures and digests each operation needs, on the same
    message sizes (the issuer JWT's and the KB-JWT's signing inputs)."""
    key = nacl.signing.SigningKey(bytes(32))
    vk = key.verify_key
    issuer_input = issued.issuer_jwt.rpartition(".")[0].encode()
    kb_jwt = presentation.rpartition("~")[2]
    kb_input = kb_jwt.rpartition(".")[0].encode()
    issuer_signed, kb_signed = key.sign(issuer_input), key.sign(kb_input)
    blobs = [d.text.encode() for d in issued.disclosures]
    body = presentation[: len(presentation) - len(kb_jwt)].encode()

    def digests(items: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            for b in items:
                hashlib.sha256(b).digest()

        return run

    def sd_hash() -> object:
        return hashlib.sha256(body).digest()

    return {
        "issue": [lambda: key.sign(issuer_input), digests(blobs)],
        "present": [lambda: key.sign(kb_input), sd_hash],
        "verify": [
            lambda: vk.verify(issuer_signed),
            lambda: vk.verify(kb_signed),
            digests(blobs[: len(REVEAL)]),
            sd_hash,
        ],
    }


def main(loops: int = 20, rounds: int = 250) -> None:
    def issue() -> sd_jwt.SdJwt:
        return sd_jwt_vc.issue_sd_jwt_vc(
            CLAIMS,
            disclosable=DISCLOSABLE,
            signer=ISSUER,
            holder_key=HOLDER.public_key,
            now=NOW,
            random_bytes=random_bytes,
        )

    issued = issue()
    text = str(issued)

    def present_text() -> str:
        return sd_jwt.present(text, reveal=REVEAL, holder_signer=HOLDER, audience=AUDIENCE, nonce=NONCE, now=NOW)

    def present_parsed() -> str:
        return sd_jwt.present(issued, reveal=REVEAL, holder_signer=HOLDER, audience=AUDIENCE, nonce=NONCE, now=NOW)

    presentation = present_text()
    issuer_key = ISSUER.public_key

    def verify() -> object:
        return sd_jwt_vc.verify_sd_jwt_vc(
            presentation,
            resolve_issuer_key=lambda _h, _p: issuer_key,
            now=NOW,
            audience=AUDIENCE,
            nonce=NONCE,
            require_kb=True,
        )

    verified = verify()
    assert set(verified.claims) & set(DISCLOSABLE) == set(REVEAL)  # type: ignore[attr-defined]

    floors = _floors(issued, presentation)
    rows = [
        ("issue (12 disclosable)", issue, floors["issue"], 2.0),
        ("present 3/12 + KB (from text)", present_text, floors["present"], 2.0),
        ("present 3/12 + KB (parsed)", present_parsed, floors["present"], 2.0),
        ("verify 3/12 + KB", verify, floors["verify"], 1.5),
    ]
    print(f"SD-JWT VC birth certificate: {len(text)} bytes issued, {len(presentation)} bytes presented")
    print(f"{'operation':32} {'µs/op':>9} {'ops/s':>9} {'floor µs':>9} {'× floor':>8} {'target':>7}")
    for label, fn, floor, target in rows:
        per, base = _paired(fn, floor, loops, rounds)
        ratio = per / base
        verdict = "PASS" if ratio <= target else "MISS"
        print(f"{label:32} {per * 1e6:9.1f} {1 / per:9.0f} {base * 1e6:9.1f} {ratio:8.2f} {target:6.1f}× {verdict}")


if __name__ == "__main__":
    main()
