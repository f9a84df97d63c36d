"""Invoices laid out by another generator, for measuring only: never train on them.

Our randomizer draws layouts from distributions we wrote, so a figure measured on its held-out
seeds still says how well extraction learned *our* ideas of an invoice. This module renders our
content (``content.draw_invoice``: parties, numbers, dates, lines) through InvoiceGenerator
(PyPI ``InvoiceGenerator``, reportlab), a generator nobody here designed: its party blocks under
role headings, its dates in words ("Aug 16, 2025"), its "Taxable invoice num." title and its VAT
breakdown table. Every document gets its own options (a title or none, the IBAN as the account
number or on its own line, a SWIFT code, a payment type, a variable symbol, a company id, the
currency), and the truth is what the page prints, computed as InvoiceGenerator computes it.

    python -m sandbox.corpus.foreign OUT [--n 30] [--seed 7]

writes ``OUT/fg-NNN.pdf`` with ``OUT/fg-NNN.json`` (the truth in the shape of ``ledgerbot
extract``), for ``ledgerbot eval OUT``. Progress on stderr, one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import warnings
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sandbox.corpus.content import ContentOptions, Invoice, draw_invoice

CENT = Decimal("0.01")
# Currencies with the locale InvoiceGenerator formats their amounts in.
_CURRENCIES = (("EUR", "en_US"), ("EUR", "de_DE"), ("EUR", "fr_FR"), ("USD", "en_US"), ("GBP", "en_GB"))
_PAYTYPES = ("Bank transfer", "Wire transfer", "Direct debit")


def _round(value: Decimal) -> Decimal:
    """As InvoiceGenerator's currency formatting (babel) rounds: half to even."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _render(content: Invoice, rng: random.Random, path: Path) -> dict[str, Any]:
    """Write ``content`` as an InvoiceGenerator PDF at ``path``; returns its truth."""
    from InvoiceGenerator.api import Client, Creator, Item, Provider
    from InvoiceGenerator.api import Invoice as ForeignInvoice
    from InvoiceGenerator.pdf import SimpleInvoice

    vendor, buyer = content.vendor, content.buyer
    iban_as_account = rng.random() < 0.5
    provider = Provider(
        vendor.name,
        address=vendor.street,
        city=vendor.city,
        zip_code=vendor.postal,
        bank_name=vendor.bank_name,
        bank_account=(vendor.iban or "") if iban_as_account else str(rng.randint(10**8, 10**10)),
        vat_id=vendor.tax_id or "",
        ir=str(rng.randint(10**7, 10**8)) if rng.random() < 0.4 else "",
        phone=vendor.phone,
        email=vendor.email,
    )
    client = Client(buyer.name, address=buyer.street, city=buyer.city, zip_code=buyer.postal)
    invoice = ForeignInvoice(client, provider, Creator(rng.choice(["J. Smith", "A. Novak", "M. Weber"])))
    currency, locale = rng.choice(_CURRENCIES)
    invoice.currency, invoice.currency_locale = currency, locale
    invoice.use_tax = True
    invoice.number = content.number
    invoice.title = rng.choice(["", "", "Invoice", "INVOICE"])
    invoice.date, invoice.payback = content.issued, content.due
    invoice.taxable_date = content.issued if rng.random() < 0.7 else None
    if not iban_as_account:
        invoice.iban = vendor.iban
    if rng.random() < 0.5:
        invoice.swift = vendor.bic
    if rng.random() < 0.4:
        invoice.paytype = rng.choice(_PAYTYPES)
    if rng.random() < 0.3:
        invoice.variable_symbol = str(rng.randint(10**5, 10**9))
    lines, net, gross = [], Decimal(0), Decimal(0)
    for line in content.lines:
        quantity = Decimal(rng.randint(1, 12))
        price = line.unit_price if line.unit_price is not None else Decimal("10.00")
        invoice.add_item(
            Item(quantity, price, description=line.description, unit=line.unit, tax=line.vat_rate)
        )
        amount = quantity * price
        net += amount
        gross += amount * (1 + line.vat_rate / 100)
        lines.append(
            {
                "description": line.description,
                "quantity": str(quantity),
                "unit_price": str(_round(price)),
                "amount": str(_round(amount)),
            }
        )
    with warnings.catch_warnings():
        # It asks for the currency's locale alone and takes the unit from it; the unit we set
        # (EUR printed in a US or German locale) is what a foreign-currency invoice prints.
        warnings.simplefilter("ignore", DeprecationWarning)
        SimpleInvoice(invoice).gen(str(path), generate_qr_code=False)
    subtotal, total = _round(net), _round(gross)
    return {
        "doc_type": "invoice",
        "fields": {
            "vendor_name": vendor.name,
            "vendor_tax_id": vendor.tax_id,
            "vendor_iban": vendor.iban,
            "invoice_number": content.number,
            "invoice_date": content.issued.isoformat(),
            "due_date": content.due.isoformat() if content.due else None,
            "po_number": None,
            "currency": currency,
            "subtotal": str(subtotal),
            "tax_amount": str(total - subtotal),
            "total": str(total),
        },
        "lines": lines,
        "layout": "invoicegenerator",
        "variant": "digital",
    }


def write(out: Path, n: int, seed: int) -> list[Path]:
    """``n`` invoices of ``seed`` into ``out``; returns the PDFs written."""
    # InvoiceGenerator reads its language when it loads: English labels throughout.
    os.environ["INVOICE_LANG"] = "en"
    try:
        import InvoiceGenerator  # noqa: F401
    except ImportError as error:
        raise SystemExit(
            "error [E901] InvoiceGenerator is not installed: pip install InvoiceGenerator"
        ) from error
    out.mkdir(parents=True, exist_ok=True)
    options = ContentOptions(credit_rate=0.0, long_share=0.0, max_date=date(2026, 11, 20))
    written = []
    for index in range(n):
        rng = random.Random(f"foreign:{seed}:{index}")
        content = draw_invoice(rng, options)
        # Each line's tax rate as InvoiceGenerator prints it: one rate per document.
        rate = content.lines[0].vat_rate
        content.lines = [replace(line, vat_rate=rate) for line in content.lines[:8]]
        path = out / f"fg-{index:03d}.pdf"
        truth = _render(content, rng, path)
        path.with_suffix(".json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
        written.append(path)
        print(f"[{index + 1}/{n}] {path.name}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    written = write(args.out, args.n, args.seed)
    print(json.dumps({"out": str(args.out), "documents": len(written), "seed": args.seed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
