"""Concurrent wallets for the issuer benchmark: the whole issuance (offer, token, nonce, credential) in a
loop, from processes separate from the server.

Who talks to the issuer, as in a registry: a clerk's system creates the offers over a connection it
keeps open (one per concurrent task), and each holder's wallet — a different phone every time —
opens its own connection for the token, nonce and credential requests, reused for those three.

The measured requests go through :class:`Http11`, a minimal HTTP/1.1 client on asyncio streams
(keep-alive, requests one at a time, responses framed by Content-Length — what uvicorn sends for every
issuer response). httpx spends about as much CPU per request as the issuer's
whole request handling, and the wallets share the machine's cores with the server: with httpx the
benchmark would measure httpx. The responses are still checked (status, credential count), and the
first credential of a run is verified against the issuer's published keys.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared import jose, sd_jwt_vc
from shared.crypto import Ed25519PrivateKey
from shared.keys import key_from_jwk, public_jwk

CONFIG_ID = "BirthCertificate_sd_jwt_vc"
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def proof(holder: Ed25519PrivateKey, audience: str, nonce: str) -> str:
    """An ``openid4vci-proof+jwt`` of possession of ``holder`` (OpenID4VCI 1.0 Appendix F.1)."""
    header = {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(holder)}
    return jose.sign_compact(header, {"aud": audience, "iat": int(time.time()), "nonce": nonce}, holder)


class Http11:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = f"{self.host}:{self.port}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.authority}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status, length, close = int(status_line.split(b" ", 2)[1]), 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("a chunked response: not something the issuer sends")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, payload

    async def call(self, method: str, path: str, want: int, body: bytes = b"", **headers: str) -> Any:
        status, payload = await self.request(method, path, body, headers)
        if status != want:
            raise RuntimeError(f"{method} {path} answered {status}: {payload[:300]!r}")
        return json.loads(payload)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def issue(clerk: Http11, job: dict[str, Any], holders: list[Ed25519PrivateKey]) -> list[str]:
    """One complete issuance of a ``dc+sd-jwt`` birth certificate, one credential per holder key: the
    offer through the clerk's connection, the rest through a new wallet connection."""
    wanted = {"type": "BirthCertificate", "claims": job["claims"], "formats": ["dc+sd-jwt"]}
    auth = f"Bearer {job['api_key']}"
    made = await clerk.call("POST", "/admin/offers", 201, json.dumps(wanted).encode(), Authorization=auth, **JSON)
    code = made["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    form = urlencode({"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": made["tx_code"]})
    wallet = Http11(job["url"])
    try:
        token = await wallet.call("POST", "/token", 200, form.encode(), **FORM)
        nonce = (await wallet.call("POST", "/nonce", 200))["c_nonce"]
        proofs = [proof(h, job["audience"], nonce) for h in holders]
        body = json.dumps({"credential_configuration_id": CONFIG_ID, "proofs": {"jwt": proofs}}).encode()
        auth = f"Bearer {token['access_token']}"
        reply = await wallet.call("POST", "/credential", 200, body, Authorization=auth, **JSON)
    finally:
        await wallet.close()
    credentials = [c["credential"] for c in reply["credentials"]]
    if len(credentials) != len(holders):
        raise RuntimeError(f"asked for {len(holders)} credentials, got {len(credentials)}")
    return credentials


async def drive(job: dict[str, Any], barrier: Any) -> dict[str, Any]:
    """Warm up, wait for every wallet process at ``barrier``, then issue until the budget or the time
    limit is spent: ``{"done", "start", "end", "latencies", "cpu"}``."""
    holders = [Ed25519PrivateKey.generate() for _ in range(job["batch"])]
    clerks = [Http11(job["url"]) for _ in range(job["tasks"])]
    try:
        first = await asyncio.gather(*(issue(c, job, holders) for c in clerks))  # connect and warm up
        if job["check"]:
            keys = (await clerks[0].call("GET", "/.well-known/jwt-vc-issuer", 200))["jwks"]["keys"]
            issuer_key = key_from_jwk(keys[0])
            sd_jwt_vc.verify_sd_jwt_vc(
                first[0][0], resolve_issuer_key=lambda *_: issuer_key, now=datetime.now(UTC), require_kb=False
            )
        await asyncio.to_thread(barrier.wait)
        budget, latencies = [job["issuances"]], []
        deadline = time.monotonic() + job["seconds"]

        async def loop(http: Http11) -> int:
            done = 0
            while budget[0] > 0 and time.monotonic() < deadline:
                budget[0] -= 1
                began = time.perf_counter()
                await issue(http, job, holders)
                latencies.append(time.perf_counter() - began)
                done += 1
            return done

        start, cpu = time.monotonic(), time.process_time()
        counts = await asyncio.gather(*(loop(c) for c in clerks))
        end, cpu = time.monotonic(), time.process_time() - cpu
        return {"done": sum(counts), "start": start, "end": end, "latencies": latencies, "cpu": cpu}
    finally:
        for c in clerks:
            await c.close()


def wallet_process(job: dict[str, Any], barrier: Any, results: Any) -> None:
    """A wallet process's entry point (multiprocessing, spawn)."""
    try:
        results.put(asyncio.run(drive(job, barrier)))
    except BaseException as exc:
        barrier.abort()  # the other processes must not wait for this one
        results.put({"error": f"{type(exc).__name__}: {exc}"})


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants, from /proc (Linux); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += process_cpu(int(child))
    except (OSError, ValueError, IndexError):
        return 0.0
    return total
