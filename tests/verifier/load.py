"""A light load generator for the verifier (benchmarks/bench_verifier.py): wallets that complete
OpenID4VP sessions over HTTP, in processes of their own, with the CPU each side used.

Each wallet, in a loop: ``POST /sessions`` (API key), ``GET`` the request object, make the KB-JWT (it
binds the session's nonce: one Ed25519 signature per session; the SD-JWT with its Disclosures is made
once, by the caller), ``POST`` the presentation to ``response_uri`` (direct_post), ``GET /sessions/{id}``
and check the verdict is ``verified``. Kept light so the cores go to the server: wallets are asyncio
tasks in spawned processes, each on its own keep-alive connection through :class:`Connection` (httpx
costs several times the CPU per request), the request object is read, not verified (the wallet is not
what is measured), and the form is built without ``quote()`` over the presentation.

Wallets arrive one at a time (:data:`ARRIVAL_GAP_SECONDS`), as real ones do, not as one burst of
simultaneous connects: uvicorn's workers share one listening socket and the first to wake accepts
every connection then waiting, so a burst of keep-alive connections would load one worker with most of
them for the whole run. Sessions that end inside the measured window count; the CPU of the server's
workers (and of the PostgreSQL backends serving them, when named) over that window comes from /proc.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shared import jose, sd_jwt
from shared.crypto import Ed25519PrivateKey

ARRIVAL_GAP_SECONDS = 0.025


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: a fraction of httpx's CPU per request,
    so that the wallets leave the cores to the server. Bodies must come with Content-Length
    (uvicorn sends it for every response here)."""

    def __init__(self, host: str, port: int, auth: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {auth}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n" if method == "POST" else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head[9:12])
        length = int(head.partition("content-length:")[2].partition("\r\n")[0] or -1)
        if length < 0:
            raise RuntimeError(f"no Content-Length in {head[:200]!r}")
        data = await self.reader.readexactly(length)
        if "connection: close" in head:
            self.writer.close()
            self.writer = None
        return status, data


def _json(status: int, data: bytes, what: str) -> Any:
    if status >= 300:
        raise RuntimeError(f"{what} answered {status}: {data[:300]!r}")
    return json.loads(data)


def _json(status: int, data: bytes, what: str) -> Any:
    if status >= 300:
        raise RuntimeError(f"{what} answered {status}: {data[:300]!r}")
    return json.loads(data)


def _path(url: str) -> str:
    return "/" + url.partition("//")[2].partition("/")[2]


@dataclass(frozen=True)
class Load:
    url: str
    api_key: str
    policy: str
    query_id: str  # the DCQL credential query the presentation answers
    body: str  # the SD-JWT with its Disclosures, up to the KB-JWT
    holder_seed: bytes  # the holder key (the credential's cnf) that signs the KB-JWT
    wallets: int  # per process
    processes: int
    start: float  # time.time() when counting starts (after the warm-up) …
    stop: float  # … and stops
    index: int = 0  # which process this is


async def _wallet(conn: Connection, load: Load, holder: Ed25519PrivateKey, done: list[tuple[float, float]]) -> None:
    """One wallet's loop: a complete session per turn until ``load.stop``; appends (end time, latency)."""
    create = json.dumps({"policy": load.policy}).encode()
    # vp_token = {query_id: [presentation]}, form-encoded: the presentation is base64url, "." and "~",
    # which need no escaping, so only the JSON around it is (quote() over it all cost more than the KB-JWT)
    vp_open, vp_close = "vp_token=" + quote(f'{{"{load.query_id}":["'), quote('"]}')
    while time.time() < load.stop:
        start = time.perf_counter()
        session = _json(*await conn.request("POST", "/sessions", create, "application/json"), "create")
        token = (await conn.request("GET", _path(session["request_uri"])))[1].decode()
        request = json.loads(jose.b64d(token.split(".")[1]))
        kb = sd_jwt.key_binding_jwt(
            load.body,
            holder_signer=holder,
            audience=request["client_id"],
            nonce=request["nonce"],
            now=datetime.now(UTC),
        )
        form = f"{vp_open}{load.body}{kb}{vp_close}&state={quote(request['state'])}".encode()
        form_type = "application/x-www-form-urlencoded"
        _json(*await conn.request("POST", _path(request["response_uri"]), form, form_type), "response_uri")
        result = _json(*await conn.request("GET", f"/sessions/{session['session_id']}"), "status")
        if result["status"] != "verified":
            raise RuntimeError(f"session not verified: {json.dumps(result)[:500]}")
        done.append((time.time(), time.perf_counter() - start))


def _wallets_process(load: Load, out: Any) -> None:
    """``load.wallets`` concurrent wallets, from now (warm-up: connections, the server's caches) until
    ``stop``; puts (sessions ended in [start, stop), this process's CPU seconds then, their latencies)."""
    host, _, port = load.url.removeprefix("http://").partition(":")
    holder = Ed25519PrivateKey(load.holder_seed)

    async def run() -> tuple[int, float, list[float]]:
        done: list[tuple[float, float]] = []
        cpu: list[float] = []

        async def meter() -> None:
            for at in (load.start, load.stop):
                await asyncio.sleep(max(0.0, at - time.time()))
                cpu.append(time.process_time())

        async def arrive(i: int) -> None:
            await asyncio.sleep((i * load.processes + load.index) * ARRIVAL_GAP_SECONDS)
            await _wallet(Connection(host, int(port), load.api_key), load, holder, done)

        await asyncio.gather(meter(), *(arrive(i) for i in range(load.wallets)))
        window = [latency for end, latency in done if load.start <= end < load.stop]
        return len(window), cpu[1] - cpu[0], window

    try:
        out.put(asyncio.run(run()))
    except Exception as exc:  # reported by the parent, which would otherwise wait forever
        out.put(exc)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime of each process, from /proc (Linux), in seconds."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def uvicorn_workers(root: int) -> list[int]:
    """uvicorn's worker processes (the children of its supervisor), or the process itself."""
    children = [int(c) for task in Path(f"/proc/{root}/task").glob("*/children") for c in task.read_text().split()]
    # not multiprocessing's resource tracker, which uvicorn's supervisor also starts
    workers = [pid for pid in children if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return workers or [root]


@dataclass
class Measured:
    sessions: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    worker_cpu: list[float] = field(default_factory=list)  # each server worker's CPU seconds in the window
    db_cpu: float = 0.0  # the database backends named by ``backends``
    wallet_cpu: float = 0.0  # the load generator's processes
    load: float = 0.0  # the machine's 1-minute load average at the end (other work shares the cores)

    @property
    def rate(self) -> float:
        return self.sessions / self.seconds if self.seconds else 0.0

    @property
    def server_cpu(self) -> float:
        return sum(self.worker_cpu)


def drive(load: Load, *, server_pid: int, backends: Callable[[], list[int]] | None = None) -> Measured:
    """Run ``load.processes`` wallet processes against the server and measure the window."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: nothing inherited from this one
    out = context.Queue()
    children = [
        context.Process(target=_wallets_process, args=(dataclasses.replace(load, index=i), out))
        for i in range(load.processes)
    ]
    for child in children:
        child.start()
    time.sleep(max(0.0, load.start - time.time()))
    workers = uvicorn_workers(server_pid)
    db = backends() if backends is not None else []
    before = cpu_seconds(workers + db)
    time.sleep(max(0.0, load.stop - time.time()))
    after = cpu_seconds(workers + db)
    results = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join()
    used = {pid: after[pid] - before[pid] for pid in after if pid in before}
    measured = Measured(seconds=load.stop - load.start, load=os.getloadavg()[0])
    measured.worker_cpu = [used.get(pid, 0.0) for pid in workers]
    measured.db_cpu = sum(used.get(pid, 0.0) for pid in db)
    for result in results:
        if isinstance(result, Exception):
            raise result
        measured.sessions += result[0]
        measured.wallet_cpu += result[1]
        measured.latencies += result[2]
    return measured
