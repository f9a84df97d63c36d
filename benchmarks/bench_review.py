"""Benchmark: review app latency with 50,000 documents, 20 concurrent clients, on loopback.

Seeds a fresh SQLite store with bulk inserts (documents, extractions, exceptions, audit events,
the sandbox master data), starts the real server (``ledgerbot review --port N``) as a child
process, signs in, lets the queue catch up with the audit trail once (timed), then runs a
bounded number of requests from concurrent httpx clients against the queue page (mixed
filters, sorts and pages) and the document page. Prints p50/p95/p99 as one JSON object on
stdout; progress on stderr. Asserts nothing.

    .venv/bin/python benchmarks/bench_review.py [--documents 50000] [--clients 20] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
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

import review_app.models  # noqa: F401  (tables on Base.metadata)
from ledgerbot.store import FileStore, Store
from ledgerbot.store.models import (
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


async def run_load(
    base: str, cookies: httpx.Cookies, document_ids: list[int], clients: int, requests: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"queue": [], "document": []}
    errors: list[str] = []
    per_client = max(1, requests // clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(index)
        for i in range(per_client):
            kind = "queue" if i % 2 == 0 else "document"
            url = queue_url(rng) if kind == "queue" else f"/documents/{rng.choice(document_ids)}"
            started = time.perf_counter()
            try:
                response = await client.get(url)
            except httpx.TransportError as error:
                # Counted and reported, never timed: a dropped connection is not a latency.
                errors.append(f"{url}: {error.__class__.__name__}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                errors.append(f"{url}: {response.status_code}")
            timings[kind].append(elapsed)

    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
    if errors:
        log(f"{len(errors)} failed requests, first: {errors[0]}")
    timings["errors"] = [float(len(errors))]
    return timings


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU the server process (and its reaped children) used, from /proc (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    # utime, stime, cutime, cstime: fields 14-17 of stat, here 11-14 after the command name.
    return sum(int(v) for v in fields[11:15]) / ticks


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--exception-share", type=float, default=0.4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="total, split between queue and document")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--home", type=Path, default=None, help="reuse or keep a store here (default: temp)")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="bench-review-"))
    env = {**os.environ, "LEDGERBOT_HOME": str(home)}
    env.pop("LEDGERBOT_DATABASE_URL", None)
    store = Store(f"sqlite:///{(home / 'ledgerbot.db').resolve()}")
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
    process = subprocess.Popen(
        [str(cli), "review", "--port", str(port), "--workers", str(args.workers)], env=env
    )
    try:
        wait_ready(base, process)
        cookies = sign_in(base)
        started = time.perf_counter()
        # The first queue view applies the whole audit trail to the queue table (cold start).
        first = httpx.get(f"{base}/queue", cookies=cookies, timeout=600)
        build_seconds = time.perf_counter() - started
        assert first.status_code == 200, first.status_code
        match = re.search(r"<strong>(\d+)</strong> documents? waiting", first.text)
        waiting = int(match.group(1)) if match else -1
        log(f"queue built from the audit trail in {build_seconds:.1f}s ({waiting} waiting)")
        # Warm the page-image size cache the way a first visitor would.
        httpx.get(f"{base}/documents/{exception_ids[0]}", cookies=cookies, timeout=60)
        log(f"{args.clients} clients, {args.requests} requests ...")
        started = time.perf_counter()
        cpu_before = cpu_seconds(process.pid)
        timings = asyncio.run(run_load(base, cookies, exception_ids, args.clients, args.requests))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    failed = int(timings.pop("errors")[0])
    total = sum(len(v) for v in timings.values())
    print(
        json.dumps(
            {
                "documents": args.documents,
                "waiting_in_queue": waiting,
                "clients": args.clients,
                "workers": args.workers,
                "seed_seconds": round(seed_seconds, 1),
                "queue_build_seconds": round(build_seconds, 1),
                "requests_per_second": round(total / wall, 1),
                "failed_requests": failed,
                # Server CPU per request: what the latency would be per request on an idle core,
                # whatever else the machine is doing (only with --workers 1: workers are children).
                "server_cpu_ms_per_request": (
                    round((cpu_after - cpu_before) * 1000 / total, 1)
                    if cpu_before is not None and cpu_after is not None and args.workers == 1
                    else None
                ),
                "load_average_1m": round(os.getloadavg()[0], 1),
                "queue_page": percentiles(timings["queue"]),
                "document_page": percentiles(timings["document"]),
                "target": "queue page p95 < 150 ms",
            }
        )
    )


if __name__ == "__main__":
    main()
