"""How uvicorn serves the verifier: an HTTP protocol with Nagle's algorithm off on every connection.

With ``--workers`` > 1 (or ``--fd``) uvicorn listens on a socket it made as ``socket.socket(AF_INET)``,
whose ``proto`` is 0, and asyncio only sets ``TCP_NODELAY`` on sockets whose ``proto`` is
``IPPROTO_TCP``: every connection those workers accept keeps Nagle's algorithm. uvicorn's h11 protocol
writes a response's head and its body in two writes, so the body waits for the client's delayed ACK
of the head — about 40 ms per response on Linux, whatever the load. Measured on one keep-alive
connection to two workers: 22 requests/s instead of 1,600; it was what bounded the session benchmark
(benchmarks/bench_verifier.py). The classes here set ``TCP_NODELAY`` when a connection is made, which
is what asyncio does for one worker, and are otherwise uvicorn's own.

:data:`HTTP_PROTOCOL` is the one to give uvicorn (``--http``, or ``http=`` of ``uvicorn.run``): over
httptools when it is installed (a C parser: several times less CPU per request than h11), else h11,
as uvicorn's ``auto`` would choose.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer may already be gone
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class H11NoDelay(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


HTTP_PROTOCOL = "verifier.serving:H11NoDelay"

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional (uvicorn[standard])
    pass
else:  # pragma: no cover - depends on what is installed

    class HttpToolsNoDelay(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            no_delay(transport)
            super().connection_made(transport)

    HTTP_PROTOCOL = "verifier.serving:HttpToolsNoDelay"
