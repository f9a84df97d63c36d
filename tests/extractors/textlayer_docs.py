"""Documents the text-layer tests build for themselves: invoices with known words, scans, bad files."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = A4


@dataclass(frozen=True)
class Placed:
    """A string drawn at a known place: x and baseline in reportlab's bottom-left points."""

    text: str
    x: float
    baseline: float
    font: str = "Helvetica"
    size: float = 10.0


def invoice_lines(seed: int = 0, rows: int = 8) -> list[Placed]:
    rnd = random.Random(seed)
    out = [
        Placed("Acme Tools GmbH", 50, 790, "Helvetica-Bold", 16),
        Placed("Industriestrasse 12, 70565 Stuttgart", 50, 772),
        Placed(f"Rechnung Nr. RE-2026-{1000 + seed}", 360, 740),
        Placed("Datum: 14.03.2026", 360, 726),
        Placed("Bestellung PO-45012", 360, 712),
        Placed("Description", 50, 670, "Helvetica-Bold"),
        Placed("Qty", 330, 670, "Helvetica-Bold"),
        Placed("Amount", 470, 670, "Helvetica-Bold"),
    ]
    y = 670.0
    total = 0
    for _ in range(rows):
        y -= 18
        qty = rnd.randint(1, 40)
        cents = rnd.randint(100, 99_999)
        total += qty * cents
        out += [
            Placed(f"Hex bolt M{rnd.randint(4, 20)}x{rnd.randint(10, 90)} zinc plated", 50, y),
            Placed(str(qty), 330, y),
            Placed(f"{qty * cents / 100:.2f}", 470, y),
        ]
    out.append(Placed("Total EUR", 330, y - 30, "Helvetica-Bold"))
    out.append(Placed(f"{total / 100:.2f}", 470, y - 30, "Helvetica-Bold"))
    out.append(Placed("IBAN DE89 3704 0044 0532 0130 00", 50, 60, "Helvetica", 9))
    return out


def draw(c: canvas.Canvas, items: list[Placed]) -> None:
    for item in items:
        c.setFont(item.font, item.size)
        c.drawString(item.x, item.baseline, item.text)


def pdf_bytes(pages: list[list[Placed]], **canvas_kwargs: object) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, **canvas_kwargs)  # type: ignore[arg-type]
    for items in pages:
        draw(c, items)
        c.showPage()
    c.save()
    return buf.getvalue()


def render(pdf: bytes, page: int = 0, dpi: int = 300) -> Image.Image:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()


def scan(
    items: list[Placed],
    *,
    dpi: int = 300,
    rotate: int = 0,
    skew: float = 0.0,
    noise: float = 0.0,
    blur: float = 0.0,
    seed: int = 0,
) -> Image.Image:
    """A scanner's view of a page: turned by ``rotate`` (clockwise), tilted by ``skew`` degrees
    counter-clockwise, with salt-and-pepper noise and blur."""
    image = render(pdf_bytes([items]), dpi=dpi)
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        import numpy as np

        rng = np.random.default_rng(seed)
        pixels = np.asarray(image, dtype=np.uint8).copy()
        mask = rng.random(pixels.shape)
        pixels[mask < noise / 2] = 0
        pixels[mask > 1 - noise / 2] = 255
        image = Image.fromarray(pixels, mode="L")
    if rotate:
        image = image.rotate(-rotate, expand=True)
    return image


def image_bytes(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def multipage_tiff(images: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    images[0].save(buf, format="TIFF", save_all=True, append_images=images[1:], compression="tiff_lzw")
    return buf.getvalue()


def mixed_pdf(digital: list[Placed], scanned: list[Placed]) -> bytes:
    """Page 1 born-digital, page 2 only a picture of text (no text layer)."""
    from reportlab.lib.utils import ImageReader

    picture = scan(scanned, dpi=200)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    draw(c, digital)
    c.showPage()
    c.drawImage(ImageReader(picture), 0, 0, width=PAGE_W, height=PAGE_H)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    return pdf_bytes([invoice_lines()], encrypt="secret-password")


def many_pages_pdf(pages: int) -> bytes:
    return pdf_bytes([[Placed(f"Page {n + 1}", 50, 800)] for n in range(pages)])


def truncated_pdf() -> bytes:
    data = pdf_bytes([invoice_lines(seed) for seed in range(3)], pageCompression=1)
    return data[: len(data) // 3]


def bomb_png() -> bytes:
    """A 1-bit PNG of 15000 x 15000 pixels: a few kilobytes that decode to 225 megapixels."""
    return image_bytes(Image.new("1", (15_000, 15_000), 1), optimize=True)


def raw_pdf(objects: list[bytes]) -> bytes:
    """Assemble numbered objects (1-based, object 1 the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def recursive_xobject_pdf() -> bytes:
    """A form XObject that draws itself: pdfminer recurses until Python's stack runs out."""
    text = b"BT /F1 12 Tf 72 720 Td (Looping form XObject draws itself) Tj ET /X0 Do"
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /XObject << /X0 5 0 R >> /Font << /F1 6 0 R >> >> >>",
            _stream(b"", b"/X0 Do"),
            _stream(
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                b"/Resources << /XObject << /X0 5 0 R >> /Font << /F1 6 0 R >> >>",
                text,
            ),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def nested_xobject_pdf(depth: int = 600) -> bytes:
    """Form XObjects nested ``depth`` deep, each drawing the next: no cycle for pdfminer's
    guard to catch, just recursion deeper than Python's stack allows."""
    font = b"/Font << /F1 3 0 R >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /XObject << /X 6 0 R >> " + font + b" >> >>",
        _stream(b"", b"BT /F1 12 Tf 72 760 Td (A page whose drawing nests too deep) Tj ET /X Do"),
    ]
    for level in range(depth):
        number = 6 + level
        last = level == depth - 1
        inner = b"" if last else b"/Resources << /XObject << /X %d 0 R >> %s >>" % (number + 1, font)
        objects.append(
            _stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] " + inner, b"/X Do" if inner else b"")
        )
    return raw_pdf(objects)


def deep_page_tree_pdf(depth: int = 3000) -> bytes:
    """A page tree nested ``depth`` levels deep around a single page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        parent = b" /Parent %d 0 R" % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (number + 1, parent))
    page = 2 + depth
    objects.append(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (page - 1, page + 1)
    )
    objects.append(_stream(b"", b""))
    return raw_pdf(objects)
