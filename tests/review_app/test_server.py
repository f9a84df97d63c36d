"""The serving protocol: connections send at once, also on a socket bound as uvicorn workers bind it."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config
from uvicorn.server import ServerState

from review_app.server import HTTP_PROTOCOL


async def _hello(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _nodelay(sock: socket.socket | None) -> int:
    assert sock is not None
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_accepted_connections_have_nagle_off_on_a_protocol_zero_socket() -> None:
    async def run() -> tuple[int, int, bytes]:
        # What ``uvicorn --workers N`` does: the listening socket carries protocol number 0.
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        config = Config(_hello, http=HTTP_PROTOCOL, log_level="warning")
        config.load()
        state = ServerState()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: config.http_protocol_class(config=config, server_state=state, app_state={}),
            sock=listening,
        )
        # A plain asyncio protocol on the same kind of socket is left with Nagle on.
        plain_listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        plain_listening.bind(("127.0.0.1", 0))
        plain_listening.listen()
        accepted: list[asyncio.BaseTransport] = []

        class Plain(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted.append(transport)

        plain = await loop.create_server(Plain, sock=plain_listening)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", plain_listening.getsockname()[1])
            while not accepted:
                await asyncio.sleep(0.01)
            plain_nodelay = _nodelay(accepted[0].get_extra_info("socket"))
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(2)
            (protocol,) = state.connections
            ours = _nodelay(protocol.transport.get_extra_info("socket"))  # type: ignore[union-attr]
            writer.close()
            assert head.startswith(b"HTTP/1.1 200")
            return plain_nodelay, ours, body
        finally:
            server.close()
            plain.close()

    plain_nodelay, ours, body = asyncio.run(run())
    assert plain_nodelay == 0
    assert ours != 0 and body == b"ok"
