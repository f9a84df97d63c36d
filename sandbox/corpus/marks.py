"""What people add to paper before it is scanned: rubber stamps and handwriting-like pen marks.

Marks darken the page (a pixel keeps the darker of page and ink), so printed text under a
stamp stays as dark as it was: the truth is still on the page, only harder to read.
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sandbox.corpus.fonts import FONT_DIR
from sandbox.corpus.formats import fmt_date

_STAMPS = {
    "en": ("PAID", "RECEIVED {date}", "COPY", "POSTED", "APPROVED", "ENTERED"),
    "de": ("BEZAHLT", "EINGEGANGEN {date}", "KOPIE", "GEBUCHT", "Eingang: {date}", "GEPRÜFT"),
    "fr": ("PAYÉ", "REÇU LE {date}", "COPIE", "COMPTABILISÉ", "VISÉ"),
    "nl": ("BETAALD", "ONTVANGEN {date}", "KOPIE", "GEBOEKT"),
    "es": ("PAGADO", "RECIBIDO {date}", "COPIA", "CONTABILIZADO"),
    "it": ("PAGATO", "RICEVUTO IL {date}", "COPIA", "REGISTRATO"),
}


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / "dejavu" / "DejaVuSans-Bold.ttf"
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def stamp(image: Image.Image, rng: random.Random, language: str, when: date) -> Image.Image:
    """A rotated rubber stamp (framed text) somewhere on the page, in a mid grey."""
    dpi_scale = image.width / 1654  # sizes below are for an A4 page at 200 dpi
    text = rng.choice(_STAMPS.get(language, _STAMPS["en"])).format(date=fmt_date(when, "dmy_dot"))
    size = int(rng.uniform(34, 60) * dpi_scale)
    font = _font(size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    pad = int(size * 0.4)
    layer = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    draw = ImageDraw.Draw(layer)
    ink = rng.randint(60, 150)
    width = max(2, size // 12)
    draw.rectangle((width, width, layer.width - width, layer.height - width), outline=ink, width=width)
    if rng.random() < 0.4:
        inner = width * 3
        draw.rectangle((inner, inner, layer.width - inner, layer.height - inner), outline=ink, width=1)
    draw.text((pad - left, pad - top), text, fill=ink, font=font)
    layer = layer.rotate(rng.uniform(-25, 25), expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)
    # Stamps run out of ink in patches.
    noise = np.random.default_rng(rng.randrange(2**32)).random((layer.height, layer.width))
    faded = np.asarray(layer, dtype=np.int16)
    faded = np.where(noise < rng.uniform(0.05, 0.35), 255, faded).astype(np.uint8)
    layer = Image.fromarray(faded, mode="L")
    x = rng.randint(0, max(0, image.width - layer.width))
    y = rng.randint(0, max(0, image.height - layer.height))
    return _darken(image, layer, x, y)


def pen_marks(image: Image.Image, rng: random.Random) -> Image.Image:
    """Ticks, underlines, a circled spot and a scribbled initial, as a clerk leaves them."""
    scale = image.width / 1654
    layer = Image.new("L", image.size, 255)
    draw = ImageDraw.Draw(layer)
    ink = rng.randint(20, 110)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["tick", "underline", "circle", "scribble"])
        x = rng.uniform(0.05, 0.9) * image.width
        y = rng.uniform(0.05, 0.95) * image.height
        width = max(2, int(rng.uniform(2, 5) * scale))
        if kind == "tick":
            s = rng.uniform(18, 40) * scale
            draw.line([(x, y), (x + s * 0.35, y + s * 0.5), (x + s, y - s * 0.6)], fill=ink, width=width)
        elif kind == "underline":
            length = rng.uniform(120, 420) * scale
            points = [
                (x + t * length, y + np.sin(t * rng.uniform(2, 6)) * 4 * scale) for t in np.linspace(0, 1, 12)
            ]
            draw.line(points, fill=ink, width=width)
        elif kind == "circle":
            rx, ry = rng.uniform(60, 180) * scale, rng.uniform(20, 50) * scale
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), outline=ink, width=width)
        else:
            points = []
            px, py = x, y
            for _ in range(rng.randint(8, 20)):
                px += rng.uniform(-6, 18) * scale
                py += rng.uniform(-22, 22) * scale
                points.append((px, py))
            draw.line(points, fill=ink, width=width, joint="curve")
    return _darken(image, layer, 0, 0)


def _darken(image: Image.Image, layer: Image.Image, x: int, y: int) -> Image.Image:
    page = np.asarray(image.convert("L"), dtype=np.uint8).copy()
    ink = np.asarray(layer, dtype=np.uint8)
    h = min(ink.shape[0], page.shape[0] - y)
    w = min(ink.shape[1], page.shape[1] - x)
    page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], ink[:h, :w])
    return Image.fromarray(page, mode="L")


def mark_page(image: Image.Image, rng: random.Random, language: str, when: date) -> Image.Image:
    """Stamps and pen marks on one scanned page, each with its own chance."""
    if rng.random() < 0.45:
        image = stamp(image, rng, language, when)
    if rng.random() < 0.35:
        image = pen_marks(image, rng)
    return image
