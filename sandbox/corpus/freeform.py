"""Draws an invoice or credit note in a layout of its own, drawn from wide distributions.

``draw_style`` picks every visual decision from one seeded RNG: language and label wording,
fonts and sizes, letterhead and logo, where the title, the addresses and the header facts go
(key-value block, label above value, grid cells, boxes, a free sentence, no label at all),
which columns the line table has and how it is ruled, how totals and VAT rates are shown,
where the VAT id and the IBAN are printed and whether at all. ``render`` draws the content
with that style and records where each truth value was printed (``Annotation``), so the truth
says exactly what is on the page.
"""

from __future__ import annotations

import colorsys
import io
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from sandbox.corpus import vocabulary
from sandbox.corpus.content import Invoice, Line
from sandbox.corpus.fonts import FAMILIES, MONOSPACED, FontSet, ascent_descent, font_set
from sandbox.corpus.formats import CURRENCY_SYMBOLS, fmt_date, fmt_iban, fmt_money, fmt_number, fmt_quantity
from sandbox.corpus.letterhead_marks import Mark, draw_badge, mark_for, mark_width

Part = tuple[str, str | None]  # (text, annotation key or None)

_DATE_STYLES = {
    "en": ("dmy_slash", "en_long", "en_short", "en_dmy_long", "en_dash", "iso", "dmy_dot"),
    "de": ("dmy_dot", "dmy_dot", "dmy_dot_short", "de_long", "iso", "dmy_dot_nopad"),
    "fr": ("dmy_slash", "dmy_slash", "fr_long", "dmy_dot", "dmy_dash"),
    "nl": ("dmy_dash", "nl_long", "dmy_slash", "dmy_dot"),
    "es": ("dmy_slash", "es_long", "dmy_dash", "dmy_slash"),
    "it": ("dmy_slash", "it_long", "dmy_dot", "dmy_slash"),
}
_NUMBER_STYLES = {
    "en": ("en", "en", "en", "plain"),
    "de": ("de", "de", "de", "ch", "plain_comma"),
    "fr": ("fr", "fr", "de", "plain_comma"),
    "nl": ("de", "de", "en"),
    "es": ("de", "de", "plain_comma"),
    "it": ("de", "de", "plain_comma"),
}
_PLACEMENTS = ("symbol_before", "symbol_after", "code_before", "code_after")
META_KEYS = ("invoice_number", "invoice_date", "due_date", "po_number", "customer_no", "delivery_date")


@dataclass
class Annotation:
    key: str  # a truth path: "invoice_number", "lines[2].amount", or "label:total" for a label
    text: str
    page: int
    bbox: tuple[float, float, float, float]  # PDF points from the page's top-left (pdfplumber's way)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
        }


@dataclass
class Style:
    """Every visual decision of one document (see the module docstring)."""

    heldout: bool
    language: str
    number_style: str
    date_style: str
    placement: str  # currency placement on totals
    row_currency: bool
    page: tuple[float, float]
    margins: tuple[float, float, float, float]  # left, right, top, bottom
    body: FontSet
    heading: FontSet
    size: float
    title_size: float
    accent: tuple[float, float, float]
    letterhead: str
    logo: str
    name_upper: bool
    title: str
    title_pos: str
    number_mode: str
    date_mode: str
    due_mode: str
    po_mode: str
    tax_id_pos: str
    iban_pos: str
    iban_grouped: bool
    meta_style: str
    meta_pos: str
    meta_keys: list[str]
    labels: dict[str, str]
    colon: str
    recipient_label: bool
    window_line: bool
    buyer_vat: bool
    columns: list[str]
    unit_in_quantity: bool
    header_style: str
    row_style: str
    row_pad: float
    subrow_rate: float
    credit_negative: bool
    totals_style: str
    tax_label: str
    vat_table: bool
    repeat_header: bool
    carry: bool
    footer_columns: int
    footer_size: float
    page_label: str | None
    # What a continuation page repeats at its top: the vendor and the document's number (small),
    # the whole letterhead, or nothing (the table just goes on).
    continuation: str
    thanks: bool
    shout_labels: bool
    # The vendor as a party block in body type under its role ("Supplier", "Lieferant") rather
    # than a letterhead in large bold type; and whether the footer repeats the vendor's name.
    # Many real invoices print the name once, in body type: a model must not need either cue.
    vendor_block: bool = False
    footer_name: bool = True

    def summary(self) -> dict[str, Any]:
        """The decisions a reader of the truth may want (kept small: no content)."""
        return {
            "language": self.language,
            "number_style": self.number_style,
            "date_style": self.date_style,
            "font": self.body.family,
            "size": self.size,
            "letterhead": self.letterhead,
            "meta_style": self.meta_style,
            "meta_pos": self.meta_pos,
            "number_mode": self.number_mode,
            "date_mode": self.date_mode,
            "columns": self.columns,
            "header_style": self.header_style,
            "row_style": self.row_style,
            "totals_style": self.totals_style,
            "labels": self.labels,
            "continuation": self.continuation,
            "vendor_block": self.vendor_block,
            "footer_name": self.footer_name,
        }


def _accent(rng: random.Random) -> tuple[float, float, float]:
    if rng.random() < 0.2:
        grey = rng.uniform(0.0, 0.35)
        return (grey, grey, grey)
    return colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.75))


def _case(word: str, shout: bool) -> str:
    """Labels in capitals when the style shouts; ``{placeholders}`` stay as they are."""
    if not shout:
        return word
    return "".join(part if part.startswith("{") else part.upper() for part in re.split(r"(\{\w+\})", word))


def draw_style(rng: random.Random, invoice: Invoice, *, heldout: bool, language: str | None = None) -> Style:
    """Draws one document's look; ``invoice`` only says which fields and columns there are."""
    language = language or invoice.language
    credit = invoice.doc_type == "credit_note"
    words: dict[str, str] = {}

    def word(key: str) -> str:
        if key not in words:
            words[key] = vocabulary.pick(rng, language, key, heldout=heldout)
        return words[key]

    # Proportional faces mostly; a typewriter-like monospaced face now and then.
    families = [f for f in FAMILIES if f not in MONOSPACED]
    body = rng.choice(families) if rng.random() > 0.1 else rng.choice(MONOSPACED)
    heading = body if rng.random() < 0.6 else rng.choice(families)
    page = LETTER if (language == "en" and rng.random() < 0.35) else A4
    shout = rng.random() < 0.15
    has_discount = any(line.discount for line in invoice.lines)
    several_rates = len({line.vat_rate for line in invoice.lines}) > 1
    columns: list[str] = ["description", "quantity", "unit_price", "amount"]
    if rng.random() < 0.75:
        columns.insert(0 if rng.random() < 0.7 else 1, "sku")
    unit_column = rng.random() < 0.3
    unit_in_quantity = not unit_column and rng.random() < 0.3
    if unit_column:
        columns.insert(columns.index("quantity") + 1, "unit")
    if rng.random() < 0.12:  # quantity first, as typewriter-era layouts do
        columns.remove("quantity")
        columns.insert(0, "quantity")
    if has_discount:
        columns.insert(columns.index("amount"), "discount")
    if invoice.print_rates and (several_rates or rng.random() < 0.15):
        columns.insert(columns.index("amount") + (1 if rng.random() < 0.3 else 0), "vat_rate")
    if rng.random() < 0.5:
        columns.insert(0, "pos")
    for key in columns:
        word(key)
    meta_keys = ["invoice_number", "invoice_date"]
    if rng.random() < 0.3:
        meta_keys.reverse()
    due_mode = "none" if credit else rng.choice(["meta", "meta", "meta", "sentence", "both", "days"])
    po_mode = rng.choice(["meta", "meta", "meta", "meta", "sentence", "none"])
    if invoice.due is None:
        due_mode = "none"
    if invoice.po_number is None:
        po_mode = "none"
    extras = [k for k in ("customer_no", "delivery_date") if rng.random() < 0.45]
    if invoice.delivery_date is None and "delivery_date" in extras:
        extras.remove("delivery_date")
    if due_mode in ("meta", "both"):
        extras.append("due_date")
    if po_mode == "meta":
        extras.append("po_number")
    rng.shuffle(extras)
    meta_keys += extras
    number_mode = rng.choice(["meta"] * 7 + ["sentence", "title"])
    date_mode = rng.choice(["meta"] * 6 + ["place"]) if number_mode != "sentence" else "sentence"
    if number_mode == "sentence":
        meta_keys = [k for k in meta_keys if k not in ("invoice_number", "invoice_date")]
    if number_mode == "title":
        meta_keys.remove("invoice_number")
    if date_mode == "place":
        meta_keys.remove("invoice_date")
    for key in meta_keys:
        word("credit_number" if (key == "invoice_number" and credit) else key)
    for key in (
        "subtotal",
        "tax",
        "credit_total" if credit and rng.random() < 0.5 else "total",
        "bill_to",
        "tax_id",
        "bank",
        "page",
        "carried",
        "brought",
        "iban",
        "bic",
    ):
        word(key)
    if "total" not in words:
        words["total"] = words["credit_total"]
    title = word("credit_note" if credit else "invoice")
    meta_style = rng.choice(["kv", "kv", "kv", "inline", "stacked", "grid", "boxes"])
    return Style(
        heldout=heldout,
        language=language,
        number_style=rng.choice(_NUMBER_STYLES[language]),
        date_style=rng.choice(_DATE_STYLES[language]),
        placement=rng.choice(_PLACEMENTS),
        row_currency=rng.random() < 0.1,
        page=page,
        margins=(rng.uniform(28, 72), rng.uniform(28, 60), rng.uniform(24, 60), rng.uniform(20, 50)),
        body=font_set(body),
        heading=font_set(heading),
        size=round(rng.uniform(7.5, 10.0), 1),
        title_size=round(rng.uniform(13, 28), 1),
        accent=_accent(rng),
        letterhead=rng.choice(
            ["logo_left", "logo_right", "centered", "band", "right_block", "minimal", "sidebar"]
        ),
        logo=rng.choice(["circle", "square", "diamond", "bars", "ring", "wordmark", "none"]),
        name_upper=rng.random() < 0.25,
        title=title.upper() if rng.random() < 0.3 else title,
        title_pos=rng.choice(["left", "right", "center", "meta"]),
        number_mode=number_mode,
        date_mode=date_mode,
        due_mode=due_mode,
        po_mode=po_mode,
        tax_id_pos=rng.choice(["footer", "footer", "footer", "header", "meta", "none"]),
        iban_pos=rng.choice(["footer", "footer", "footer", "sentence", "box", "none"]),
        iban_grouped=rng.random() < 0.7,
        meta_style=meta_style,
        meta_pos=rng.choice(["right", "right", "left", "row"]) if meta_style != "grid" else "row",
        meta_keys=meta_keys,
        labels={k: _case(v, shout) for k, v in words.items()},
        colon=rng.choice(["", ":", ":", ":"] + ([" :"] if language == "fr" else [])),
        recipient_label=rng.random() < 0.6,
        window_line=rng.random() < 0.35,
        buyer_vat=rng.random() < 0.3,
        columns=columns,
        unit_in_quantity=unit_in_quantity,
        header_style=rng.choice(["band", "underline", "boxed", "plain", "shaded", "overline"]),
        row_style=rng.choice(["none", "lines", "zebra", "grid", "none", "lines"]),
        row_pad=rng.uniform(2.0, 7.0),
        subrow_rate=rng.choice([0.0, 0.0, 0.15, 0.4]),
        credit_negative=rng.random() < 0.7,
        totals_style=rng.choice(["plain", "ruled", "boxed", "band", "double"]),
        tax_label=rng.choice(
            [
                "{tax} {rate}%",
                "{tax} {rate} %",
                "{tax} ({rate}%)",
                "{rate}% {tax}",
                "{tax} {rate}% / {net}",
                "{tax}",
            ]
        ),
        vat_table=several_rates and rng.random() < 0.5,
        repeat_header=rng.random() < 0.8,
        carry=rng.random() < 0.5,
        footer_columns=rng.choice([1, 2, 3, 3, 4]),
        footer_size=round(rng.uniform(6.0, 8.0), 1),
        page_label=word("page") if rng.random() < 0.7 else None,
        thanks=rng.random() < 0.5,
        shout_labels=shout,
        # Drawn last, so that every earlier decision of a seed stays as it was.
        continuation=rng.choice(["small", "small", "letterhead", "none"]),
        # Drawn after it, for the same reason.
        vendor_block=rng.random() < 0.3,
        footer_name=rng.random() < 0.6,
    )


class _Canvas(Canvas):
    """A canvas that draws "Page n of N" once N is known (pages are kept until save)."""

    def __init__(self, *args: Any, page_label: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states: list[dict[str, Any]] = []
        self._page_label = page_label

    def showPage(self) -> None:
        self._states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._states)
        for number, state in enumerate(self._states, 1):
            self.__dict__.update(state)
            self._page_label(self, number, total)
            Canvas.showPage(self)
        Canvas.save(self)


class Writer:
    """Draws text with a document's fonts and records annotated spans."""

    def __init__(self, canvas: Canvas, body: FontSet, heading: FontSet, page_height: float) -> None:
        self.c = canvas
        self.body = body
        self.heading = heading
        self.height = page_height
        self.page = 1
        self.annotations: list[Annotation] = []

    def font(self, *, bold: bool = False, italic: bool = False, heading: bool = False) -> str:
        fonts = self.heading if heading else self.body
        return fonts.name(bold=bold, italic=italic)

    def width(self, text: str, size: float, **kw: bool) -> float:
        return stringWidth(text, self.font(**kw), size)

    def parts_width(self, parts: Sequence[Part], size: float, **kw: bool) -> float:
        return sum(self.width(text, size, **kw) for text, _ in parts)

    def draw(
        self,
        x: float,
        y: float,
        parts: Sequence[Part] | str,
        size: float,
        *,
        align: str = "left",
        colour: tuple[float, float, float] | None = None,
        **kw: bool,
    ) -> float:
        """Draws the parts side by side from baseline ``y``; returns the drawn width."""
        if isinstance(parts, str):
            parts = [(parts, None)]
        font = self.font(**kw)
        total = sum(stringWidth(text, font, size) for text, _ in parts)
        if align == "right":
            x -= total
        elif align == "center":
            x -= total / 2
        self.c.setFont(font, size)
        if colour is not None:
            self.c.setFillColorRGB(*colour)
        _, descent = ascent_descent(font)
        # pdfplumber's convention: a glyph box is one font size tall, its bottom on the descent line.
        bottom = self.height - (y + descent * size / 1000)
        for text, key in parts:
            w = stringWidth(text, font, size)
            if text:
                self.c.drawString(x, y, text)
            if key is not None and text.strip():
                lead = stringWidth(text[: len(text) - len(text.lstrip())], font, size)
                tail = stringWidth(text[len(text.rstrip()) :], font, size)
                self.annotations.append(
                    Annotation(
                        key,
                        text.strip(),
                        self.page,
                        (x + lead, bottom - size, x + w - tail, bottom),
                    )
                )
            x += w
        if colour is not None:
            self.c.setFillColorRGB(0, 0, 0)
        return total


@dataclass
class _Values:
    """The content as this style prints it (formatted strings), with the truth values beside."""

    style: Style
    invoice: Invoice
    sign: Decimal = Decimal(1)
    shown: dict[str, Any] = field(default_factory=dict)  # truth field -> value, when printed

    def number(self, value: Decimal, places: int = 2) -> str:
        return fmt_number(value, self.style.number_style, places)

    def exact(self, value: Decimal | None) -> str:
        """A price or amount with every decimal it has (at least two); nothing for no value."""
        return "" if value is None else self.number(value, _places(value))

    def money(self, value: Decimal) -> str:
        if self.invoice.currency is None:  # an e-invoice that names no currency prints none
            return self.number(value * self.sign, _places(value))
        number = fmt_money(
            value * self.sign, self.invoice.currency, self.style.number_style, self.style.placement
        )
        if _places(value) > 2:
            return number.replace(self.number(value * self.sign), self.exact(value * self.sign))
        return number

    def row_money(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        if self.style.row_currency:
            return self.money(value)
        return self.exact(value * self.sign)

    def date(self, value: date) -> str:
        return fmt_date(value, self.style.date_style)


def _places(value: Decimal) -> int:
    """Decimals to print so that nothing of ``value`` is lost, at least the usual two."""
    exponent = value.normalize().as_tuple().exponent
    return max(2, -exponent if isinstance(exponent, int) else 2)


def _label(style: Style, key: str) -> str:
    return style.labels[key]


def _with_colon(style: Style, text: str) -> str:
    return text if not style.colon or text.endswith(":") else text + style.colon


class _Renderer:
    def __init__(self, invoice: Invoice, style: Style, rng: random.Random) -> None:
        self.inv = invoice
        self.s = style
        self.rng = rng
        credit = invoice.doc_type == "credit_note"
        self.v = _Values(style, invoice, Decimal(-1) if credit and style.credit_negative else Decimal(1))
        self.credit = credit
        self.buffer = io.BytesIO()
        self.c = _Canvas(
            self.buffer, pagesize=style.page, invariant=1, pageCompression=1, page_label=self._page_label
        )
        self.c.setTitle(style.title)
        self.c.setAuthor(invoice.vendor.name)
        self.w = Writer(self.c, style.body, style.heading, style.page[1])
        self.width, self.height = style.page
        left, right, top, _ = style.margins
        self.sidebar = 150.0 if style.letterhead == "sidebar" else 0.0
        self.left = left + self.sidebar
        self.right = self.width - right
        self.top = self.height - top
        self.footer_lines = self._footer_columns()
        footer_h = max((len(col) for col in self.footer_lines), default=0) * (style.footer_size + 2.5)
        self.bottom = style.margins[3] + footer_h + 22
        self.y = self.top
        self.in_table = False
        self.columns: list[tuple[str, str, float, float]] = []
        self.running = Decimal(0)
        self.row_size = style.size

    # -- small helpers ---------------------------------------------------------------------
    def _word(self, key: str) -> str:
        return vocabulary.pick(self.rng, self.s.language, key, heldout=self.s.heldout)

    def _text_size(self) -> float:
        return self.s.size

    def _mark(self, key: str, value: Any) -> None:
        self.v.shown[key] = value

    def _page_label(self, canvas: Canvas, page: int, pages: int) -> None:
        if self.s.page_label is None:
            return
        text = self.s.page_label.format(page=page, pages=pages, next=page + 1, prev=page - 1)
        canvas.setFont(self.s.body.regular, 7)
        canvas.setFillColorRGB(0.25, 0.25, 0.25)
        canvas.drawRightString(self.width - self.s.margins[1], self.s.margins[3] * 0.5 + 4, text)

    def _vendor_lines(self) -> list[str]:
        vendor = self.inv.vendor
        return [vendor.street, f"{vendor.postal} {vendor.city}"]

    def _tax_id_text(self) -> str:
        tax_id = self.inv.vendor.tax_id or ""
        if self.rng.random() < 0.2 and len(tax_id) > 6:
            return f"{tax_id[:2]} {tax_id[2:5]} {tax_id[5:8]} {tax_id[8:]}".strip()
        return tax_id

    def _tax_id_parts(self) -> list[Part]:
        self._mark("vendor_tax_id", self.inv.vendor.tax_id)
        return [
            (_with_colon(self.s, _label(self.s, "tax_id")) + " ", "label:vendor_tax_id"),
            (self._tax_id_text(), "vendor_tax_id"),
        ]

    def _iban_parts(self) -> list[Part]:
        iban = self.inv.vendor.iban or ""
        self._mark("vendor_iban", iban)
        label = _label(self.s, "iban")
        return [
            (label + ("" if label.endswith(":") else " "), "label:vendor_iban"),
            (fmt_iban(iban, self.s.iban_grouped), "vendor_iban"),
        ]

    # -- page furniture --------------------------------------------------------------------
    def _footer_columns(self) -> list[list[list[Part]]]:
        vendor, style = self.inv.vendor, self.s
        # A sidebar letterhead prints no name: the footer always does then.
        named = style.footer_name or style.letterhead == "sidebar"
        name_parts: list[Part] = [(vendor.name, "vendor_name")] if named else []

        def given(*lines: tuple[str, str]) -> list[list[Part]]:
            # (label, value) lines; a value the vendor does not have leaves its line out.
            return [[(f"{label}{value}", None)] for label, value in lines if value.strip()]

        address: list[list[Part]] = [
            *([name_parts] if name_parts else []),
            *given(("", vendor.street), ("", f"{vendor.postal} {vendor.city}")),
        ]
        contact = given(
            (f"{self._word('phone')} ", vendor.phone),
            (f"{self._word('email')} ", vendor.email),
            ("", vendor.web),
        )
        bank: list[list[Part]] = []
        if style.iban_pos == "footer" and vendor.iban:
            bank = [
                *given((f"{_label(style, 'bank')}: ", vendor.bank_name)),
                self._iban_parts(),
                *given((f"{_label(style, 'bic')} ", vendor.bic)),
            ]
        legal = given(
            (f"{self._word('register')} ", vendor.register.split()[-1] if vendor.register else ""),
            (f"{self._word('director')}: ", vendor.director),
        )
        if style.tax_id_pos == "footer" and vendor.tax_id:
            legal.insert(0, self._tax_id_parts())
        blocks = [address, contact, bank, legal]
        blocks = [b for b in blocks if b] or [[[(vendor.name, "vendor_name")]]]
        if style.footer_columns == 1:
            # One or two centred lines joining everything, as slim footers do.
            limit = self.right - self.left
            rows: list[list[Part]] = [[]]
            for block in blocks:
                for line in block:
                    candidate = [*rows[-1], (" · ", None), *line] if rows[-1] else list(line)
                    if rows[-1] and self.w.parts_width(candidate, style.footer_size) > limit:
                        rows.append(list(line))
                    else:
                        rows[-1] = candidate
            return [rows]
        per = max(1, len(blocks) // style.footer_columns + (len(blocks) % style.footer_columns > 0))
        columns: list[list[list[Part]]] = []
        for i in range(0, len(blocks), per):
            columns.append([line for block in blocks[i : i + per] for line in block])
        return columns

    def _draw_footer(self) -> None:
        style = self.s
        size = style.footer_size
        top = style.margins[3] + max(len(c) for c in self.footer_lines) * (size + 2.5) + 6
        self.c.setLineWidth(0.4)
        self.c.setStrokeColorRGB(*style.accent)
        self.c.line(self.left, top + 4, self.right, top + 4)
        self.c.setStrokeColorRGB(0, 0, 0)
        n = len(self.footer_lines)
        span = (self.right - self.left) / n
        for i, column in enumerate(self.footer_lines):
            y = top - size - 2
            for line in column:
                if n == 1:
                    # A one-column footer is centred and, if too wide, set smaller.
                    fit = size
                    while self.w.parts_width(line, fit) > self.right - self.left and fit > 4.5:
                        fit -= 0.3
                    self.w.draw((self.left + self.right) / 2, y, line, fit, align="center")
                else:
                    fit = size
                    while self.w.parts_width(line, fit) > span - 6 and fit > 4.5:
                        fit -= 0.3
                    self.w.draw(self.left + i * span, y, line, fit)
                y -= size + 2.5

    def _draw_sidebar(self) -> None:
        style, vendor = self.s, self.inv.vendor
        self.c.setFillColorRGB(*style.accent)
        self.c.rect(0, 0, self.sidebar - 14, self.height, stroke=0, fill=1)
        white = (1.0, 1.0, 1.0)
        y = self.top - 10
        size = 12.0
        # The longest word must fit the bar: long one-word names are set smaller.
        while (
            max((self.w.width(w, size, bold=True) for w in vendor.name.split()), default=0)
            > self.sidebar - 40
            and size > 6
        ):
            size -= 0.5
        line = ""
        for piece in vendor.name.split():
            if self.w.width(f"{line} {piece}".strip(), size, bold=True) > self.sidebar - 40:
                self.w.draw(14, y, line, size, colour=white, bold=True)
                y -= size + 3
                line = piece
            else:
                line = f"{line} {piece}".strip()
        self.w.draw(14, y, line, size, colour=white, bold=True)
        y -= 22
        for text in self._vendor_lines():
            self.w.draw(14, y, text, 7.5, colour=white)
            y -= 10
        if self.w.page == 1 and style.tax_id_pos == "header" and vendor.tax_id:
            y -= 6
            self.w.draw(14, y, [(_label(style, "tax_id"), "label:vendor_tax_id")], 7, colour=white)
            self.w.draw(14, y - 9, [(self._tax_id_text(), "vendor_tax_id")], 7.5, colour=white)
            self._mark("vendor_tax_id", vendor.tax_id)
        self.c.setFillColorRGB(0, 0, 0)

    def _new_page(self) -> None:
        if self.in_table and self.s.carry:
            self._carry_row(_label(self.s, "carried"))
        self._draw_footer()
        self.c.showPage()
        self.w.page += 1
        self.page_start()
        if self.s.continuation == "small":  # the vendor and the document named again, small
            self.w.draw(self.left, self.top - 8, self.inv.vendor.name, self.s.size + 1, bold=True)
            self.w.draw(
                self.right, self.top - 8, f"{self.s.title} {self.inv.number}", self.s.size, align="right"
            )
            self.c.setLineWidth(0.5)
            self.c.line(self.left, self.top - 14, self.right, self.top - 14)
            self.y = self.top - 30
        elif self.s.continuation == "letterhead":  # stationery with the letterhead printed on every sheet
            self._letterhead()
            self.y = min(self.y, self.top - 30)
        else:
            self.y = self.top - 10
        if self.in_table:
            if self.s.repeat_header:
                self._table_header()
            if self.s.carry:
                self._carry_row(_label(self.s, "brought"))

    def page_start(self) -> None:
        if self.sidebar:
            self._draw_sidebar()

    def _room(self, needed: float) -> None:
        if self.y - needed < self.bottom:
            self._new_page()

    # -- letterhead --------------------------------------------------------------------------
    def _logo_width(self, size: float) -> float:
        if self.s.logo == "none":
            return 0.0
        if self.s.logo == "wordmark":
            return self.w.width(self.inv.vendor.name.split()[0].upper(), size * 0.55, bold=True, heading=True)
        return size

    def _logo(self, x: float, y: float, size: float) -> float:
        """Draws the vendor's mark with its bottom-left at (x, y); returns its width."""
        shape, c = self.s.logo, self.c
        name = self.inv.vendor.name
        initials = "".join(w[0] for w in name.split()[:2] if w[:1].isalpha()).upper() or "X"
        c.setFillColorRGB(*self.s.accent)
        c.setStrokeColorRGB(*self.s.accent)
        if shape == "none":
            return 0.0
        if shape == "wordmark":
            brand = name.split()[0].upper()
            w = self.w.width(brand, size * 0.55, bold=True, heading=True)
            self.w.draw(x, y + size * 0.3, brand, size * 0.55, colour=self.s.accent, bold=True, heading=True)
            c.rect(x, y + size * 0.15, w, 2, stroke=0, fill=1)
            return w
        if shape == "circle":
            c.circle(x + size / 2, y + size / 2, size / 2, stroke=0, fill=1)
        elif shape == "ring":
            c.setLineWidth(size * 0.1)
            c.circle(x + size / 2, y + size / 2, size * 0.42, stroke=1, fill=0)
        elif shape == "diamond":
            path = c.beginPath()
            path.moveTo(x + size / 2, y)
            path.lineTo(x + size, y + size / 2)
            path.lineTo(x + size / 2, y + size)
            path.lineTo(x, y + size / 2)
            path.close()
            c.drawPath(path, stroke=0, fill=1)
        elif shape == "bars":
            for i in range(4):
                h = size * (0.4 + 0.2 * i)
                c.rect(x + i * size / 4, y, size / 5, h, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
            return size
        else:
            c.rect(x, y, size, size, stroke=0, fill=1)
        colour = (0.0, 0.0, 0.0) if shape == "ring" else (1.0, 1.0, 1.0)
        c.setFillColorRGB(*colour)
        c.setFont(self.w.font(bold=True, heading=True), size * 0.36)
        c.drawCentredString(x + size / 2, y + size / 2 - size * 0.13, initials[:2])
        c.setFillColorRGB(0, 0, 0)
        c.setStrokeColorRGB(0, 0, 0)
        return size

    def _letterhead_mark(self, mark: Mark, top: float) -> float:
        """Draws ``mark`` right-aligned at the top; returns the width it takes, with its gap."""
        if mark.kind == "tagline":
            italic = mark.seed % 2 == 0
            width = self.w.width(mark.text, mark.size, italic=italic, bold=not italic, heading=True)
            self.w.draw(
                self.right, top - mark.size, mark.text, mark.size, align="right", colour=self.s.accent,
                italic=italic, bold=not italic, heading=True,
            )  # fmt: skip
        else:
            width = mark_width(mark, 0.0)
            draw_badge(self.c, mark, self.right - width, top - mark.size, self.s.accent)
        return width + 16

    def _name(self) -> str:
        return self.inv.vendor.name.upper() if self.s.name_upper else self.inv.vendor.name

    def _letterhead(self) -> None:
        style, vendor = self.s, self.inv.vendor
        top = self.top
        name_size = self.rng.uniform(12, 20)
        while (
            self.w.width(self._name(), name_size, bold=True, heading=True) > self.right - self.left
            and name_size > 7
        ):
            name_size -= 0.5
        small = max(6.5, style.size - 1)
        lines = self._vendor_lines()
        if style.tax_id_pos == "header" and vendor.tax_id and style.letterhead != "sidebar":
            header_tax = True
        else:
            header_tax = False
        kind = style.letterhead
        if style.vendor_block and kind != "sidebar":
            self._vendor_block(top, header_tax)
            return
        # A tagline or a badge in the free top-right corner, the name kept clear of it.
        mark = mark_for(self.inv.number, style.language) if kind in ("logo_left", "minimal") else None
        beside = self._letterhead_mark(mark, top) if mark is not None else 0.0
        if mark is not None and mark.small_name:
            name_size = min(name_size, style.size + 1.0 + (mark.seed % 3) * 0.5)
        while (
            beside
            and self.w.width(self._name(), name_size, bold=True, heading=True)
            > self.right - self.left - beside
            and name_size > 7
        ):
            name_size -= 0.5
        if kind == "sidebar":
            self.y = top - 10
            return
        if kind == "band":
            band_h = self.rng.uniform(50, 80)
            self.c.setFillColorRGB(*style.accent)
            self.c.rect(0, self.height - band_h, self.width, band_h, stroke=0, fill=1)
            white = (1.0, 1.0, 1.0)
            y = self.height - band_h / 2
            self.w.draw(
                self.left,
                y,
                [(self._name(), "vendor_name")],
                name_size,
                colour=white,
                bold=True,
                heading=True,
            )
            self.w.draw(self.left, y - 13, " · ".join(lines), small, colour=white)
            if header_tax:
                self.w.draw(self.right, y - 13, self._tax_id_parts(), small, colour=white, align="right")
            self.y = self.height - band_h - 24
            return
        if kind == "centered":
            mid = (self.left + self.right) / 2
            logo = 28.0 if style.logo not in ("none", "wordmark") else 0.0
            if logo:
                self._logo(mid - logo / 2, top - logo, logo)
            y = top - logo - name_size - 4
            self.w.draw(
                mid, y, [(self._name(), "vendor_name")], name_size, align="center", bold=True, heading=True
            )
            y -= small + 6
            self.w.draw(mid, y, " | ".join(lines), small, align="center")
            if header_tax:
                y -= small + 4
                self.w.draw(mid, y, self._tax_id_parts(), small, align="center")
            self.y = y - 20
            return
        logo_size = self.rng.uniform(28, 56)
        if kind in ("logo_left", "right_block"):
            lw = self._logo(self.left, top - logo_size, logo_size)
            # The name must fit beside the logo: a long name is set smaller.
            room = self.right - self.left - lw - 16 - beside
            while self.w.width(self._name(), name_size, bold=True, heading=True) > room and name_size > 7:
                name_size -= 0.5
            if kind == "logo_left":
                x = self.left + (lw + 12 if lw else 0)
                y = top - name_size + 2
                self.w.draw(x, y, [(self._name(), "vendor_name")], name_size, bold=True, heading=True)
                for text in lines:
                    y -= small + 3
                    self.w.draw(x, y, text, small)
                if header_tax:
                    y -= small + 3
                    self.w.draw(x, y, self._tax_id_parts(), small)
            else:
                y = top - name_size + 2
                self.w.draw(
                    self.right,
                    y,
                    [(self._name(), "vendor_name")],
                    name_size,
                    align="right",
                    bold=True,
                    heading=True,
                )
                for text in lines:
                    y -= small + 3
                    self.w.draw(self.right, y, text, small, align="right")
                if header_tax:
                    y -= small + 3
                    self.w.draw(self.right, y, self._tax_id_parts(), small, align="right")
            self.y = min(y, top - logo_size) - 22
            return
        if kind == "logo_right":
            lw = self._logo(self.right - self._logo_width(logo_size), top - logo_size, logo_size)
            room = self.right - self.left - lw - 16
            while self.w.width(self._name(), name_size, bold=True, heading=True) > room and name_size > 7:
                name_size -= 0.5
            y = top - name_size + 2
            self.w.draw(self.left, y, [(self._name(), "vendor_name")], name_size, bold=True, heading=True)
            y -= small + 3
            self.w.draw(self.left, y, ", ".join(lines), small)
            if header_tax:
                y -= small + 3
                self.w.draw(self.left, y, self._tax_id_parts(), small)
            self.y = min(y, top - logo_size) - 22
            return
        # minimal: the name alone; the address is in the footer.
        y = top - name_size + 2
        self.w.draw(self.left, y, [(self._name(), "vendor_name")], name_size, bold=True, heading=True)
        if header_tax:
            y -= small + 4
            self.w.draw(self.left, y, self._tax_id_parts(), small)
        self.y = y - 24

    def _vendor_block(self, top: float, header_tax: bool) -> None:
        """The vendor under its role heading, in body type like the buyer's block: "Supplier" /
        name / street / town (and the VAT id), at the top left."""
        style = self.s
        size = style.size
        y = top - size
        self.w.draw(self.left, y, _with_colon(style, self._word("vendor_role")), size, bold=True)
        name_size = size + self.rng.choice([0.0, 0.0, 1.0, 2.0])
        y -= name_size + 4
        bold = self.rng.random() < 0.5
        self.w.draw(self.left, y, [(self._name(), "vendor_name")], name_size, bold=bold)
        for text in self._vendor_lines():
            y -= size + 3
            self.w.draw(self.left, y, text, size)
        if header_tax:
            y -= size + 3
            self.w.draw(self.left, y, self._tax_id_parts(), size)
        self.y = y - 22

    # -- addresses, title, header facts ------------------------------------------------------
    def _recipient(self, x: float, y: float, width: float) -> float:
        style, buyer = self.s, self.inv.buyer
        size = style.size
        if style.window_line:
            vendor = self.inv.vendor
            sender = f"{vendor.name} · {vendor.street} · {vendor.postal} {vendor.city}"
            fit = 6.0
            while self.w.width(sender, fit) > width and fit > 4.0:
                fit -= 0.3
            self.w.draw(x, y, sender, fit)
            self.c.setLineWidth(0.3)
            self.c.line(x, y - 2, x + min(width, self.w.width(sender, fit)), y - 2)
            y -= 14
        if style.recipient_label:
            self.w.draw(
                x, y, [(_with_colon(style, _label(style, "bill_to")), "label:bill_to")], size - 0.5, bold=True
            )
            y -= size + 4
        self.w.draw(x, y, buyer.name, size + 0.5, bold=True)
        y -= size + 3
        for text in (buyer.street, f"{buyer.postal} {buyer.city}"):
            self.w.draw(x, y, text, size)
            y -= size + 3
        if style.buyer_vat and buyer.tax_id:
            label = self._word("buyer_tax_id")
            self.w.draw(x, y, f"{_with_colon(style, label)} {buyer.tax_id}", size - 0.5)
            y -= size + 3
        return y

    def _meta_items(self) -> list[tuple[str, list[Part], str]]:
        """(label, value parts, key) for each header fact this style prints as a labelled item."""
        inv, v, style = self.inv, self.v, self.s
        items: list[tuple[str, list[Part], str]] = []
        for key in style.meta_keys:
            label_key = "credit_number" if key == "invoice_number" and self.credit else key
            label = _label(style, label_key)
            if key == "invoice_number":
                value: list[Part] = [(inv.number, "invoice_number")]
                self._mark("invoice_number", inv.number)
            elif key == "invoice_date":
                value = [(v.date(inv.issued), "invoice_date")]
                self._mark("invoice_date", inv.issued)
            elif key == "due_date":
                assert inv.due is not None
                value = [(v.date(inv.due), "due_date")]
                self._mark("due_date", inv.due)
            elif key == "po_number":
                assert inv.po_number is not None
                value = [(inv.po_number, "po_number")]
                self._mark("po_number", inv.po_number)
            elif key == "customer_no":
                value = [(inv.customer_no, None)]
            else:
                assert inv.delivery_date is not None
                value = [(v.date(inv.delivery_date), None)]
            items.append((label, value, key))
        if style.tax_id_pos == "meta" and inv.vendor.tax_id:
            self._mark("vendor_tax_id", inv.vendor.tax_id)
            items.append((_label(style, "tax_id"), [(self._tax_id_text(), "vendor_tax_id")], "vendor_tax_id"))
        return items

    def _meta_block(self, x: float, y: float, width: float) -> float:
        """Draws the labelled header facts inside [x, x + width]; returns the y below them."""
        style = self.s
        items = self._meta_items()
        if not items:
            return y
        size = style.size
        kind = style.meta_style
        gap = size + self.rng.uniform(3, 6)
        if kind in ("kv", "boxes"):
            label_w = max(self.w.width(_with_colon(style, label), size) for label, _, _ in items) + 8
            value_w = max(self.w.parts_width(value, size, bold=True) for _, value, _ in items)
            while label_w + value_w > width and size > 6:
                size -= 0.4
                label_w = max(self.w.width(_with_colon(style, label), size) for label, _, _ in items) + 8
                value_w = max(self.w.parts_width(value, size, bold=True) for _, value, _ in items)
            right_values = self.rng.random() < 0.4
            leaders = kind == "kv" and not right_values and self.rng.random() < 0.25
            if leaders and label_w + 24 + value_w <= width:
                label_w += 24  # room for dots after the longest label too
            for label, value, key in items:
                drawn = self.w.draw(x, y, [(_with_colon(style, label), f"label:{key}")], size)
                vx = x + label_w
                if leaders:  # "Invoice No. ........ 4711", as forms and typewriter layouts print it
                    dot = self.w.width(".", size)
                    count = int((vx - x - drawn - 8) / dot)
                    if count > 2:
                        self.w.draw(x + drawn + 3, y, "." * count, size)
                if kind == "boxes":
                    self.c.setLineWidth(0.5)
                    self.c.rect(
                        vx - 3, y - 3.5, max(value_w, width - label_w) + 3, size + 5, stroke=1, fill=0
                    )
                if right_values and kind == "kv":
                    self.w.draw(x + width, y, value, size, align="right", bold=True)
                else:
                    self.w.draw(vx, y, value, size, bold=kind != "boxes")
                y -= gap + (3 if kind == "boxes" else 0)
            return y
        if kind == "inline":
            for label, value, key in items:
                parts: list[Part] = [(_with_colon(style, label) + " ", f"label:{key}"), *value]
                fit = size
                while self.w.parts_width(parts, fit) > width and fit > 6:
                    fit -= 0.4
                self.w.draw(x, y, parts, fit)
                y -= gap
            return y
        if kind == "stacked":
            for label, value, key in items:
                self.w.draw(x, y, [(label, f"label:{key}")], size - 1.5, colour=(0.4, 0.4, 0.4))
                self.w.draw(x, y - size, value, size, bold=True)
                y -= 2 * size + 5
            return y
        # grid: label-over-value cells in rows across the width.
        per_row = min(len(items), max(2, int(width // 95)))
        cell = width / per_row
        ruled = self.rng.random() < 0.7
        for start in range(0, len(items), per_row):
            row = items[start : start + per_row]
            for i, (label, value, key) in enumerate(row):
                cx = x + i * cell
                lsize = size - 1.5
                while self.w.width(label, lsize) > cell - 8 and lsize > 5:
                    lsize -= 0.3
                vsize = size
                while self.w.parts_width(value, vsize, bold=True) > cell - 8 and vsize > 5:
                    vsize -= 0.3
                self.w.draw(cx + 4, y, [(label, f"label:{key}")], lsize)
                self.w.draw(cx + 4, y - size - 2, value, vsize, bold=True)
                if ruled:
                    self.c.setLineWidth(0.5)
                    self.c.rect(cx, y - size - 7, cell, 2 * size + 10, stroke=1, fill=0)
            y -= 2 * size + 16
        return y

    def _title(self, x: float, y: float, align: str, width: float | None = None) -> float:
        style, inv = self.s, self.inv
        parts: list[Part] = [(style.title, "label:title")]
        if style.number_mode == "title":
            parts.append(("  ", None))
            parts.append((inv.number, "invoice_number"))
            self._mark("invoice_number", inv.number)
        size = style.title_size
        room = width if width is not None else self.right - self.left
        while self.w.parts_width(parts, size, bold=True, heading=True) > room and size > 8:
            size -= 1
        colour = style.accent if self.rng.random() < 0.5 else None
        self.w.draw(x, y - size, parts, size, align=align, colour=colour, bold=True, heading=True)
        # Below the descenders of a large title, then a gap before the next block.
        return y - size * 1.3 - 14

    def _intro(self) -> None:
        """Free sentences above the table: the document in words, the order, a place and date."""
        style, inv, v = self.s, self.inv, self.v
        size = style.size
        sentences: list[list[Part]] = []
        if style.date_mode == "place":
            template = self._word("place_date")
            sentences.append(
                self._fill(
                    template, {"city": (inv.vendor.city, None), "date": (v.date(inv.issued), "invoice_date")}
                )
            )
            self._mark("invoice_date", inv.issued)
        if style.number_mode == "sentence":
            template = vocabulary.pick(
                self.rng,
                style.language,
                "sentence_credit" if self.credit else "sentence_invoice",
                heldout=style.heldout,
            )
            sentences.append(
                self._fill(
                    template,
                    {"number": (inv.number, "invoice_number"), "date": (v.date(inv.issued), "invoice_date")},
                )
            )
            self._mark("invoice_number", inv.number)
            self._mark("invoice_date", inv.issued)
        if style.po_mode == "sentence" and inv.po_number:
            template = self._word("sentence_po")
            sentences.append(self._fill(template, {"po": (inv.po_number, "po_number")}))
            self._mark("po_number", inv.po_number)
        if self.credit and inv.refers_to:
            template = self._word("credit_ref")
            sentences.append(
                self._fill(
                    template, {"number": (inv.refers_to[0], None), "date": (v.date(inv.refers_to[1]), None)}
                )
            )
        for parts in sentences:
            bold = parts is sentences[0] and style.number_mode == "sentence" and self.rng.random() < 0.5
            self.w.draw(self.left, self.y, parts, size + (1.5 if bold else 0), bold=bold)
            self.y -= size + 6
        if sentences:
            self.y -= 8

    @staticmethod
    def _fill(template: str, values: dict[str, tuple[str, str | None]]) -> list[Part]:
        """A sentence template split into parts so that the filled-in values are annotated."""
        parts: list[Part] = []
        position = 0
        for match in re.finditer(r"\{(\w+)\}", template):
            if match.start() > position:
                parts.append((template[position : match.start()], None))
            text, key = values.get(match.group(1), ("", None))
            parts.append((text, key))
            position = match.end()
        if position < len(template):
            parts.append((template[position:], None))
        return parts

    def _header_area(self) -> None:
        style = self.s
        content = self.right - self.left
        y = self.y
        title_align = {"left": "left", "right": "right", "center": "center", "meta": "left"}[style.title_pos]
        title_x = {
            "left": self.left,
            "right": self.right,
            "center": (self.left + self.right) / 2,
            "meta": 0.0,
        }
        if style.title_pos != "meta":
            y = self._title(title_x[style.title_pos], y, title_align)
        if style.meta_pos == "row":
            below = self._recipient(self.left, y, content * 0.5)
            if style.title_pos == "meta":
                below = min(below, self._title(self.left + content * 0.55, y, "left", content * 0.45))
            y = self._meta_block(self.left, below - 14, content)
        elif style.meta_pos == "right":
            block_w = content * self.rng.uniform(0.38, 0.48)
            below_recipient = self._recipient(self.left, y, content - block_w - 20)
            my = y
            if style.title_pos == "meta":
                my = self._title(self.right - block_w, y, "left", block_w)
            below_meta = self._meta_block(self.right - block_w, my, block_w)
            y = min(below_recipient, below_meta)
        else:  # meta on the left, the address on the right
            block_w = content * self.rng.uniform(0.4, 0.5)
            my = y
            if style.title_pos == "meta":
                my = self._title(self.left, y, "left", content * 0.54)
            below_meta = self._meta_block(self.left, my, block_w)
            below_recipient = self._recipient(self.left + content * 0.56, y, content * 0.44)
            y = min(below_meta, below_recipient)
        self.y = y - 16
        self._intro()

    # -- the line table ----------------------------------------------------------------------
    def _cell(self, key: str, line: Line, index: int) -> str:
        v = self.v
        if key == "pos":
            return str(index + 1)
        if key == "sku":
            return line.sku or ""
        if key == "description":
            return line.description
        if key == "quantity":
            if line.quantity is None:
                return ""
            text = fmt_quantity(line.quantity, self.s.number_style)
            if line.quantity != line.quantity.to_integral_value():
                text = v.number(line.quantity, _places(line.quantity))
            return f"{text} {line.unit}" if self.s.unit_in_quantity and line.unit else text
        if key == "unit":
            return line.unit
        if key == "unit_price":
            return v.exact(line.unit_price)
        if key == "discount":
            return f"{v.number(line.discount, 0)} %" if line.discount else ""
        if key == "vat_rate":
            places = 0 if line.vat_rate == line.vat_rate.to_integral_value() else 1
            return f"{v.number(line.vat_rate, places)}%"
        return v.row_money(line.amount)

    def _layout_columns(self) -> None:
        style, inv = self.s, self.inv
        size = self.row_size
        pad = 4.0
        numeric = {"quantity", "unit_price", "discount", "vat_rate", "amount", "pos"}
        while True:
            widths: dict[str, float] = {}
            for key in style.columns:
                if key == "description":
                    continue
                header = max(self.w.width(word, size, bold=True) for word in _label(style, key).split())
                cells = max(
                    (self.w.width(self._cell(key, line, i), size) for i, line in enumerate(inv.lines)),
                    default=0.0,
                )
                widths[key] = max(header, cells) + 2 * pad + (6 if key in numeric else 2)
            free = (self.right - self.left) - sum(widths.values())
            if free >= 110 or size <= 6.0:
                break
            size -= 0.4
        self.row_size = size
        widths["description"] = max(free, 80.0)
        x = self.left
        self.columns = []
        for key in style.columns:
            self.columns.append((key, _label(style, key), x, x + widths[key]))
            x += widths[key]

    def _table_header(self) -> None:
        style = self.s
        size = self.row_size
        wrapped = {
            key: simpleSplit(header, self.w.font(bold=True), size, x1 - x0 - 6)
            for key, header, x0, x1 in self.columns
        }
        lines = max(len(w) for w in wrapped.values())
        height = lines * (size + 2) + 6
        self._room(height + size * 3)
        top = self.y + size + 2
        kind = style.header_style
        colour: tuple[float, float, float] | None = None
        if kind == "band":
            self.c.setFillColorRGB(*style.accent)
            self.c.rect(self.left, top - height, self.right - self.left, height, stroke=0, fill=1)
            colour = (1.0, 1.0, 1.0)
        elif kind == "shaded":
            r, g, b = style.accent
            self.c.setFillColorRGB(0.85 + 0.15 * r, 0.85 + 0.15 * g, 0.85 + 0.15 * b)
            self.c.rect(self.left, top - height, self.right - self.left, height, stroke=0, fill=1)
        self.c.setFillColorRGB(0, 0, 0)
        for key, _, x0, x1 in self.columns:
            y = self.y
            for text in wrapped[key]:
                numeric = key in {"quantity", "unit_price", "discount", "vat_rate", "amount"}
                if numeric:
                    self.w.draw(
                        x1 - 4, y, [(text, f"label:{key}")], size, align="right", colour=colour, bold=True
                    )
                else:
                    self.w.draw(x0 + 4, y, [(text, f"label:{key}")], size, colour=colour, bold=True)
                y -= size + 2
        self.c.setLineWidth(0.7)
        bottom = top - height
        if kind in ("underline", "shaded", "boxed"):
            self.c.line(self.left, bottom, self.right, bottom)
        if kind in ("overline", "boxed"):
            self.c.line(self.left, top, self.right, top)
            if kind == "overline":
                self.c.line(self.left, bottom, self.right, bottom)
        if kind == "boxed":
            for _, _, x0, _ in self.columns:
                self.c.line(x0, top, x0, bottom)
            self.c.line(self.right, top, self.right, bottom)
        self.y = bottom - size - 3

    def _carry_row(self, label: str) -> None:
        size = self.row_size
        amount = next((c for c in self.columns if c[0] == "amount"), self.columns[-1])
        text = self.v.row_money(self.running)
        label = label.format(next=self.w.page + 1, prev=self.w.page - 1)
        self.w.draw(amount[2] - 6, self.y, label, size, align="right", bold=True)
        self.w.draw(amount[3] - 4, self.y, text, size, align="right", bold=True)
        self.y -= size + 6

    def _table(self) -> None:
        style, inv = self.s, self.inv
        if not inv.lines:
            return  # an e-invoice may bill without any line
        self._layout_columns()
        self.in_table = True
        self._table_header()
        size = self.row_size
        leading = size + 2.5
        for index, line in enumerate(inv.lines):
            desc_col = next(c for c in self.columns if c[0] == "description")
            desc_lines = simpleSplit(
                line.description, self.w.font(), size, desc_col[3] - desc_col[2] - 8
            ) or [""]
            subrow = None
            if self.rng.random() < style.subrow_rate:
                template = self._word("subrow")
                subrow = template.format(
                    ref=f"{self.rng.randint(1000, 999999)}",
                    date=self.v.date(inv.delivery_date or inv.issued),
                    date2=self.v.date(inv.issued),
                )
            height = len(desc_lines) * leading + (leading if subrow else 0) + style.row_pad
            if self.y - height < self.bottom + (size + 8 if style.carry else 0):
                self._new_page()
            top = self.y + size + style.row_pad / 2
            if style.row_style == "zebra" and index % 2 == 0:
                r, g, b = style.accent
                self.c.setFillColorRGB(0.92 + 0.08 * r, 0.92 + 0.08 * g, 0.92 + 0.08 * b)
                self.c.rect(self.left, top - height, self.right - self.left, height, stroke=0, fill=1)
                self.c.setFillColorRGB(0, 0, 0)
            for key, _, x0, x1 in self.columns:
                truth_key = (
                    f"lines[{index}].{key}"
                    if key in ("quantity", "unit_price", "amount", "sku", "description")
                    else None
                )
                if key == "description":
                    y = self.y
                    for i, text in enumerate(desc_lines):
                        self.w.draw(x0 + 4, y, [(text, truth_key if i == 0 else f"{truth_key}+")], size)
                        y -= leading
                    if subrow:
                        self.w.draw(x0 + 10, y, subrow, size - 1.5, italic=True, colour=(0.3, 0.3, 0.3))
                    continue
                text = self._cell(key, line, index)
                if key == "quantity" and style.unit_in_quantity:
                    number, _, unit = text.partition(" ")
                    self.w.draw(
                        x1 - 4, self.y, [(number, truth_key), (" " + unit, None)], size, align="right"
                    )
                elif key in ("quantity", "unit_price", "discount", "vat_rate", "amount", "pos"):
                    self.w.draw(x1 - 4, self.y, [(text, truth_key)], size, align="right")
                else:
                    self.w.draw(x0 + 4, self.y, [(text, truth_key)], size)
            bottom = top - height
            self.c.setLineWidth(0.3)
            if style.row_style in ("lines", "grid"):
                self.c.setStrokeColorRGB(0.5, 0.5, 0.5)
                self.c.line(self.left, bottom, self.right, bottom)
                self.c.setStrokeColorRGB(0, 0, 0)
            if style.row_style == "grid":
                for _, _, x0, _ in self.columns:
                    self.c.line(x0, top, x0, bottom)
                self.c.line(self.right, top, self.right, bottom)
            self.running += line.amount or Decimal(0)
            self.y = bottom - size - style.row_pad / 2
        self.in_table = False
        self.c.setLineWidth(0.8)
        self.c.line(self.left, self.y + size + 1, self.right, self.y + size + 1)
        self.y -= 8

    # -- totals, payment, notes ----------------------------------------------------------------
    def _tax_rows(self) -> list[tuple[list[Part], list[Part]]]:
        style, inv, v = self.s, self.inv, self.v
        rows: list[tuple[list[Part], list[Part]]] = []
        if not inv.print_rates:
            if inv.tax is not None:
                rows.append(
                    ([(_label(style, "tax"), "label:tax_amount")], [(v.money(inv.tax), "tax_amount")])
                )
            return rows
        for rate, (net, tax) in inv.tax_by_rate.items():
            places = 0 if rate == rate.to_integral_value() else 1
            label = style.tax_label.format(
                tax=_label(style, "tax"), rate=v.number(rate, places), net=v.number(net * v.sign)
            )
            if len(inv.tax_by_rate) == 1:
                rows.append(([(label, "label:tax_amount")], [(v.money(tax), "tax_amount")]))
            else:
                rows.append(([(label, "label:tax_amount")], [(v.money(tax), None)]))
        if len(inv.tax_by_rate) > 1 and inv.tax is not None:
            rows.append(([(_label(style, "tax"), "label:tax_amount")], [(v.money(inv.tax), "tax_amount")]))
        return rows

    def _vat_table(self) -> None:
        """Rate | net | VAT per rate, as many German and Italian invoices print them."""
        style, inv, v = self.s, self.inv, self.v
        size = style.size - 0.5
        self._room((len(inv.tax_by_rate) + 2) * (size + 5))
        x = self.left
        cols = [
            _label(style, "vat_rate") if "vat_rate" in style.labels else "%",
            _label(style, "subtotal"),
            _label(style, "tax"),
        ]
        widths = [60.0, 110.0, 100.0]
        cx = x
        for text, w in zip(cols, widths, strict=True):
            self.w.draw(cx + w - 4, self.y, text, size, align="right", bold=True)
            cx += w
        self.y -= size + 5
        for rate, (net, tax) in inv.tax_by_rate.items():
            places = 0 if rate == rate.to_integral_value() else 1
            cells = [f"{v.number(rate, places)} %", v.number(net * v.sign), v.number(tax * v.sign)]
            cx = x
            for text, w in zip(cells, widths, strict=True):
                self.w.draw(cx + w - 4, self.y, text, size, align="right")
                cx += w
            self.y -= size + 4
        self.y -= 6

    def _totals(self) -> None:
        style, inv, v = self.s, self.inv, self.v
        size = style.size + 0.5
        rows: list[tuple[list[Part], list[Part]]] = []
        if inv.adjustment:
            # Document-level allowances and charges: the lines' sum, the adjustment, then the subtotal.
            lines_sum = sum((line.amount or Decimal(0) for line in inv.lines), Decimal(0))
            rows.append(([(self._word("lines_total"), None)], [(v.money(lines_sum), None)]))
            rows.append(([(self._word("adjustment"), None)], [(v.money(inv.adjustment), None)]))
        if inv.subtotal is not None:
            rows.append(
                ([(_label(style, "subtotal"), "label:subtotal")], [(v.money(inv.subtotal), "subtotal")])
            )
        rows += self._tax_rows()
        if inv.total is not None:
            rows.append(([(_label(style, "total"), "label:total")], [(v.money(inv.total), "total")]))
        for key, amount in (("subtotal", inv.subtotal), ("tax_amount", inv.tax), ("total", inv.total)):
            if amount is not None:
                self._mark(key, amount)
        if not rows:
            return
        height = len(rows) * (size + 6) + 20
        self._room(height)
        amount_col = next((c for c in self.columns if c[0] == "amount"), None)
        value_x = amount_col[3] - 4 if amount_col and self.rng.random() < 0.7 else self.right - 4
        label_w = max(self.w.parts_width(label, size, bold=True) for label, _ in rows)
        value_w = max(self.w.parts_width(value, size + 1.5, bold=True) for _, value in rows)
        block_left = value_x - value_w - label_w - 24
        label_right = self.rng.random() < 0.5
        top = self.y + size + 4
        if style.totals_style == "boxed":
            self.c.setLineWidth(0.6)
            self.c.rect(
                block_left - 6,
                top - len(rows) * (size + 6) - 4,
                value_x - block_left + 10,
                len(rows) * (size + 6) + 4,
                stroke=1,
                fill=0,
            )
        for i, (label, value) in enumerate(rows):
            last = i == len(rows) - 1
            row_size = size + (1.5 if last else 0)
            colour: tuple[float, float, float] | None = None
            if last and style.totals_style == "band":
                self.c.setFillColorRGB(*style.accent)
                self.c.rect(
                    block_left - 6, self.y - 5, value_x - block_left + 10, row_size + 8, stroke=0, fill=1
                )
                colour = (1.0, 1.0, 1.0)
            if last and style.totals_style in ("ruled", "double"):
                self.c.setLineWidth(0.8)
                self.c.line(block_left, self.y + row_size + 2, value_x, self.y + row_size + 2)
            if label_right:
                self.w.draw(
                    value_x - value_w - 14, self.y, label, row_size, align="right", colour=colour, bold=last
                )
            else:
                self.w.draw(block_left, self.y, label, row_size, colour=colour, bold=last)
            self.w.draw(value_x, self.y, value, row_size, align="right", colour=colour, bold=last)
            if last and style.totals_style == "double":
                self.c.line(value_x - value_w, self.y - 4, value_x, self.y - 4)
                self.c.line(value_x - value_w, self.y - 6, value_x, self.y - 6)
            self.y -= row_size + 6
        self.c.setFillColorRGB(0, 0, 0)
        self.y -= 14
        if style.vat_table and inv.print_rates:
            self._vat_table()

    def _notes(self) -> None:
        style, inv, v = self.s, self.inv, self.v
        size = style.size
        sentences: list[list[Part]] = []
        due = inv.due
        if inv.reverse_charge:
            sentences.append([(self._word("reverse_charge"), None)])
        if style.iban_pos == "sentence" and inv.vendor.iban and inv.total is not None:
            key = (
                "pay_sentence"
                if due is not None and style.due_mode in ("sentence", "both")
                else "pay_sentence_nodue"
            )
            template = self._word(key)
            values = {
                "total": (v.money(inv.total), None),
                "iban": (fmt_iban(inv.vendor.iban, style.iban_grouped), "vendor_iban"),
            }
            if due is not None:
                values["due"] = (v.date(due), "due_date")
                self._mark("due_date", due)
            sentences.append(self._fill(template, values))
            self._mark("vendor_iban", inv.vendor.iban)
        elif due is not None and style.due_mode in ("sentence", "both"):
            template = self._word("terms_date")
            sentences.append(
                self._fill(template, {"due": (v.date(due), "due_date"), "days": (str(inv.terms_days), None)})
            )
            self._mark("due_date", due)
        elif due is not None and style.due_mode == "days":
            template = self._word("terms_days")
            sentences.append(self._fill(template, {"days": (str(inv.terms_days), None)}))
        if style.thanks:
            sentences.append([(self._word("thanks"), None)])
        for parts in sentences:
            fit = size
            while self.w.parts_width(parts, fit) > self.right - self.left and fit > 5:
                fit -= 0.3
            self._room(size + 6)
            self.w.draw(self.left, self.y, parts, fit)
            self.y -= size + 5
        if style.iban_pos == "box" and inv.vendor.iban:
            self._room(4 * (size + 4) + 10)
            self.y -= 6
            lines: list[list[Part]] = [
                [(_label(style, "bank"), None)],
                self._iban_parts(),
                [(f"{_label(style, 'bic')} {inv.vendor.bic}", None)],
            ]
            width = max(self.w.parts_width(line, size) for line in lines) + 16
            self.c.setLineWidth(0.6)
            self.c.rect(
                self.left, self.y - 3 * (size + 4) + size - 2, width, 3 * (size + 4) + 4, stroke=1, fill=0
            )
            for line in lines:
                self.w.draw(self.left + 8, self.y, line, size, bold=line is lines[0])
                self.y -= size + 4

    def render(self) -> tuple[bytes, list[Annotation], dict[str, Any]]:
        self.page_start()
        self._letterhead()
        self._header_area()
        self._table()
        self._totals()
        self._notes()
        self._draw_footer()
        self.c.showPage()
        self.c.save()
        # A header field is in the truth exactly when its value was drawn (annotated) somewhere.
        drawn = {a.key for a in self.w.annotations}
        shown = {key: value for key, value in self.v.shown.items() if key in drawn}
        return self.buffer.getvalue(), self.w.annotations, shown


def render(
    invoice: Invoice, style: Style, rng: random.Random
) -> tuple[bytes, list[Annotation], dict[str, Any]]:
    """The PDF, the annotated spans, and which truth fields the page shows (field -> value)."""
    return _Renderer(invoice, style, rng).render()


def _money_text(value: Decimal) -> str:
    return format(value, "f")


def truth(invoice: Invoice, style: Style, shown: dict[str, Any]) -> dict[str, Any]:
    """The contract's ``fields`` and ``lines`` for what the page shows (credit notes negative)."""
    sign = Decimal(-1) if invoice.doc_type == "credit_note" else Decimal(1)

    def shown_text(key: str) -> str | None:
        value = shown.get(key)
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else str(value)

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else _money_text(value * sign)

    fields = {
        "vendor_name": invoice.vendor.name or None,
        "vendor_tax_id": shown_text("vendor_tax_id"),
        "vendor_iban": shown_text("vendor_iban"),
        "invoice_number": shown_text("invoice_number"),
        "invoice_date": shown_text("invoice_date"),
        "due_date": shown_text("due_date"),
        "po_number": shown_text("po_number"),
        "currency": invoice.currency,
        "subtotal": amount(invoice.subtotal),
        "tax_amount": amount(invoice.tax),
        "total": amount(invoice.total),
    }
    lines = [
        {
            "description": line.description,
            "sku": line.sku if "sku" in style.columns else None,
            "quantity": None if line.quantity is None else format(line.quantity, "f"),
            "unit_price": None if line.unit_price is None else format(line.unit_price, "f"),
            "amount": amount(line.amount),
        }
        for line in invoice.lines
    ]
    return {"fields": fields, "lines": lines}


def currency_mark(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency, currency)
