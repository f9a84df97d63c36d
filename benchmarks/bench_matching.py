"""Benchmark: optimal line matching (and the full rules engine) from 10k to 100k invoice lines.

Builds realistic purchase orders of 1-40 lines (the same catalogue shape as the sandbox master
data) and one invoice per order that bills it in shuffled order, with some SKUs missing,
descriptions reworded and a few prices off, then times ``rules.matching.match_lines`` over
every (invoice, order) pair, and ``rules.engine.evaluate`` over the same invoices as cases.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_matching.py [--sizes 10000 20000 50000 100000] [--engine]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal

from ledgerbot.core.domain import (
    GoodsReceipt,
    InvoiceFields,
    InvoiceLine,
    POLine,
    PurchaseOrder,
    ReceiptLine,
    Vendor,
)
from rules.case import Case, CaseDocument
from rules.engine import evaluate
from rules.matching import match_lines
from rules.policy import load_policy
from sandbox.masterdata import _CATALOGUE

CENT = Decimal("0.01")
_REWORDS = {"box of": "bx", "pack of": "pk", "carton of": "ctn", ", ": " "}


def reword(description: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return description
    for old, new in _REWORDS.items():
        description = description.replace(old, new)
    return description.upper() if rng.random() < 0.3 else description


def build(n_lines: int, seed: int) -> list[tuple[PurchaseOrder, CaseDocument]]:
    """Orders of 1-40 lines until ``n_lines`` PO lines exist, each with an invoice billing it."""
    rng = random.Random(seed)
    pairs: list[tuple[PurchaseOrder, CaseDocument]] = []
    made = 0
    while made < n_lines:
        size = min(n_lines - made, rng.randint(1, 40))
        po_lines = []
        for line_no in range(1, size + 1):
            index = rng.randrange(len(_CATALOGUE))
            prefix, description, (low, high) = _CATALOGUE[index]
            po_lines.append(
                POLine(
                    line_no=line_no,
                    sku=f"{prefix}-{10000 + index * 37}",
                    description=description,
                    quantity=Decimal(rng.choice([1, 2, 5, 10, 12, 20, 25, 50, 100])),
                    unit_price=(Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT),
                )
            )
        po = PurchaseOrder(po_number=f"PO-{len(pairs) + 1:06d}", vendor_id="V0001", lines=po_lines)
        with_sku = rng.random() < 0.7
        lines = []
        for po_line in po_lines:
            price = po_line.unit_price
            if rng.random() < 0.03:
                price = (price * Decimal("1.1")).quantize(CENT)
            lines.append(
                InvoiceLine(
                    sku=po_line.sku if with_sku else None,
                    description=reword(po_line.description, rng),
                    quantity=po_line.quantity,
                    unit_price=price,
                    amount=(po_line.quantity * price).quantize(CENT),
                )
            )
        rng.shuffle(lines)
        subtotal = sum((line.amount for line in lines if line.amount is not None), Decimal(0))
        tax = (subtotal * Decimal("0.19")).quantize(CENT)
        invoice = CaseDocument(
            doc_type="invoice",
            doc_type_confidence=0.99,
            fields=InvoiceFields(
                vendor_name="Acme Tools GmbH",
                vendor_tax_id="DE123456789",
                vendor_iban="DE89370400440532013000",
                invoice_number=f"RE-{len(pairs) + 1}",
                po_number=po.po_number,
                currency="EUR",
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            ),
            lines=lines,
        )
        pairs.append((po, invoice))
        made += size
    return pairs


VENDOR = Vendor(
    vendor_id="V0001", name="Acme Tools GmbH", tax_id="DE123456789", iban="DE89370400440532013000"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 50_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", action="store_true", help="also time the full rules engine per invoice")
    args = parser.parse_args()
    policy = load_policy()
    # CPU seconds beside wall seconds: on a shared machine the wall clock measures the neighbours too.
    header = (
        f"{'lines':>8} {'orders':>7} {'match s':>8} {'cpu s':>7} {'us/line':>8} {'paired':>7} {'vs first':>8}"
    )
    print(header, end="")
    print(f" {'engine s':>9} {'cpu s':>7} {'us/line':>8}" if args.engine else "")
    first_rate = None
    for size in args.sizes:
        pairs = build(size, args.seed)
        start, cpu = time.perf_counter(), time.process_time()
        paired = 0
        for po, invoice in pairs:
            paired += len(
                match_lines(invoice.lines, po.lines, min_score=policy.checks.line_match_min_score).pairs
            )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        rate = cpu / size * 1e6
        first_rate = first_rate or rate
        row = f"{size:>8} {len(pairs):>7} {elapsed:>8.2f} {cpu:>7.2f} {rate:>8.1f}"
        row += f" {paired / size:>7.1%} {rate / first_rate:>7.2f}x"
        if args.engine:
            cases = [
                Case(
                    invoice=invoice,
                    vendors=[VENDOR],
                    purchase_orders=[po],
                    receipts=[
                        GoodsReceipt(
                            receipt_number=f"GR-{po.po_number}",
                            po_number=po.po_number,
                            date="2026-03-01",  # type: ignore[arg-type]
                            lines=[ReceiptLine(po_line_no=x.line_no, quantity=x.quantity) for x in po.lines],
                        )
                    ],
                    today="2026-03-20",  # type: ignore[arg-type]
                )
                for po, invoice in pairs
            ]
            start, cpu = time.perf_counter(), time.process_time()
            for case in cases:
                evaluate(case, policy)
            engine, cpu = time.perf_counter() - start, time.process_time() - cpu
            row += f" {engine:>9.2f} {cpu:>7.2f} {cpu / size * 1e6:>8.1f}"
        print(row)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
