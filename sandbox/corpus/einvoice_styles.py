"""Real e-invoices (UBL, CII, ZUGFeRD/Factur-X PDFs) printed through randomized layouts.

Each e-invoice below a folder is read with the project's own e-invoice readers and drawn in
several randomized styles, so real business content (German descriptions, odd quantities,
four-decimal prices, allowances, missing fields) meets many layouts. The truth is the XML's
contract view (``extractors.einvoice``), except that a header field the style does not print
is ``null`` and ``sku`` is ``null`` without an article column. When the lines do not add up to
the subtotal (document-level allowances or charges), the page prints the lines' sum and the
difference before the subtotal.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from extractors.einvoice.errors import EInvoiceError
from extractors.einvoice.pdf import embedded_xml
from extractors.einvoice.truth import result_for
from extractors.einvoice.xmlsafe import parse_xml
from ledgerbot.core.domain import DocType, ExtractionResult
from sandbox.corpus import freeform
from sandbox.corpus.content import Invoice, Line, Party, Vendor
from sandbox.corpus.randomized import scan_document, split_of
from sandbox.corpus.vocabulary import LANGUAGES

LAYOUT = "einvoice_random"
_SCAN_RATE = 0.3


@dataclass
class EInvoiceDoc:
    """One rendering of one e-invoice file."""

    stem: str
    path: Path
    source: str  # the file's path below the folder given
    style_index: int
    variant: str


def readable(path: Path) -> bool:
    """An e-invoice the project's readers accept, with the number and date a page must show."""
    try:
        result = result_for(path)
    except EInvoiceError:
        return False
    return (
        result.doc_type is not None
        and result.fields.invoice_date is not None
        and bool(result.fields.invoice_number)
    )


def plan_einvoices(
    folder: Path, seed: int, styles: int, first: int, *, scans: bool
) -> tuple[list[EInvoiceDoc], list[str]]:
    """Every readable XML and PDF below ``folder`` x ``styles``, and the files left out."""
    rng = random.Random(f"einvoice-plan:{seed}")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))
    docs: list[EInvoiceDoc] = []
    skipped: list[str] = []
    for path in files:
        if not readable(path):
            skipped.append(str(path.relative_to(folder)))
            continue
        for k in range(styles):
            variant = "digital"
            if scans and rng.random() < _SCAN_RATE:
                variant = rng.choice(["scan_pdf", "scan_png"])
            docs.append(
                EInvoiceDoc(f"doc-{first + len(docs):05d}", path, str(path.relative_to(folder)), k, variant)
            )
    return docs, skipped


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(f"string({path})")
    return " ".join(str(found).split())


def _parties(data: bytes) -> dict[str, str]:
    """Seller address and buyer name/address, which the contract view does not carry."""
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        embedded = embedded_xml(data)
        if embedded is None:
            return {}
        data = embedded[1]
    root = parse_xml(data)
    local = lambda *names: "/".join(f"*[local-name()='{n}']" for n in names)  # noqa: E731
    out = {}
    for role, cii, ubl in (
        ("seller", "SellerTradeParty", "AccountingSupplierParty"),
        ("buyer", "BuyerTradeParty", "AccountingCustomerParty"),
    ):
        out[f"{role}_street"] = _text(root, f"//{local(cii, 'PostalTradeAddress', 'LineOne')}") or _text(
            root, f"//{local(ubl, 'Party', 'PostalAddress', 'StreetName')}"
        )
        out[f"{role}_postal"] = _text(root, f"//{local(cii, 'PostalTradeAddress', 'PostcodeCode')}") or _text(
            root, f"//{local(ubl, 'Party', 'PostalAddress', 'PostalZone')}"
        )
        out[f"{role}_city"] = _text(root, f"//{local(cii, 'PostalTradeAddress', 'CityName')}") or _text(
            root, f"//{local(ubl, 'Party', 'PostalAddress', 'CityName')}"
        )
        out[f"{role}_country"] = _text(root, f"//{local(cii, 'PostalTradeAddress', 'CountryID')}") or _text(
            root, f"//{local(ubl, 'Party', 'PostalAddress', 'Country', 'IdentificationCode')}"
        )
    out["buyer_name"] = (
        _text(root, f"//{local('BuyerTradeParty', 'Name')}")
        or _text(
            root, f"//{local('AccountingCustomerParty', 'Party', 'PartyLegalEntity', 'RegistrationName')}"
        )
        or _text(root, f"//{local('AccountingCustomerParty', 'Party', 'PartyName', 'Name')}")
    )
    return out


def content_from(result: ExtractionResult, parties: dict[str, str], language: str) -> Invoice:
    """The e-invoice as randomized-layout content: amounts in the renderer's positive convention."""
    fields = result.fields
    credit = result.doc_type is DocType.CREDIT_NOTE
    flip = Decimal(-1) if credit else Decimal(1)  # the contract view has credit notes negative

    def positive(value: Decimal | None) -> Decimal | None:
        return None if value is None else value * flip

    vendor = Vendor(
        name=fields.vendor_name or "",
        street=parties.get("seller_street", ""),
        postal=parties.get("seller_postal", ""),
        city=parties.get("seller_city", ""),
        country=parties.get("seller_country", ""),
        tax_id=fields.vendor_tax_id,
        iban=fields.vendor_iban,
    )
    buyer = Party(
        parties.get("buyer_name", ""),
        parties.get("buyer_street", ""),
        parties.get("buyer_postal", ""),
        parties.get("buyer_city", ""),
        parties.get("buyer_country", ""),
    )
    lines = [
        Line(
            description=line.description or "",
            sku=line.sku,
            quantity=line.quantity,
            unit="",
            unit_price=line.unit_price,
            discount=Decimal(0),
            vat_rate=Decimal(0),
            amount=positive(line.amount),
        )
        for line in result.lines
    ]
    lines_sum = sum((line.amount or Decimal(0) for line in lines), Decimal(0))
    subtotal = positive(fields.subtotal)
    assert fields.invoice_date is not None
    invoice = Invoice(
        doc_type="credit_note" if credit else "invoice",
        language=language,
        vendor=vendor,
        buyer=buyer,
        number=fields.invoice_number or "",
        issued=fields.invoice_date,
        due=fields.due_date,
        terms_days=(fields.due_date - fields.invoice_date).days if fields.due_date else 0,
        po_number=fields.po_number,
        customer_no=str(zlib.crc32((fields.invoice_number or "").encode()) % 90000 + 10000),
        currency=fields.currency,
        lines=lines,
        print_rates=False,
        adjustment=(subtotal - lines_sum) if subtotal is not None and lines else Decimal(0),
    )
    invoice.subtotal = subtotal
    invoice.tax = positive(fields.tax_amount)
    invoice.total = positive(fields.total)
    return invoice


def make(seed: int, doc: EInvoiceDoc) -> tuple[bytes, dict[str, Any]]:
    """File bytes and truth of one rendering (``plan_einvoices`` kept only readable files)."""
    result = result_for(doc.path)
    parties = _parties(doc.path.read_bytes())
    key = f"{seed}:{doc.source}:{doc.style_index}"
    rng = random.Random(f"einvoice-style:{key}")
    language = "de" if rng.random() < 0.5 else rng.choice(LANGUAGES)
    invoice = content_from(result, parties, language)
    style = freeform.draw_style(rng, invoice, heldout=split_of(seed) == "heldout", language=language)
    pdf, annotations, shown = freeform.render(invoice, style, random.Random(f"einvoice-render:{key}"))
    truth: dict[str, Any] = {"doc_type": invoice.doc_type, **freeform.truth(invoice, style, shown)}
    data, variant, scan = pdf, "digital", None
    if doc.variant != "digital":
        data, variant, scan = scan_document(
            pdf, random.Random(f"einvoice-scan:{key}"), doc.variant, language, invoice.issued
        )
    # The lines' own values are the XML's as written (scale kept); the header too, where printed.
    truth.update(
        {
            "layout": LAYOUT,
            "split": split_of(seed),
            "variant": variant,
            "language": language,
            "vendor_id": None,
            "sequence": None,
            "source_stem": None,
            "source_file": doc.source,
            "mismatches": [],
            "style": style.summary(),
            "annotations": [a.to_json() for a in annotations],
        }
    )
    if scan is not None:
        truth["scan"] = scan
    return data, truth
