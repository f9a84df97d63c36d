"""Invoices laid out by another generator, for measuring only: never train on them.

Our randomizer draws layouts from distributions we wrote, so a figure measured on its held-out
seeds still says how well extraction learned *our* ideas of an invoice. This module renders our
content (``content.draw_invoice``: parties, numbers, dates, lines) through InvoiceGenerator
(PyPI ``InvoiceGenerator``, reportlab), a generator nobody here designed: its party blocks under
role headings, its dates in words ("Aug 16, 2025"), its "Taxable invoice num." title and its VAT
breakdown table. Every document gets its own options (a title or none, the IBAN as the account
number or on its own line, a SWIFT code, a payment type, a variable symbol, a company id, the
currency), and the truth is what the page prints, computed as InvoiceGenerator computes it.

A second generator, erechnung (PyPI ``erechnung``, reportlab and factur-x), lays an invoice out
as DIN 5008 prescribes for German business letters: the vendor only in the small return-address
line above the buyer's window and in the footer (no letterhead), the invoice's facts in a
key-value column beside the address, a salutation, a zebra-striped table, a totals column with
one line per VAT rate, notes on early-payment discounts and legal cases. Each document draws
its own options (German or English, a logo, brand colours, a font, a B2B or B2C buyer, discounts
and surcharges, an early-payment discount, a small business without VAT, reverse charge, a
credit note, a payment method, a delivery address, a custom title). It embeds the EN 16931 XML
it wrote, and the truth is read from that XML (``extractors.einvoice.truth``), as for the real
e-invoices of ``../shared/data/einvoice``.

    python -m sandbox.corpus.foreign OUT [--n 30] [--seed 7] [--generator invoicegenerator|erechnung]
                                         [--scans]

writes ``OUT/fg-NNN.pdf`` (``din-NNN.pdf`` from erechnung) with its ``.json`` truth beside it
(in the shape of ``ledgerbot extract``), for ``ledgerbot eval OUT --no-embedded``. With
``--scans`` every document is also written scanned (``scans.py``: rasterised, skewed, blurred,
noisy), half as a PNG of its first page (``-scan.png``, one-page documents) and the others as
an image-only PDF (``-scan.pdf``), each with the same truth as variant ``scan_png`` or
``scan_pdf``. Progress on stderr, one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import warnings
from dataclasses import replace
from datetime import date, timedelta
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


GENERATORS = ("invoicegenerator", "erechnung")


def write(
    out: Path, n: int, seed: int, generator: str = "invoicegenerator", scans: bool = False
) -> list[Path]:
    """``n`` invoices of ``seed`` laid out by ``generator`` into ``out``; returns the PDFs written
    (with ``scans``, each one's scan too, after it)."""
    written = (
        _write_erechnung(out, n, seed) if generator == "erechnung" else _write_invoicegenerator(out, n, seed)
    )
    if not scans:
        return written
    return [path for pdf in written for path in (pdf, _scanned(pdf, seed))]


def _scanned(pdf: Path, seed: int) -> Path:
    """``pdf`` scanned, with its truth beside it: a PNG when it has one page and the draw says
    so, else an image-only PDF."""
    from sandbox.corpus.scans import page_count, scan_pdf, scan_png

    rng = random.Random(f"foreign:scan:{seed}:{pdf.stem}")
    data = pdf.read_bytes()
    png = page_count(data) == 1 and rng.random() < 0.5
    path = pdf.with_name(f"{pdf.stem}-scan.{'png' if png else 'pdf'}")
    path.write_bytes(scan_png(data, rng) if png else scan_pdf(data, rng))
    truth = json.loads(pdf.with_suffix(".json").read_text())
    truth["variant"] = "scan_png" if png else "scan_pdf"
    path.with_suffix(".json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
    return path


def _write_invoicegenerator(out: Path, n: int, seed: int) -> list[Path]:
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


# German VAT rates erechnung prints (it validates them): most lines at the standard rate.
_DIN_RATES = (Decimal("19"), Decimal("19"), Decimal("19"), Decimal("7"))
_DIN_FONTS = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    ),
)


def _street_and_number(street: str) -> tuple[str, str]:
    """``"Lindenstraße 150b"`` as erechnung asks for it: the street and the house number apart."""
    head, _, tail = street.rpartition(" ")
    return (head, tail) if head and any(ch.isdigit() for ch in tail) else (street, "1")


def _render_erechnung(content: Invoice, rng: random.Random, path: Path, logo: Path) -> None:
    """Write ``content`` as an erechnung ZUGFeRD PDF at ``path`` with options drawn from ``rng``."""
    import erechnung as er

    vendor, buyer = content.vendor, content.buyer
    street, number = _street_and_number(vendor.street)
    seller = er.Seller(
        vendor.name,
        street,
        number,
        vendor.postal,
        vendor.city,
        country="DE",
        vat_id=vendor.tax_id if vendor.tax_id and vendor.tax_id.startswith("DE") else "",
        tax_number=""
        if vendor.tax_id and vendor.tax_id.startswith("DE")
        else f"{rng.randint(100, 999)}/{rng.randint(100, 999)}/{rng.randint(10000, 99999)}",
        iban=vendor.iban or "",
        bic=vendor.bic,
        phone=vendor.phone,
        email=vendor.email or "info@example.com",
        website=vendor.web if rng.random() < 0.5 else "",
    )
    b_street, b_number = _street_and_number(buyer.street)
    business = rng.random() < 0.8
    first, _, last = buyer.name.partition(" ")
    customer = er.Customer(
        company=buyer.name if business else "",
        first_name="" if business else first,
        last_name="" if business else (last or first),
        street=b_street,
        house_number=b_number,
        postal_code=buyer.postal,
        city=buyer.city,
        customer_type=er.CustomerType.B2B if business else er.CustomerType.B2C,
        customer_number=content.customer_no if rng.random() < 0.6 else "",
        vat_id=buyer.tax_id or "" if business else "",
    )
    small_business = rng.random() < 0.1
    items = [
        er.LineItem(
            line.description,
            line.quantity or Decimal(1),
            line.unit_price or Decimal("10.00"),
            tax_rate=Decimal(0) if small_business else rng.choice(_DIN_RATES),
        )
        for line in content.lines[: rng.choice((3, 6, 8, 8, 24))]
    ]
    options: dict[str, Any] = {
        "invoice_type": er.InvoiceType.CREDIT_NOTE if rng.random() < 0.1 else er.InvoiceType.STANDARD,
        "kleinunternehmer": small_business,
        "language": rng.choice((er.Language.DE, er.Language.DE, er.Language.EN)),
        "issue_date": content.issued,
        "service_date": content.issued - timedelta(days=rng.randint(0, 10)),
        "due_date": content.due if rng.random() < 0.7 else None,
        "logo": rng.random() < 0.4,
        "logo_path": str(logo),
        "fold_marks": rng.random() < 0.7,
        "title": rng.choice((None, None, None, "Rechnung", "Invoice", "RECHNUNG")),
        "intro": rng.choice((None, None, False, "Für unsere Leistungen erlauben wir uns zu berechnen:")),
        "buyer_reference": content.po_number or "" if rng.random() < 0.5 else "",
    }
    if options["invoice_type"] is er.InvoiceType.CREDIT_NOTE:
        options["title"] = None  # its own title ("Gutschrift", "Credit Note"), never "Rechnung"
        options["reference_number"] = f"R-{rng.randint(1000, 99999)}"
        options["reference_date"] = content.issued - timedelta(days=rng.randint(5, 60))
    if rng.random() < 0.4:
        options["brand_style"] = er.BrandStyle(
            header_fill=tuple(rng.randint(40, 230) for _ in range(3)),
            header_text=rng.choice(((0, 0, 0), (255, 255, 255))),
            row2=tuple(rng.randint(225, 250) for _ in range(3)),
            bar_color=tuple(rng.randint(0, 200) for _ in range(3)),
            bar_width_pt=rng.choice((0.6, 2.0, 4.0)),
        )
    fonts = [pair for pair in _DIN_FONTS if all(Path(font).is_file() for font in pair)]
    if fonts and rng.random() < 0.4:
        regular, bold = rng.choice(fonts)
        options["font"] = er.Font(regular=regular, bold=bold)
    if rng.random() < 0.3:
        percent = rng.choice((Decimal(2), Decimal(3)))
        options["skonto"] = er.Skonto(days=rng.choice((7, 10, 14)), percent=percent)
    if rng.random() < 0.25 and not small_business:
        rate = items[0].tax_rate
        options["discounts"] = [er.Discount("invoice", Decimal(rng.choice((3, 5, 10))), tax_rate=rate)]
    if rng.random() < 0.2:
        options["discounts"] = [
            *options.get("discounts", []),
            er.Discount("line", Decimal(rng.choice((5, 10, 15))), line_no=1),
        ]
    if rng.random() < 0.3:
        options["payment_method"] = rng.choice(
            (er.PaymentMethod.BANK_TRANSFER, er.PaymentMethod.BANK_TRANSFER, er.PaymentMethod.CARD)
        )
        if options["payment_method"] is er.PaymentMethod.CARD:
            options["card_number"] = str(rng.randint(1000, 9999))
        elif rng.random() < 0.5:
            options["payment_reference"] = content.number
    if rng.random() < 0.15:
        d_street, d_number = _street_and_number(buyer.street)
        options["delivery_address"] = er.DeliveryAddress(
            name=buyer.name, street=d_street, house_number=d_number, postal_code=buyer.postal, city=buyer.city
        )
    er.Invoice(
        seller=seller, customer=customer, line_items=items, invoice_number=content.number, **options
    ).zugferd_file(str(path))


def _write_erechnung(out: Path, n: int, seed: int) -> list[Path]:
    try:
        import erechnung  # noqa: F401
    except ImportError as error:
        raise SystemExit("error [E901] erechnung is not installed: pip install erechnung") from error
    from PIL import Image, ImageDraw

    from extractors.einvoice.truth import truth_from_einvoice

    out.mkdir(parents=True, exist_ok=True)
    options = ContentOptions(credit_rate=0.0, long_share=0.3, max_date=date(2026, 11, 20))
    written = []
    with tempfile.TemporaryDirectory(prefix="erechnung-") as scratch:
        logo = Path(scratch) / "logo.png"
        image = Image.new("RGB", (360, 120), (255, 255, 255))
        ImageDraw.Draw(image).ellipse((10, 10, 110, 110), fill=(30, 90, 160))
        image.save(logo)
        for index in range(n):
            rng = random.Random(f"foreign:erechnung:{seed}:{index}")
            content = draw_invoice(rng, options)
            path = out / f"din-{index:03d}.pdf"
            try:
                _render_erechnung(content, rng, path, logo)
            except Exception as error:  # erechnung refuses a combination it validates against
                print(f"[{index + 1}/{n}] {path.name} skipped: {error}", file=sys.stderr)
                path.unlink(missing_ok=True)
                continue
            truth = truth_from_einvoice(path)
            truth.update(layout="erechnung", variant="digital")
            path.with_suffix(".json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
            written.append(path)
            print(f"[{index + 1}/{n}] {path.name}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generator", choices=GENERATORS, default="invoicegenerator")
    parser.add_argument("--scans", action="store_true", help="Write each document scanned too")
    args = parser.parse_args(argv)
    written = write(args.out, args.n, args.seed, args.generator, args.scans)
    print(
        json.dumps(
            {"out": str(args.out), "documents": len(written), "seed": args.seed, "generator": args.generator}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
