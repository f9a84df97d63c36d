"""Makes a rendered PDF look scanned: rasterised, skewed, blurred, noisy, sometimes JPEG-worn.

The result is either one PNG (first page; the planner only picks PNG for one-page documents)
or an image-only PDF with every page, so OCR is the only way to read it.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

DPI = 200


def rasterise(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in document]
    finally:
        document.close()


def degrade(image: Image.Image, rng: random.Random, angle: float | None = None) -> Image.Image:
    """One pass of scanner wear; parameters are drawn from ``rng`` so a seed gives the same scan.

    ``angle`` (degrees, counter-clockwise about the centre) is drawn in [-2, 2] unless given.
    """
    angle = rng.uniform(-2.0, 2.0) if angle is None else angle
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    if rng.random() < 0.8:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 0.9)))
    pixels = np.asarray(image, dtype=np.int16)
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    sigma = rng.uniform(4.0, 14.0)
    noisy = pixels + noise_rng.normal(0.0, sigma, size=pixels.shape).astype(np.int16)
    # A slightly grey, uneven paper tone and a few specks, as a flatbed scanner leaves them.
    noisy -= rng.randint(0, 18)
    specks = noise_rng.random(pixels.shape) < rng.uniform(0.0, 0.0015)
    noisy[specks] = 0
    # Scanner "document mode" cleans the paper back to white; noise stays around the ink,
    # which is where it hurts OCR (and the file stays a realistic size).
    noisy[noisy > rng.randint(200, 232)] = 255
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), mode="L")
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(30, 65))
        buffer.seek(0)
        image = Image.open(buffer).convert("L")
    return image


def scan_png(pdf: bytes, rng: random.Random) -> bytes:
    """The first page as a scanned PNG."""
    return encode_png(degrade(rasterise(pdf)[0], rng))


def encode_png(page: Image.Image) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", compress_level=3, dpi=(DPI, DPI))
    return buffer.getvalue()


def scan_pdf(pdf: bytes, rng: random.Random) -> bytes:
    """Every page as a scanned image inside a PDF without any text layer."""
    return encode_pdf([degrade(page, rng) for page in rasterise(pdf)])


def encode_pdf(pages: list[Image.Image]) -> bytes:
    """Scanned page images as one image-only PDF."""
    buffer = io.BytesIO()
    # JPEG inside the PDF keeps scanned files at a realistic size (a few hundred KB per page).
    rgb = [page.convert("RGB") for page in pages]
    rgb[0].save(buffer, format="PDF", save_all=True, append_images=rgb[1:], resolution=float(DPI), quality=75)
    return buffer.getvalue()


def page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()
