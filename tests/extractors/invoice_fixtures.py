"""Generated invoice PDFs for extractor tests: a layout of our own, in English, German or French.

Deliberately unlike the sandbox corpus layouts (labels with colons, values below the labels in
the header band, currency codes in a separate column), so the tests check the generic extractor
rather than its fit to the corpus.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

WORDS = {
    "en": {
        "title": "INVOICE",
        "credit": "CREDIT NOTE",
        "number": "Invoice No.",
        "date": "Invoice Date",
        "due": "Due Date",
        "po": "PO Number",
        "cust": "Customer No.",
        "desc": "Description",
        "qty": "Qty",
        "price": "Unit Price",
        "amount": "Amount",
        "sub": "Subtotal",
        "tax": "VAT 19%",
        "total": "Total due",
        "bill": "Bill to",
        "vat": "VAT Reg. No.",
    },
    "de": {
        "title": "RECHNUNG",
        "credit": "GUTSCHRIFT",
        "number": "Rechnungsnummer",
        "date": "Rechnungsdatum",
        "due": "Fällig am",
        "po": "Bestellnummer",
        "cust": "Kundennummer",
        "desc": "Bezeichnung",
        "qty": "Menge",
        "price": "Einzelpreis",
        "amount": "Betrag",
        "sub": "Zwischensumme",
        "tax": "MwSt. 19 %",
        "total": "Gesamtbetrag",
        "bill": "Rechnungsempfänger",
        "vat": "USt-IdNr.",
    },
    "fr": {
        "title": "FACTURE",
        "credit": "AVOIR",
        "number": "N° de facture",
        "date": "Date de facture",
        "due": "Date d'échéance",
        "po": "Bon de commande",
        "cust": "N° client",
        "desc": "Désignation",
        "qty": "Quantité",
        "price": "Prix unitaire",
        "amount": "Montant",
        "sub": "Total HT",
        "tax": "TVA 20 %",
        "total": "Total TTC",
        "bill": "Facturé à",
        "vat": "N° TVA",
    },
}


def fmt(value: Decimal, lang: str) -> str:
    text = f"{value:,.2f}"
    if lang == "en":
        return text
    whole, frac = text.split(".")
    return (whole.replace(",", "." if lang == "de" else " ")) + "," + frac


def fmt_date(iso: str, lang: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}" if lang != "de" else f"{d}.{m}.{y}"


@dataclass
class Invoice:
    lang: str = "en"
    vendor: str = "Acme Tools GmbH"
    vendor_vat: str = "DE123456789"
    iban: str = "DE89370400440532013000"
    buyer: str = "Nordlicht Handels GmbH"
    buyer_vat: str = "DE811234567"
    number: str = "RE-2026-1001"
    date: str = "2026-03-14"
    due: str = "2026-04-13"
    po: str = "PO-45012"
    customer_no: str = "40711"
    currency: str = "EUR"
    lines: tuple[tuple[str, str, str, str], ...] = (
        ("Hex bolt M8x40, box of 100", "10", "100.00", "1000.00"),
        ("Grinding disc 125mm, pack of 25", "4", "12.50", "50.00"),
    )
    credit: bool = False

    @property
    def subtotal(self) -> Decimal:
        return sum((Decimal(a) for *_, a in self.lines), Decimal(0))

    @property
    def tax(self) -> Decimal:
        rate = Decimal("0.20") if self.lang == "fr" else Decimal("0.19")
        return (self.subtotal * rate).quantize(Decimal("0.01"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    def truth(self) -> dict[str, Any]:
        sign = -1 if self.credit else 1
        return {
            "doc_type": "credit_note" if self.credit else "invoice",
            "fields": {
                "vendor_name": self.vendor,
                "vendor_tax_id": self.vendor_vat,
                "vendor_iban": self.iban,
                "invoice_number": self.number,
                "invoice_date": self.date,
                "due_date": self.due,
                "po_number": self.po,
                "currency": self.currency,
                "subtotal": str(sign * self.subtotal),
                "tax_amount": str(sign * self.tax),
                "total": str(sign * self.total),
            },
            "lines": [
                {
                    "description": d,
                    "sku": None,
                    "quantity": q,
                    "unit_price": p,
                    "amount": str(sign * Decimal(a)),
                }
                for d, q, p, a in self.lines
            ],
        }

    def pdf(self) -> bytes:
        w = WORDS[self.lang]
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=A4)
        _, height = A4

        def text(
            x: float, y: float, s: str, size: float = 9, bold: bool = False, right: bool = False
        ) -> None:
            c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
            if right:
                c.drawRightString(x, height - y, s)
            else:
                c.drawString(x, height - y, s)

        text(40, 50, self.vendor, 16, bold=True)
        text(40, 66, "Industriestraße 5 · 10115 Berlin")
        text(400, 50, w["credit"] if self.credit else w["title"], 18, bold=True)
        # Header band: labels in one row, values in the row below.
        for x, label, value in (
            (40, w["number"], self.number),
            (150, w["date"], fmt_date(self.date, self.lang)),
            (260, w["due"], fmt_date(self.due, self.lang)),
            (370, w["po"], self.po),
            (470, w["cust"], self.customer_no),
        ):
            text(x, 110, label + ":", 8, bold=True)
            text(x, 123, value, 9)
        text(40, 160, w["bill"] + ":", 8, bold=True)
        text(40, 173, self.buyer)
        text(40, 185, "Mainzer Landstraße 50")
        text(40, 197, "60325 Frankfurt am Main")
        text(40, 209, f"{w['vat']} {self.buyer_vat}")
        y = 260
        text(40, y, w["desc"], bold=True)
        text(350, y, w["qty"], bold=True, right=True)
        text(440, y, w["price"], bold=True, right=True)
        text(540, y, w["amount"], bold=True, right=True)
        sign = "-" if self.credit else ""
        for d, q, p, a in self.lines:
            y += 16
            text(40, y, d)
            text(350, y, q, right=True)
            text(440, y, fmt(Decimal(p), self.lang), right=True)
            text(540, y, sign + fmt(Decimal(a), self.lang), right=True)
        y += 30
        for label, value in ((w["sub"], self.subtotal), (w["tax"], self.tax), (w["total"], self.total)):
            text(380, y, label, bold=label == w["total"])
            text(
                540, y, f"{sign}{fmt(value, self.lang)} {self.currency}", right=True, bold=label == w["total"]
            )
            y += 15
        iban = " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))
        text(40, 790, f"{self.vendor} · {w['vat']} {self.vendor_vat} · IBAN {iban} · BIC COBADEFFXXX", 7)
        c.showPage()
        c.save()
        return buf.getvalue()
