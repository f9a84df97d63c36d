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


def test_a_burst_larger_than_the_connection_pool_is_served(sqlite_store, seeded) -> None:  # type: ignore[no-untyped-def]
    """More requests at once than database connections and threads: all answered, none stuck.

    A request that held a pooled connection while it queued for a thread could wait forever on
    threads that wait for connections; here the pool has two connections and the burst is
    larger than the thread pool, with pages, JSON and page images (sent in thread-pool chunks).
    """
    import threading

    import uvicorn
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import sessionmaker

    from ledgerbot.core.store.engine import _sqlite_pragmas
    from review_app.config import ReviewSettings
    from review_app.main import create_app
    from tests.review_app.conftest import login

    tiny = create_engine(sqlite_store.url, pool_size=2, max_overflow=0, pool_timeout=5)
    event.listen(tiny, "connect", _sqlite_pragmas)
    sqlite_store.engine = tiny
    sqlite_store._factory = sessionmaker(tiny, expire_on_commit=False)
    app = create_app(sqlite_store, ReviewSettings(sync_interval_seconds=0))
    with TestClient(app, follow_redirects=False) as signing_in:
        login(signing_in, "carol")
        cookie = f"lb_session={signing_in.cookies['lb_session']}"
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=HTTP_PROTOCOL, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()

    async def one(path: str) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode()
        )
        status = int((await reader.readline()).split()[1])
        await reader.read()
        writer.close()
        return status

    document = f"/documents/{seeded['price']}"
    paths = ["/queue", "/api/queue", document, f"/api{document}", f"{document}/pages/1.png"]

    async def burst() -> list[int]:
        return await asyncio.gather(*(one(paths[i % len(paths)]) for i in range(100)))

    try:
        while not server.started:
            thread.join(0.05)
        statuses = asyncio.run(asyncio.wait_for(burst(), timeout=60))
    finally:
        server.should_exit = True
        thread.join(10)
        tiny.dispose()
    assert statuses == [200] * 100
