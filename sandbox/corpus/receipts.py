"""Shop receipts: narrow, monospaced till slips, printed clean, scanned, or photographed.

A receipt is drawn as a narrow PDF (58 or 80 mm paper, a monospaced font, one column of
left/right-aligned text as a till printer makes it), then optionally worn like thermal paper
(faded print head, streaks, dropped dots) and either scanned flat or photographed: crumpled
paper, lying on a table, seen in perspective, with a shadow and uneven light.

Truth (doc type ``invoice``, the receipt being a simplified invoice): line amounts are gross,
as receipts print them, so they sum to the *total*; ``subtotal`` is the printed net total of
the VAT summary and ``tax_amount`` its VAT; a line printed as one amount is quantity 1 at
that price. Annotations are boxes on the flat receipt (before any photo distortion).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from PIL import Image, ImageFilter
from reportlab.pdfgen.canvas import Canvas
from scipy import ndimage

from sandbox.corpus import scans as scanning
from sandbox.corpus.content import COUNTRIES, vat_id
from sandbox.corpus.fonts import MONOSPACED, font_set
from sandbox.corpus.formats import fmt_date, fmt_number, money
from sandbox.corpus.freeform import Annotation, Part, Writer

RECEIPT_RATE = 0.25  # share of randomized documents that are receipts when receipts are on
MM = 72 / 25.4
RENDER_DPI = 220

_SHOPS = {
    "de": ("Bäckerei", "Café", "Tankstelle", "Baumarkt", "Getränkemarkt", "Apotheke", "Bistro", "Markt"),
    "en": ("Bakery", "Café", "Fuel Station", "Hardware Store", "Deli", "Pharmacy", "Diner", "Market"),
    "fr": ("Boulangerie", "Café", "Station-service", "Quincaillerie", "Épicerie", "Pharmacie", "Brasserie"),
    "nl": ("Bakkerij", "Koffiebar", "Tankstation", "Bouwmarkt", "Supermarkt", "Apotheek"),
    "es": ("Panadería", "Cafetería", "Gasolinera", "Ferretería", "Supermercado", "Farmacia", "Bar"),
    "it": ("Panificio", "Bar", "Distributore", "Ferramenta", "Alimentari", "Farmacia", "Trattoria"),
}
_ITEMS = {
    "de": (
        "Brötchen",
        "Kaffee",
        "Cappuccino",
        "Wasser 0,5l",
        "Croissant",
        "Diesel",
        "Schrauben 4x40",
        "Klebeband",
        "Batterien AA",
        "Zeitung",
        "Laugenbrezel",
        "Apfelschorle",
        "Kopierpapier",
        "Kugelschreiber",
        "Tagessuppe",
        "Mineralwasser",
        "Pfand",
    ),
    "en": (
        "Bread roll",
        "Coffee",
        "Cappuccino",
        "Water 0.5l",
        "Croissant",
        "Diesel",
        "Screws 4x40",
        "Duct tape",
        "Batteries AA",
        "Newspaper",
        "Sandwich",
        "Orange juice",
        "Copy paper",
        "Pen",
        "Soup of the day",
        "Sparkling water",
        "Muffin",
    ),
    "fr": (
        "Baguette",
        "Café",
        "Cappuccino",
        "Eau 50cl",
        "Croissant",
        "Gazole",
        "Vis 4x40",
        "Ruban adhésif",
        "Piles AA",
        "Journal",
        "Sandwich",
        "Jus d'orange",
        "Ramette papier",
        "Stylo",
        "Soupe du jour",
    ),
    "nl": (
        "Broodje",
        "Koffie",
        "Cappuccino",
        "Water 0,5l",
        "Croissant",
        "Diesel",
        "Schroeven 4x40",
        "Tape",
        "Batterijen AA",
        "Krant",
        "Tosti",
        "Jus d'orange",
        "Printpapier",
        "Pen",
    ),
    "es": (
        "Pan",
        "Café",
        "Cappuccino",
        "Agua 50cl",
        "Croissant",
        "Gasóleo",
        "Tornillos 4x40",
        "Cinta",
        "Pilas AA",
        "Periódico",
        "Bocadillo",
        "Zumo",
        "Papel A4",
        "Bolígrafo",
        "Menú del día",
    ),
    "it": (
        "Pane",
        "Caffè",
        "Cappuccino",
        "Acqua 50cl",
        "Cornetto",
        "Gasolio",
        "Viti 4x40",
        "Nastro",
        "Pile AA",
        "Giornale",
        "Panino",
        "Spremuta",
        "Carta A4",
        "Penna",
        "Piatto del giorno",
    ),
}
_WORDS = {
    "de": {
        "total": ("SUMME", "Summe EUR", "GESAMT", "Zu zahlen", "TOTAL"),
        "number": ("Bon-Nr.", "Beleg-Nr.", "Bon", "Belegnummer", "Rechnung Nr."),
        "cash": ("BAR", "Bar", "Gegeben"),
        "change": ("Rückgeld", "ZURÜCK", "Wechselgeld"),
        "card": ("EC-Karte", "Kartenzahlung", "girocard"),
        "net": ("Netto", "Summe netto", "Nettobetrag"),
        "tax": ("MwSt", "USt", "MwSt."),
        "gross": ("Brutto",),
        "thanks": ("Vielen Dank für Ihren Einkauf!", "Danke und bis bald", "Es bediente Sie: {who}"),
        "tax_id": ("USt-IdNr.", "St.-Nr.", "USt-ID"),
        "date": ("Datum",),
        "till": ("Kasse", "Terminal"),
    },
    "en": {
        "total": ("TOTAL", "Total", "AMOUNT DUE", "Total EUR", "BALANCE"),
        "number": ("Receipt No.", "Receipt #", "Trans.", "Invoice No.", "Ref"),
        "cash": ("CASH", "Cash", "Tendered"),
        "change": ("CHANGE", "Change due"),
        "card": ("CARD", "Visa", "Mastercard"),
        "net": ("Net", "Net total", "Subtotal excl. VAT"),
        "tax": ("VAT", "Tax"),
        "gross": ("Gross",),
        "thanks": ("Thank you!", "Thank you for shopping with us", "Served by {who}"),
        "tax_id": ("VAT No.", "VAT Reg.", "VAT"),
        "date": ("Date",),
        "till": ("Till", "POS"),
    },
    "fr": {
        "total": ("TOTAL", "Total TTC", "À PAYER", "NET À PAYER"),
        "number": ("Ticket n°", "N° ticket", "Facture n°", "Ticket"),
        "cash": ("ESPÈCES", "Espèces"),
        "change": ("RENDU", "Monnaie rendue"),
        "card": ("CB", "Carte bancaire"),
        "net": ("Total HT", "HT", "Montant HT"),
        "tax": ("TVA",),
        "gross": ("TTC",),
        "thanks": ("Merci de votre visite", "À bientôt !", "Vous avez été servi par {who}"),
        "tax_id": ("N° TVA", "TVA intra."),
        "date": ("Date",),
        "till": ("Caisse",),
    },
    "nl": {
        "total": ("TOTAAL", "Te betalen", "Totaal EUR"),
        "number": ("Bonnr.", "Bon", "Kassabon nr."),
        "cash": ("CONTANT", "Contant"),
        "change": ("WISSELGELD", "Terug"),
        "card": ("PIN", "Pinbetaling"),
        "net": ("Excl. BTW", "Netto"),
        "tax": ("BTW",),
        "gross": ("Incl.",),
        "thanks": ("Bedankt en tot ziens", "Dank u wel!"),
        "tax_id": ("BTW-nr.", "BTW"),
        "date": ("Datum",),
        "till": ("Kassa",),
    },
    "es": {
        "total": ("TOTAL", "Total a pagar", "TOTAL EUR"),
        "number": ("Ticket nº", "Factura simplificada nº", "Nº ticket"),
        "cash": ("EFECTIVO", "Entregado"),
        "change": ("CAMBIO", "Devolución"),
        "card": ("TARJETA", "Pago con tarjeta"),
        "net": ("Base imponible", "Base"),
        "tax": ("IVA",),
        "gross": ("Total",),
        "thanks": ("Gracias por su visita", "¡Hasta pronto!"),
        "tax_id": ("NIF", "CIF"),
        "date": ("Fecha",),
        "till": ("Caja",),
    },
    "it": {
        "total": ("TOTALE", "Totale EURO", "TOTALE COMPLESSIVO"),
        "number": ("Scontrino n.", "Documento n.", "N. doc."),
        "cash": ("CONTANTI", "Contante"),
        "change": ("RESTO",),
        "card": ("CARTA", "Bancomat", "Pagamento elettronico"),
        "net": ("Imponibile",),
        "tax": ("IVA",),
        "gross": ("Totale",),
        "thanks": ("Grazie e arrivederci", "Grazie per la visita"),
        "tax_id": ("P.IVA", "Partita IVA"),
        "date": ("Data",),
        "till": ("Cassa",),
    },
}


def receipt_variant(rng: random.Random, *, scans: bool) -> str:
    """Most receipts reach AP photographed or scanned; a few as a PDF from the till."""
    if not scans:
        return "digital"
    roll = rng.random()
    return "digital" if roll < 0.15 else "scan_png" if roll < 0.45 else "photo"


@dataclass
class ReceiptLine:
    description: str
    quantity: Decimal
    price: Decimal  # gross per unit
    amount: Decimal  # gross
    code: str  # the VAT code printed beside the amount (A, B, ...)


@dataclass
class Receipt:
    language: str
    shop: str
    street: str
    city: str
    phone: str
    tax_id: str | None
    number: str | None
    when: datetime
    currency: str
    lines: list[ReceiptLine]
    rates: dict[str, Decimal]  # VAT code -> rate
    by_code: dict[str, tuple[Decimal, Decimal, Decimal]]  # code -> (net, tax, gross)
    total: Decimal
    net: Decimal
    tax: Decimal
    paid_cash: Decimal | None


def draw_receipt(rng: random.Random) -> Receipt:
    country = COUNTRIES[rng.choice(["DE", "DE", "AT", "FR", "BE", "NL", "ES", "IT", "GB", "IE"])]
    language = country.language
    shop_kind = rng.choice(_SHOPS[language])
    owner = "".join(rng.choice("aeioulnrstmkbd") for _ in range(rng.randint(4, 7))).capitalize()
    shop = rng.choice(
        [f"{shop_kind} {owner}", f"{owner} {shop_kind}", f"{shop_kind} {owner} {rng.choice(country.forms)}"]
    )
    postal, city = rng.choice(country.cities)
    street = f"{rng.choice(country.streets)} {rng.randint(1, 120)}"
    rates = {"A": country.rates[0]}
    if len(country.rates) > 1 and rng.random() < 0.5:
        rates["B"] = country.rates[1]
    lines = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12, 18])):
        quantity = Decimal(rng.choice([1, 1, 1, 1, 1, 2, 2, 3, 4, 6]))
        top = 1500 if rng.random() < 0.9 else 6000  # mostly small items, now and then a bigger one
        price = (Decimal(rng.randint(20, top)) / 100).quantize(Decimal("0.01"))
        code = rng.choice(sorted(rates))
        lines.append(
            ReceiptLine(rng.choice(_ITEMS[language]), quantity, price, money(quantity * price), code)
        )
    by_code = {}
    for code, rate in rates.items():
        gross = sum((line.amount for line in lines if line.code == code), Decimal("0.00"))
        if not gross:
            continue
        tax = money(gross * rate / (100 + rate))
        by_code[code] = (gross - tax, tax, gross)
    total = sum((line.amount for line in lines), Decimal("0.00"))
    tax = sum((t for _, t, _ in by_code.values()), Decimal("0.00"))
    paid_cash = None
    if rng.random() < 0.5:
        paid_cash = Decimal(max(5, int((total // 5 + 1) * 5))) if rng.random() < 0.7 else total
    stamp = datetime.combine(
        date(2023, 1, 1) + timedelta(days=rng.randint(0, 1400)), time(rng.randint(6, 21), rng.randint(0, 59))
    )
    return Receipt(
        language=language,
        shop=shop,
        street=street,
        city=f"{postal} {city}",
        phone=f"{rng.randint(10, 999)} {rng.randint(100000, 9999999)}",
        tax_id=vat_id(rng, country.code) if rng.random() < 0.7 else None,
        number=f"{rng.randint(1, 9999):0{rng.choice([0, 4, 6])}d}" if rng.random() < 0.85 else None,
        when=stamp,
        currency=country.currency,
        lines=lines,
        rates=rates,
        by_code=by_code,
        total=total,
        net=total - tax,
        tax=tax,
        paid_cash=paid_cash,
    )


def _row(left: list[Part], right: list[Part]) -> tuple[list[Part], list[Part]]:
    return left, right


def render_receipt(receipt: Receipt, rng: random.Random) -> tuple[bytes, list[Annotation], dict[str, Any]]:
    """The receipt as a narrow PDF, its annotations and the truth (see the module docstring)."""
    words = {key: rng.choice(options) for key, options in _WORDS[receipt.language].items()}
    style = "de" if receipt.language in ("de", "nl", "es", "it") or rng.random() < 0.3 else "en"
    if receipt.language == "fr":
        style = rng.choice(["fr", "de"])
    number = lambda v: fmt_number(v, style)  # noqa: E731
    date_style = {
        "en": "dmy_slash",
        "de": "dmy_dot",
        "fr": "dmy_slash",
        "nl": "dmy_dash",
        "es": "dmy_slash",
        "it": "dmy_slash",
    }[receipt.language]
    if rng.random() < 0.3:
        date_style = "dmy_dot_short"
    fonts = font_set(rng.choice(MONOSPACED))
    width = rng.choice([58, 80]) * MM
    size = rng.uniform(7.0, 8.5) if width < 200 else rng.uniform(8.0, 9.5)
    centre: list[list[Part]] = [
        [(receipt.shop, "vendor_name")],
        [(receipt.street, None)],
        [(receipt.city, None)],
    ]
    centre.append([(f"Tel. {receipt.phone}", None)])
    shown: dict[str, Any] = {}
    if receipt.tax_id:
        centre.append([(words["tax_id"] + " ", "label:vendor_tax_id"), (receipt.tax_id, "vendor_tax_id")])
        shown["vendor_tax_id"] = receipt.tax_id
    rows: list[tuple[list[Part], list[Part]] | str] = ["-"]
    date_text = fmt_date(receipt.when.date(), date_style)
    clock = receipt.when.strftime("%H:%M")
    if receipt.number is not None:
        rows.append(
            _row(
                [(words["number"] + " ", "label:invoice_number"), (receipt.number, "invoice_number")],
                [(date_text, "invoice_date"), (" " + clock, None)],
            )
        )
        shown["invoice_number"] = receipt.number
    else:
        rows.append(
            _row([(words["date"] + " ", "label:invoice_date"), (date_text, "invoice_date")], [(clock, None)])
        )
    shown["invoice_date"] = receipt.when.date()
    rows.append(_row([(f"{words['till']} {rng.randint(1, 9)}", None)], []))
    rows.append("-")
    item_style = rng.choice(["two_line", "columns"])
    truth_lines = []
    for index, line in enumerate(receipt.lines):
        key = f"lines[{index}]"
        code = f" {line.code}" if len(receipt.rates) > 1 or rng.random() < 0.5 else ""
        if item_style == "columns":
            rows.append(
                _row(
                    [
                        (str(int(line.quantity)), f"{key}.quantity"),
                        (f" {line.description}", f"{key}.description"),
                    ],
                    [
                        (number(line.price), f"{key}.unit_price"),
                        ("  ", None),
                        (number(line.amount), f"{key}.amount"),
                        (code, None),
                    ],
                )
            )
        else:
            rows.append(
                _row(
                    [(line.description, f"{key}.description")],
                    [(number(line.amount), f"{key}.amount"), (code, None)],
                )
            )
            if line.quantity != 1:
                rows.append(
                    _row(
                        [
                            (f"  {line.quantity:f}", f"{key}.quantity"),
                            (" x ", None),
                            (number(line.price), f"{key}.unit_price"),
                        ],
                        [],
                    )
                )
        truth_lines.append(
            {
                "description": line.description,
                "sku": None,
                "quantity": format(line.quantity, "f"),
                "unit_price": format(line.price, "f"),
                "amount": format(line.amount, "f"),
            }
        )
    rows.append("=")
    rows.append(_row([(words["total"], "label:total")], [(number(receipt.total), "total")]))
    if receipt.paid_cash is not None:
        rows.append(_row([(words["cash"], None)], [(number(receipt.paid_cash), None)]))
        if receipt.paid_cash != receipt.total:
            rows.append(_row([(words["change"], None)], [(number(receipt.paid_cash - receipt.total), None)]))
    else:
        rows.append(_row([(words["card"], None)], [(number(receipt.total), None)]))
    rows.append("-")
    # VAT summary: code, rate, net, tax, gross per rate, then the net and tax totals.
    rows.append(
        _row([(f"{words['tax']} %", None)], [(f"{words['net']}  {words['tax']}  {words['gross']}", None)])
    )
    for code, (net, tax, gross) in receipt.by_code.items():
        rate = receipt.rates[code]
        places = 0 if rate == rate.to_integral_value() else 1
        rows.append(
            _row(
                [(f"{code} {fmt_number(rate, style, places)}%", None)],
                [(f"{number(net)}  {number(tax)}  {number(gross)}", None)],
            )
        )
    rows.append(_row([(words["net"], "label:subtotal")], [(number(receipt.net), "subtotal")]))
    rows.append(_row([(words["tax"], "label:tax_amount")], [(number(receipt.tax), "tax_amount")]))
    footer = rng.choice(_WORDS[receipt.language]["thanks"]).format(
        who=rng.choice(["Anna", "Marco", "Sam", "Eva"])
    )
    leading = size * rng.uniform(1.15, 1.4)
    height = (len(centre) + len(rows) + 5) * leading + 30
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    writer = Writer(canvas, fonts, fonts, height)
    margin = 3 * MM
    y = height - 14 - size
    writer.draw(width / 2, y, centre[0], size * 1.3, align="center", bold=True)
    y -= leading * 1.4
    for parts in centre[1:]:
        writer.draw(width / 2, y, parts, size, align="center")
        y -= leading
    y -= leading * 0.3
    char = writer.width("-", size)
    for row in rows:
        if isinstance(row, str):
            writer.draw(margin, y, row * int((width - 2 * margin) / char), size)
        else:
            left, right = row
            writer.draw(margin, y, left, size, bold=left[:1] == [(words["total"], "label:total")])
            if right:
                writer.draw(width - margin, y, right, size, align="right", bold=right[0][1] == "total")
        y -= leading
    y -= leading * 0.5
    writer.draw(width / 2, y, footer, size * 0.9, align="center")
    canvas.showPage()
    canvas.save()
    shown.update({"subtotal": receipt.net, "tax_amount": receipt.tax, "total": receipt.total})
    truth = {
        "doc_type": "invoice",
        "fields": {
            "vendor_name": receipt.shop,
            "vendor_tax_id": receipt.tax_id,
            "vendor_iban": None,
            "invoice_number": receipt.number,
            "invoice_date": receipt.when.date().isoformat(),
            "due_date": None,
            "po_number": None,
            "currency": receipt.currency,
            "subtotal": format(receipt.net, "f"),
            "tax_amount": format(receipt.tax, "f"),
            "total": format(receipt.total, "f"),
        },
        "lines": truth_lines,
    }
    extra = {
        "truth": truth,
        "number_style": style,
        "date_style": date_style,
        "font": fonts.family,
        "width_mm": round(width / MM),
    }
    return buffer.getvalue(), writer.annotations, extra


# -- wear and photography -------------------------------------------------------------------------


def thermal(image: Image.Image, rng: random.Random) -> Image.Image:
    """Thermal-paper print: faded and uneven ink, a worn print-head streak, dropped dots."""
    ink = 255.0 - np.asarray(image, dtype=np.float32)
    h, w = ink.shape
    gen = np.random.default_rng(rng.randrange(2**32))
    strength = rng.uniform(0.55, 1.0)
    across = 1.0 - rng.uniform(0.0, 0.35) * np.abs(np.linspace(-1, 1, w)) ** rng.uniform(1, 3)
    along = 1.0 - rng.uniform(0.0, 0.3) * ndimage.gaussian_filter1d(gen.random(h), sigma=h / 20) * 2
    ink *= strength * across[None, :] * np.clip(along, 0.3, 1.0)[:, None]
    for _ in range(rng.randint(0, 3)):  # a worn dot line of the print head leaves a light vertical streak
        x = rng.randrange(w)
        ink[:, max(0, x - 1) : x + rng.randint(1, 3)] *= rng.uniform(0.1, 0.5)
    ink[gen.random(ink.shape) < rng.uniform(0.02, 0.12)] *= 0.3
    out = Image.fromarray(np.clip(255.0 - ink, 0, 255).astype(np.uint8), mode="L")
    return out.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.2, 0.7)))


def _perspective_coefficients(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE data mapping output points ``dst`` back to input points ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.asarray(rows, dtype=np.float64)
    b = np.asarray([c for point in src for c in point], dtype=np.float64)
    return [float(v) for v in np.linalg.solve(a, b)]


def photograph(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of the paper receipt: crumpled, on a table, in perspective, shadowed."""
    gen = np.random.default_rng(rng.randrange(2**32))
    paper = np.asarray(image, dtype=np.float32) / 255.0
    h, w = paper.shape
    # Crumple: a smooth random displacement field, and the light its folds catch.
    amplitude = rng.uniform(2.0, 9.0)
    sigma = rng.uniform(18, 45)
    dx = ndimage.gaussian_filter(gen.standard_normal((h, w)), sigma) * amplitude * sigma
    dy = ndimage.gaussian_filter(gen.standard_normal((h, w)), sigma) * amplitude * sigma
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = ndimage.map_coordinates(paper, [yy + dy, xx + dx], order=1, mode="nearest")
    shade = 1.0 + np.clip(np.gradient(dx, axis=1) * rng.uniform(0.5, 1.5), -0.25, 0.25)
    tint = np.array(
        [rng.uniform(0.96, 1.0), rng.uniform(0.95, 0.99), rng.uniform(0.9, 0.97)], dtype=np.float32
    )
    rgb = paper[..., None] * shade[..., None] * tint[None, None, :]
    # The table: a coloured, grainy surface with a margin around the receipt.
    pad_x, pad_y = int(w * rng.uniform(0.15, 0.5)), int(h * rng.uniform(0.05, 0.15))
    bg_colour = np.array(
        [rng.uniform(0.1, 0.6), rng.uniform(0.1, 0.5), rng.uniform(0.05, 0.45)], dtype=np.float32
    )
    canvas_h, canvas_w = h + 2 * pad_y, w + 2 * pad_x
    grain = ndimage.gaussian_filter(gen.standard_normal((canvas_h, canvas_w)), (1, rng.uniform(2, 12))) * 0.05
    scene = np.clip(bg_colour[None, None, :] + grain[..., None], 0, 1)
    scene[pad_y : pad_y + h, pad_x : pad_x + w] = rgb
    photo = Image.fromarray((np.clip(scene, 0, 1) * 255).astype(np.uint8), mode="RGB")
    # Perspective: the camera is not square above the paper.
    jitter = rng.uniform(0.02, 0.09)
    corners = [(0, 0), (canvas_w, 0), (canvas_w, canvas_h), (0, canvas_h)]
    moved = [
        (x + rng.uniform(-jitter, jitter) * canvas_w, y + rng.uniform(-jitter, jitter) * canvas_h)
        for x, y in corners
    ]
    photo = photo.transform(
        (canvas_w, canvas_h),
        Image.Transform.PERSPECTIVE,
        _perspective_coefficients(corners, moved),
        resample=Image.Resampling.BILINEAR,
        fillcolor=tuple(int(c * 255) for c in bg_colour),
    )
    pixels = np.asarray(photo, dtype=np.float32) / 255.0
    # A soft shadow (hand or phone) over part of the scene, and light falling off to one side.
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    edge = (xx - canvas_w * rng.uniform(0.2, 0.8)) * np.cos(angle) + (
        yy - canvas_h * rng.uniform(0.2, 0.8)
    ) * np.sin(angle)
    shadow = 1.0 - rng.uniform(0.25, 0.5) / (1.0 + np.exp(-edge / (canvas_w * 0.03)))
    if rng.random() < 0.35:
        shadow = np.ones_like(shadow)
    light = 1.0 - rng.uniform(0.0, 0.3) * (xx / canvas_w if rng.random() < 0.5 else yy / canvas_h)
    pixels = pixels * (shadow * light)[..., None]
    pixels += gen.normal(0.0, rng.uniform(0.01, 0.03), size=pixels.shape)
    photo = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), mode="RGB")
    photo = photo.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 1.0)))
    scale = rng.uniform(0.6, 0.9)
    return photo.resize((int(canvas_w * scale), int(canvas_h * scale)), Image.Resampling.BILINEAR)


def make_receipt(seed: int, doc: Any) -> tuple[bytes, dict[str, Any]]:
    """File bytes and truth of one randomized receipt (``doc`` is a ``randomized.RandomDoc``)."""
    from sandbox.corpus.randomized import split_of

    receipt = draw_receipt(random.Random(f"receipt:{seed}:{doc.index}"))
    pdf, annotations, extra = render_receipt(receipt, random.Random(f"receipt-style:{seed}:{doc.index}"))
    truth = extra["truth"]
    rng = random.Random(f"receipt-wear:{seed}:{doc.index}")
    data = pdf
    if doc.variant in ("scan_png", "photo"):
        page = thermal(scanning.rasterise(pdf, dpi=RENDER_DPI)[0], rng)
        if doc.variant == "scan_png":
            page = scanning.degrade(page, rng)
            data = scanning.encode_png(page)
        else:
            buffer = io.BytesIO()
            photograph(page, rng).save(buffer, format="JPEG", quality=rng.randint(60, 90))
            data = buffer.getvalue()
    truth.update(
        {
            "layout": "random_receipt",
            "split": split_of(seed),
            "variant": doc.variant,
            "language": receipt.language,
            "vendor_id": None,
            "sequence": doc.index + 1,
            "source_stem": None,
            "mismatches": [],
            "style": {key: extra[key] for key in ("number_style", "date_style", "font", "width_mm")},
            "annotations": [a.to_json() for a in annotations],
        }
    )
    if doc.variant != "digital":
        truth["scan"] = {"dpi": RENDER_DPI}
    return data, truth
