"""Running the issuer's HTTP server: one process, or a supervisor and N worker processes.

Why not uvicorn's own ``--workers``: its workers share one listening socket, and an idle asyncio worker
accepts every connection waiting in the queue at once. Clients that keep their connections alive
(wallets, load balancers, the benchmark) then all end up on whichever worker woke first, and the other
workers idle while that one saturates its core. Here each worker binds its own socket with
``SO_REUSEPORT`` and the kernel spreads new connections over them (Linux hashes each connection to one
socket of the group), so every worker — every core — takes its share.

The supervisor restarts a worker that dies, stops every worker on SIGTERM or SIGINT, and gives up
(non-zero exit) if a worker cannot start at all — a bad app, TLS file or port fails the same way on
every restart. A worker whose supervisor disappears (SIGKILL) stops by itself instead of serving on
as an orphan.

TLS files are checked before anything starts, so a wrong path or a key that does not match the
certificate is one clear error line and exit code 2, not a traceback from a worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import ssl
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from issuer.settings import IssuerSettings
from shared.errors import MalformedError

log = logging.getLogger("tessera.issuer")
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that could not start


def tls_options(settings: IssuerSettings) -> dict[str, Any]:
    """uvicorn's TLS options, after checking that the certificate and key load and belong together."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise MalformedError("--tls-cert and --tls-key go together")
    if not settings.tls_cert or not settings.tls_key:
        return {}
    cert, key = settings.tls_cert, settings.tls_key
    for what, path in (("certificate", cert), ("private key", key)):
        if not path.is_file():
            raise MalformedError(f"the TLS {what} file {path} does not exist or is not a file", code="invalid_key")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        # OpenSSL names the two usual mistakes tersely: say them in words
        if exc.reason == "KEY_VALUES_MISMATCH":
            reason = "the private key does not belong to the certificate"
        elif exc.reason in (None, "NO_START_LINE", "PEM_LIB"):
            reason = "they are not a PEM certificate (chain) and a PEM private key"
        else:
            reason = str(exc.reason)
        message = f"cannot use the TLS certificate {cert} with the key {key}: {reason}"
        raise MalformedError(message, code="invalid_key") from exc
    except OSError as exc:
        raise MalformedError(
            f"cannot read the TLS certificate or key: {exc.strerror or exc}", code="invalid_key"
        ) from exc
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def serve(settings: IssuerSettings, workers: int) -> int:
    import uvicorn  # noqa: PLC0415 - only the serving process needs it

    from issuer.app import create_app  # noqa: PLC0415

    tls = tls_options(settings)
    # log_config=None: our JSON logs; uvicorn's access log would print query strings
    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_config": None, "access_log": False}
    if workers <= 1:
        app = create_app(settings)
        print(f"tessera issuer: serving {settings.base_url}", file=sys.stderr)
        uvicorn.run(app, **options, **tls)
        return 0
    _check_port_free(settings.host, settings.port)
    create_app(settings).state.service.db.dispose()  # migrate and create the first key once, here
    # The workers build the app from the environment (app_from_env): hand them the resolved settings.
    for name, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"TESSERA_ISSUER_{name.upper()}"] = str(value)
    os.environ["TESSERA_ISSUER_PUBLIC_URL"] = settings.base_url
    print(f"tessera issuer: serving {settings.base_url} with {workers} workers", file=sys.stderr)
    return Supervisor(workers, {**options, **tls}).run()


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given explicitly: asyncio turns Nagle off only on accepted sockets whose proto is TCP, and
    # with Nagle on, uvicorn's separate head and body writes wait ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _check_port_free(host: str, port: int) -> None:
    """SO_REUSEPORT would let the workers share a port with another server of the same user without a
    word; a plain bind first makes a taken port an error, as it is for one process."""
    try:
        _bind(host, port, reuse_port=False).close()
    except OSError as exc:
        raise MalformedError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code="network_error") from exc


def _worker(options: dict[str, Any], supervisor: int) -> None:
    import uvicorn  # noqa: PLC0415

    from issuer.http import configure_logging  # noqa: PLC0415

    configure_logging()
    try:
        sock = _bind(options["host"], options["port"], reuse_port=True)
    except OSError as exc:
        log.error("cannot listen", extra={"event": "bind_failed", "error": str(exc)})
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config("issuer.app:app_from_env", factory=True, **options)
    server = uvicorn.Server(config)

    def watch_supervisor() -> None:
        while not server.should_exit:
            if os.getppid() != supervisor:  # re-parented: the supervisor is gone
                server.should_exit = True
            time.sleep(1.0)

    threading.Thread(target=watch_supervisor, daemon=True).start()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    def __init__(self, workers: int, options: dict[str, Any]) -> None:
        self.count = workers
        self.options = options
        self.context = multiprocessing.get_context("spawn")
        self.stop = threading.Event()

    def _start(self) -> BaseProcess:
        process = self.context.Process(target=_worker, args=(self.options, os.getpid()), daemon=False)
        process.start()
        return process

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        workers = [self._start() for _ in range(self.count)]
        status = 0
        try:
            while not self.stop.wait(0.5):
                for i, process in enumerate(workers):
                    if process.is_alive():
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        print("tessera issuer: a worker could not start; stopping", file=sys.stderr)
                        status = 1
                        self.stop.set()
                        break
                    log.error("worker died; restarting", extra={"event": "worker_died", "code": process.exitcode})
                    workers[i] = self._start()
        finally:
            for process in workers:
                if process.is_alive():
                    process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
            deadline = time.monotonic() + 30
            for process in workers:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
                    process.join()
        return status
