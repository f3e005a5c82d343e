"""The issuer: (a) one complete ``dc+sd-jwt`` issuance through the service layer, against the floor;
(b) complete OpenID4VCI issuances per second over HTTP on 127.0.0.1 with concurrent wallets.

Run: ``.venv/bin/python -m benchmarks issuer`` (from the repository root).

One issuance is what a registry clerk and a wallet do for one birth certificate: ``POST /admin/offers``
(API key, 11 claims, ``dc+sd-jwt`` only, with a transaction code), ``POST /token`` (pre-authorized code
+ ``tx_code``), ``POST /nonce``, ``POST /credential`` with an ``openid4vci-proof+jwt`` signed by the
holder's Ed25519 key. The credential that comes back is checked (status 200, one SD-JWT per proof; the
first one of each row is verified against ``/.well-known/jwt-vc-issuer``).

(a) The four service calls in one thread on SQLite, without HTTP (the holder's proof signature is made
    between them and not counted). The floor is measured in the same run with raw PyNaCl and hashlib:
    the cryptography an issuance cannot avoid — verify the proof (Ed25519), sign the credential
    (Ed25519), one SHA-256 per Disclosure, seal the claims at offer time and open them at issuance
    (XSalsa20-Poly1305 ``SecretBox``).
(b) The server is ``tessera issuer serve --workers 2`` (uvicorn, a worker per core, each with its own
    SO_REUSEPORT socket). The wallets run in separate processes (``multiprocessing``, spawn): each
    process runs asyncio tasks, each on its own keep-alive HTTP/1.1 connection, issuing one credential
    after another (``tests/issuer/wallets.py``, which says why not httpx). Everything shares the
    machine's cores, so the figure includes the wallets' CPU; the server's and the wallets' CPU per
    issuance are printed beside it (the server's read from ``/proc``). Bounded by an issuance count
    and a time limit per row. SQLite (a file in a temporary directory) and PostgreSQL
    (``TESSERA_TEST_POSTGRES_URL``, a fresh schema dropped afterwards; skipped if unreachable). A batch
    row asks for ``BATCH`` credentials per request (one proof per holder key, OpenID4VCI 1.0 §8.2).
    Target: ≥ 150 credentials/s with either database (the single-credential rows).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.secret
import nacl.signing

from benchmarks.common import PG_URL, per_op, pg_schema
from shared.crypto import Ed25519PrivateKey
from shared.encoding import b64url_encode
from tests.issuer.wallets import CONFIG_ID, PRE_AUTH, proof

ROOT = Path(__file__).resolve().parents[1]
CLAIMS: dict[str, Any] = json.loads((ROOT / "issuer" / "examples" / "birth-certificate.json").read_text("utf-8"))
KEK = b64url_encode(b"b" * 32)
TARGET = 150.0
BATCH = 10


# --- the floor ----------------------------------------------------------------------------------------


def floor_per_issuance(credential: str, loops: int = 2000) -> float:
    """Raw PyNaCl and hashlib: one proof verification, one credential signature, the Disclosure digests,
    sealing and opening the claims — on the sizes of a real issuance."""
    key = nacl.signing.SigningKey(bytes(32))
    issuer_jwt, *disclosures = credential.rstrip("~").split("~")
    signing_input = issuer_jwt.rpartition(".")[0].encode()
    proof_input = proof(Ed25519PrivateKey(bytes(32)), "https://issuer.example", "n" * 43).rpartition(".")[0]
    signed_proof = key.sign(proof_input.encode())
    blobs = [d.encode() for d in disclosures]
    box = nacl.secret.SecretBox(b"k" * 32)
    claims = json.dumps(CLAIMS, separators=(",", ":")).encode()
    sealed = box.encrypt(claims)

    def floor() -> None:
        key.verify_key.verify(signed_proof)
        key.sign(signing_input)
        for b in blobs:
            hashlib.sha256(b).digest()
        box.encrypt(claims)
        box.decrypt(sealed)

    return per_op(floor, loops)


# --- (a) in process -------------------------------------------------------------------------------------


def bench_service(loops: int = 300) -> tuple[float, float, str]:
    """Wall and CPU seconds per issuance through the service layer (SQLite), and one credential issued.
    CPU time is the steadier figure on a machine shared with other work."""
    from issuer.app import build_service
    from issuer.issuance import Issuance
    from issuer.settings import IssuerSettings

    with tempfile.TemporaryDirectory() as tmp:
        settings = IssuerSettings(
            database_url=f"sqlite:///{Path(tmp) / 'issuer.db'}",
            data_dir=Path(tmp),
            key_encryption_key=KEK,
            public_url="http://issuer.example",
        )
        service = build_service(settings)
        service.identity.ensure_key()
        issuance = Issuance(service)
        auth = f"Bearer {service.create_api_key(['issue'])}"
        holder = Ed25519PrivateKey.generate()
        spent = [0.0, 0.0]
        last = [""]

        def one() -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            actor = service.authenticate(auth, "issue")
            offer = service.create_offer(actor, "BirthCertificate", CLAIMS, formats=["dc+sd-jwt"])
            code = offer["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
            form = {"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": offer["tx_code"]}
            access = issuance.token(form)["access_token"]
            nonce = issuance.nonce()["c_nonce"]
            spent[0] -= wall - time.perf_counter()
            spent[1] -= cpu - time.process_time()
            body = {
                "credential_configuration_id": CONFIG_ID,
                "proofs": {"jwt": [proof(holder, settings.base_url, nonce)]},
            }
            wall, cpu = time.perf_counter(), time.process_time()
            last[0] = issuance.credential(f"Bearer {access}", body)["credentials"][0]["credential"]
            spent[0] -= wall - time.perf_counter()
            spent[1] -= cpu - time.process_time()

        for _ in range(20):  # warm-up
            one()
        walls, cpus = [], []
        for _ in range(3):
            spent[:] = [0.0, 0.0]
            for _ in range(loops):
                one()
            walls.append(spent[0] / loops)
            cpus.append(spent[1] / loops)
        service.db.dispose()
        return statistics.median(walls), statistics.median(cpus), last[0]


# --- (b) over HTTP --------------------------------------------------------------------------------------


def run_clients(
    url: str,
    api_key: str,
    audience: str,
    *,
    server_pid: int,
    processes: int,
    tasks: int,
    batch: int,
    issuances: int,
    seconds: float,
) -> tuple[int, float, list[float], float, float]:
    """(issuances, wall seconds, latencies, server CPU seconds, clients' CPU seconds) of one measured row."""
    from tests.issuer.wallets import process_cpu, wallet_process

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    share = -(-issuances // processes)
    procs = [
        ctx.Process(
            target=wallet_process,
            args=(
                {
                    "url": url,
                    "claims": CLAIMS,
                    "api_key": api_key,
                    "audience": audience,
                    "tasks": tasks,
                    "batch": batch,
                    "issuances": share,
                    "seconds": seconds,
                    "check": i == 0,
                },
                barrier,
                results,
            ),
        )
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=120)  # every client warmed up: the measured phase starts now
        cpu_before = process_cpu(server_pid)
        outcomes = [results.get(timeout=seconds + 120) for _ in procs]
        cpu_after = process_cpu(server_pid)
    except Exception:
        errors = []
        while not results.empty():
            errors.append(results.get().get("error"))
        raise RuntimeError(f"the clients failed: {errors}") from None
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    failed = [o["error"] for o in outcomes if "error" in o]
    if failed:
        raise RuntimeError(f"a client failed: {failed[0]}")
    done = sum(o["done"] for o in outcomes)
    wall = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    latencies = [x for o in outcomes for x in o["latencies"]]
    return done, wall, latencies, cpu_after - cpu_before, sum(o["cpu"] for o in outcomes)


Row = dict[str, Any]


def bench_http(
    *, workers: int = 2, processes: int = 2, tasks: int = 8, issuances: int = 3000, seconds: float = 10.0
) -> list[Row]:
    from tests.issuer.servers import IssuerProcess, api_key_for

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str | None, Callable[[], None]]] = [
            ("SQLite", f"sqlite:///{Path(tmp) / 'issuer.db'}", lambda: None)
        ]
        pg = pg_schema()
        targets.append(("PostgreSQL", *pg) if pg else ("PostgreSQL", None, lambda: None))
        for label, database_url, cleanup in targets:
            if database_url is None:
                rows.append({"database": label, "skipped": f"PostgreSQL unreachable at {PG_URL}"})
                continue
            try:
                key = api_key_for(database_url, KEK, ("issue",))
                server = IssuerProcess(
                    database_url=database_url, key_encryption_key=KEK, data_dir=Path(tmp) / label, workers=workers
                )
                with server:
                    assert server.proc is not None
                    for batch, count in ((1, issuances), (BATCH, max(issuances // BATCH, 50))):
                        done, wall, latencies, cpu, client_cpu = run_clients(
                            server.url,
                            key,
                            server.public_url,
                            server_pid=server.proc.pid,
                            processes=processes,
                            tasks=tasks,
                            batch=batch,
                            issuances=count,
                            seconds=seconds,
                        )
                        rows.append(
                            {
                                "database": label,
                                "batch": batch,
                                "done": done,
                                "wall": wall,
                                "latencies": latencies,
                                "server_cpu": cpu,
                                "client_cpu": client_cpu,
                            }
                        )
            finally:
                cleanup()
    return rows


def main() -> None:
    per, cpu, credential = bench_service()
    floor = floor_per_issuance(credential)
    cores = os.cpu_count() or 1
    print("(a) in process: one dc+sd-jwt issuance (offer, token, nonce, credential) through the service, SQLite")
    print(f"{'operation':36} {'µs/op':>9} {'CPU µs':>9} {'ops/s':>9} {'floor µs':>9} {'× floor':>8}")
    print(
        f"{'issuance (4 service calls)':36} {per * 1e6:9.1f} {cpu * 1e6:9.1f} {1 / per:9.0f} {floor * 1e6:9.1f} "
        f"{per / floor:8.2f}"
    )
    print(f"{'floor (raw PyNaCl + hashlib)':36} {floor * 1e6:9.1f} {'':9} {1 / floor:9.0f}")
    print()
    workers, processes, tasks = 2, 2, 8
    print(
        f"(b) complete issuances over HTTP on 127.0.0.1: tessera issuer serve --workers {workers}; "
        f"{processes} wallet processes × {tasks} asyncio wallets; {cores} cores shared"
    )
    print(
        f"{'database':11} {'batch':>5} {'issuances':>9} {'seconds':>7} {'issuances/s':>11} {'creds/s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'srv CPU ms':>10} {'× floor':>7} {'cli CPU ms':>10}  target"
    )
    for row in bench_http(workers=workers, processes=processes, tasks=tasks):
        if "skipped" in row:
            print(f"{row['database']:11} skipped: {row['skipped']}")
            continue
        rate = row["done"] / row["wall"]
        creds = rate * row["batch"]
        lat = row["latencies"]
        q = statistics.quantiles(lat, n=20) if len(lat) >= 20 else [0.0] * 19
        cpu_ms = row["server_cpu"] / row["done"] * 1e3 if row["done"] else 0.0
        client_ms = row["client_cpu"] / row["done"] * 1e3 if row["done"] else 0.0
        ratio = cpu_ms / 1e3 / (floor * row["batch"]) if row["server_cpu"] else float("nan")
        verdict = (f"≥ {TARGET:.0f}/s " + ("PASS" if creds >= TARGET else "MISS")) if row["batch"] == 1 else ""
        print(
            f"{row['database']:11} {row['batch']:5d} {row['done']:9d} {row['wall']:7.2f} {rate:11.0f} {creds:8.0f} "
            f"{statistics.median(lat) * 1e3:7.1f} {q[18] * 1e3:7.1f} {cpu_ms:10.2f} {ratio:7.1f} {client_ms:10.2f}  "
            f"{verdict}"
        )
    print(
        "srv CPU ms: the server's CPU (all its processes) per issuance; × floor: that CPU over the floor of the\n"
        "credentials it issued; cli CPU ms: the wallets' CPU per issuance, taken from the same cores."
    )


if __name__ == "__main__":
    main()
