"""Born-digital words from pdfium's text page: the candidate fast backend, measured against pdfplumber.

pdfium walks the characters in C; this module only joins them into words the way pdfplumber's
``extract_words`` does (split on spaces and on gaps wider than ``x_tolerance``, or a jump of
more than ``y_tolerance`` between characters). It follows pdfium's character order, where
pdfplumber sorts each line by x first: a page that draws a line's pieces right to left can
split or join words differently (2 of 204 sample pages). ``benchmarks/bench_textlayer.py --pdfium``
reports how often its words equal pdfplumber's and how much faster it is; the reader uses it
only when ``TextLayerConfig.digital_backend == "pdfium"``.
"""

from __future__ import annotations

import ctypes
from typing import Any

from textlayer.config import TextLayerConfig
from textlayer.layout import group_lines, is_bold_font
from textlayer.model import Page, Word

X_TOLERANCE = 3.0
Y_TOLERANCE = 3.0


def _font_name(raw: Any, textpage: Any, index: int, buffer: Any) -> str:
    flags = ctypes.c_int()
    size = raw.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    if size <= 0 or size > len(buffer):
        return ""
    return bytes(buffer[: size - 1]).decode("utf-8", "replace")


def _descent_ratio(raw: Any, textpage: Any, index: int, font: str, size: float) -> float:
    """The font's descent per unit of size, as pdfminer sees it (it sets pdfplumber's boxes).

    pdfminer takes the base-14 fonts' descent from their AFM metrics and others from the font
    descriptor; pdfium's own figure is the fallback for fonts outside the base 14.
    """
    from pdfminer.fontmetrics import FONT_METRICS

    base = font.split("+", 1)[-1]
    if base in FONT_METRICS:
        descriptor: dict[str, Any] = dict(FONT_METRICS[base][0])
        return float(descriptor["Descent"]) / 1000.0
    if size <= 0:
        return 0.0
    descent = ctypes.c_float()
    handle = raw.FPDFTextObj_GetFont(raw.FPDFText_GetTextObject(textpage, index))
    if not handle or not raw.FPDFFont_GetDescent(handle, ctypes.c_float(size), ctypes.byref(descent)):
        return 0.0
    return float(descent.value) / size


def words_from_page(page: Any) -> tuple[list[Word], int, int]:
    """Words of a pypdfium2 page in top-left PDF points, the count of visible characters and of
    those without a Unicode mapping."""
    import pypdfium2.raw as raw

    height = float(page.get_height())
    textpage = page.get_textpage()
    handle = textpage.raw
    count = textpage.count_chars()
    rect = raw.FS_RECTF()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    descent = 0.0
    buffer = (ctypes.c_ubyte * 256)()
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]
    size = 0.0
    font = ""
    last_x1 = last_top = 0.0
    visible = 0
    unmapped = 0

    def flush() -> None:
        if chars:
            words.append(
                Word(
                    text="".join(chars),
                    bbox=(box[0], box[1], box[2], box[3]),
                    confidence=1.0,
                    size=round(size, 2),
                    bold=is_bold_font(font),
                )
            )
            chars.clear()

    for index in range(count):
        code = raw.FPDFText_GetUnicode(handle, index)
        char = chr(code) if code else ""
        if not char or char.isspace():
            # Spaces pdfium generates where it sees a gap end a word too: measured on the sample
            # corpus, leaving them to the gap test alone agreed with pdfplumber less often.
            flush()
            continue
        if not raw.FPDFText_GetLooseCharBox(handle, index, ctypes.byref(rect)):
            continue
        visible += 1
        if code == 0xFFFD or raw.FPDFText_HasUnicodeMapError(handle, index) == 1:
            unmapped += 1
        x0, x1 = float(rect.left), float(rect.right)
        raw.FPDFText_GetCharOrigin(handle, index, ctypes.byref(origin_x), ctypes.byref(origin_y))
        char_size = float(raw.FPDFText_GetFontSize(handle, index))
        baseline = height - float(origin_y.value)
        # pdfminer's box: from the descent below the baseline up by the font size.
        top = baseline - descent * char_size - char_size
        if chars and (
            x0 > last_x1 + X_TOLERANCE or x0 < last_x1 - X_TOLERANCE or abs(top - last_top) > Y_TOLERANCE
        ):
            flush()
        if not chars:
            # Font facts are read once per word: GetFontInfo is the costly call.
            font = _font_name(raw, handle, index, buffer)
            descent = _descent_ratio(raw, handle, index, font, char_size)
            top = baseline - descent * char_size - char_size
        bottom = top + char_size
        if not chars:
            box[:] = [x0, top, x1, bottom]
            size = char_size
        else:
            box[0], box[1] = min(box[0], x0), min(box[1], top)
            box[2], box[3] = max(box[2], x1), max(box[3], bottom)
        chars.append(char)
        last_x1, last_top = x1, top
    flush()
    textpage.close()
    return words, visible, unmapped


def image_coverage(page: Any) -> float:
    """Share of the page area under image objects (a scan is one picture over the whole page)."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    covered = 0.0
    for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        covered += max(0.0, right - left) * max(0.0, top - bottom)
    return covered / max(1.0, float(width * height))


def page_from_pdfium(page: Any, number: int, config: TextLayerConfig) -> Page | None:
    """The page's words, or None when its text layer is not worth reading (same rules as
    ``digital.has_usable_text``)."""
    words, visible, unmapped = words_from_page(page)
    if visible < config.min_text_chars or unmapped / visible > config.max_cid_ratio:
        return None
    if visible <= config.scan_max_chars and image_coverage(page) >= config.scan_image_coverage:
        return None
    width, height = page.get_size()
    return Page(
        number=number,
        width=float(width),
        height=float(height),
        lines=group_lines(words),
        unit="pt",
        source="digital",
    )
