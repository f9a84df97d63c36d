"""Rows of two columns read as one: found in tesseract's lines, read again column by column.

Tesseract reads a page as one block of text rows (``TextLayerConfig.psm``), which keeps a
table's rows whole. Where two columns of different type sizes stand side by side (a sender's
address in small print beside the invoice's dates in larger print), their baselines interleave
and a row of one column is cut in two: its upper half read with one row of the other column
and its lower half with the next ("D te: D , 202" above "ue date: Dec 8, 2025"), and the small
print beside it is misread too. The sign is two of tesseract's lines that share most of their
height. The band of the page around them, between rows of paper, is cut at the blank gaps that
run down its whole height, and each piece is read again on its own; its words replace the
band's first reading.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
from PIL import Image

from textlayer.config import ColumnSettings
from textlayer.model import Line, Word


def interleaved_rows(lines: list[Line], settings: ColumnSettings) -> list[tuple[float, float]]:
    """The vertical spans of pairs of lines that share most of their height over common columns
    (two cells of one row lie side by side instead)."""
    spans: list[tuple[float, float]] = []
    boxes = [line.bbox for line in lines if line.words]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            shared = min(a[3], b[3]) - max(a[1], b[1])
            shorter = min(a[3] - a[1], b[3] - b[1])
            apart = b[0] >= a[2] or a[0] >= b[2]
            if shorter > 0 and shared >= settings.shared_height * shorter and not apart:
                spans.append((min(a[1], b[1]), max(a[3], b[3])))
    return spans


def _runs(blank: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of True in a 1-D array."""
    padded = np.concatenate(([False], blank, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _band(blank: np.ndarray, top: int, bottom: int, gap: int) -> tuple[int, int]:
    """The span around ``top..bottom`` up to the nearest runs of ``gap`` paper rows."""
    start = top
    while start > 0:
        if blank[max(0, start - gap) : start].all():
            break
        start -= 1
    end = bottom
    while end < len(blank):
        if blank[end : end + gap].all():
            break
        end += 1
    return start, end


def _least_ink(ink_rows: np.ndarray, top: int, bottom: int, reach: int) -> tuple[int, int]:
    """The rows of least ink within ``reach`` above ``top`` and below ``bottom``."""
    above = ink_rows[max(0, top - reach) : top + 1]
    below = ink_rows[bottom : bottom + reach + 1]
    start = max(0, top - reach) + int(np.argmin(above)) if above.size else top
    end = bottom + int(np.argmin(below)) if below.size else bottom
    return start, end


def _pieces(ink: np.ndarray, column_gap: int, row_gap: int, depth: int) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x0, y0, x1, y1)`` of a region's ink, cut recursively (an XY cut): down the runs of
    at least ``column_gap`` paper columns that cross the whole region, and where none does,
    across its runs of at least ``row_gap`` paper rows, at most ``depth`` cuts deep; a piece with
    neither is read whole."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return []
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    ink = ink[top:bottom, left:right]
    boxes: list[tuple[int, int, int, int]] = []
    for axis, gap in ((0, column_gap), (1, row_gap)):
        blank: np.ndarray = np.logical_not(ink.any(axis=axis))
        cuts = [(s, e) for s, e in _runs(blank) if e - s >= gap]
        if not cuts or depth == 0:
            continue
        start = 0
        for s, e in [*cuts, (blank.size, blank.size)]:
            part = ink[:, start:s] if axis == 0 else ink[start:s]
            for x0, y0, x1, y1 in _pieces(part, column_gap, row_gap, depth - 1):
                dx, dy = (start, 0) if axis == 0 else (0, start)
                boxes.append((left + dx + x0, top + dy + y0, left + dx + x1, top + dy + y1))
            start = e
        return boxes
    return [(left, top, right, bottom)]


def reread_columns(
    lines: list[Line],
    image: Image.Image,
    read: Callable[[Image.Image], list[Line]],
    settings: ColumnSettings,
) -> tuple[list[Line], int]:
    """``lines`` with each band of interleaved rows read again piece by piece, and how many
    bands were. ``image`` is the page tesseract read (grey); ``read`` reads a piece of it."""
    if not settings.enabled:
        return lines, 0
    spans = interleaved_rows(lines, settings)
    if not spans:
        return lines, 0
    heights = [w.height for line in lines for w in line.words if w.height > 0]
    typical = statistics.median(heights) if heights else 20.0
    ink = np.asarray(image.convert("L"), dtype=np.uint8) < settings.ink_level
    page_h, page_w = ink.shape
    ink_rows = ink.sum(axis=1)
    # A rule or a margin mark down the page leaves a row a few dots of ink: paper still.
    blank_rows = ink_rows <= settings.stray_ink * page_w
    bands: list[tuple[int, int]] = []
    for top, bottom in spans:
        gap = max(2, round(settings.band_gap * typical))
        start, end = _band(blank_rows, max(0, int(top)), min(page_h, int(bottom) + 1), gap)
        if end - start > settings.max_band_share * page_h:
            # No row of paper near enough: the band ends at the rows of least ink within reach.
            reach = max(gap, round(settings.band_reach * typical))
            start, end = _least_ink(ink_rows, max(0, int(top)), min(page_h, int(bottom) + 1), reach)
        if bands and start <= bands[-1][1]:
            bands[-1] = (min(bands[-1][0], start), max(bands[-1][1], end))
        else:
            bands.append((start, end))
    margin = max(2, round(settings.margin * typical))
    column_gap = max(4, round(settings.column_gap * typical))
    row_gap = max(2, round(settings.row_gap * typical))
    kept, done = lines, 0
    for start, end in bands:

        def inside(word: Word, start: int = start, end: int = end) -> bool:
            return start <= (word.top + word.bottom) / 2 < end

        again: list[Line] = []
        for left, top, right, bottom in _pieces(ink[start:end], column_gap, row_gap, settings.max_depth):
            x0, y0 = max(0, left - margin), max(0, start + top - margin)
            x1, y1 = min(page_w, right + margin), min(page_h, start + bottom + margin)
            for line in read(image.crop((x0, y0, x1, y1))):
                moved = (_moved(w, x0, y0) for w in line.words)
                again.append(Line(words=[w for w in moved if inside(w)]))
        first = [w for line in kept for w in line.words if inside(w)]
        # The second reading stands only where tesseract is surer of it: a piece can read worse
        # alone (a column of figures without its row), and a band can be no cut row at all.
        if _sureness([w for line in again for w in line.words]) <= _sureness(first):
            continue
        outside = [Line(words=words) for line in kept if (words := [w for w in line.words if not inside(w)])]
        kept = sorted(
            outside + [line for line in again if line.words], key=lambda line: (line.bbox[1], line.bbox[0])
        )
        done += 1
    return kept, done


def _reading_order(line: Line) -> tuple[float, float]:
    return line.bbox[1], line.bbox[0]


def _sureness(words: list[Word]) -> float:
    """Tesseract's mean confidence over the letters of ``words`` (0 when there are none)."""
    letters = sum(len(w.text) for w in words)
    return sum(len(w.text) * w.confidence for w in words) / letters if letters else 0.0


def _moved(word: Word, dx: float, dy: float) -> Word:
    x0, y0, x1, y1 = word.bbox
    return Word(
        text=word.text,
        bbox=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
        confidence=word.confidence,
        size=word.size,
        bold=word.bold,
    )
