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
import math
from typing import Any

from pdfminer.fontmetrics import FONT_METRICS

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
    those without a Unicode mapping.

    A character's size is its font size scaled by its text matrix (a font set at size 1 and
    scaled by the matrix is common), as pdfminer measures it. Upright characters are joined as
    pdfplumber joins them; turned characters (margin notes printed sideways) are joined along
    their own direction, in the order they are drawn, so a sideways word reads forwards.
    """
    import pypdfium2.raw as raw

    height = float(page.get_height())
    textpage = page.get_textpage()
    handle = textpage.raw
    count = textpage.count_chars()
    rect = raw.FS_RECTF()
    matrix = raw.FS_MATRIX()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    descent = 0.0
    buffer = (ctypes.c_ubyte * 256)()
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]
    size = 0.0
    font = ""
    # Where the word's last character ends along the word's direction, and its line across it.
    last_end = last_across = 0.0
    direction: tuple[float, float] | None = None
    high_surrogate = 0
    # Words followed by nothing but a space pdfium generated, within the gap tolerance.
    close_after: set[int] = set()
    generated_gap = False
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
        if 0xD800 <= code < 0xDC00:
            # pdfium gives a character outside the Basic Multilingual Plane as two UTF-16 halves.
            high_surrogate = code
            continue
        if 0xDC00 <= code < 0xE000:
            code = 0x10000 + ((high_surrogate - 0xD800) << 10) + (code - 0xDC00) if high_surrogate else 0
        high_surrogate = 0
        # pdfium marks a hyphen that breaks a word at the line's end with U+0002.
        char = "-" if code == 2 else chr(code) if code else ""
        if not char or char.isspace():
            # Spaces pdfium generates where it sees a gap end a word too: measured on the sample
            # corpus, leaving them to the gap test alone agreed with pdfplumber less often.
            flush()
            generated_gap = bool(words) and code == 32 and raw.FPDFText_IsGenerated(handle, index) == 1
            continue
        if not raw.FPDFText_GetLooseCharBox(handle, index, ctypes.byref(rect)):
            continue
        visible += 1
        if code == 0xFFFD or raw.FPDFText_HasUnicodeMapError(handle, index) == 1:
            unmapped += 1
        font_size = float(raw.FPDFText_GetFontSize(handle, index))
        if raw.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix)):
            a, b, c, d = float(matrix.a), float(matrix.b), float(matrix.c), float(matrix.d)
        else:
            a, b, c, d = 1.0, 0.0, 0.0, 1.0
        scale = math.hypot(a, b) or 1.0
        upright = abs(b) <= 1e-3 * scale and abs(c) <= 1e-3 * scale and a > 0 and d > 0
        if upright:
            char_size = font_size * d
            raw.FPDFText_GetCharOrigin(handle, index, ctypes.byref(origin_x), ctypes.byref(origin_y))
            baseline = height - float(origin_y.value)
            x0, x1 = float(rect.left), float(rect.right)
            # pdfminer's box: from the descent below the baseline up by the font size.
            top = baseline - descent * char_size - char_size
            heading = (1.0, 0.0)
            start, end, across = x0, x1, top
        else:
            char_size = font_size * math.hypot(c, d)
            heading = (a / scale, b / scale)
            corners = (
                (rect.left, rect.bottom),
                (rect.left, rect.top),
                (rect.right, rect.bottom),
                (rect.right, rect.top),
            )
            along = [x * heading[0] + y * heading[1] for x, y in corners]
            start, end = min(along), max(along)
            raw.FPDFText_GetCharOrigin(handle, index, ctypes.byref(origin_x), ctypes.byref(origin_y))
            across = float(origin_y.value) * heading[0] - float(origin_x.value) * heading[1]
        apart = (
            heading != direction
            or start > last_end + X_TOLERANCE
            or start < last_end - X_TOLERANCE
            or abs(across - last_across) > Y_TOLERANCE
        )
        if chars and apart:
            flush()
        elif generated_gap and not chars:
            # Only pdfium's own space stands between this character and the word before.
            close_after.add(len(words) - 1)
        generated_gap = False
        if not chars:
            # Font facts are read once per word: GetFontInfo is the costly call.
            font = _font_name(raw, handle, index, buffer)
            if upright:
                descent = _descent_ratio(raw, handle, index, font, font_size)
                top = baseline - descent * char_size - char_size
                across = top
            direction, size = heading, char_size
        if upright:
            char_box = (x0, top, x1, top + char_size)
        else:
            char_box = (
                float(rect.left),
                height - float(rect.top),
                float(rect.right),
                height - float(rect.bottom),
            )
        if not chars:
            box[:] = char_box
        else:
            box[0], box[1] = min(box[0], char_box[0]), min(box[1], char_box[1])
            box[2], box[3] = max(box[2], char_box[2]), max(box[3], char_box[3])
        chars.append(char)
        last_end, last_across = end, across
    flush()
    textpage.close()
    return _join_letter_spaced(words, close_after), visible, unmapped


def _join_letter_spaced(words: list[Word], close_after: set[int]) -> list[Word]:
    """Join letter-spaced print back into words.

    pdfium puts a space between characters set wide apart ("I n v o i c e"), where pdfplumber's
    gap test keeps them one word. Three or more one-character words in a row, each separated
    from the next only by such a space and within the gap tolerance, are one word.
    """
    joined: list[Word] = []
    index = 0
    while index < len(words):
        end = index
        while (
            end in close_after
            and end + 1 < len(words)
            and len(words[end].text) == 1
            and len(words[end + 1].text) == 1
        ):
            end += 1
        if end - index >= 2:
            run = words[index : end + 1]
            joined.append(
                Word(
                    text="".join(w.text for w in run),
                    bbox=(
                        min(w.bbox[0] for w in run),
                        min(w.bbox[1] for w in run),
                        max(w.bbox[2] for w in run),
                        max(w.bbox[3] for w in run),
                    ),
                    confidence=1.0,
                    size=run[0].size,
                    bold=run[0].bold,
                )
            )
            index = end + 1
        else:
            joined.append(words[index])
            index += 1
    return joined


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
        backend="pdfium",
    )
