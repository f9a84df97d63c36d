"""Reads a value by a learned anchor: the printed label it sits beside, or its place on the page.

A label anchor predicts the value's box from where the label is printed on this document, so a
totals block that moves down with a longer line table moves its amounts with it. Among the
values of the field's type near the prediction, the closest wins: left edges are compared for
left-aligned values and right edges for right-aligned amounts, whichever fits better.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from extractors.generic.labels import LABELS, ocr_tokens, tokens
from extractors.templates.locate import DocumentView, Hit, PageView, Phrase
from extractors.templates.schema import Anchor
from extractors.values import FIELD_TYPES, ISO_CURRENCIES
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
    # A value learned in its label's row ("VAT 21 % 1,245.21") is the value right of the label in
    # that row as far as this share of the page width: column widths move with the amounts.
    same_row_reach: float = 0.4
    # Words closer than this many row heights belong to one label ("Total excl. VAT"); learning
    # takes a label as all such words before a value, up to ``max_label_words``.
    label_join: float = 1.6
    max_label_words: int = 5


SETTINGS = AnchorSettings()


def _centre_y(box: BBox) -> float:
    return (box[1] + box[3]) / 2


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def predictions(view: DocumentView, anchor: Anchor) -> list[tuple[PageView, BBox, Phrase | None, float]]:
    """(page, predicted value box, the label as printed, how far the label is from its learned
    place) for every place the anchor applies on ``view``."""
    out: list[tuple[PageView, BBox, Phrase | None, float]] = []
    b0, b1, b2, b3 = anchor.box
    if anchor.label is not None:
        whole = len(anchor.label.split()) < SETTINGS.max_label_words
        for phrase in view.find_phrase(anchor.label):
            page = view.page(phrase.page)
            if page is None:
                continue
            if whole and _inside_longer_label(page, phrase):
                continue  # "VAT" learned alone is not the "VAT" of "Total excl. VAT"
            x, y, scale = phrase.box[0], phrase.box[1], page.width
            away = 0.0
            if anchor.at is not None:
                away = math.hypot(x - anchor.at[0] * page.width, y - anchor.at[1] * page.height)
            out.append((page, (x + b0 * scale, y + b1 * scale, x + b2 * scale, y + b3 * scale), phrase, away))
        return out
    assert anchor.page is not None
    page = view.page(anchor.page)
    if page is not None:
        out.append((page, (b0 * page.width, b1 * page.height, b2 * page.width, b3 * page.height), None, 0.0))
    return out


# Values whose form says what they are: a longer label before one ("VAT no. intra-community")
# still labels the same kind of value, so extra label words do not disqualify it.
_SELF_NAMED = frozenset({"iban", "tax_id", "vat_id"})

_RATE = re.compile(r"\(?[\d.,]*\s*%\)?:?")


def between_label_and_value(text: str) -> bool:
    """A word printed between a label and its value that is no part of the label (a rate, a currency)."""
    bare = text.strip(":()")
    return bool(_RATE.fullmatch(text)) or bare.upper() in ISO_CURRENCIES or bare in ("€", "$", "£", "¥")


def _labels_another(page: PageView, phrase: Phrase, hit: Hit) -> bool:
    """Whether other label words stand between the phrase and a value right of it in its row:
    "VAT" then "REG NO" then a number is the registration number's label, not the tax's."""
    if hit.page != phrase.page or hit.row != phrase.row or hit.start < phrase.end:
        return False
    words = page.rows[phrase.row].words[phrase.end : hit.start]
    return any(
        tokens(w.text) and not any(ch.isdigit() for ch in w.text) and not between_label_and_value(w.text)
        for w in words
    )


def _inside_longer_label(page: PageView, phrase: Phrase) -> bool:
    """Whether a word joined to the phrase's left belongs to the same label: then the phrase is
    the end of another, longer label than the one learned (learned labels take every such word)."""
    if phrase.start == 0:
        return False
    row = page.rows[phrase.row]
    before, first = row.words[phrase.start - 1], row.words[phrase.start]
    if first.x0 - before.x1 > SETTINGS.label_join * max(row.height, 1.0):
        return False
    return bool(tokens(before.text)) and not any(ch.isdigit() for ch in before.text)


@lru_cache(maxsize=1)
def _label_phrases() -> dict[str, frozenset[str]]:
    """The generic extractor's label phrases per field, folded to tokens."""
    return {kind: frozenset(" ".join(tokens(p)) for p in phrases) for kind, (_, phrases) in LABELS.items()}


@lru_cache(maxsize=1)
def _joined_phrases() -> dict[str, frozenset[str]]:
    """The same phrases without their spaces: OCR glues words ("Subtotal", "TotalAmount")."""
    phrases = _label_phrases()
    return {kind: frozenset(p.replace(" ", "") for p in folded) for kind, folded in phrases.items()}


# Words saying that the tax named after them is included ("Total incl. VAT"): such a label
# names the gross total, not the tax. OCR reads their "i" as "l" ("lncl").
_INCLUDING = frozenset({"incl", "including", "inclusive", "inkl", "inklusive", "einschl", "ttc"})
# Kinds of amounts that are no field of an invoice but are printed beside one: a label naming
# one of them names none of the fields ("Cash" beside the amount tendered).
_NOT_FIELDS = ("payment", "carry")
_ASIDE = re.compile(r"\([^)]*\)?")


def label_weight(name: str, label: str) -> float:
    """+1 when the generic label knowledge says ``label`` names field ``name`` ("Total due" for
    the total), -1 when it names another field or an amount that is no field ("Net à payer" for
    a subtotal of the same amount, "Cash" for the amount tendered), else 0: of several labelled
    places of a value, the one labelled as such is meant.

    A label that names nothing as printed is looked up again with its OCR slips repaired
    ("Payabie"), without its asides ("Total (EUR)") and without its spaces ("TotalDue").
    """
    folded = " ".join(tokens(label))
    weight = _folded_weight(name, folded)
    if weight != 0.0:
        return weight
    for variant in (" ".join(ocr_tokens(label)), " ".join(tokens(_ASIDE.sub(" ", label)))):
        if variant and variant != folded:
            weight = _folded_weight(name, variant)
            if weight != 0.0:
                return weight
    joined = folded.replace(" ", "")
    glued = _joined_phrases()
    if joined in glued.get(name, frozenset()):
        return 1.0
    if any(joined in phrases for kind, phrases in glued.items() if kind != name and _rival(kind)):
        return -1.0
    return 0.0


def _rival(kind: str) -> bool:
    return kind in FIELD_TYPES or kind in _NOT_FIELDS


# Kinds of label phrases that name a field besides its own (a plain "Date" is the invoice's).
_ALSO_NAMES = {"invoice_date": ("date",)}


@lru_cache(maxsize=4096)
def _folded_weight(name: str, folded: str) -> float:
    def named(phrases: frozenset[str]) -> int:
        # The longest phrase the label is or ends with: "Sub total" names the subtotal by
        # "sub total" before it names the total by "total".
        return max((len(p) for p in phrases if folded == p or folded.endswith(f" {p}")), default=0)

    def abbreviates(phrases: frozenset[str]) -> bool:
        # One word more inside a known label ("Total Sum Payable" for "Total payable"): the
        # same label with a word a receipt or a small invoicing program abbreviates.
        words = folded.split()
        return any(
            len(p.split()) >= 2
            and len(words) == len(p.split()) + 1
            and words[0] == p.split()[0]
            and words[-1] == p.split()[-1]
            and set(p.split()) <= set(words)
            for p in phrases
        )

    phrases = _label_phrases()
    if _tax_included(folded):
        return 1.0 if name == "total" else -1.0
    own_kinds = (name, *_ALSO_NAMES.get(name, ()))
    own = max(named(phrases.get(k, frozenset())) for k in own_kinds)
    rival = max(
        (named(p) for k, p in phrases.items() if k not in own_kinds and _rival(k)),
        default=0,
    )
    if own and own >= rival:
        return 1.0
    if rival:
        return -1.0
    return 1.0 if abbreviates(phrases.get(name, frozenset())) else 0.0


@lru_cache(maxsize=1)
def _tax_words() -> frozenset[str]:
    return frozenset(p for p in _label_phrases()["tax_amount"] if " " not in p)


def _tax_included(folded: str) -> bool:
    """A label of a total that includes the tax: a word saying so before a tax word, both after
    the label's first word ("Total incl. VAT", "Amount incl GST")."""
    words = folded.split()
    for i, word in enumerate(words[1:], start=1):
        including = word in _INCLUDING or (word[:1] == "l" and f"i{word[1:]}" in _INCLUDING)
        if including and any(w in _tax_words() for w in words[i + 1 :]):
            return True
    return False


def _continues_into_longer_label(page: PageView, phrase: Phrase) -> bool:
    """Whether a word joined to the phrase's right continues it ("Date" of "Date fin")."""
    row = page.rows[phrase.row]
    if phrase.end >= len(row.words):
        return False
    last, after = row.words[phrase.end - 1], row.words[phrase.end]
    if after.x0 - last.x1 > SETTINGS.label_join * max(row.height, 1.0):
        return False
    return bool(tokens(after.text)) and after.text.isalpha()


def label_places(view: DocumentView, label: str) -> list[Phrase]:
    """Where ``label`` is printed as a label of its own, not as a part of a longer one ("Date"
    of "Date fin" or of "Delivery date" does not count)."""
    out = []
    for phrase in view.find_phrase(label):
        page = view.page(phrase.page)
        if page is None or _inside_longer_label(page, phrase) or _continues_into_longer_label(page, phrase):
            continue
        out.append(phrase)
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
    for page, predicted, phrase, away in predictions(view, anchor):
        height = max(predicted[3] - predicted[1], 4.0)
        if phrase is not None:
            vertical = SETTINGS.label_vertical * height
            horizontal = max(SETTINGS.label_heights * height, SETTINGS.label_page * page.width)
        else:
            vertical = max(SETTINGS.label_vertical * height, SETTINGS.position_vertical * page.height)
            horizontal = max(SETTINGS.label_heights * height, SETTINGS.position_horizontal * page.width)
        label = phrase.box if phrase is not None else None
        if kind == "text":
            candidates = _text_candidates(page, predicted, vertical, label)
        else:
            found = view.hits(kind, **options)
            if kind == "iban":
                # Read as printed even when the check digits fail: the rules engine flags it.
                found = found + view.unchecked_ibans()
            candidates = [h for h in found if h.page == page.number]
        in_row = phrase is not None and phrase.box[1] <= _centre_y(predicted) <= phrase.box[3]
        for hit in candidates:
            if label is not None and _overlaps(hit.box, label):
                continue
            if phrase is not None and kind not in _SELF_NAMED and _labels_another(page, phrase, hit):
                continue
            dy = abs(_centre_y(hit.box) - _centre_y(predicted))
            if dy > vertical:
                continue
            reach = horizontal
            if in_row and phrase is not None and hit.row == phrase.row and hit.start >= phrase.end:
                reach = max(horizontal, SETTINGS.same_row_reach * page.width)
            dx = min(abs(hit.box[0] - predicted[0]), abs(hit.box[2] - predicted[2]))
            if dx > reach:
                continue
            score = dx / reach + dy / vertical + away / page.width
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
