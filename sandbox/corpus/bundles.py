"""Multi-page documents whose later pages look unlike their first, for the splitter's stacks.

A real bill rarely continues in its first page's layout: the line table goes on without the
header block, a telecom bill adds a page of calls, a supplier prints its terms and conditions on
the back, a bank transfer slip or a page with only the totals ends it. ``make_bundle`` draws a
randomized invoice as the single-document randomizer prints it (its distributions untouched) and
appends one to four such pages, each set in a style of its own: margins, typeface and size, a
running header and footer or none, page numbers or none, the vendor and the document's number
repeated or not. A bundle may have a sibling: another invoice of the same vendor in the same
layout, since two bills of one vendor back to back must still be told apart by their number and
date. ``write_bundles`` writes them as a corpus folder (``<stem>.pdf`` + ``<stem>.json``) that
``ledgerbot train splitter`` reads beside the generated corpora.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from sandbox.corpus import freeform, vocabulary
from sandbox.corpus.content import ContentOptions, Invoice, draw_invoice
from sandbox.corpus.fonts import FAMILIES, font_set
from sandbox.corpus.formats import fmt_date, fmt_iban, fmt_money
from sandbox.corpus.randomized import HELDOUT_SEEDS, scan_document, split_of
from sandbox.corpus.scans import page_count

LAYOUT = "bundle"
# Kinds of page that follow a bill's first pages, and how often each is drawn.
KINDS: tuple[tuple[str, float], ...] = (
    ("table", 0.24),  # the line table going on, without the header block
    ("terms", 0.16),  # terms and conditions
    ("appendix", 0.14),  # a detail list: usage records, serial numbers
    ("delivery", 0.12),  # deliveries the bill covers
    ("totals", 0.12),  # only the totals block (and payment terms)
    ("slip", 0.12),  # a payment slip to cut off
    ("info", 0.10),  # how to read the bill, contact and service hours
)
# The bills drawn: more of them than in the single-document randomizer run over several pages
# before the appended ones, since a splitter learns the randomizer's own continuation pages (the
# table going on, a small running header, the letterhead again, page numbers or none) from them.
CONTENT = ContentOptions(long_share=0.45)
# Share of bundles drawn with a sibling (same vendor, same layout, next in the folder).
SIBLING_SHARE = 0.4
# Share of bundles written as image-only scans (read through OCR when training).
SCAN_SHARE = 0.2
# Layout groups per seed: held-back validation layouts in training take whole groups, so a
# bundle and its sibling land on the same side.
GROUPS = 6

# Titles of the extra pages per language; {number} is the bill's number.
_TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "terms": {
        "en": ("General Terms and Conditions", "Terms of Sale", "Terms & Conditions", "Conditions of supply"),
        "de": (
            "Allgemeine Geschäftsbedingungen",
            "AGB",
            "Liefer- und Zahlungsbedingungen",
            "Verkaufsbedingungen",
        ),
        "fr": ("Conditions générales de vente", "CGV", "Conditions de règlement", "Conditions de livraison"),
        "nl": ("Algemene voorwaarden", "Leveringsvoorwaarden", "Verkoopvoorwaarden"),
        "es": ("Condiciones generales de venta", "Condiciones de suministro", "Términos y condiciones"),
        "it": ("Condizioni generali di vendita", "Condizioni di fornitura", "Termini e condizioni"),
    },
    "appendix": {
        "en": ("Appendix", "Annex to {number}", "Detailed statement", "Usage details", "Attachment 1"),
        "de": ("Anlage", "Anlage zu {number}", "Einzelverbindungsnachweis", "Detailaufstellung", "Beiblatt"),
        "fr": ("Annexe", "Annexe {number}", "Relevé détaillé", "Détail des consommations", "Pièce jointe 1"),
        "nl": ("Bijlage", "Bijlage bij {number}", "Specificatie", "Gespecificeerd overzicht"),
        "es": ("Anexo", "Anexo a {number}", "Detalle de consumos", "Relación detallada"),
        "it": ("Allegato", "Allegato a {number}", "Dettaglio consumi", "Prospetto analitico"),
    },
    "delivery": {
        "en": ("Delivery details", "Deliveries covered", "Shipment summary", "Dispatch details"),
        "de": ("Lieferdetails", "Lieferübersicht", "Versandangaben", "Abgerechnete Lieferungen"),
        "fr": ("Détail des livraisons", "Récapitulatif des envois", "Livraisons facturées"),
        "nl": ("Leveringsdetails", "Overzicht leveringen", "Verzendgegevens"),
        "es": ("Detalle de entregas", "Resumen de envíos", "Entregas facturadas"),
        "it": ("Dettaglio consegne", "Riepilogo spedizioni", "Consegne fatturate"),
    },
    "slip": {
        "en": ("Payment slip", "Remittance slip", "Please return with your payment", "Bank transfer"),
        "de": ("Zahlschein", "Überweisungsträger", "Zahlungsabschnitt", "Bitte mit Zahlung zurücksenden"),
        "fr": ("Bulletin de versement", "Talon de paiement", "Coupon à joindre au règlement", "Virement"),
        "nl": ("Acceptgiro", "Betaalstrook", "Overschrijvingsformulier"),
        "es": ("Resguardo de pago", "Talón de pago", "Orden de transferencia"),
        "it": ("Bollettino di pagamento", "Cedola di pagamento", "Bonifico bancario"),
    },
    "info": {
        "en": ("Notes on your bill", "How to read this bill", "Service and contact", "Good to know"),
        "de": ("Erläuterungen", "Hinweise zu Ihrer Abrechnung", "Service und Kontakt", "Gut zu wissen"),
        "fr": ("Explications", "Comment lire votre facture", "Service client", "Bon à savoir"),
        "nl": ("Toelichting", "Uitleg bij uw factuur", "Service en contact"),
        "es": ("Aclaraciones", "Cómo leer su factura", "Atención al cliente"),
        "it": ("Note esplicative", "Come leggere la bolletta", "Servizio clienti"),
    },
}
# Running words of a legal or explanatory page (drawn into sentences of a paragraph).
_PROSE: dict[str, tuple[str, ...]] = {
    "en": (
        "goods",
        "remain",
        "property",
        "of",
        "the",
        "seller",
        "until",
        "payment",
        "in",
        "full",
        "claims",
        "must",
        "be",
        "notified",
        "within",
        "days",
        "of",
        "receipt",
        "liability",
        "is",
        "limited",
        "to",
        "invoice",
        "value",
        "late",
        "payments",
        "bear",
        "interest",
        "at",
        "statutory",
        "rate",
        "place",
        "jurisdiction",
        "delivery",
        "risk",
        "passes",
        "buyer",
        "warranty",
        "period",
        "months",
        "service",
    ),
    "de": (
        "die",
        "Ware",
        "bleibt",
        "bis",
        "zur",
        "vollständigen",
        "Bezahlung",
        "Eigentum",
        "des",
        "Verkäufers",
        "Mängel",
        "sind",
        "innerhalb",
        "von",
        "Tagen",
        "schriftlich",
        "anzuzeigen",
        "Haftung",
        "ist",
        "auf",
        "den",
        "Rechnungswert",
        "begrenzt",
        "Verzugszinsen",
        "gesetzlicher",
        "Höhe",
        "Gerichtsstand",
        "Lieferung",
        "Gefahrübergang",
        "Gewährleistung",
        "Monate",
        "Kunde",
        "Leistung",
        "Vertrag",
    ),
    "fr": (
        "les",
        "marchandises",
        "restent",
        "la",
        "propriété",
        "du",
        "vendeur",
        "jusqu'au",
        "paiement",
        "intégral",
        "toute",
        "réclamation",
        "doit",
        "être",
        "faite",
        "sous",
        "jours",
        "responsabilité",
        "limitée",
        "au",
        "montant",
        "pénalités",
        "de",
        "retard",
        "taux",
        "légal",
        "tribunal",
        "compétent",
        "livraison",
        "transfert",
        "des",
        "risques",
        "garantie",
        "mois",
        "client",
        "prestation",
        "contrat",
    ),
    "nl": (
        "de",
        "goederen",
        "blijven",
        "eigendom",
        "van",
        "verkoper",
        "tot",
        "volledige",
        "betaling",
        "klachten",
        "binnen",
        "dagen",
        "melden",
        "aansprakelijkheid",
        "beperkt",
        "factuurwaarde",
        "rente",
        "wettelijke",
        "levering",
        "risico",
        "garantie",
        "maanden",
        "klant",
        "overeenkomst",
    ),
    "es": (
        "la",
        "mercancía",
        "sigue",
        "siendo",
        "propiedad",
        "del",
        "vendedor",
        "hasta",
        "pago",
        "total",
        "reclamaciones",
        "dentro",
        "de",
        "días",
        "responsabilidad",
        "limitada",
        "al",
        "importe",
        "intereses",
        "demora",
        "tipo",
        "legal",
        "entrega",
        "riesgo",
        "garantía",
        "meses",
        "cliente",
        "contrato",
    ),
    "it": (
        "la",
        "merce",
        "resta",
        "di",
        "proprietà",
        "del",
        "venditore",
        "fino",
        "al",
        "pagamento",
        "integrale",
        "reclami",
        "entro",
        "giorni",
        "responsabilità",
        "limitata",
        "importo",
        "interessi",
        "mora",
        "tasso",
        "legale",
        "consegna",
        "rischio",
        "garanzia",
        "mesi",
        "cliente",
        "contratto",
        "foro",
        "competente",
    ),
}
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "appendix": {
        "en": ("Date", "Time", "Destination", "Duration", "Amount"),
        "de": ("Datum", "Uhrzeit", "Ziel", "Dauer", "Betrag"),
        "fr": ("Date", "Heure", "Destination", "Durée", "Montant"),
        "nl": ("Datum", "Tijd", "Bestemming", "Duur", "Bedrag"),
        "es": ("Fecha", "Hora", "Destino", "Duración", "Importe"),
        "it": ("Data", "Ora", "Destinazione", "Durata", "Importo"),
    },
    "delivery": {
        "en": ("Delivered", "Delivery note", "Order", "Item", "Qty"),
        "de": ("Geliefert", "Lieferschein", "Auftrag", "Artikel", "Menge"),
        "fr": ("Livré le", "Bon de livraison", "Commande", "Article", "Qté"),
        "nl": ("Geleverd", "Pakbon", "Order", "Artikel", "Aantal"),
        "es": ("Entregado", "Albarán", "Pedido", "Artículo", "Cant."),
        "it": ("Consegnato", "DDT", "Ordine", "Articolo", "Q.tà"),
    },
}


@dataclass(frozen=True)
class PageStyle:
    """How one appended page is set: paper, margins, type, and what runs along its edges."""

    size: tuple[float, float]
    margins: tuple[float, float, float, float]  # left, right, top, bottom
    family: str
    body: float
    header: str  # none | vendor | number | both | continued
    footer: str  # none | address | bank | register


def _page_style(rng: random.Random, size: tuple[float, float], same_as: PageStyle | None) -> PageStyle:
    if same_as is not None and rng.random() < 0.5:
        return same_as
    if rng.random() < 0.12:
        size = LETTER if size == A4 else A4
    return PageStyle(
        size=size,
        margins=(rng.uniform(18, 90), rng.uniform(18, 80), rng.uniform(18, 90), rng.uniform(18, 70)),
        family=rng.choice(FAMILIES),
        body=rng.choice([6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 11.0]),
        header=rng.choice(["none", "none", "vendor", "number", "both", "continued"]),
        footer=rng.choice(["none", "none", "address", "bank", "register"]),
    )


@dataclass
class _Bill:
    """What the appended pages may repeat of the bill, formatted as its first pages print it."""

    invoice: Invoice
    style: freeform.Style
    heldout: bool

    def word(self, rng: random.Random, key: str) -> str:
        return vocabulary.pick(rng, self.style.language, key, heldout=self.heldout)

    def money(self, value: Decimal) -> str:
        currency = self.invoice.currency or "EUR"
        return fmt_money(value, currency, self.style.number_style, self.style.placement)

    def date(self, value: date) -> str:
        return fmt_date(value, self.style.date_style)


class _PageWriter:
    """Draws one appended page top-down in its own style."""

    def __init__(self, canvas: Canvas, style: PageStyle, rng: random.Random) -> None:
        self.c = canvas
        self.s = style
        self.rng = rng
        self.fonts = font_set(style.family)
        self.width, self.height = style.size
        self.y = self.height - style.margins[2]

    @property
    def left(self) -> float:
        return self.s.margins[0]

    @property
    def right(self) -> float:
        return self.width - self.s.margins[1]

    def text(
        self, x: float, text: str, size: float | None = None, *, bold: bool = False, align: str = "left"
    ) -> None:
        size = size or self.s.body
        self.c.setFont(self.fonts.name(bold=bold), size)
        if align == "right":
            self.c.drawRightString(x, self.y, text)
        else:
            self.c.drawString(x, self.y, text)

    def line(self, text: str, size: float | None = None, *, bold: bool = False, gap: float = 1.35) -> None:
        self.text(self.left, text, size, bold=bold)
        self.y -= (size or self.s.body) * gap

    def paragraph(self, text: str, width: float | None = None, x: float | None = None) -> None:
        size = self.s.body
        for part in simpleSplit(text, self.fonts.regular, size, width or self.right - self.left):
            if self.y < self.s.margins[3] + 2 * size:
                return
            self.c.setFont(self.fonts.regular, size)
            self.c.drawString(x if x is not None else self.left, self.y, part)
            self.y -= size * 1.3

    def row(self, cells: list[str], *, bold: bool = False) -> bool:
        """Cells spread over the text width, the last right-aligned; False once the page is full."""
        if self.y < self.s.margins[3] + 3 * self.s.body:
            return False
        span = (self.right - self.left) / max(len(cells), 1)
        for k, cell in enumerate(cells):
            if k == len(cells) - 1:
                self.text(self.right, cell, bold=bold, align="right")
            else:
                self.text(self.left + k * span, cell, bold=bold)
        self.y -= self.s.body * self.rng.choice([1.3, 1.5, 1.8])
        return True

    def skip(self, lines: float) -> None:
        self.y -= self.s.body * 1.35 * lines


def _prose(rng: random.Random, language: str, words: int) -> str:
    vocabulary_words = _PROSE.get(language, _PROSE["en"])
    out: list[str] = []
    sentence: list[str] = []
    for _ in range(words):
        sentence.append(rng.choice(vocabulary_words))
        if len(sentence) >= rng.randint(7, 16):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def _title(rng: random.Random, kind: str, bill: _Bill) -> str:
    titles = _TITLES[kind].get(bill.style.language, _TITLES[kind]["en"])
    return rng.choice(titles).format(number=bill.invoice.number)


def _draw_running(writer: _PageWriter, bill: _Bill, page: int, pages: int, label: str | None) -> None:
    """Running header and footer of an appended page, and its page number."""
    s, inv, c = writer.s, bill.invoice, writer.c
    size = max(s.body - 1.0, 6.0)
    top = writer.height - s.margins[2] * 0.55
    c.setFont(writer.fonts.regular, size)
    number = f"{bill.word(writer.rng, 'invoice_number')} {inv.number}"
    header = {
        "vendor": inv.vendor.name,
        "number": number,
        "both": f"{inv.vendor.name} - {number}",
        "continued": f"{bill.word(writer.rng, 'brought')} {bill.money(inv.subtotal or Decimal(0))}",
    }.get(s.header)
    if header:
        c.drawString(s.margins[0], top, header)
        writer.y = min(writer.y, top - 2.2 * s.body)
    footer = {
        "address": f"{inv.vendor.name} · {inv.vendor.street} · {inv.vendor.postal} {inv.vendor.city}",
        "bank": f"IBAN {fmt_iban(inv.vendor.iban or '', True)} · BIC {inv.vendor.bic}",
        "register": f"{inv.vendor.register} · {inv.vendor.tax_id or ''}",
    }.get(s.footer)
    bottom = s.margins[3] * 0.5 + 2
    if footer:
        c.drawString(s.margins[0], bottom, footer)
    if label is not None:
        c.drawRightString(
            writer.width - s.margins[1],
            bottom + (size + 2 if footer else 0),
            label.format(page=page, pages=pages),
        )


def _draw_table(w: _PageWriter, bill: _Bill) -> None:
    inv, rng = bill.invoice, w.rng
    if rng.random() < 0.4:
        w.line(f"{bill.word(rng, 'brought')} {bill.money(inv.subtotal or Decimal(0))}")
    if rng.random() < 0.5:
        w.row(
            [bill.word(rng, k) for k in ("sku", "description", "quantity", "unit_price", "amount")], bold=True
        )
    while True:
        item = rng.choice(inv.lines)
        qty = Decimal(rng.randint(1, 40))
        price = item.unit_price or Decimal("9.90")
        cells = [item.sku or "", item.description[:40], str(qty), bill.money(price), bill.money(qty * price)]
        if not w.row(cells) or rng.random() < 0.03:
            break


def _draw_terms(w: _PageWriter, bill: _Bill) -> None:
    rng = w.rng
    w.line(_title(rng, "terms", bill), w.s.body + rng.choice([1, 3, 5]), bold=True, gap=2.0)
    columns = rng.choice([1, 1, 2])
    width = (w.right - w.left - 14 * (columns - 1)) / columns
    top = w.y
    for column in range(columns):
        w.y = top
        x = w.left + column * (width + 14)
        for k in range(rng.randint(4, 12)):
            w.paragraph(
                f"{k + 1 + column * 12}. {_prose(rng, bill.style.language, rng.randint(20, 70))}", width, x
            )
            w.skip(0.4)


def _draw_appendix(w: _PageWriter, bill: _Bill) -> None:
    rng, inv = w.rng, bill.invoice
    w.line(_title(rng, "appendix", bill), w.s.body + rng.choice([1, 2, 4]), bold=True, gap=2.0)
    if rng.random() < 0.5:
        w.line(f"{bill.word(rng, 'customer_no')} {inv.customer_no}")
    w.row(list(_COLUMNS["appendix"].get(bill.style.language, _COLUMNS["appendix"]["en"])), bold=True)
    day = inv.issued - timedelta(days=30)
    while True:
        day += timedelta(days=rng.randint(0, 2))
        cells = [
            bill.date(day),
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"0{rng.randint(100, 999)} {rng.randint(100000, 9999999)}",
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            bill.money(Decimal(rng.randint(0, 900)) / 100),
        ]
        if not w.row(cells) or rng.random() < 0.02:
            break


def _draw_delivery(w: _PageWriter, bill: _Bill) -> None:
    rng, inv = w.rng, bill.invoice
    w.line(_title(rng, "delivery", bill), w.s.body + rng.choice([1, 2, 4]), bold=True, gap=2.0)
    w.row(list(_COLUMNS["delivery"].get(bill.style.language, _COLUMNS["delivery"]["en"])), bold=True)
    for _ in range(rng.randint(3, 25)):
        item = rng.choice(inv.lines)
        day = (inv.delivery_date or inv.issued) - timedelta(days=rng.randint(0, 25))
        cells = [
            bill.date(day),
            f"{rng.choice(['LS', 'DN', 'BL', ''])}{rng.randint(10000, 999999)}",
            inv.po_number or f"{rng.randint(1000, 99999)}",
            item.description[:36],
            str(rng.randint(1, 60)),
        ]
        if not w.row(cells):
            break
    if rng.random() < 0.5:
        w.skip(1)
        w.paragraph(_prose(rng, bill.style.language, rng.randint(10, 30)))


def _draw_totals(w: _PageWriter, bill: _Bill) -> None:
    rng, inv = w.rng, bill.invoice
    w.skip(rng.uniform(0, 20))
    x = w.left + (w.right - w.left) * rng.uniform(0.35, 0.6)
    for key, value in (("subtotal", inv.subtotal), ("tax", inv.tax), ("total", inv.total)):
        w.text(x, bill.word(rng, key), bold=key == "total")
        w.text(w.right, bill.money(value or Decimal(0)), bold=key == "total", align="right")
        w.skip(1.2)
    w.skip(1)
    if inv.due is not None and rng.random() < 0.7:
        w.line(f"{bill.word(rng, 'due_date')} {bill.date(inv.due)}")
    if rng.random() < 0.5:
        w.paragraph(_prose(rng, bill.style.language, rng.randint(8, 25)))


def _draw_slip(w: _PageWriter, bill: _Bill) -> None:
    rng, inv = w.rng, bill.invoice
    if rng.random() < 0.6:
        w.skip(rng.uniform(5, 30))  # the slip at the foot of an otherwise empty sheet
    if rng.random() < 0.5:
        w.line("- " * 40)
    w.line(_title(rng, "slip", bill), w.s.body + rng.choice([0, 2, 3]), bold=True, gap=1.8)
    fields = [
        (None, inv.vendor.name),
        (bill.word(rng, "iban"), fmt_iban(inv.vendor.iban or "", rng.random() < 0.7)),
        (bill.word(rng, "bic"), inv.vendor.bic),
        (bill.word(rng, "invoice_number"), inv.number),
        (bill.word(rng, "total"), bill.money(inv.total or Decimal(0))),
    ]
    if rng.random() < 0.5:
        fields.append((bill.word(rng, "customer_no"), inv.customer_no))
    rng.shuffle(fields)
    for label, value in fields:
        w.line(f"{label} {value}" if label else value, gap=rng.choice([1.5, 2.0, 2.6]))


def _draw_info(w: _PageWriter, bill: _Bill) -> None:
    rng, inv = w.rng, bill.invoice
    w.line(_title(rng, "info", bill), w.s.body + rng.choice([2, 4, 6]), bold=True, gap=2.2)
    for _ in range(rng.randint(2, 6)):
        w.line(_prose(rng, bill.style.language, rng.randint(2, 4)).rstrip("."), bold=True)
        w.paragraph(_prose(rng, bill.style.language, rng.randint(15, 60)))
        if rng.random() < 0.4:
            amount = bill.money(Decimal(rng.randint(100, 99999)) / 100)
            w.line(f"{_prose(rng, bill.style.language, 3).rstrip('.')} {amount}")
        w.skip(0.6)
    if rng.random() < 0.5:
        w.line(f"{inv.vendor.phone} · {inv.vendor.email} · {inv.vendor.web}")


_DRAW: dict[str, Callable[[_PageWriter, _Bill], None]] = {
    "table": _draw_table,
    "terms": _draw_terms,
    "appendix": _draw_appendix,
    "delivery": _draw_delivery,
    "totals": _draw_totals,
    "slip": _draw_slip,
    "info": _draw_info,
}


def _kinds(rng: random.Random) -> list[str]:
    names = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    count = rng.choice([1, 1, 1, 2, 2, 3, 4])
    kinds = rng.choices(names, weights, k=count)
    # A continued table comes right after the first pages, a slip last, as bills are printed.
    kinds.sort(key=lambda k: (k != "table", k == "slip"))
    return kinds


def _render_pages(
    bill: _Bill, kinds: list[str], first: int, pages: int, label: str | None, rng: random.Random
) -> bytes:
    buffer = io.BytesIO()
    base = _page_style(rng, bill.style.page, None)
    canvas = Canvas(buffer, pagesize=base.size, invariant=1, pageCompression=1)
    style = base
    for k, kind in enumerate(kinds):
        style = _page_style(rng, bill.style.page, style) if k else base
        canvas.setPageSize(style.size)
        writer = _PageWriter(canvas, style, rng)
        _draw_running(writer, bill, first + k, pages, label)
        _DRAW[kind](writer, bill)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _join(*pdfs: bytes) -> bytes:
    out = pdfium.PdfDocument.new()
    for data in pdfs:
        source = pdfium.PdfDocument(data)
        out.import_pages(source)
        source.close()
    buffer = io.BytesIO()
    out.save(buffer)
    out.close()
    return buffer.getvalue()


def _numbering(rng: random.Random, bill: _Bill) -> tuple[str | None, str | None]:
    """Page labels of the first pages and of the appended ones: both, either, or none."""
    label = bill.word(rng, "page")
    mode = rng.choice(["both", "both", "none", "first", "appended", "own"])
    first = label if mode in ("both", "first") else None
    appended = label if mode in ("both", "appended") else bill.word(rng, "page") if mode == "own" else None
    return first, appended


def make_bundle(
    invoice: Invoice, style: freeform.Style, rng: random.Random, *, heldout: bool
) -> tuple[bytes, list[str]]:
    """The bill as the randomizer prints it, with one to four pages of other kinds after it."""
    bill = _Bill(invoice, style, heldout)
    kinds = _kinds(rng)
    first_label, appended_label = _numbering(rng, bill)
    # The first pages are rendered twice: once to count them, once with the bundle's page total.
    plain, _, _ = freeform.render(invoice, replace(style, page_label=None), random.Random(rng.random()))
    own = page_count(plain)
    pages = own + len(kinds)
    if first_label is not None:
        total_label = first_label.replace("{pages}", str(pages))
        head, _, _ = freeform.render(
            invoice, replace(style, page_label=total_label), random.Random(rng.random())
        )
    else:
        head = plain
    tail = _render_pages(bill, kinds, own + 1, pages, appended_label, rng)
    return _join(head, tail), ["first"] * own + kinds


def _sibling(invoice: Invoice, rng: random.Random) -> Invoice:
    """Another bill of the same vendor to the same customer: new number, date, lines and totals."""
    other = draw_invoice(rng, CONTENT)
    issued = invoice.issued + timedelta(days=rng.choice([0, 0, 1, 7, 14, 30]))
    sibling = replace(
        other,
        doc_type=invoice.doc_type,
        language=invoice.language,
        vendor=invoice.vendor,
        buyer=invoice.buyer,
        customer_no=invoice.customer_no,
        currency=invoice.currency,
        issued=issued,
        due=None if invoice.due is None else issued + timedelta(days=invoice.terms_days),
        refers_to=None if invoice.refers_to is None else other.refers_to or invoice.refers_to,
        terms_days=invoice.terms_days,
        tax_by_rate={},
    )
    sibling.compute_totals()
    return sibling


def write_bundles(
    out: Path, n: int, seed: int, *, scans: bool = True, log: Callable[[str], None] = lambda m: None
) -> dict[str, Any]:
    """``n`` bundles (and their siblings) into ``out`` as a corpus: ``doc-NNNNN.pdf`` + truth JSON."""
    out.mkdir(parents=True, exist_ok=True)
    heldout = seed in HELDOUT_SEEDS
    written: list[str] = []
    by_kind: dict[str, int] = {}
    for index in range(n):
        rng = random.Random(f"bundle:{seed}:{index}")
        invoice = draw_invoice(rng, CONTENT)
        style = freeform.draw_style(rng, invoice, heldout=heldout)
        group = f"{LAYOUT}/{seed}-{index % GROUPS}"
        vendor = f"{LAYOUT}:{seed}:{index}"
        docs: list[tuple[bytes, list[str], Invoice]] = []
        pdf, kinds = make_bundle(invoice, style, rng, heldout=heldout)
        docs.append((pdf, kinds, invoice))
        if rng.random() < SIBLING_SHARE:
            other = _sibling(invoice, rng)
            if rng.random() < 0.5:
                pdf, kinds = make_bundle(other, style, rng, heldout=heldout)
            else:
                pdf, _, _ = freeform.render(other, style, random.Random(rng.random()))
                kinds = ["first"] * page_count(pdf)
            docs.append((pdf, kinds, other))
        scanned = scans and rng.random() < SCAN_SHARE
        for pdf, kinds, bill in docs:
            stem = f"doc-{len(written) + 1:05d}"
            variant = "digital"
            if scanned:
                pdf, variant, _ = scan_document(
                    pdf, random.Random(rng.random()), "scan_pdf", bill.language, bill.issued
                )
            (out / f"{stem}.pdf").write_bytes(pdf)
            truth = {
                "doc_type": bill.doc_type,
                "layout": group,
                "split": split_of(seed),
                "variant": variant,
                "language": bill.language,
                "vendor_id": vendor,
                "number": bill.number,
                "issued": bill.issued.isoformat(),
                "pages": kinds,
            }
            (out / f"{stem}.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
            written.append(stem)
            for kind in kinds:
                by_kind[kind] = by_kind.get(kind, 0) + 1
        log(f"bundle {index + 1}/{n}")
    manifest = {
        "layout": LAYOUT,
        "n": n,
        "seed": seed,
        "split": split_of(seed),
        "documents": len(written),
        "pages_by_kind": by_kind,
        "files": written,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
