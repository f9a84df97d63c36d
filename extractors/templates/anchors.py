"""Reads a value by a learned anchor: the printed label it sits beside, or its place on the page.

A label anchor predicts the value's box from where the label is printed on this document, so a
totals block that moves down with a longer line table moves its amounts with it. Among the
values of the field's type near the prediction, the closest wins: left edges are compared for
left-aligned values and right edges for right-aligned amounts, whichever fits better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from extractors.templates.locate import DocumentView, Hit, PageView
from extractors.templates.schema import Anchor
from textlayer.model import BBox


@dataclass(frozen=True, slots=True)
class AnchorSettings:
    """How far a printed value may sit from where an anchor predicts it."""

    # Vertical reach of a label anchor, in heights of the predicted box (same row: under one).
    label_vertical: float = 0.7
    # Horizontal reach of a label anchor: this many heights, or this share of the page width.
    label_heights: float = 4.0
    label_page: float = 0.06
    # A position anchor has no label to move with: it may reach further, as shares of the page.
    position_vertical: float = 0.025
    position_horizontal: float = 0.08
    # Text (a name) is read from the words inside the predicted box widened by this many heights.
    text_widen: float = 2.0


SETTINGS = AnchorSettings()


def _centre_y(box: BBox) -> float:
    return (box[1] + box[3]) / 2


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def predictions(view: DocumentView, anchor: Anchor) -> list[tuple[PageView, BBox, BBox | None, float]]:
    """(page, predicted value box, label box, how far the label is from its learned place) for
    every place the anchor applies on ``view``."""
    out: list[tuple[PageView, BBox, BBox | None, float]] = []
    b0, b1, b2, b3 = anchor.box
    if anchor.label is not None:
        for phrase in view.find_phrase(anchor.label):
            page = view.page(phrase.page)
            if page is None:
                continue
            x, y, scale = phrase.box[0], phrase.box[1], page.width
            away = 0.0
            if anchor.at is not None:
                away = math.hypot(x - anchor.at[0] * page.width, y - anchor.at[1] * page.height)
            out.append(
                (page, (x + b0 * scale, y + b1 * scale, x + b2 * scale, y + b3 * scale), phrase.box, away)
            )
        return out
    assert anchor.page is not None
    page = view.page(anchor.page)
    if page is not None:
        out.append((page, (b0 * page.width, b1 * page.height, b2 * page.width, b3 * page.height), None, 0.0))
    return out


def read_anchor(view: DocumentView, anchor: Anchor, kind: str, options: dict[str, Any]) -> Hit | None:
    """The value of type ``kind`` the anchor points at on ``view``, or None."""
    found = fit_anchor(view, anchor, kind, options)
    return found[1] if found else None


def fit_anchor(
    view: DocumentView, anchor: Anchor, kind: str, options: dict[str, Any]
) -> tuple[float, Hit] | None:
    """The value the anchor points at and how well it fits (0 = exactly where it predicts; each
    reach or page width away adds 1), so the anchors of one field can be weighed."""
    best: tuple[float, Hit] | None = None
    for page, predicted, label, away in predictions(view, anchor):
        height = max(predicted[3] - predicted[1], 4.0)
        if label is not None:
            vertical = SETTINGS.label_vertical * height
            horizontal = max(SETTINGS.label_heights * height, SETTINGS.label_page * page.width)
        else:
            vertical = max(SETTINGS.label_vertical * height, SETTINGS.position_vertical * page.height)
            horizontal = max(SETTINGS.label_heights * height, SETTINGS.position_horizontal * page.width)
        if kind == "text":
            candidates = _text_candidates(page, predicted, vertical, label)
        else:
            found = view.hits(kind, **options)
            if kind == "iban":
                # Read as printed even when the check digits fail: the rules engine flags it.
                found = found + view.unchecked_ibans()
            candidates = [h for h in found if h.page == page.number]
        for hit in candidates:
            if label is not None and _overlaps(hit.box, label):
                continue
            dy = abs(_centre_y(hit.box) - _centre_y(predicted))
            if dy > vertical:
                continue
            dx = min(abs(hit.box[0] - predicted[0]), abs(hit.box[2] - predicted[2]))
            if dx > horizontal:
                continue
            score = dx / horizontal + dy / vertical + away / page.width
            if best is None or score < best[0]:
                best = (score, hit)
    return best


def _text_candidates(page: PageView, predicted: BBox, vertical: float, label: BBox | None) -> list[Hit]:
    """The words of one row segment inside the predicted box (a name, a free-text value)."""
    from extractors.values import VALUE_TYPES

    height = max(predicted[3] - predicted[1], 4.0)
    left = predicted[0] - SETTINGS.text_widen * height
    right = predicted[2] + SETTINGS.text_widen * height
    out = []
    for r, row in enumerate(page.rows):
        if abs(_centre_y(row.bbox) - _centre_y(predicted)) > vertical:
            continue
        inside = [
            i
            for i, w in enumerate(row.words)
            if w.x0 >= left and w.x1 <= right and (label is None or not _overlaps(w.bbox, label))
        ]
        if not inside:
            continue
        segment = row.segment_of(inside[0])
        chosen = [i for i in inside if i in segment]
        start, end = chosen[0], chosen[-1] + 1
        value = VALUE_TYPES["text"].parse(row.text_of(start, end))
        if value:
            out.append(Hit(value, page.number, r, start, end, row.box_of(start, end)))
    return out
