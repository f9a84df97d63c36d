"""A slow Tryton: a loopback proxy in front of trytond that holds back chosen RPC calls.

sao's on-change and completion calls are what a loaded server answers late in real life; a
robot that types on before such an answer lands has what it typed overwritten. The proxy
delays every JSON-RPC call whose method matches one of its rules, passes everything else (the
web client's files, the other calls) through unchanged, and counts what it delayed, so a test
can tell the delays happened.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

# Headers that belong to one connection, not to the message a proxy forwards.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)


@dataclass
class SlowTryton:
    """The proxy's address and what it held back (method name -> calls delayed)."""

    url: str
    delays: tuple[tuple[re.Pattern[str], float], ...]
    delayed: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delay_for(self, method: str) -> float:
        for pattern, seconds in self.delays:
            if pattern.search(method):
                return seconds
        return 0.0

    def record(self, method: str) -> None:
        with self.lock:
            self.delayed[method] += 1


def _rpc_method(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    method = payload.get("method") if isinstance(payload, dict) else None
    return method if isinstance(method, str) else ""


@contextmanager
def slow_tryton(upstream: str, delays: dict[str, float]) -> Iterator[SlowTryton]:
    """Serve ``upstream`` (trytond's URL) on a free loopback port, ``delays``: regex -> seconds."""
    client = httpx.Client(timeout=300, follow_redirects=False)
    state = SlowTryton(url="", delays=tuple((re.compile(k), v) for k, v in delays.items()))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.command == "POST":
                method = _rpc_method(body)
                pause = state.delay_for(method) if method else 0.0
                if pause:
                    state.record(method)
                    time.sleep(pause)
            # The Host header is kept: trytond compares it with the Origin sao sends.
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
            answer = client.request(self.command, upstream + self.path, headers=headers, content=body)
            content = answer.content
            self.send_response(answer.status_code)
            for key, value in answer.headers.multi_items():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="slow-tryton", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        client.close()
