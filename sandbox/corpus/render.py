"""Draws one printed document (invoice, credit note or any other business paper) as a PDF.

A document is described as a ``PrintSpec`` (parties, header facts, a line table, totals and a
footer, all already formatted as text); the layout decides where each block goes, in which
font and colours, and how a long table breaks over pages (repeated column headers and
carried-forward subtotals). reportlab's standard fonts are used on purpose: they are built in
(nothing to install) and their WinAnsi encoding covers ä, é, ß and €.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from sandbox.corpus.layouts import Layout

_FONTS = {
    "Helvetica": ("Helvetica", "Helvetica-Bold"),
    "Times": ("Times-Roman", "Times-Bold"),
    "Courier": ("Courier", "Courier-Bold"),
}
# Column widths in points and alignment; the description column takes what is left.
_COLUMN_WIDTH = {
    "pos": 26.0,
    "sku": 68.0,
    "quantity": 46.0,
    "unit_price": 74.0,
    "amount": 84.0,
    "doc_date": 72.0,
    "doc_no": 104.0,
    "balance": 84.0,
}
_RIGHT_ALIGNED = {"quantity", "unit_price", "amount", "balance"}
ROW_HEIGHT = 14.0
MARGIN = 42.0
SIDEBAR_WIDTH = 150.0
FOOTER_RESERVE = 92.0  # bank details, terms, page number


@dataclass
class Party:
    name: str
    lines: list[str] = field(default_factory=list)


@dataclass
class PrintSpec:
    """A document with every value already formatted the way this layout prints it."""

    title: str
    issuer: Party
    recipient: Party
    recipient_label: str
    meta: list[tuple[str, str]]
    columns: list[tuple[str, str]]  # (column key, header text)
    rows: list[dict[str, str]]
    totals: list[tuple[str, str]] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    # Running subtotal after each row (already formatted); None = no carried-forward lines.
    running: list[str] | None = None
    carried_label: str = "Carried forward"
    brought_label: str = "Brought forward"
    page_label: str = "Page {page} of {pages}"
    sidebar: list[str] = field(default_factory=list)


class _Pen:
    """A thin wrapper over the canvas with the layout's fonts and alignment helpers."""

    def __init__(self, canvas: Canvas, layout: Layout) -> None:
        self.c = canvas
        self.regular, self.bold = _FONTS[layout.font]
        self.base = 8.0 if layout.font == "Courier" else 9.0

    def text(self, x: float, y: float, s: str, size: float | None = None, bold: bool = False) -> None:
        self.c.setFont(self.bold if bold else self.regular, size or self.base)
        self.c.drawString(x, y, s)

    def right(self, x: float, y: float, s: str, size: float | None = None, bold: bool = False) -> None:
        self.c.setFont(self.bold if bold else self.regular, size or self.base)
        self.c.drawRightString(x, y, s)

    def center(self, x: float, y: float, s: str, size: float | None = None, bold: bool = False) -> None:
        self.c.setFont(self.bold if bold else self.regular, size or self.base)
        self.c.drawCentredString(x, y, s)

    def width(self, s: str, size: float | None = None, bold: bool = False) -> float:
        return stringWidth(s, self.bold if bold else self.regular, size or self.base)


class _Geometry:
    def __init__(self, layout: Layout) -> None:
        self.width, self.height = LETTER if layout.page_size == "LETTER" else A4
        self.left = MARGIN + (SIDEBAR_WIDTH if layout.style == "sidebar" else 0.0)
        self.right = self.width - MARGIN
        # Where the line table starts on the first page, by header arrangement.
        first = {"classic": 270, "band": 265, "centered": 285, "boxed": 290, "sidebar": 250, "letter": 330}
        self.table_top_first = self.height - first.get(layout.style, 250)
        self.table_top_next = self.height - 110
        self.bottom = FOOTER_RESERVE + 20


def _column_layout(spec: PrintSpec, geo: _Geometry) -> list[tuple[str, str, float, float]]:
    """(key, header, x_start, x_end) per column; description gets the remaining width."""
    fixed = sum(_COLUMN_WIDTH.get(key, 0.0) for key, _ in spec.columns if key != "description")
    free = geo.right - geo.left - fixed
    out = []
    x = geo.left
    for key, header in spec.columns:
        w = free if key == "description" else _COLUMN_WIDTH.get(key, 60.0)
        out.append((key, header, x, x + w))
        x += w
    return out


def _paginate(n_rows: int, layout: Layout, geo: _Geometry, totals_height: float) -> list[tuple[int, int]]:
    """Row ranges per page: each page holds what fits (and at most the layout's row cap)."""
    pages: list[tuple[int, int]] = []
    start = 0
    first = True
    while True:
        top = geo.table_top_first if first else geo.table_top_next
        room = int((top - ROW_HEIGHT * 2 - geo.bottom) // ROW_HEIGHT)
        cap = min(room, layout.rows_first_page if first else layout.rows_next_pages)
        end = min(n_rows, start + cap)
        pages.append((start, end))
        if end >= n_rows:
            used = top - ROW_HEIGHT * (end - start + 1)
            if used - totals_height < geo.bottom:
                pages.append((end, end))  # totals do not fit: they go on a page of their own
            return pages
        start = end
        first = False


def render_pdf(spec: PrintSpec, layout: Layout) -> bytes:
    """The document as PDF bytes; identical input gives identical bytes (invariant mode)."""
    buffer = io.BytesIO()
    geo = _Geometry(layout)
    canvas = Canvas(buffer, pagesize=(geo.width, geo.height), invariant=1, pageCompression=1)
    canvas.setTitle(spec.title)
    canvas.setAuthor(spec.issuer.name)
    pen = _Pen(canvas, layout)
    columns = _column_layout(spec, geo)
    totals_height = ROW_HEIGHT * (len(spec.totals) + 1) + 16 * (len(spec.notes) + 1)
    pages = _paginate(len(spec.rows), layout, geo, totals_height)
    for page_index, (start, end) in enumerate(pages):
        first, last = page_index == 0, page_index == len(pages) - 1
        if layout.style == "sidebar":
            _sidebar(pen, geo, layout, spec)
        y = _first_header(pen, geo, layout, spec) if first else _continuation_header(pen, geo, layout, spec)
        if start < end or first:
            y = _table_header(pen, geo, layout, columns, y)
            if not first and spec.running is not None and start > 0:
                _carry_line(pen, columns, y, spec.brought_label, spec.running[start - 1])
                y -= ROW_HEIGHT
            for row in spec.rows[start:end]:
                _row(pen, layout, columns, y, row)
                y -= ROW_HEIGHT
            if not last and spec.running is not None and end > 0:
                canvas.setLineWidth(0.4)
                canvas.line(geo.left, y + ROW_HEIGHT - 3, geo.right, y + ROW_HEIGHT - 3)
                _carry_line(pen, columns, y - 2, spec.carried_label, spec.running[end - 1])
        if last:
            _totals(pen, geo, layout, spec, y - 8)
        _footer(pen, geo, layout, spec, page_index + 1, len(pages))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _block(pen: _Pen, x: float, y: float, party: Party, size: float, name_size: float) -> float:
    pen.text(x, y, party.name, size=name_size, bold=True)
    y -= name_size + 3
    for line in party.lines:
        pen.text(x, y, line, size=size)
        y -= size + 3
    return y


def _meta(pen: _Pen, x: float, y: float, meta: Sequence[tuple[str, str]], value_x: float) -> float:
    for label, value in meta:
        pen.text(x, y, label, bold=False)
        pen.text(value_x, y, value, bold=True)
        y -= pen.base + 4
    return y


def _first_header(pen: _Pen, geo: _Geometry, layout: Layout, spec: PrintSpec) -> float:
    """Draws the layout's header arrangement; returns the y where the line table starts."""
    c = pen.c
    top = geo.height - MARGIN
    r, g, b = layout.accent
    style = layout.style
    if style == "classic":
        _logo(pen, geo.left, top - 36, 36, spec.issuer.name, layout.accent, "circle")
        x = geo.left + 46
        c.setFillColorRGB(r, g, b)
        pen.text(x, top - 10, spec.issuer.name, size=16, bold=True)
        c.setFillColorRGB(0, 0, 0)
        y = top - 26
        for line in spec.issuer.lines:
            pen.text(x, y, line, size=8)
            y -= 11
        c.setFillColorRGB(r, g, b)
        pen.right(geo.right, top - 12, spec.title, size=22, bold=True)
        c.setFillColorRGB(0, 0, 0)
        _meta(pen, geo.right - 210, top - 40, spec.meta, geo.right - 100)
        pen.text(geo.left, top - 120, spec.recipient_label, size=8, bold=True)
        _block(pen, geo.left, top - 134, spec.recipient, 9, 10)
        y_intro = top - 205
    elif style == "band":
        c.setFillColorRGB(r, g, b)
        c.rect(0, geo.height - 80, geo.width, 80, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        pen.text(geo.left, geo.height - 45, spec.issuer.name, size=18, bold=True)
        pen.text(geo.left, geo.height - 62, " · ".join(spec.issuer.lines[:3]), size=8)
        pen.right(geo.right, geo.height - 45, spec.title, size=20, bold=True)
        c.setFillColorRGB(0, 0, 0)
        pen.text(geo.left, geo.height - 105, spec.recipient_label, size=8)
        _block(pen, geo.left, geo.height - 120, spec.recipient, 9, 10)
        _meta(pen, geo.right - 220, geo.height - 105, spec.meta, geo.right - 105)
        y_intro = geo.height - 215
    elif style == "centered":
        mid = (geo.left + geo.right) / 2
        pen.center(mid, top - 8, spec.issuer.name, size=18, bold=True)
        pen.center(mid, top - 24, " | ".join(spec.issuer.lines), size=8)
        c.setLineWidth(1.2)
        c.line(geo.left, top - 32, geo.right, top - 32)
        pen.center(mid, top - 56, spec.title.upper(), size=15, bold=True)
        # Meta as a row of label-over-value cells.
        cell = (geo.right - geo.left) / max(1, len(spec.meta))
        for i, (label, value) in enumerate(spec.meta):
            x = geo.left + i * cell
            pen.text(x, top - 82, label, size=7)
            pen.text(x, top - 94, value, size=9, bold=True)
        c.setLineWidth(0.5)
        c.line(geo.left, top - 102, geo.right, top - 102)
        pen.text(geo.left, top - 122, spec.recipient_label + ":", size=8, bold=True)
        _block(pen, geo.left, top - 136, spec.recipient, 9, 10)
        y_intro = top - 215
    elif style == "boxed":
        _logo(pen, geo.left, top - 47, 24, spec.issuer.name, layout.accent, "square")
        pen.text(geo.left, top - 10, spec.issuer.name, size=15, bold=True)
        y = top - 24
        for line in spec.issuer.lines:
            pen.text(geo.left + 30, y, line, size=8)
            y -= 10
        box_x, box_w = geo.right - 230, 230
        c.setStrokeColorRGB(r, g, b)
        c.setLineWidth(1)
        c.rect(box_x, top - 30, box_w, 26, stroke=1, fill=0)
        pen.center(box_x + box_w / 2, top - 22, spec.title, size=14, bold=True)
        rows = len(spec.meta)
        c.rect(box_x, top - 36 - rows * 14, box_w, rows * 14, stroke=1, fill=0)
        yy = top - 46
        for label, value in spec.meta:
            pen.text(box_x + 6, yy, label, size=8)
            pen.right(box_x + box_w - 6, yy, value, size=9, bold=True)
            yy -= 14
        c.rect(box_x, top - 190, box_w, 70, stroke=1, fill=0)
        pen.text(box_x + 6, top - 132, spec.recipient_label, size=8)
        _block(pen, box_x + 6, top - 146, spec.recipient, 9, 10)
        c.setStrokeColorRGB(0, 0, 0)
        y_intro = top - 210
    elif style == "sidebar":
        pen.text(geo.left, top - 14, spec.title, size=26, bold=True)
        _meta(pen, geo.left, top - 44, spec.meta, geo.left + 110)
        pen.text(geo.right - 170, top - 44, spec.recipient_label, size=8, bold=True)
        _block(pen, geo.right - 170, top - 58, spec.recipient, 9, 10)
        y_intro = top - 175
    elif style == "letter":
        # DIN 5008-like: sender line above an address window, meta block to the right.
        _logo(pen, geo.left, top - 40, 40, spec.issuer.name, layout.accent, "diamond")
        c.setFillColorRGB(r, g, b)
        pen.right(geo.right, top - 10, spec.issuer.name, size=14, bold=True)
        c.setFillColorRGB(0, 0, 0)
        y = top - 24
        for line in spec.issuer.lines:
            pen.right(geo.right, y, line, size=8)
            y -= 10
        window_top = geo.height - 130
        pen.text(geo.left, window_top, f"{spec.issuer.name} · {' · '.join(spec.issuer.lines[:2])}", size=6)
        c.setLineWidth(0.3)
        c.line(geo.left, window_top - 3, geo.left + 240, window_top - 3)
        _block(pen, geo.left, window_top - 16, spec.recipient, 9, 10)
        _meta(pen, geo.right - 200, window_top - 16, spec.meta, geo.right - 95)
        pen.text(geo.left, window_top - 115, spec.title, size=14, bold=True)
        y_intro = window_top - 135
    else:  # mono: a typewriter look, everything in one monospaced size
        pen.text(geo.left, top - 8, spec.issuer.name.upper(), size=12, bold=True)
        y = top - 22
        for line in spec.issuer.lines:
            pen.text(geo.left, y, line)
            y -= 10
        pen.text(geo.left, y - 6, "-" * 96)
        y -= 22
        pen.text(geo.left, y, spec.title.upper(), size=12, bold=True)
        y -= 18
        width = max(len(label) for label, _ in spec.meta) if spec.meta else 10
        for label, value in spec.meta:
            pen.text(geo.left, y, f"{label.ljust(width, '.')}: {value}")
            y -= 11
        pen.text(
            geo.left + 300, top - 100, spec.recipient_label + ":" if spec.recipient_label else "", bold=True
        )
        below_recipient = _block(pen, geo.left + 300, top - 112, spec.recipient, 8, 8)
        # Intro text runs the full width, so it starts below both the meta and the address.
        y_intro = min(y, below_recipient) - 8
    y = y_intro
    for line in spec.intro:
        pen.text(geo.left, y, line, size=9)
        y -= 13
    return min(y - 6, geo.table_top_first)


def _continuation_header(pen: _Pen, geo: _Geometry, layout: Layout, spec: PrintSpec) -> float:
    top = geo.height - MARGIN
    pen.text(geo.left, top - 10, spec.issuer.name, size=11, bold=True)
    number = spec.meta[0][1] if spec.meta else ""
    pen.right(geo.right, top - 10, f"{spec.title} {number}", size=10, bold=True)
    pen.c.setLineWidth(0.5)
    pen.c.line(geo.left, top - 18, geo.right, top - 18)
    return geo.table_top_next


def _table_header(pen: _Pen, geo: _Geometry, layout: Layout, columns: list, y: float) -> float:
    c = pen.c
    r, g, b = layout.accent
    if layout.style in ("band", "sidebar", "classic"):
        c.setFillColorRGB(r, g, b)
        c.rect(geo.left, y - 4, geo.right - geo.left, ROW_HEIGHT, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
    for key, header, x0, x1 in columns:
        if key in _RIGHT_ALIGNED:
            pen.right(x1 - 3, y, header, bold=True)
        else:
            pen.text(x0 + 3, y, header, bold=True)
    c.setFillColorRGB(0, 0, 0)
    if layout.style not in ("band", "sidebar", "classic"):
        c.setLineWidth(0.8)
        c.line(geo.left, y - 4, geo.right, y - 4)
    if layout.style == "mono":
        pen.text(geo.left, y - 12, "-" * 96)
        return y - ROW_HEIGHT - 8
    return y - ROW_HEIGHT - 2


def _row(pen: _Pen, layout: Layout, columns: list, y: float, row: dict[str, str]) -> None:
    for key, _, x0, x1 in columns:
        value = row.get(key, "")
        if key in _RIGHT_ALIGNED:
            pen.right(x1 - 3, y, value)
        else:
            pen.text(x0 + 3, y, value)
    if layout.table_grid:
        pen.c.setLineWidth(0.25)
        pen.c.line(columns[0][2], y - 4, columns[-1][3], y - 4)
        for _, _, x0, _ in columns:
            pen.c.line(x0, y - 4, x0, y + ROW_HEIGHT - 4)
        pen.c.line(columns[-1][3], y - 4, columns[-1][3], y + ROW_HEIGHT - 4)


def _carry_line(pen: _Pen, columns: list, y: float, label: str, value: str) -> None:
    amount_col = next((col for col in columns if col[0] == "amount"), columns[-1])
    pen.right(amount_col[2] - 6, y, label, bold=True)
    pen.right(amount_col[3] - 3, y, value, bold=True)


def _totals(pen: _Pen, geo: _Geometry, layout: Layout, spec: PrintSpec, y: float) -> None:
    label_x = geo.right - 95 if layout.style != "mono" else geo.right - 150
    for index, (label, value) in enumerate(spec.totals):
        last = index == len(spec.totals) - 1
        if last:
            pen.c.setLineWidth(0.8)
            pen.c.line(label_x - 110, y + ROW_HEIGHT - 3, geo.right, y + ROW_HEIGHT - 3)
        pen.right(label_x, y, label, bold=last, size=pen.base + (1.5 if last else 0))
        pen.right(geo.right - 3, y, value, bold=last, size=pen.base + (1.5 if last else 0))
        y -= ROW_HEIGHT + (2 if last else 0)
    y -= 10
    for note in spec.notes:
        pen.text(geo.left, y, note, size=8.5)
        y -= 12


def _footer(pen: _Pen, geo: _Geometry, layout: Layout, spec: PrintSpec, page: int, pages: int) -> None:
    y = FOOTER_RESERVE - 20
    pen.c.setLineWidth(0.4)
    pen.c.line(geo.left, y + 12, geo.right, y + 12)
    for line in spec.footer:
        pen.text(geo.left, y, line, size=7.5)
        y -= 10
    pen.right(geo.right, 24, spec.page_label.format(page=page, pages=pages), size=7)


def _sidebar(pen: _Pen, geo: _Geometry, layout: Layout, spec: PrintSpec) -> None:
    c = pen.c
    r, g, b = layout.accent
    c.setFillColorRGB(r, g, b)
    c.rect(0, 0, SIDEBAR_WIDTH, geo.height, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    y = geo.height - MARGIN - 10
    words = spec.issuer.name.split()
    # Long names wrap in the narrow sidebar; the full name stays on one line in the footer.
    line = ""
    for word in words:
        if pen.width(f"{line} {word}".strip(), 12, True) > SIDEBAR_WIDTH - 24:
            pen.text(14, y, line, size=12, bold=True)
            y -= 15
            line = word
        else:
            line = f"{line} {word}".strip()
    pen.text(14, y, line, size=12, bold=True)
    y -= 22
    for text in [*spec.issuer.lines, "", *spec.sidebar]:
        pen.text(14, y, text, size=7.5)
        y -= 11
    c.setFillColorRGB(0, 0, 0)


def _logo(
    pen: _Pen, x: float, y: float, size: float, name: str, colour: tuple[float, float, float], shape: str
) -> None:
    """A vendor mark: the name's initials in a coloured shape, as letterheads have."""
    c = pen.c
    initials = "".join(word[0] for word in name.split()[:2] if word[:1].isalpha()).upper()
    c.setFillColorRGB(*colour)
    if shape == "circle":
        c.circle(x + size / 2, y + size / 2, size / 2, stroke=0, fill=1)
    elif shape == "diamond":
        path = c.beginPath()
        path.moveTo(x + size / 2, y)
        path.lineTo(x + size, y + size / 2)
        path.lineTo(x + size / 2, y + size)
        path.lineTo(x, y + size / 2)
        path.close()
        c.drawPath(path, stroke=0, fill=1)
    else:
        c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    pen.center(x + size / 2, y + size / 2 - size * 0.14, initials, size=size * 0.38, bold=True)
    c.setFillColorRGB(0, 0, 0)
