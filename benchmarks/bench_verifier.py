"""The verifier: (a) one ``dc+sd-jwt`` presentation through the verification pipeline, against the floor;
(b) complete OpenID4VP sessions per second over HTTP on 127.0.0.1 with concurrent wallets.

Run: ``.venv/bin/python -m benchmarks verifier`` (from the repository root).

(a) ``PresentationVerifier.verify_response`` — what ``response_uri`` runs after parsing the form: format,
    issuer signature (key from the did:key issuer through the cached DID resolver), profile rules, trust
    registry, validity, status (the credential has none), KB-JWT (aud = full client_id, nonce, iat,
    sd_hash) and the DCQL query — for a 12-claim birth certificate with 3 claims disclosed. The floor is
    measured in the same run with raw PyNaCl and hashlib: two Ed25519 verifications (issuer JWT, KB-JWT),
    the 3 Disclosure digests and ``sd_hash``.
(b) Each wallet, in a loop: ``POST /sessions`` (API key), ``GET`` the request object, build the
    presentation (KB-JWT signed in the wallet), ``POST`` it to ``response_uri`` (direct_post), ``GET
    /sessions/{id}`` and check the verdict is ``verified``. The wallets are asyncio tasks over httpx
    keep-alive connections in this process, on the same 2 cores as the server (uvicorn, 2 workers), so the
    figure includes the wallets' own CPU. Bounded by a session count and a time limit per row.
    SQLite (WAL, synchronous=NORMAL) and PostgreSQL (``TESSERA_TEST_POSTGRES_URL``, a fresh schema that is
    dropped afterwards; the row is skipped if the server is unreachable). Target: ≥ 200 sessions/s.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import nacl.signing

from shared import jose, sd_jwt
from shared.crypto import Ed25519PrivateKey, random_bytes
from shared.did import did_key_from_public_key
from shared.encoding import b64url_encode
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
PG_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

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


def _per_op(fn: Callable[[], object], loops: int, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


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


def bench_pipeline(loops: int = 1000) -> list[tuple[str, float, float]]:
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

    floor_s = _per_op(floor, loops)
    return [
        ("verify_one dc+sd-jwt 3/12 + KB", _per_op(one, loops), floor_s),
        ("verify_response (+ DCQL, verdict)", _per_op(run, loops), floor_s),
    ]


# --- (b) over HTTP ----------------------------------------------------------------------------------


async def _wallet(
    client: httpx.AsyncClient, credential: sd_jwt.SdJwt, deadline: float, budget: list[int], latencies: list[float]
) -> int:
    done = 0
    while budget[0] > 0 and time.monotonic() < deadline:
        budget[0] -= 1
        start = time.perf_counter()
        session = (await client.post("/sessions", json={"policy": "bench"})).json()
        token = (await client.get(session["request_uri"])).text
        request = jose.decode_unverified(token).payload
        presentation = sd_jwt.present(
            credential,
            reveal=REVEAL,
            holder_signer=HOLDER,
            audience=request["client_id"],
            nonce=request["nonce"],
            now=datetime.now(UTC),
        )
        form = urlencode({"vp_token": json.dumps({"bc": [presentation]}), "state": request["state"]})
        posted = await client.post(
            request["response_uri"], content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        if posted.status_code != 200:
            raise RuntimeError(f"response_uri answered {posted.status_code}: {posted.text[:300]}")
        result = (await client.get(f"/sessions/{session['session_id']}")).json()
        if result["status"] != "verified":
            raise RuntimeError(f"session not verified: {json.dumps(result)[:500]}")
        latencies.append(time.perf_counter() - start)
        done += 1
    return done


async def _drive(
    url: str, api_key: str, *, wallets: int, sessions: int, seconds: float
) -> tuple[int, float, list[float]]:
    credential = issue(datetime.now(UTC))
    limits = httpx.Limits(max_connections=wallets, max_keepalive_connections=wallets)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {api_key}"}, limits=limits, timeout=30
    ) as client:
        # warm-up: every worker process resolves, connects and JITs its caches once
        budget = [wallets * 2]
        await asyncio.gather(*(_wallet(client, credential, time.monotonic() + 30, budget, []) for _ in range(wallets)))
        budget = [sessions]
        latencies: list[float] = []
        start = time.perf_counter()
        deadline = time.monotonic() + seconds
        counts = await asyncio.gather(
            *(_wallet(client, credential, deadline, budget, latencies) for _ in range(wallets))
        )
        return sum(counts), time.perf_counter() - start, latencies


def _pg_schema() -> tuple[str, Callable[[], None]] | None:
    from sqlalchemy import create_engine, text

    schema = f"bench_{secrets.token_hex(4)}"
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        return None

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop


def bench_http(
    *, workers: int = 2, wallets: int = 16, sessions: int = 3000, seconds: float = 10.0
) -> list[tuple[str, int, float, list[float]] | tuple[str, str]]:
    from tests.verifier.servers import VerifierProcess, api_key_for

    rows: list[tuple[str, int, float, list[float]] | tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "verifier.toml"
        config.write_text(CONFIG, encoding="utf-8")
        targets: list[tuple[str, str | None, Callable[[], None]]] = [
            ("SQLite", f"sqlite:///{Path(tmp) / 'verifier.db'}", lambda: None)
        ]
        pg = _pg_schema()
        if pg is None:
            targets.append(("PostgreSQL", None, lambda: None))
        else:
            targets.append(("PostgreSQL", pg[0], pg[1]))
        for label, database_url, cleanup in targets:
            if database_url is None:
                rows.append((label, f"skipped: PostgreSQL unreachable at {PG_URL}"))
                continue
            try:
                key = api_key_for(database_url)
                process = VerifierProcess(
                    config=config, database_url=database_url, key_secret=b64url_encode(b"b" * 32), workers=workers
                )
                with process:
                    done, elapsed, latencies = asyncio.run(
                        _drive(process.url, key, wallets=wallets, sessions=sessions, seconds=seconds)
                    )
                rows.append((label, done, elapsed, latencies))
            finally:
                cleanup()
    return rows


def main() -> None:
    print("(a) in process: one dc+sd-jwt presentation (12 claims, 3 disclosed, KB-JWT) through the pipeline")
    print(f"{'operation':36} {'µs/op':>9} {'ops/s':>9} {'floor µs':>9} {'× floor':>8}")
    for label, per, floor in bench_pipeline():
        print(f"{label:36} {per * 1e6:9.1f} {1 / per:9.0f} {floor * 1e6:9.1f} {per / floor:8.2f}")
    print()
    workers, wallets = 2, 16
    print(
        f"(b) complete sessions over HTTP on 127.0.0.1: uvicorn {workers} workers, {wallets} concurrent wallets "
        f"in one asyncio client process, {os.cpu_count()} cores shared"
    )
    print(
        f"{'database':12} {'sessions':>9} {'seconds':>8} {'sessions/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}"
    )
    for row in bench_http(workers=workers, wallets=wallets):
        if len(row) == 2:
            print(f"{row[0]:12} {row[1]}")
            continue
        label, done, elapsed, latencies = row
        rate = done / elapsed
        q = statistics.quantiles(latencies, n=20) if len(latencies) >= 20 else [0.0] * 19
        verdict = "ok" if rate >= 200 else "BELOW"
        print(
            f"{label:12} {done:9d} {elapsed:8.2f} {rate:11.0f} {statistics.median(latencies) * 1e3:8.1f} "
            f"{q[18] * 1e3:8.1f} {'≥ 200 ' + verdict:>8}"
        )


if __name__ == "__main__":
    main()
