"""Benchmark: CPU milliseconds and SQL statements per review-app page view, in one process.

A shared machine's load moves wall-clock latency more than a change to a page does; the CPU a
page costs does not move with it. This drives the app in this process over the store that
``bench_review.py --home DIR`` (or ``--database-url``) seeded: ASGI calls straight into the app
(no sockets, no HTTP parsing), the routes' thread-pool work run inline so that one profiler sees
all of it. For each page kind (the queue page in the mix ``bench_review`` sends, and the page of
a random document in exception) it prints the CPU per request, the SQL statements per request
(mean and most) and, with ``--profile``, the functions with the most cumulative time.

The queue caches pages and counts per queue version, so every queue request but the first few
of each URL is served from that cache, as it is on the server.

    .venv/bin/python benchmarks/bench_review_cpu.py --home var/bench [--requests 400] [--profile 30]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_review import queue_url  # a sibling script, not a package


async def _inline(func: Any, *args: Any, **_: Any) -> Any:
    """``anyio.to_thread.run_sync`` run in the calling thread, so the profiler sees the routes."""
    return func(*args)


class Driver:
    """GET requests straight into an ASGI app; the status and the body's size come back."""

    def __init__(self, app: Any, cookie: str) -> None:
        self.app = app
        self.headers = [(b"host", b"bench"), (b"cookie", cookie.encode()), (b"accept", b"text/html")]

    async def get(self, url: str) -> tuple[int, int]:
        path, _, query = url.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8700),
            "state": {},
        }
        status = 0
        size = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the store bench_review.py --home kept")
    parser.add_argument("--database-url", default=None, help="default: the SQLite store in --home")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per page kind")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per page kind first")
    parser.add_argument("--kinds", default="queue,document")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions by cumulative time")
    args = parser.parse_args()
    home = args.home.resolve()
    url = args.database_url or f"sqlite:///{home / 'ledgerbot.db'}"
    os.environ["LEDGERBOT_HOME"] = str(home)
    os.environ["LEDGERBOT_DATABASE_URL"] = url
    print(json.dumps(run(url, args)))


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import event, select

    from ledgerbot.core.store import Store
    from ledgerbot.core.store.models import DocumentRow
    from ledgerbot.core.store.review import UserRow
    from review_app.config import get_review_settings
    from review_app.deps import SESSION_COOKIE
    from review_app.main import create_app
    from review_app.security import open_session

    store = Store(url)
    with store.session() as session:
        user = session.scalars(select(UserRow).where(UserRow.username == "bench")).one()
        token = open_session(session, get_review_settings(), user)
        documents = sorted(session.scalars(select(DocumentRow.id).where(DocumentRow.state == "exception")))
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.engine, "before_cursor_execute", count)
    app = create_app(store)
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    driver = Driver(app, f"{SESSION_COOKIE}={token}")
    rng = random.Random(11)

    def next_url(kind: str) -> str:
        return queue_url(rng) if kind == "queue" else f"/documents/{rng.choice(documents)}"

    async def drive() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in args.kinds.split(","):
            for _ in range(args.warmup):
                status, _size = await driver.get(next_url(kind))
                assert status == 200, status
            urls = [next_url(kind) for _ in range(args.requests)]
            per_request: list[int] = []
            sizes = 0
            profiler = cProfile.Profile() if args.profile else None
            cpu = time.process_time()
            if profiler:
                profiler.enable()
            for target in urls:
                before = statements
                status, size = await driver.get(target)
                per_request.append(statements - before)
                sizes += size
                assert status == 200, (target, status)
            if profiler:
                profiler.disable()
            spent = time.process_time() - cpu
            out[kind] = {
                "requests": len(urls),
                "cpu_ms_per_request": round(spent * 1000 / len(urls), 2),
                "sql_per_request_mean": round(sum(per_request) / len(per_request), 2),
                "sql_per_request_max": max(per_request),
                "body_kb_mean": round(sizes / len(urls) / 1024, 1),
                "profiled": profiler is not None,
            }
            if profiler:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.profile)
                print(f"--- {kind} ---\n{text.getvalue()}", file=sys.stderr)
        return out

    results = asyncio.run(drive())
    store.dispose()
    return {
        "database": store.engine.dialect.name,
        "documents_in_exception": len(documents),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "pages": results,
    }


if __name__ == "__main__":
    main()
