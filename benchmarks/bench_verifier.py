"""The verifier: (a) one ``dc+sd-jwt`` presentation through the verification pipeline, against the floor;
(b) complete OpenID4VP sessions per second over HTTP on 127.0.0.1 with concurrent wallets.

Run: ``.venv/bin/python -m benchmarks verifier`` (from the repository root).

(a) ``PresentationVerifier.verify_response`` — what ``response_uri`` runs after parsing the form: format,
    issuer signature (key from the did:key issuer through the cached DID resolver), profile rules, trust
    registry, validity, status (the credential has none), KB-JWT (aud = full client_id, nonce, iat,
    sd_hash) and the DCQL query — for a 12-claim birth certificate with 3 claims disclosed. The floor is
    measured in the same run with raw PyNaCl and hashlib: two Ed25519 verifications (issuer JWT, KB-JWT),
    the 3 Disclosure digests and ``sd_hash``.
(b) Complete sessions: create (API key), fetch the request object, post a presentation whose KB-JWT
    binds the session's nonce (one Ed25519 signature per session; the SD-JWT with its 3 Disclosures is
    made once), read the verdict and check it is ``verified``. The load generator
    (:mod:`tests.verifier.load`) is kept light so the cores go to the server: 2 spawned processes of
    16 asyncio wallets, one keep-alive connection each through a minimal HTTP/1.1 client; wallets
    arrive one at a time over the warm-up. The server is uvicorn (``verifier.app:app_from_env``, 2
    workers, no access log, :data:`verifier.serving.HTTP_PROTOCOL`) on 127.0.0.1, on the same 2 cores
    as the wallets and, for that row, PostgreSQL; other work on the machine shares them too (the load
    column). Sessions that end inside the measured window count; the CPU each side used in that window
    is read from /proc and printed per session, so the server's share can be compared with the floor:
    a session's own cryptography (one request-object signature and the (a) floor) in raw PyNaCl,
    measured in the same run. SQLite (WAL, synchronous=NORMAL) and PostgreSQL
    (``TESSERA_TEST_POSTGRES_URL``, a fresh schema dropped afterwards; the row is skipped if the server
    is unreachable). Target: ≥ 200 sessions/s on this 2-core machine.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nacl.signing

from benchmarks.common import PG_URL, per_op, pg_schema
from shared import sd_jwt
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.did import did_key_from_public_key
from shared.encoding import b64url_encode
from tests.verifier.load import Load, Measured, drive
from verifier.http import SafeFetch
from verifier.pipeline import PresentationVerifier
from verifier.policy import parse_config
from verifier.settings import VerifierSettings
from verifier.store.db import SessionRecord

VCT = "https://w3id.org/tessera/vct/birth-certificate/v1"
ISSUER_KEY = Ed25519PrivateKey(bytes(range(32)))
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
KID = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
HOLDER = Ed25519PrivateKey(bytes(range(64, 96)))
CLAIMS = {
    "givenName": "Amara",
    "familyName": "Okafor",
    "birthDate": "2008-01-10",
    "birthTime": "06:42",
    "sex": "F",
    "placeOfBirth": {"locality": "Enugu", "region": "Enugu State", "country": "NG"},
    "nationality": "NG",
    "motherName": "Ngozi Okafor",
    "fatherName": "Chukwuemeka Okafor",
    "registrationNumber": "NG-EN-2008-000123",
    "registrationDate": "2008-01-12",
    "age_over_18": True,
}
REVEAL = ["givenName", "birthDate", "age_over_18"]
TARGET = 200  # sessions/s (issue #5)
WARMUP_SECONDS = 4.0  # spawn the wallet processes, open connections, fill the server's caches
APPLICATION_NAME = "tessera-bench-verifier"  # names the server's PostgreSQL backends, to measure their CPU

CONFIG = f"""
[client]
name = "Benchmark Verifier"

[[trust.issuers]]
did = "{ISSUER}"
name = "Registry"
types = ["{VCT}"]

[policies.bench]
purpose = {{ en = "Name, date of birth, over 18." }}
max_status_staleness_seconds = 0

[[policies.bench.dcql.credentials]]
id = "bc"
format = "dc+sd-jwt"
meta = {{ vct_values = ["{VCT}"] }}
claims = [{{ path = ["givenName"] }}, {{ path = ["birthDate"] }}, {{ path = ["age_over_18"], values = [true] }}]
"""


def issue(now: datetime) -> sd_jwt.SdJwt:
    claims = {"iss": ISSUER, "vct": VCT, "iat": int(now.timestamp()), **CLAIMS}
    return sd_jwt.issue(
        claims,
        disclosable=list(CLAIMS),
        signer=ISSUER_KEY,
        holder_key=HOLDER.public_key,
        now=now,
        random_bytes=random_bytes,
        kid=KID,
    )


# --- (a) in process ---------------------------------------------------------------------------------


def bench_pipeline(loops: int = 1000) -> tuple[list[tuple[str, float, float]], float]:
    """Rows (label, seconds per op, floor) and the time of one raw Ed25519 signature (request objects)."""
    now = datetime.now(UTC)
    config = parse_config(__import__("tomllib").loads(CONFIG))
    settings = VerifierSettings(allow_private_fetch=True)
    verifier = PresentationVerifier(
        settings=settings, config=config, fetch=SafeFetch(httpx.Client(), allow_private=True), now=time.time
    )
    policy = config.policy("bench")
    client_id = "decentralized_identifier:did:key:z6MkBenchmarkVerifier"
    nonce = b64url_encode(random_bytes(32))
    issued = issue(now)
    presentation = sd_jwt.present(issued, reveal=REVEAL, holder_signer=HOLDER, audience=client_id, nonce=nonce, now=now)
    record = SessionRecord("s", "bench", "r", client_id, nonce, "st", "processing", 0, 0, None, None, None)
    vp_token = {"bc": (presentation,)}

    def run() -> object:
        return verifier.verify_response(policy, vp_token, record)

    outcome = run()
    assert outcome.verdict.verified, outcome.verdict  # type: ignore[attr-defined]

    def one() -> object:
        return verifier.verify_one("dc+sd-jwt", presentation, policy, nonce=nonce, client_id=client_id)

    # the floor: raw PyNaCl verifications on the same signing inputs, and the digests
    key = nacl.signing.SigningKey(bytes(32))
    vk = key.verify_key
    kb_jwt = presentation.rpartition("~")[2]
    issuer_signed = key.sign(issued.issuer_jwt.rpartition(".")[0].encode())
    kb_signed = key.sign(kb_jwt.rpartition(".")[0].encode())
    disclosures = [p.encode() for p in presentation.split("~")[1:-1]]
    body = presentation[: len(presentation) - len(kb_jwt)].encode()

    def floor() -> None:
        vk.verify(issuer_signed)
        vk.verify(kb_signed)
        for d in disclosures:
            hashlib.sha256(d).digest()
        hashlib.sha256(body).digest()

    floor_s = per_op(floor, loops)
    request_input = b"x" * 1500  # about a request object's signing input
    sign_s = per_op(lambda: key.sign(request_input), loops)
    rows = [
        ("verify_one dc+sd-jwt 3/12 + KB", per_op(one, loops), floor_s),
        ("verify_response (+ DCQL, verdict)", per_op(run, loops), floor_s),
    ]
    return rows, sign_s


# --- (b) over HTTP ----------------------------------------------------------------------------------


def _backends() -> list[int]:
    """The PostgreSQL backend processes serving the verifier under test (not other clients of the server)."""
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,))
        return [int(r[0]) for r in rows]


def bench_http(*, workers: int, processes: int, wallets: int, seconds: float) -> list[tuple[str, Measured | str]]:
    from tests.verifier.servers import VerifierProcess, api_key_for

    rows: list[tuple[str, Measured | str]] = []
    body = sd_jwt.present(issue(datetime.now(UTC)), reveal=REVEAL)  # the KB-JWT is made per session
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "verifier.toml"
        config.write_text(CONFIG, encoding="utf-8")
        pg = pg_schema(f"&application_name={APPLICATION_NAME}")
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'verifier.db'}", lambda: None)]
        if pg is not None:
            targets.append(("PostgreSQL", *pg))
        else:
            rows.append(("PostgreSQL", f"skipped: PostgreSQL unreachable at {PG_URL}"))
        for label, database_url, cleanup in targets:
            try:
                key = api_key_for(database_url)
                secret = b64url_encode(b"b" * 32)
                with VerifierProcess(config=config, database_url=database_url, key_secret=secret, workers=workers) as v:
                    assert v.proc is not None
                    start = time.time() + WARMUP_SECONDS
                    load = Load(
                        v.url, key, "bench", "bc", body, HOLDER.seed, wallets, processes, start, start + seconds
                    )
                    backends = _backends if label == "PostgreSQL" else None
                    rows.append((label, drive(load, server_pid=v.proc.pid, backends=backends)))
            finally:
                cleanup()
    return rows


def main() -> None:
    print("(a) in process: one dc+sd-jwt presentation (12 claims, 3 disclosed, KB-JWT) through the pipeline")
    print(f"{'operation':36} {'µs/op':>9} {'ops/s':>9} {'floor µs':>9} {'× floor':>8}")
    rows, sign_s = bench_pipeline()
    for label, per, floor in rows:
        print(f"{label:36} {per * 1e6:9.1f} {1 / per:9.0f} {floor * 1e6:9.1f} {per / floor:8.2f}")
    # a session's unavoidable server crypto: the request object's signature and the verification floor
    floor = rows[0][2] + sign_s
    print()
    workers, processes, wallets, seconds = 2, 2, 16, 10.0
    from verifier.serving import HTTP_PROTOCOL

    protocol = HTTP_PROTOCOL.rpartition(":")[2]
    print(
        f"(b) complete sessions over HTTP on 127.0.0.1: uvicorn {workers} workers ({protocol}); "
        f"{processes} wallet processes × {wallets} wallets, one keep-alive connection each; {seconds:.0f} s after "
        f"{WARMUP_SECONDS:.0f} s warm-up; {os.cpu_count()} cores shared by all"
    )
    print(
        f"floor (same run, PyNaCl + hashlib): {floor * 1e6:.0f} µs of crypto per session (1 Ed25519 signature, "
        f"2 verifications, digests) = {1 / floor:.0f} sessions/s per core"
    )
    print("CPU per session, µs: server = all workers (their split in %), db = the PostgreSQL backends serving them")
    print(
        f"{'database':11} {'sessions':>8} {'sess/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'server':>7} {'× floor':>7} "
        f"{'split %':>8} {'db':>5} {'wallets':>7} {'load':>5}  target ≥ {TARGET}/s"
    )
    for label, row in bench_http(workers=workers, processes=processes, wallets=wallets, seconds=seconds):
        if isinstance(row, str):
            print(f"{label:11} {row}")
            continue
        n = max(row.sessions, 1)
        q = statistics.quantiles(row.latencies, n=20) if len(row.latencies) >= 20 else [0.0] * 19
        server = row.server_cpu / n
        split = "/".join(f"{100 * c / (row.server_cpu or 1):.0f}" for c in row.worker_cpu)
        print(
            f"{label:11} {row.sessions:8d} {row.rate:7.0f} {statistics.median(row.latencies or [0]) * 1e3:7.1f} "
            f"{q[18] * 1e3:7.1f} {server * 1e6:7.0f} {server / floor:7.1f} {split:>8} {row.db_cpu / n * 1e6:5.0f} "
            f"{row.wallet_cpu / n * 1e6:7.0f} {row.load:5.1f}  {'PASS' if row.rate >= TARGET else 'MISS'}"
        )


if __name__ == "__main__":
    main()
