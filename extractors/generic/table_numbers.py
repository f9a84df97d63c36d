"""Numbers in a line-table row: cells split over several words, and OCR's misread digits.

A printed amount is not always one word: "1 234,56" (French grouping) and "1.234,56 €" come out
as two or three words, and a scan adds confusions (``O``/``0``, ``l``/``1``, ``:`` for ``.``,
a stray ``|`` from a table rule). ``number_spans`` lists every reading of a row's words as
numbers, single words and plausible merges alike, so the table reader can choose among them
with the columns and with quantity x price = amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from extractors.values import ISO_CURRENCIES, parse_amount
from textlayer.model import Word

_CURRENCY_WORDS = frozenset({"€", "$", "£", "¥", "US$", "Fr.", *ISO_CURRENCIES})
# Letters tesseract reads for digits in a numeric cell. Only applied to OCR words that are
# mostly digits already, so "S3" (a shoe size) or "M10" never turn into numbers.
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})
_CONFUSABLE = frozenset("0123456789OolI|SB")
_LONE_STROKES = frozenset({"I", "l", "|"})
# Rule fragments and punctuation that cling to a number in a scanned table.
_OCR_EDGE = "|[](){}:;'\"`‘’!_~*"
_WITH_UNIT = re.compile(r"^(\d{1,5}(?:[.,]\d{1,4})?)([^\W\d_]{1,3})\.?$")
_THREE_DECIMALS = re.compile(r"^\d{1,3}([.,])\d{3}$")
_GROUP_HEAD = re.compile(r"^[-−–(]?(?:[€$£]\s?)?\d{1,3}$")
_GROUP_TAIL = re.compile(r"^\d{3}(?:[.,]\d{1,4})?(?:\s?[€$£])?\)?-?$|^\d{3}$")


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """One reading of words ``start..end-1`` of a row as a number."""

    start: int
    end: int
    value: Decimal
    x0: float
    x1: float
    confidence: float
    text: str
    repaired: bool = False  # an OCR confusion was corrected to read it

    @property
    def has_cents(self) -> bool:
        """Printed with a decimal part ("12.50", "12,5"): money, not a count or a code."""
        return re.search(r"\d[.,]\d{1,4}\D*$", self.text) is not None

    def overlaps(self, other: NumberSpan) -> bool:
        return self.start < other.end and other.start < self.end


def signs_fit(quantity: Decimal | float, price: Decimal | float, amount: Decimal | float) -> bool:
    """A quantity is positive, or negative together with its amount at a positive price (goods
    returned on a credit note: "-5 x 1,00 = -5,00"); never zero, nor at a zero price."""
    if price == 0:
        return False
    return quantity > 0 or (quantity < 0 and amount < 0 < price)


def tokenize(spans: list[NumberSpan]) -> list[NumberSpan]:
    """One non-overlapping reading of the row's numbers: as printed first, longest merges first."""
    chosen: list[NumberSpan] = []
    for span in sorted(spans, key=lambda s: (s.repaired, s.start - s.end, s.start)):
        if not any(span.overlaps(c) for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


_PERCENT = re.compile(r"^[-−]?(\d{1,2}(?:[.,]\d{1,2})?)\s?[°º]?%$")  # OCR: a speck before the sign ("5°%")


def percent(words: list[Word], i: int) -> Decimal | None:
    """The percentage word ``i`` prints ("10%", "-10 %", "5,5 %" over two words), or None."""
    text = words[i].text
    if i + 1 < len(words) and words[i + 1].text == "%":
        text += "%"
    match = _PERCENT.match(text)
    return parse_amount(match.group(1)) if match else None


def percent_at(words: list[Word], span: NumberSpan) -> Decimal | None:
    """The rate a number prints when it is a percentage ("10%", "10 %"), else None."""
    if span.end - span.start != 1:
        return None
    return percent(words, span.start)


def is_currency(text: str) -> bool:
    return text.strip() in _CURRENCY_WORDS


def parse_cell(text: str, ocr: bool = False) -> tuple[Decimal | None, bool]:
    """A cell's text as a number, and whether an OCR confusion had to be repaired to read it."""
    value = parse_amount(text)
    if value is not None or not ocr:
        return value, False
    repaired = repair_ocr_number(text)
    if repaired is None or repaired == text:
        return None, False
    value = parse_amount(repaired)
    return value, value is not None


def repair_ocr_number(text: str) -> str | None:
    """Undo the usual OCR confusions in a numeric cell, or None when it is not one."""
    s = text.strip().strip(_OCR_EDGE).rstrip(".,")
    if not s:
        return None
    if s.startswith("(") != s.endswith(")"):
        s = s.strip("()")
    if s != text and re.fullmatch(r"\d+(?:[.,]\d+)*", s):
        return s  # only rule debris around it: "3:", "|12", "20]"
    if 2 <= len(s) <= 4 and all(c in _CONFUSABLE for c in s) and any(c in "OlI|" for c in s):
        return s.translate(_OCR_DIGITS)  # "lO", "IS", "1O": a short count read as letters
    digits = sum(c.isdigit() for c in s)
    letters = sum(c.isalpha() for c in s)
    # Mostly digits: "1O5.00", "l2,50", "33:00"; a word like "S3" or "M10" stays text.
    if digits < 2 or letters > 1 or digits < 2 * letters + 1:
        return None
    s = s.translate(_OCR_DIGITS)
    # A colon or semicolon between digits is a misread decimal point or grouping dot.
    s = re.sub(r"(?<=\d)[:;](?=\d)", ".", s)
    return s


def number_spans(words: list[Word], ocr: bool = False) -> list[NumberSpan]:
    """Every reading of the row's words as a number: single words and grouped merges.

    Two or three neighbouring words merge when they look like one grouped amount ("1" + "234,56",
    "1" + "234" + "567,89") or a number with its currency ("1.234,56" + "€"); the gap between
    them must be a space, not a column gap.
    """
    spans: list[NumberSpan] = []
    for i, word in enumerate(words):
        value, repaired = parse_cell(word.text, ocr)
        if value is not None:
            spans.append(_span(words, i, i + 1, value, word.text, repaired))
        if (three := _THREE_DECIMALS.match(word.text)) is not None:
            # "5,000 kg", "1.250": a count to three decimals reads like a thousands group; the
            # other reading is offered too, and a row takes it only where it multiplies out.
            mark = three.group(1)
            decimal = parse_amount(word.text, "," if mark == "," else ".")
            if decimal is not None and decimal != value:
                spans.append(_span(words, i, i + 1, decimal, word.text, False))
        elif ocr and word.text in _LONE_STROKES:
            # "1" in a serif face comes out as a lone stroke; the table reader takes it only
            # where it lines up with the quantity column.
            spans.append(_span(words, i, i + 1, Decimal(1), word.text, True))
    for i, word in enumerate(words):
        unit = _WITH_UNIT.match(word.text)
        if unit is not None and (value := parse_amount(unit.group(1))) is not None:
            # "2kg", "3h": a count whose unit is printed (or read by OCR) without a space.
            spans.append(_span(words, i, i + 1, value, unit.group(1), True))
    if ocr:
        spans.extend(_lost_decimal_marks(words))
    # Whether each word and the next are a space apart: told once, not again for every merge.
    near = [_close([a, b]) for a, b in pairwise(words)]
    for i in range(len(words)):
        for j in range(i + 2, min(len(words), i + 4) + 1):
            if not near[j - 2]:  # the group's last gap (the ones before it passed already)
                break
            group = words[i:j]
            texts = [w.text for w in group]
            if not _mergeable(texts):
                continue
            joined = " ".join(texts)
            value, repaired = parse_cell(joined, ocr)
            if value is None:
                continue
            spans.append(_span(words, i, j, value, joined, repaired))
    return spans


def _lost_decimal_marks(words: list[Word]) -> list[NumberSpan]:
    """ "656 25" on a scan: an amount whose decimal mark OCR lost, leaving a space.

    Whole digits (with grouping) followed, one space on, by exactly two digits; offered as one
    more reading, which the table reader only takes when the row multiplies out with it.
    """
    found: list[NumberSpan] = []
    for i in range(len(words) - 1):
        head, cents = words[i].text, words[i + 1].text
        if not re.fullmatch(r"\d{1,3}(?:[.,]\d{3})*", head) or not re.fullmatch(r"\d{2}", cents):
            continue
        if not _close(words[i : i + 2]):
            continue
        whole = head.replace(".", "").replace(",", "")
        value = Decimal(f"{whole}.{cents}")
        found.append(_span(words, i, i + 2, value, f"{head}.{cents}", True))
    return found


def _span(words: list[Word], start: int, end: int, value: Decimal, text: str, repaired: bool) -> NumberSpan:
    group = [w for w in words[start:end] if not is_currency(w.text)] or words[start:end]
    return NumberSpan(
        start=start,
        end=end,
        value=value,
        x0=min(w.x0 for w in group),
        x1=max(w.x1 for w in group),
        confidence=min(w.confidence for w in words[start:end]),
        text=text,
        repaired=repaired,
    )


def _close(words: list[Word]) -> bool:
    """Neighbours separated by about one space (under 0.9 of the text height), not a column gap."""
    for a, b in pairwise(words):
        height = max(1.0, a.height, b.height)
        if b.x0 - a.x1 > 0.9 * height:
            return False
    return True


def _mergeable(texts: list[str]) -> bool:
    """Digit groups ("1", "234", "567,89") with at most one currency word at either end."""
    core = list(texts)
    if core and is_currency(core[0]):
        core = core[1:]
    if core and is_currency(core[-1]):
        core = core[:-1]
    if not core or len(core) < len(texts) - 1:
        return False
    if len(core) == 1:
        return len(texts) > 1
    return _GROUP_HEAD.match(core[0]) is not None and all(_GROUP_TAIL.match(t) for t in core[1:])
