"""Benchmark: review app latency with 50,000 documents, 20 concurrent clients, on loopback.

Seeds a fresh SQLite store (or the PostgreSQL database given by ``--database-url``) with bulk
inserts (documents, extractions, exceptions, audit events, the sandbox master data), starts
the real server (``ledgerbot review --port N``, its default number of workers unless
``--workers``) as a child process, signs in, and lets the queue catch up with the audit trail
once (timed). Then, after ``--warmup`` unmeasured requests:

1. a one-client run (``--single-requests``): the latency of a page on an otherwise idle server;
2. the load run: ``--clients`` closed-loop clients (each on its own keep-alive connection,
   sending its next request as soon as the previous response is fully read, no think time),
   ``--requests`` in all, alternating the queue page (half the plain first page, the rest
   mixed filters, sorts and pages up to the 200th) and the page of a random document in
   exception.

The load generator is plain asyncio HTTP/1.1 in this process (well under 0.1 ms of CPU per
request), so nearly all the CPU goes to the server. Prints one JSON object on stdout: p50/p95/
p99 per page kind, requests/s, and CPU per request of the server (all workers) and of the
client, for both runs; progress on stderr. Asserts nothing: targets are judged by the reader.

    .venv/bin/python benchmarks/bench_review.py [--documents 50000] [--clients 20] [--requests 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

import ledgerbot.core.store.review  # noqa: F401  (tables on Base.metadata)
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import (
    AuditEventRow,
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    GoodsReceiptRow,
    POLineRow,
    PurchaseOrderRow,
    ReceiptLineRow,
    VendorRow,
)
from review_app.config import default_workers
from review_app.security import add_user
from sandbox.masterdata import generate_master_data

PASSWORD = "benchmark-password"
REASONS = (
    "PRICE_VARIANCE",
    "QTY_RECEIVED_EXCEEDED",
    "PO_NOT_FOUND",
    "BANK_DETAILS_CHANGED",
    "LOW_CONFIDENCE",
)
BATCH = 5000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sample_pdf() -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("Helvetica", 16)
    pdf.drawString(50, 780, "Benchmark Supplier GmbH")
    pdf.setFont("Helvetica", 11)
    for i, text in enumerate(("Invoice RE-1", "Date 2026-03-14", "Total 1190.00 EUR")):
        pdf.drawString(380, 720 - 20 * i, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def seed(store: Store, files: FileStore, n_documents: int, exception_share: float) -> list[int]:
    """Bulk-insert ``n_documents``; returns the ids of those in ``exception``."""
    rng = random.Random(7)
    data = generate_master_data()
    sha = files.put(sample_pdf())
    now = datetime.now(UTC)
    with store.session() as session:
        add_user(session, "bench", PASSWORD, "clerk")
        for v in data.vendors:
            session.add(
                VendorRow(
                    vendor_id=v.vendor_id, name=v.name, tax_id=v.tax_id, iban=v.iban, currency=v.currency
                )
            )
        for po in data.purchase_orders:
            row = PurchaseOrderRow(
                po_number=po.po_number, vendor_id=po.vendor_id, currency=po.currency, status=po.status
            )
            row.lines = [
                POLineRow(
                    line_no=line.line_no,
                    sku=line.sku,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in po.lines
            ]
            session.add(row)
        for gr in data.receipts:
            receipt = GoodsReceiptRow(receipt_number=gr.receipt_number, po_number=gr.po_number, date=gr.date)
            receipt.lines = [ReceiptLineRow(po_line_no=r.po_line_no, quantity=r.quantity) for r in gr.lines]
            session.add(receipt)
    orders = data.purchase_orders
    exception_ids: list[int] = []
    box = {"page": 1, "bbox": [380.0, 100.0, 500.0, 114.0]}
    for start in range(1, n_documents + 1, BATCH):
        ids = list(range(start, min(n_documents, start + BATCH - 1) + 1))
        documents: list[dict[str, Any]] = []
        extractions: list[dict[str, Any]] = []
        exceptions: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for doc_id in ids:
            po = rng.choice(orders)
            in_exception = rng.random() < exception_share
            state = "exception" if in_exception else rng.choice(("posted", "approved", "matched"))
            received = now - timedelta(hours=rng.uniform(0, 24 * 10))
            lines: list[dict[str, Any]] = [
                {
                    "description": line.description,
                    "sku": line.sku,
                    "quantity": format(line.quantity, "f"),
                    "unit_price": format(line.unit_price, "f"),
                    "amount": format((line.quantity * line.unit_price).quantize(Decimal("0.01")), "f"),
                }
                for line in po.lines
            ]
            subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
            tax = (subtotal * Decimal("0.19")).quantize(Decimal("0.01"))
            vendor = data.vendor(po.vendor_id)
            documents.append(
                {
                    "id": doc_id,
                    "sha256": sha,
                    "source": "bench",
                    "filename": f"invoice-{doc_id}.pdf",
                    "mime": "application/pdf",
                    "size": 1000,
                    "state": state,
                    "doc_type": "invoice",
                    "doc_type_confidence": 0.98,
                    "vendor_id": po.vendor_id,
                    "meta": {},
                    "received_at": received,
                    "updated_at": received,
                    "version": 1,
                }
            )
            extractions.append(
                {
                    "document_id": doc_id,
                    "method": "generic",
                    "created_by": "pipeline",
                    "created_at": received,
                    "result": {
                        "source": f"invoice-{doc_id}.pdf",
                        "doc_type": "invoice",
                        "doc_type_confidence": 0.98,
                        "method": "generic",
                        "fields": {
                            "vendor_name": vendor.name,
                            "vendor_tax_id": vendor.tax_id,
                            "vendor_iban": vendor.iban,
                            "invoice_number": f"RE-{doc_id}",
                            "invoice_date": "2026-03-14",
                            "due_date": None,
                            "po_number": po.po_number,
                            "currency": po.currency,
                            "subtotal": format(subtotal, "f"),
                            "tax_amount": format(tax, "f"),
                            "total": format(subtotal + tax, "f"),
                        },
                        "field_confidence": {"total": 0.97, "invoice_number": 0.95},
                        "field_boxes": {"total": box},
                        "lines": lines,
                        "errors": [],
                        "lineage": {},
                    },
                }
            )
            events.append(
                {
                    "document_id": doc_id,
                    "from_state": None,
                    "to_state": "received",
                    "actor": "intake",
                    "stage": "intake",
                    "outcome": "ok",
                    "detail": {},
                    "at": received,
                }
            )
            events.append(
                {
                    "document_id": doc_id,
                    "from_state": "validated",
                    "to_state": state,
                    "actor": "rules",
                    "stage": "validate",
                    "outcome": state,
                    "detail": {},
                    "at": received,
                }
            )
            if in_exception:
                exception_ids.append(doc_id)
                for code in rng.sample(REASONS, rng.choice((1, 1, 2))):
                    exceptions.append(
                        {
                            "document_id": doc_id,
                            "code": code,
                            "message": f"{code.replace('_', ' ').lower()} on {po.po_number}",
                            "evidence": {"po_number": po.po_number},
                            "status": "open",
                            "created_at": received,
                        }
                    )
        with store.session() as session:
            session.execute(insert(DocumentRow), documents)
            session.execute(insert(ExtractionRow), extractions)
            if exceptions:
                session.execute(insert(ExceptionRow), exceptions)
            session.execute(insert(AuditEventRow), events)
        log(f"seeded {ids[-1]}/{n_documents} documents")
    return exception_ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not come up")


def sign_in(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        page = client.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match
        response = client.post(
            "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": match.group(1)}
        )
        if response.status_code != 303:
            raise SystemExit(f"sign-in failed: {response.status_code}")
        return client.cookies


def queue_url(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return "/queue"
    if roll < 0.65:
        return f"/queue?sort=amount&desc=true&page={rng.randint(1, 50)}"
    if roll < 0.8:
        return f"/queue?reason={rng.choice(REASONS)}&page={rng.randint(1, 10)}"
    if roll < 0.9:
        return f"/queue?sort=vendor&page={rng.randint(1, 100)}"
    return f"/queue?page={rng.randint(2, 200)}"


class Connection:
    """One keep-alive HTTP/1.1 connection that GETs a page and reads it whole.

    Hand-written on asyncio streams so that the load generator spends well under a tenth of a
    millisecond of CPU per request (an httpx client spends several), leaving the cores to the
    server being measured.
    """

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host = host
        self.port = port
        self.head = f"Host: {host}:{port}\r\nCookie: {cookie}\r\nAccept: text/html\r\n\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """The status of ``GET path``, once the whole body has arrived."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\n{self.head}".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower().split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = dict(line.split(":", 1) for line in head[1:] if ":" in line)
        if headers.get("transfer-encoding", "").strip() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").strip() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def run_load(
    port: int, cookie: str, document_ids: list[int], clients: int, requests: int, seed: int = 0
) -> dict[str, Any]:
    """Closed loop: ``clients`` connections, each sending its next request as soon as the last is read.

    No think time: each client alternates a queue page (mixed filters, sorts, pages) and the
    page of a random document in exception, so the server always has ``clients`` requests in
    flight. Returns the latencies per page kind, failures, wall time and the client's own CPU.
    """
    timings: dict[str, list[float]] = {"queue": [], "document": []}
    errors: list[str] = []
    per_client = max(1, requests // clients)

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        connection = Connection("127.0.0.1", port, cookie)
        try:
            for i in range(per_client):
                kind = "queue" if i % 2 == 0 else "document"
                url = queue_url(rng) if kind == "queue" else f"/documents/{rng.choice(document_ids)}"
                started = time.perf_counter()
                try:
                    status = await connection.get(url)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    # Counted and reported, never timed: a dropped connection is not a latency.
                    errors.append(f"{url}: {error.__class__.__name__}")
                    await connection.close()
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    errors.append(f"{url}: {status}")
                timings[kind].append(elapsed)
        finally:
            await connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    wall = time.perf_counter() - started
    if errors:
        log(f"{len(errors)} failed requests, first: {errors[0]}")
    return {
        "timings": timings,
        "failed": len(errors),
        "wall": wall,
        "client_cpu": time.process_time() - cpu,
    }


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of ``pid`` and every live descendant (the server's workers), from /proc.

    Linux only. Each process counts its own time; reaped children add theirs through their
    parent's cutime/cstime, so a worker that exited is not lost either.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, ...; utime..cstime are fields 14-17 of stat.
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(v) for v in fields[11:15]) / ticks
    if pid not in times:
        return None
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times[p] for p in tree)


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(values), 1),
    }


def measure(port: int, cookie: str, pid: int, ids: list[int], clients: int, requests: int) -> dict[str, Any]:
    """One closed-loop run: latency per page kind, throughput, and CPU per request on both sides."""
    cpu_before = tree_cpu_seconds(pid)
    run = asyncio.run(run_load(port, cookie, ids, clients, requests, seed=clients))
    cpu_after = tree_cpu_seconds(pid)
    done = sum(len(v) for v in run["timings"].values())
    return {
        "clients": clients,
        "requests": done,
        "failed_requests": run["failed"],
        "requests_per_second": round(done / run["wall"], 1),
        # What one request costs the server (all workers), whatever else the machine is doing.
        "server_cpu_ms_per_request": (
            round((cpu_after - cpu_before) * 1000 / done, 2)
            if cpu_before is not None and cpu_after is not None
            else None
        ),
        "client_cpu_ms_per_request": round(run["client_cpu"] * 1000 / done, 3),
        "queue_page": percentiles(run["timings"]["queue"]),
        "document_page": percentiles(run["timings"]["document"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--exception-share", type=float, default=0.4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000, help="total, split between queue and document")
    parser.add_argument(
        "--single-requests", type=int, default=400, help="requests of the one-client run before the load"
    )
    parser.add_argument("--warmup", type=int, default=200, help="requests sent first and not measured")
    parser.add_argument(
        "--workers", type=int, default=None, help="server worker processes (default: the CLI's default)"
    )
    parser.add_argument("--home", type=Path, default=None, help="reuse or keep a store here (default: temp)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="the store's database, e.g. postgresql+psycopg://... (default: SQLite in --home); "
        "an empty database is seeded, a seeded one reused",
    )
    args = parser.parse_args()
    if args.home is not None:
        run(args, args.home)
        return
    # A throwaway store is not kept: 50,000 documents take over 100 MB.
    with tempfile.TemporaryDirectory(prefix="bench-review-") as scratch:
        run(args, Path(scratch))


def run(args: argparse.Namespace, home: Path) -> None:
    """Seed (or reuse) the store in ``home``, serve it, measure, print the figures."""
    workers = args.workers or default_workers()
    url = args.database_url or f"sqlite:///{(home / 'ledgerbot.db').resolve()}"
    env = {**os.environ, "LEDGERBOT_HOME": str(home), "LEDGERBOT_DATABASE_URL": url}
    store = Store(url)
    dialect = store.engine.dialect.name
    started = time.perf_counter()
    store.migrate()
    files = FileStore(home / "files")
    with store.session() as session:
        existing = sorted(session.scalars(select(DocumentRow.id).where(DocumentRow.state == "exception")))
        have = session.scalar(select(func.count()).select_from(DocumentRow)) or 0
    if have:
        # A store kept from an earlier run (--home): measure again without re-seeding.
        log(f"reusing {have} documents in {home}")
        args.documents, exception_ids = have, existing
    else:
        exception_ids = seed(store, files, args.documents, args.exception_share)
    seed_seconds = time.perf_counter() - started
    store.dispose()
    log(f"seeded {args.documents} documents ({len(exception_ids)} in exception) in {seed_seconds:.1f}s")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cli = Path(sys.executable).with_name("ledgerbot")
    process = subprocess.Popen([str(cli), "review", "--port", str(port), "--workers", str(workers)], env=env)
    try:
        wait_ready(base, process)
        cookies = sign_in(base)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        started = time.perf_counter()
        # The first queue view applies the whole audit trail to the queue table (cold start).
        first = httpx.get(f"{base}/queue", cookies=cookies, timeout=600)
        build_seconds = time.perf_counter() - started
        assert first.status_code == 200, first.status_code
        match = re.search(r"<strong>(\d+)</strong> documents? waiting", first.text)
        waiting = int(match.group(1)) if match else -1
        log(f"queue built from the audit trail in {build_seconds:.1f}s ({waiting} waiting)")
        # Every worker renders its first pages and fills its caches the way first visitors would.
        asyncio.run(run_load(port, cookie, exception_ids, args.clients, args.warmup, seed=999))
        log(f"1 client, {args.single_requests} requests ...")
        single = measure(port, cookie, process.pid, exception_ids, 1, args.single_requests)
        log(f"{args.clients} clients, {args.requests} requests ...")
        loaded = measure(port, cookie, process.pid, exception_ids, args.clients, args.requests)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(
        json.dumps(
            {
                "documents": args.documents,
                "waiting_in_queue": waiting,
                "workers": workers,
                "database": dialect,
                "seed_seconds": round(seed_seconds, 1),
                "queue_build_seconds": round(build_seconds, 1),
                "load_average_1m": round(os.getloadavg()[0], 1),
                "cpus": os.cpu_count(),
                "one_client": single,
                "loaded": loaded,
                "target": "queue page p95 < 150 ms under 20 clients",
                "queue_p95_ms": loaded["queue_page"]["p95_ms"],
            }
        )
    )


if __name__ == "__main__":
    main()
