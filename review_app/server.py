"""uvicorn's HTTP protocol with Nagle's algorithm off on every connection, whatever bound the socket.

With ``--workers`` above one, uvicorn binds the listening socket itself with protocol number 0,
and asyncio then leaves TCP_NODELAY unset on the connections it accepts (it only sets it on
sockets whose protocol reads as TCP). A response goes out as a head and a body; with Nagle on,
the body waits for the client's delayed ACK, about 40 ms on Linux, on every request.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """The protocol uvicorn would pick (httptools when installed, else h11), sending at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _no_delay(transport)
        super().connection_made(transport)


# What ``uvicorn.run(http=...)`` imports in each worker process.
HTTP_PROTOCOL = "review_app.server:NoDelayHTTPProtocol"
