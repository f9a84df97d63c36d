"""What a letterhead prints besides the vendor's name: a tagline, or a badge set as a picture.

Real letterheads are not only the company's name in the largest type. A slogan in big italics
("Quality since 1987"), a certification seal or a brand mark set as an image sit beside it, and
the legal name may be printed no larger than the body text. A badge is a raster image: a
born-digital page's text layer does not hold its words, but a scan of the page does, read by
OCR as whatever its lettering looks like. Neither is the vendor's name, and the truth says so.

``draw_mark`` draws one (or nothing) in the letterhead's free corner. Its choices come from an
RNG of their own, seeded by the document's number, so the rest of the document is drawn exactly
as it would be without marks.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sandbox.corpus.fonts import FONT_DIR

# Share of documents whose letterhead (of the kinds with a free corner) prints a mark.
MARK_RATE = 0.45
# Share of those whose vendor name is then set hardly larger than the body text.
SMALL_NAME_RATE = 0.4

_TRADES = {
    "en": ("office supplies", "logistics", "IT services", "tools", "printing", "cleaning", "catering"),
    "de": ("Bürobedarf", "Logistik", "IT-Service", "Werkzeuge", "Druck", "Gebäudereinigung"),
    "fr": ("fournitures de bureau", "logistique", "services informatiques", "outillage", "impression"),
    "nl": ("kantoorartikelen", "logistiek", "IT-diensten", "gereedschap", "drukwerk"),
    "es": ("material de oficina", "logística", "servicios informáticos", "herramientas", "imprenta"),
    "it": ("forniture per ufficio", "logistica", "servizi informatici", "utensili", "stampa"),
}
_TAGLINES = {
    "en": ("Quality since {year}", "Your partner for {trade}", "Fast. Reliable. Local.",
           "Excellence in {trade}", "Family business since {year}", "Simply better {trade}"),
    "de": ("Qualität seit {year}", "Ihr Partner für {trade}", "Schnell. Zuverlässig. Regional.",
           "Familienunternehmen seit {year}", "Kompetenz in {trade}"),
    "fr": ("La qualité depuis {year}", "Votre partenaire {trade}", "Rapide. Fiable. Local.",
           "Entreprise familiale depuis {year}"),
    "nl": ("Kwaliteit sinds {year}", "Uw partner in {trade}", "Snel. Betrouwbaar. Lokaal.",
           "Familiebedrijf sinds {year}"),
    "es": ("Calidad desde {year}", "Su socio en {trade}", "Rápido. Fiable. Cercano.",
           "Empresa familiar desde {year}"),
    "it": ("Qualità dal {year}", "Il vostro partner per {trade}", "Veloce. Affidabile. Locale.",
           "Azienda di famiglia dal {year}"),
}  # fmt: skip
_SEALS = ("ISO 9001", "ISO 14001", "CERTIFIED", "PREMIUM PARTNER", "TOP QUALITY", "EST. {year}",
          "SINCE {year}", "AWARD {year}", "ECO", "FAIR TRADE", "GOLD PARTNER", "100% SERVICE")  # fmt: skip
_BADGE_FONTS = (
    ("dejavu", "DejaVuSans-Bold.ttf"),
    ("dejavu", "DejaVuSerif-Bold.ttf"),
    ("dejavu", "DejaVuSansCondensed-Bold.ttf"),
    ("liberation2", "LiberationSans-Bold.ttf"),
    ("liberation2", "LiberationSerif-BoldItalic.ttf"),
    ("crosextra", "Caladea-BoldItalic.ttf"),
)


@dataclass(frozen=True)
class Mark:
    """A tagline (text on the page) or a badge (a picture of text), and how it sits."""

    kind: str  # "tagline" | "badge"
    text: str
    size: float  # tagline type size, or the badge's height, in points
    small_name: bool  # the vendor's name is set hardly larger than the body text beside it
    seed: int


def mark_for(number: str, language: str) -> Mark | None:
    """The mark a document numbered ``number`` prints, or None (most documents print none)."""
    seed = zlib.crc32(f"letterhead-mark:{number}".encode())
    rng = random.Random(seed)
    if rng.random() >= MARK_RATE:
        return None
    year = str(rng.randint(1950, 2015))
    small_name = rng.random() < SMALL_NAME_RATE
    if rng.random() < 0.5:
        trade = rng.choice(_TRADES.get(language, _TRADES["en"]))
        text = rng.choice(_TAGLINES.get(language, _TAGLINES["en"])).format(year=year, trade=trade)
        return Mark("tagline", text, round(rng.uniform(10, 17), 1), small_name, seed)
    text = rng.choice(_SEALS).format(year=year)
    return Mark("badge", text, round(rng.uniform(26, 44), 1), small_name, seed)


def mark_width(mark: Mark, text_width: float) -> float:
    """The width the mark takes (``text_width`` is the tagline's width in its font)."""
    if mark.kind == "tagline":
        return text_width
    return mark.size * _badge_ratio(mark)


def _badge_ratio(mark: Mark) -> float:
    return min(3.6, max(1.6, 0.62 * len(mark.text) * 0.5 + 0.9))


def draw_badge(canvas: Canvas, mark: Mark, x: float, y: float, colour: tuple[float, float, float]) -> None:
    """The badge as an image with its bottom-left corner at (x, y)."""
    height = mark.size
    width = height * _badge_ratio(mark)
    canvas.drawImage(ImageReader(_badge_image(mark, colour)), x, y, width, height, mask="auto")


def _badge_image(mark: Mark, colour: tuple[float, float, float]) -> Image.Image:
    rng = random.Random(mark.seed + 1)
    scale = 6  # pixels per point: sharp enough for a 300 dpi scan
    w, h = round(mark.size * _badge_ratio(mark) * scale), round(mark.size * scale)
    image = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    ink = (*(round(c * 255) for c in colour), 255)
    line = max(2, h // 14)
    shape = rng.choice(("rounded", "ellipse", "banner", "plain"))
    filled = shape != "plain" and rng.random() < 0.35
    if shape == "rounded":
        draw.rounded_rectangle((line, line, w - line, h - line), radius=h // 4, outline=ink, width=line,
                               fill=ink if filled else None)  # fmt: skip
    elif shape == "ellipse":
        draw.ellipse((line, line, w - line, h - line), outline=ink, width=line, fill=ink if filled else None)
    elif shape == "banner":
        draw.polygon([(0, h // 5), (w, h // 5), (w - h // 5, h // 2), (w, 4 * h // 5), (0, 4 * h // 5),
                      (h // 5, h // 2)], outline=ink, fill=ink if filled else None)  # fmt: skip
    lettering = (255, 255, 255, 255) if filled else ink
    font = _font(rng.choice(_BADGE_FONTS), round(h * rng.uniform(0.28, 0.42)))
    spacing = rng.choice((0, 0, h // 20))  # letter-spaced seals are common
    text = mark.text
    widths = [draw.textlength(ch, font=font) + spacing for ch in text]
    cursor = (w - sum(widths)) / 2
    top = h / 2
    for ch, advance in zip(text, widths, strict=True):
        draw.text((cursor, top), ch, font=font, fill=lettering, anchor="lm")
        cursor += advance
    angle = rng.uniform(-8, 8)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False)


@cache
def _font(face: tuple[str, str], size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / face[0] / face[1]
    if not path.is_file():
        path = FONT_DIR / "dejavu" / "DejaVuSans-Bold.ttf"
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)
