"""A tiny generated corpus for the classifier tests: seven document types, varied wording and layouts.

``make_document`` builds a text-layer ``Document`` directly (words with boxes and font sizes);
``write_pdf_corpus`` renders the same documents as PDFs with truth JSON beside them, the shape
``classifiers.train.train_all`` reads; ``read_pdf`` is a minimal pdfplumber adapter for them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

TITLES: dict[DocType, list[str]] = {
    DocType.INVOICE: ["INVOICE", "Tax Invoice", "Invoice", "Rechnung", "Facture", "Commercial Invoice"],
    DocType.CREDIT_NOTE: ["CREDIT NOTE", "Credit Memo", "Gutschrift", "Avoir", "Credit Note"],
    DocType.PURCHASE_ORDER: ["PURCHASE ORDER", "Order", "Bestellung", "Bon de commande", "Purchase Order"],
    DocType.DELIVERY_NOTE: [
        "DELIVERY NOTE",
        "Packing Slip",
        "Lieferschein",
        "Bon de livraison",
        "Dispatch Note",
    ],
    DocType.STATEMENT: ["STATEMENT OF ACCOUNT", "Account Statement", "Kontoauszug", "Relevé de compte"],
    DocType.REMITTANCE_ADVICE: ["REMITTANCE ADVICE", "Payment Advice", "Zahlungsavis", "Avis de paiement"],
    DocType.OTHER: ["Newsletter", "Spring Sale", "Special Offer", "Product News", "Invitation"],
}

PHRASES: dict[DocType, list[str]] = {
    DocType.INVOICE: [
        "Invoice number {n}",
        "Invoice date {d}",
        "Due date {d}",
        "Amount due {a} EUR",
        "Please pay within 30 days",
        "Payment terms net 30",
        "Total incl. VAT {a}",
        "Bank IBAN {iban}",
    ],
    DocType.CREDIT_NOTE: [
        "Credit note number {n}",
        "Refers to invoice {n}",
        "Amount credited -{a} EUR",
        "We credit your account",
        "Reason returned goods",
        "Total credit -{a}",
        "Original invoice date {d}",
    ],
    DocType.PURCHASE_ORDER: [
        "PO number {n}",
        "Order date {d}",
        "Please deliver to our warehouse",
        "Requested delivery {d}",
        "Buyer {name}",
        "Order total {a}",
        "Please confirm this order",
        "Ship to address",
    ],
    DocType.DELIVERY_NOTE: [
        "Delivery note {n}",
        "Shipped on {d}",
        "Qty delivered",
        "Received by",
        "Carrier DHL parcel",
        "Your order {n}",
        "Packages 3",
        "Signature of recipient",
    ],
    DocType.STATEMENT: [
        "Opening balance {a}",
        "Closing balance {a}",
        "Statement date {d}",
        "Open items as of {d}",
        "Invoice {n} {a}",
        "Payment received {a}",
        "Balance due {a}",
        "Overdue 30 days {a}",
    ],
    DocType.REMITTANCE_ADVICE: [
        "We have paid the following invoices",
        "Payment reference {n}",
        "Payment date {d}",
        "Amount paid {a}",
        "Invoice {n} paid {a}",
        "Transferred to IBAN {iban}",
        "Total remitted {a}",
    ],
    DocType.OTHER: [
        "Discover our new catalogue",
        "Save 20 percent this month",
        "Visit our booth at the fair",
        "Unsubscribe from this list",
        "Free shipping on orders",
        "Meet our new team",
        "Follow us online",
    ],
}

SHARED = [
    "{name}",
    "Industriestrasse {k}",
    "{k} Berlin",
    "VAT ID DE{k}{k}",
    "Phone +49 30 {k}",
    "Item {k} Hex bolts box {k}",
    "Item {k} Safety gloves",
    "Page 1 of 1",
    "Customer no {n}",
]
VENDORS = [
    "Acme Tools GmbH",
    "Nordwind Logistik AG",
    "Bureau Plus SARL",
    "Kessler Metall KG",
    "Orbit Supplies Ltd",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=f"{rng.choice('ABRPX')}-{rng.randint(1000, 99999)}",
        d=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        a=f"{rng.randint(10, 9999)}.{rng.randint(0, 99):02d}",
        iban=f"DE{rng.randint(10**19, 10**20 - 1)}",
        name=rng.choice(VENDORS),
        k=rng.randint(10, 999),
    )


def _line(text: str, x: float, top: float, size: float) -> Line:
    words, cursor = [], x
    for token in text.split():
        width = 0.55 * size * len(token)
        words.append(Word(token, (cursor, top, cursor + width, top + size), size=size))
        cursor += width + 0.3 * size
    return Line(words)


def document_rows(doc_type: DocType, rng: random.Random, layout: int) -> tuple[str, list[tuple[str, float]]]:
    """Title and body rows (text, font size) in reading order."""
    title = rng.choice(TITLES[doc_type])
    if layout % 2:
        title = title.upper()
    own = rng.sample(PHRASES[doc_type], k=min(len(PHRASES[doc_type]), rng.randint(3, 5)))
    shared = rng.sample(SHARED, k=rng.randint(3, 6))
    body = [(_fill(t, rng), 9.0) for t in shared[:2]]
    mixed = own + shared[2:]
    rng.shuffle(mixed)
    body += [(_fill(t, rng), 9.0) for t in mixed]
    return title, body


def make_document(
    doc_type: DocType, rng: random.Random, layout: int = 0, *, scanned: bool = False
) -> Document:
    """One page: a letterhead, a large title placed per layout, then labelled rows."""
    title, body = document_rows(doc_type, rng, layout)
    title_size = 14.0 + 2 * (layout % 4)
    title_x = [40.0, 300.0, 180.0, 40.0][layout % 4]
    title_top = [60.0, 40.0, 120.0, 200.0][layout % 4]
    lines = [_line(rng.choice(VENDORS), 40.0, 20.0, 10.0)]
    top = 80.0
    rows: list[Line] = []
    for text, size in body:
        if scanned and rng.random() < 0.3:
            text = text.replace("i", "l").replace("o", "0")  # the errors OCR makes most
        top += 14.0
        rows.append(_line(text, 40.0, top + (title_top if title_top >= 120 else 60.0), size))
    lines.append(_line(title, title_x, title_top, title_size))
    lines.extend(rows)
    lines.sort(key=lambda line: line.bbox[1])
    page = Page(number=1, width=595.0, height=842.0, lines=lines, source="ocr" if scanned else "digital")
    return Document(pages=[page], source=f"generated-{doc_type.value}")


def make_corpus(n_per_type: int, seed: int, layouts: range) -> list[tuple[Document, DocType, int]]:
    rng = random.Random(seed)
    out = []
    for doc_type in DocType:
        for i in range(n_per_type):
            layout = layouts[i % len(layouts)]
            out.append((make_document(doc_type, rng, layout, scanned=rng.random() < 0.25), doc_type, layout))
    return out


def write_pdf_corpus(out: Path, n_per_type: int, seed: int) -> list[Path]:
    """PDFs with ``<stem>.json`` truth: layouts 0-3 are ``dev``, 4-5 ``heldout``."""
    from reportlab.pdfgen import canvas

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for doc_type in DocType:
        for i in range(n_per_type):
            layout = i % 6
            document = make_document(doc_type, rng, layout)
            path = out / f"{doc_type.value}-{i:03d}.pdf"
            pdf = canvas.Canvas(str(path), pagesize=(595, 842))
            for line in document.pages[0].lines:
                for word in line.words:
                    pdf.setFont("Helvetica", word.size or 10)
                    pdf.drawString(word.x0, 842 - word.bottom, word.text)
            pdf.save()
            truth = {
                "doc_type": doc_type.value,
                "split": "heldout" if layout >= 4 else "dev",
                "variant": "digital",
                "layout": f"T{layout:02d}",
            }
            (out / f"{path.stem}.json").write_text(json.dumps(truth))
            paths.append(path)
    # An XML e-invoice beside them: it has no text layer and training must skip it.
    (out / "einvoice-000.xml").write_text("<Invoice/>")
    (out / "einvoice-000.json").write_text(
        json.dumps({"doc_type": "invoice", "split": "dev", "variant": "ubl", "layout": "T00"})
    )
    return paths


def read_pdf(path: Path) -> Document:
    """Minimal pdfplumber adapter: words grouped into lines by their top coordinate."""
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            rows: dict[int, list[Word]] = {}
            for w in page.extract_words(extra_attrs=["size"]):
                word = Word(w["text"], (w["x0"], w["top"], w["x1"], w["bottom"]), size=w["size"])
                rows.setdefault(round(w["top"]), []).append(word)
            lines = [Line(sorted(ws, key=lambda w: w.x0)) for _, ws in sorted(rows.items())]
            pages.append(Page(number=number, width=float(page.width), height=float(page.height), lines=lines))
    return Document(pages=pages, source=str(path))
