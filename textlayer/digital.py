"""Born-digital PDF pages to the text model with pdfplumber (words, boxes, font size, bold)."""

from __future__ import annotations

from typing import Any

from textlayer.config import TextLayerConfig
from textlayer.layout import group_lines, is_bold_font
from textlayer.model import Page, Word

# The same tolerances pdfplumber uses by default; extra_attrs adds what the model carries.
WORD_SETTINGS: dict[str, Any] = {
    "x_tolerance": 3,
    "y_tolerance": 3,
    "keep_blank_chars": False,
    "use_text_flow": False,
    "extra_attrs": ["fontname", "size"],
}


def has_usable_text(page: Any, config: TextLayerConfig) -> bool:
    """Whether a pdfplumber page carries a text layer worth reading instead of OCR.

    No text, mostly unmapped glyphs (``(cid:NN)``, fonts without a Unicode map) or a page that
    is mostly a picture with a few words on it (a scan with a typed stamp) all go to OCR.
    """
    chars = [c for c in page.chars if c.get("text", "").strip()]
    if len(chars) < config.min_text_chars:
        return False
    unmapped = sum(1 for c in chars if c["text"].startswith("(cid:") or c["text"] == "\ufffd")
    if unmapped / len(chars) > config.max_cid_ratio:
        return False
    if len(chars) <= config.scan_max_chars and page.images:
        area = float(page.width * page.height) or 1.0
        covered = sum(
            max(0.0, float(im["x1"] - im["x0"])) * max(0.0, float(im["bottom"] - im["top"]))
            for im in page.images
        )
        if covered / area >= config.scan_image_coverage:
            return False
    return True


def page_from_pdfplumber(page: Any, number: int) -> Page:
    words = [
        Word(
            text=w["text"],
            bbox=(float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"])),
            confidence=1.0,
            size=round(float(w["size"]), 2),
            bold=is_bold_font(w.get("fontname")),
        )
        for w in page.extract_words(**WORD_SETTINGS)
        if w["text"].strip()
    ]
    return Page(
        number=number,
        width=float(page.width),
        height=float(page.height),
        lines=group_lines(words),
        unit="pt",
        source="digital",
        backend="pdfplumber",
    )


def empty_page(number: int, width: float, height: float, unit: str = "pt") -> Page:
    return Page(number=number, width=width, height=height, lines=[], unit=unit, source="digital")  # type: ignore[arg-type]
