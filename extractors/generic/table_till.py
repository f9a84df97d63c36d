"""Till slips: items printed as a list of amounts, one per row, their counts on a row under them.

A receipt seldom prints a column header, nor a quantity for an item bought once: "Croissant
2,21 A" is one croissant at 2,21, and an item bought several times gets a row of its own under
it ("6 x 6,69"). On a page as narrow as a till slip, a run of such rows is the item list when
its amounts add up to the amount printed right after it (the total, whatever its label says) or
when the counts under them multiply out to their amounts. The run ends at a totals label, at
the row whose amount is the sum of the items above it, or at any row of another kind.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from extractors.generic.geometry import Row
from extractors.generic.table_numbers import NumberSpan, is_currency, number_spans, tokenize
from textlayer.model import Word

_TIMES = frozenset({"x", "X", "×", "@", "*"})
_CENT = Decimal("0.011")


@dataclass(slots=True)
class TillItem:
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    consistent: bool  # the count row multiplies out, or the item was bought once
    confidence: float
    amount_text: str
    amount_confidence: float
    rows: list[int]  # positions in the page's row list
    words: list[Word]


def is_slip(rows: list[Row], characters: int = 60) -> bool:
    """The page's text is at most ``characters`` wide, as a till slip's (any resolution)."""
    words = [w for row in rows for w in row.words]
    wide = [w for w in words if len(w.text) >= 3]
    if len(wide) < 5:
        return False
    per_char = median((w.x1 - w.x0) / len(w.text) for w in wide)
    left = sorted(w.x0 for w in words)
    right = sorted(w.x1 for w in words)
    trim = len(words) // 20  # a stray word (a logo, a stamp) does not widen the slip
    return (right[-1 - trim] - left[trim]) / max(per_char, 1e-6) <= characters


@dataclass(slots=True)
class _Amount:
    text: list[Word]
    amount: NumberSpan


@dataclass(slots=True)
class _Count:
    quantity: NumberSpan
    price: NumberSpan


@dataclass(slots=True)
class _BlurredCount:
    """A count row OCR blurred ("4 x. 1140", "2. ×.11 15"): the count, and the price's digits
    without their decimal mark, to be checked against the item's amount."""

    quantity: Decimal
    digits: str
    confidence: float


# A count row as text: a count, a times sign, and digits with marks or spaces OCR put anywhere.
_BLURRED_COUNT = re.compile(r"(\d{1,3})[\s.,]*[xX×*@][\s.,:]*(\d[\d\s.,]*\d)[\s.,]*")
# An amount with the tax code glued after it ("53,59A", "2.83B"): the two words it prints.
_CODED_AMOUNT = re.compile(r"^(-?\d[\d.,]*[.,]\d{2})([A-Z]\d?)\.?$")


def _classify(row: Row, ocr: bool) -> _Amount | _Count | _BlurredCount | None:
    words = [part for w in row.words for part in _split_count(w) for part in _split_code(part, ocr)]
    spans = tokenize(number_spans(words, ocr))
    used = {i for s in spans for i in range(s.start, s.end)}
    # OCR specks (".", "°") are no words of the row.
    rest = [
        w
        for i, w in enumerate(words)
        if i not in used
        and not is_currency(w.text)
        and (any(c.isalnum() for c in w.text) or w.text in _TIMES)
    ]
    times = [w for w in rest if w.text in _TIMES]
    if len(spans) == 2 and spans[1].has_cents and spans[0].value > 0 and times and len(times) == len(rest):
        return _Count(spans[0], spans[1])  # "6 x 6,69": a count and the price of one, nothing else
    blurred = _BLURRED_COUNT.fullmatch(" ".join(w.text for w in words)) if ocr else None
    if blurred is not None and int(blurred.group(1)) > 0:
        digits = "".join(c for c in blurred.group(2) if c.isdigit())
        return _BlurredCount(Decimal(blurred.group(1)), digits, min(w.confidence for w in words))
    # Numbers glued to letters ("0,5l", "4x40") belong to the item's name.
    money = [s for s in spans if s.has_cents and not any(c.isalpha() for c in words[s.start].text)]
    if len(money) != 1 or money[0] is not spans[-1]:
        return None
    amount = money[0]
    text = [w for w in words[: amount.start] if not is_currency(w.text)]
    # After the amount only a tax code may follow ("A", "B1").
    tail = [w for w in words[amount.end :] if not is_currency(w.text)]
    if any(len(w.text) > 2 for w in tail):
        return None
    if text and not any(any(c.isalpha() for c in w.text) for w in text):
        return None
    return _Amount(text, amount)


_GLUED_COUNT = re.compile(r"^(\d{1,4})?([xX×*@])(\d[\d.,]*)?$")


def _split_code(word: Word, ocr: bool) -> list[Word]:
    """ "53,59A" on an OCR'd slip as the amount and its tax code."""
    match = _CODED_AMOUNT.match(word.text) if ocr else None
    if match is None:
        return [word]
    x0, top, x1, bottom = word.bbox
    cut = x0 + (x1 - x0) * match.end(1) / len(word.text)
    return [
        dataclasses.replace(word, text=match.group(1), bbox=(x0, top, cut, bottom)),
        dataclasses.replace(word, text=word.text[match.end(1) :], bbox=(cut, top, x1, bottom)),
    ]


def _split_count(word: Word) -> list[Word]:
    """ "2x7,93", "×2,33", "2x" as the words a count row prints ("2", "x", "7,93")."""
    match = _GLUED_COUNT.match(word.text)
    if match is None or (match.group(1) is None and match.group(3) is None):
        return [word]
    x0, top, x1, bottom = word.bbox
    per = (x1 - x0) / len(word.text)
    parts: list[Word] = []
    for group in (1, 2, 3):
        if match.group(group) is not None:
            a, b = x0 + per * match.start(group), x0 + per * match.end(group)
            parts.append(dataclasses.replace(word, text=match.group(group), bbox=(a, top, b, bottom)))
    return parts


def till_items(rows: list[Row], stops: set[int], ocr: bool, worked_out: float = 0.5) -> list[TillItem]:
    """The items of a till slip's page (empty when its rows do not make an item list).

    An amount worked out from its count row, and items that do not add up to a total, are at
    most ``worked_out`` sure.
    """
    kinds = [_classify(row, ocr) for row in rows]
    r = 0
    while r < len(rows):
        kind = kinds[r]
        if not isinstance(kind, _Amount) or rows[r].index in stops:
            r += 1
            continue
        items, end = _run(rows, kinds, r, stops, worked_out)
        if items:
            return items
        r = max(end, r + 1)
    return []


def _run(
    rows: list[Row],
    kinds: list[_Amount | _Count | _BlurredCount | None],
    start: int,
    stops: set[int],
    worked_out: float,
) -> tuple[list[TillItem], int]:
    items: list[TillItem] = []
    total: Decimal | None = None
    counted = False  # the last item has its count row
    r = start
    while r < len(rows):
        kind = kinds[r]
        running = sum((i.amount for i in items), Decimal(0))
        if isinstance(kind, _Amount):
            if rows[r].index in stops or (
                len(items) >= 1 and abs(abs(kind.amount.value) - abs(running)) <= _CENT
            ):
                total = kind.amount.value
                break
            text = " ".join(w.text for w in kind.text) or None
            value = kind.amount.value
            span = kind.amount
            counted = False
            items.append(
                TillItem(
                    text,
                    Decimal(1),
                    abs(value),
                    value,
                    True,
                    span.confidence,
                    span.text,
                    span.confidence,
                    [r],
                    [*rows[r].words],
                )
            )
        elif isinstance(kind, _Count) and items and not counted:
            counted = True
            item = items[-1]
            q, p = kind.quantity.value, kind.price.value
            item.quantity, item.unit_price = q, p
            product = q * p
            item.consistent = abs(abs(product) - abs(item.amount)) <= _CENT + abs(product) * Decimal(
                "0.00001"
            )
            item.confidence = min(item.confidence, kind.quantity.confidence, kind.price.confidence)
            item.rows.append(r)
            item.words.extend(rows[r].words)
        elif isinstance(kind, _BlurredCount) and items and not counted:
            counted = True
            item = items[-1]
            price = abs(item.amount) / kind.quantity
            exact = price == price.quantize(Decimal("0.01"))
            # The price is worked out from the amount, and taken only when its digits are the
            # ones printed: "4 x. 1140" under 45,60 is 4 x 11,40.
            item.consistent = exact and _digits(price) == kind.digits.lstrip("0")
            if item.consistent:
                item.quantity, item.unit_price = kind.quantity, price.quantize(Decimal("0.01"))
            item.confidence = min(item.confidence, kind.confidence, worked_out)
            item.rows.append(r)
            item.words.extend(rows[r].words)
        elif not _is_speck(rows[r]):
            break
        r += 1
    if not items:
        return [], r
    with_counts = [i for i in items if len(i.rows) == 2]
    if total is not None:
        _repair_one(items, total, worked_out)
    adds_up = total is not None and abs(abs(total) - abs(sum((i.amount for i in items), Decimal(0)))) <= _CENT
    multiplies = bool(with_counts) and 2 * sum(i.consistent for i in with_counts) >= len(with_counts) + 1
    if not (adds_up or multiplies) or (not adds_up and not all(i.description for i in items)):
        # Amounts whose names OCR lost count as items only when they add up to the total.
        return [], r
    if not adds_up:
        for item in items:
            item.confidence = min(item.confidence, worked_out)
    return items, r


def _digits(value: Decimal) -> str:
    """The digits of an amount to the cent, without leading zeros: 11.40 -> "1140"."""
    return "".join(c for c in format(value.quantize(Decimal("0.01")), "f") if c.isdigit()).lstrip("0")


def _repair_one(items: list[TillItem], total: Decimal, worked_out: float) -> None:
    """An amount misread where its count row does multiply out ("49,14" over "6 x 6,69"): taken
    as count x price when exactly one such repair makes the items add up to the total."""
    read = sum((i.amount for i in items), Decimal(0))
    if abs(abs(read) - abs(total)) <= _CENT:
        return
    fixes = [
        i
        for i in items
        if not i.consistent and abs(abs(read - i.amount + i.quantity * i.unit_price) - abs(total)) <= _CENT
    ]
    if len(fixes) == 1:
        item = fixes[0]
        item.amount = (item.quantity * item.unit_price).quantize(Decimal("0.01"))
        item.consistent = True
        item.confidence = min(item.confidence, worked_out)


def _is_speck(row: Row) -> bool:
    """OCR debris between rows: dots, strokes, a lone mark."""
    return all(sum(c.isalnum() for c in w.text) <= 1 for w in row.words)
