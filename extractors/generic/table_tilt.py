"""Rows of a scan or photo as the table reader needs them: level, and whole.

A photographed receipt is seldom level: at five degrees the amount at the right end of a row
stands a row higher or lower than the description at its left end, and rows regrouped by
height alone mix neighbouring items. The slope is the one at which the word centres fall into
the sharpest rows (the most pairs of words at one height); the words are turned by it about
the centre of the text before they are regrouped, so the table reader sees level rows and
straight columns. A row OCR split in two (a dash's small box sets it apart from its
neighbours) is joined again when the two overlap by most of their height. Only the table reader
reads these rows; each word keeps a link to the page row it was read in, so what the table
covers is told in the page's own rows.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from statistics import median

import numpy as np

from extractors.generic.geometry import Row, build_rows
from textlayer.model import Line, Page, Word

# Around the slope its neighbouring words show, slopes tried to sharpen the rows: +-0.02 in
# steps of 0.0025 (rise per unit of width; 0.0025 is about 0.14 degrees).
_REFINE = np.arange(-0.02, 0.0201, 0.0025)
# Word centres within this share of a text height count as one row when scoring a slope.
_SAME_ROW = 0.3


@dataclass(slots=True)
class Levelled:
    rows: list[Row]  # the page's words regrouped along their slope (boxes turned)
    origin: dict[int, int]  # id of a levelled word -> index of the page row it was read in
    slope: float


def text_slope(words: list[Word]) -> float:
    """The slope (rise per unit of width) along which the words line up best into rows.

    Words of one phrase stand a space apart on one baseline: the median slope between such
    neighbours is the page's tilt, unfooled by rows that happen to line up with the next one
    at another slope. It is then sharpened to the slope at which the most pairs of word
    centres fall into one row.
    """
    if len(words) < 6:
        return 0.0
    height = float(np.median([w.bottom - w.top for w in words]))
    ordered = sorted(words, key=lambda w: w.x0)
    slopes: list[float] = []
    for i, a in enumerate(ordered):
        ay = (a.top + a.bottom) / 2
        for b in ordered[i + 1 :]:
            if b.x0 - a.x1 > 1.5 * height:
                break
            by = (b.top + b.bottom) / 2
            dx = (b.x0 + b.x1) / 2 - (a.x0 + a.x1) / 2
            if b.x0 > a.x1 - 1 and dx > height and abs(by - ay) < 0.6 * height:
                slopes.append((by - ay) / dx)
                break
    if len(slopes) < 4:
        return 0.0
    rough = float(np.median(slopes))
    xs = np.array([(w.x0 + w.x1) / 2 for w in words])
    ys = np.array([(w.top + w.bottom) / 2 for w in words])
    reach = _SAME_ROW * height
    positions = np.arange(len(words))
    best, best_slope = -1, rough
    for slope in rough + _REFINE:
        level = np.sort(ys - slope * xs)
        # For each word, the words at its height before it: pairs sharing a row.
        pairs = int((positions - np.searchsorted(level, level - reach)).sum())
        if pairs > best or (pairs == best and abs(slope - rough) < abs(best_slope - rough)):
            best, best_slope = pairs, float(slope)
    return best_slope


def level_rows(rows: list[Row], min_slope: float) -> Levelled | None:
    """The rows regrouped along the text's slope, or None when the page is level already."""
    words = [w for row in rows for w in row.words]
    slope = text_slope(words)
    if abs(slope) < min_slope:
        return None
    angle = math.atan(slope)
    cos, sin = math.cos(angle), math.sin(angle)
    cx = (min(w.x0 for w in words) + max(w.x1 for w in words)) / 2
    cy = (min(w.top for w in words) + max(w.bottom for w in words)) / 2
    turned: list[Word] = []
    origin: dict[int, int] = {}
    for row in rows:
        for word in row.words:
            mx, my = (word.x0 + word.x1) / 2 - cx, (word.top + word.bottom) / 2 - cy
            nx, ny = mx * cos + my * sin + cx, -mx * sin + my * cos + cy
            half_w, half_h = (word.x1 - word.x0) / 2, (word.bottom - word.top) / 2
            new = dataclasses.replace(word, bbox=(nx - half_w, ny - half_h, nx + half_w, ny + half_h))
            turned.append(new)
            origin[id(new)] = row.index
    page = Page(number=rows[0].page, width=0.0, height=0.0, lines=[Line(turned)], source="ocr")
    return Levelled(build_rows(page), origin, slope)


def joined_rows(rows: list[Row]) -> Levelled | None:
    """Neighbouring rows that overlap by more than half the lower one's height joined into one
    row, or None when no two do."""
    groups: list[list[Row]] = []
    for row in rows:
        if groups:
            last = groups[-1]
            top, bottom = min(r.top for r in last), max(r.bottom for r in last)
            overlap = min(bottom, row.bottom) - max(top, row.top)
            if overlap > 0.5 * min(row.height, median(r.height for r in last)):
                last.append(row)
                continue
        groups.append([row])
    if len(groups) == len(rows):
        return None
    out: list[Row] = []
    origin: dict[int, int] = {}
    for index, group in enumerate(groups):
        words = sorted((w for r in group for w in r.words), key=lambda w: w.x0)
        for r in group:
            origin.update((id(w), r.index) for w in r.words)
        height = median(w.height for w in words)
        segments: list[list[int]] = [[0]]
        for i in range(1, len(words)):
            if words[i].x0 - words[i - 1].x1 > 1.6 * height:
                segments.append([i])
            else:
                segments[-1].append(i)
        out.append(Row(page=group[0].page, words=words, index=index, segments=segments))
    return Levelled(out, origin, 0.0)
