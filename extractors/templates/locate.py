"""Typed values and printed phrases on a text-layer document, with their word boxes.

Learning asks "where is 1190.00 printed on this sample?" and a learned rule asks "which amount
sits where the rule expects one?"; both look at the same view of the document: rows of words
per page (``build_rows``), every value of a type found in each row by ``extractors.values``,
and label phrases found on folded tokens (by similarity on OCR'd pages, where a label may come
out as "Rechnungsnumrner").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from extractors.generic.geometry import Row, build_rows
from extractors.generic.labels import tokens
from extractors.values import VALUE_TYPES, find_unchecked_ibans, parse_currency, parse_tax_id
from textlayer.model import BBox, Document, union


@dataclass(frozen=True, slots=True)
class LocateSettings:
    """What counts as "the same" when a value or a label is looked for."""

    # Similarity (0-100) of a printed identifier or name to the truth for an OCR slip to count.
    fuzzy_value: float = 86.0
    # Similarity of a phrase on an OCR'd page to a label for it to count as that label.
    fuzzy_label: float = 80.0
    # Longest label phrase (in words) learned from the words before a value.
    max_label_words: int = 5
    # A vendor's name on an OCR'd page: the similarity of a row to it for the name to count as
    # printed with a slip, the words of it that point at its template (shorter ones, "ltd",
    # "le", are everywhere), and the share of those the page must print exactly before rows are
    # compared with the name.
    fuzzy_name: float = 88.0
    min_name_word: int = 4
    min_name_words_exact: float = 0.5


SETTINGS = LocateSettings()


@dataclass(frozen=True, slots=True)
class Hit:
    """One value of a type printed on a page: the words it spans and what it reads as."""

    value: Any
    page: int
    row: int  # index into the page's rows
    start: int  # word indexes within the row
    end: int
    box: BBox
    similarity: float = 100.0  # 100 when printed exactly; less for an OCR slip


@dataclass(frozen=True, slots=True)
class Phrase:
    """Where a label phrase is printed."""

    page: int
    row: int
    start: int
    end: int
    box: BBox


@dataclass(slots=True)
class PageView:
    number: int
    width: float
    height: float
    ocr: bool
    rows: list[Row]
    row_tokens: list[tuple[list[str], list[int]]] = field(default_factory=list)  # tokens, owner word


def _offsets(row: Row) -> list[int]:
    """Start offset of each word in ``row.text`` (words joined by one space)."""
    out, at = [], 0
    for word in row.words:
        out.append(at)
        at += len(word.text) + 1
    return out


def _word_at(offsets: list[int], char: int) -> int:
    index = 0
    for i, start in enumerate(offsets):
        if start <= char:
            index = i
    return index


class DocumentView:
    """Rows, typed values and phrases of one document, computed once and shared by every rule."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.pages: list[PageView] = []
        for page in document.pages:
            rows = build_rows(page)
            view = PageView(page.number, page.width, page.height, page.source == "ocr", rows)
            for row in rows:
                toks: list[str] = []
                owner: list[int] = []
                for i, word in enumerate(row.words):
                    for tok in tokens(word.text):
                        toks.append(tok)
                        owner.append(i)
                view.row_tokens.append((toks, owner))
            self.pages.append(view)
        self._hits: dict[tuple[str, tuple[tuple[str, Any], ...]], list[Hit]] = {}
        self._tokens: set[str] | None = None

    @property
    def token_set(self) -> set[str]:
        if self._tokens is None:
            self._tokens = {tok for page in self.pages for toks, _ in page.row_tokens for tok in toks}
        return self._tokens

    def page(self, number: int) -> PageView | None:
        if number < 0:
            number = len(self.pages) + 1 + number
        return next((p for p in self.pages if p.number == number), None)

    # -- typed values ------------------------------------------------------------------------

    def hits(self, kind: str, **options: Any) -> list[Hit]:
        """Every value of type ``kind`` printed on the document, in reading order."""
        key = (kind, tuple(sorted(options.items())))
        cached = self._hits.get(key)
        if cached is not None:
            return cached
        value_type = VALUE_TYPES[kind]
        order = options.get("date_order")
        compact = kind == "date" and bool(options.get("compact_dates")) and order is not None
        out: list[Hit] = []
        for page in self.pages:
            for r, row in enumerate(page.rows):
                text = row.text
                offsets = _offsets(row)
                found = list(value_type.find(text, **options))
                if compact:
                    found.extend(find_compact_dates(text, str(order)))
                slips: list[tuple[tuple[int, int], Any]] = []
                if page.ocr and kind in _DIGIT_KINDS:
                    repaired = ocr_digits(text)
                    if repaired != text:
                        taken = [span for span, _ in found]
                        slips = [
                            (span, value)
                            for span, value in value_type.find(repaired, **options)
                            if not any(span[0] < b and a < span[1] for a, b in taken)
                        ]
                marked = [(span, value, 100.0) for span, value in found]
                marked += [(span, value, SLIP_SIMILARITY) for span, value in slips]
                if slips:
                    marked.sort(key=lambda m: m[0][0])
                for (a, b), value, similarity in marked:
                    first = _word_at(offsets, a)
                    last = _word_at(offsets, max(a, b - 1)) + 1
                    out.append(Hit(value, page.number, r, first, last, row.box_of(first, last), similarity))
        self._hits[key] = out
        return out

    def unchecked_ibans(self) -> list[Hit]:
        """IBANs printed with check digits that fail (a misprint, a sample, an OCR slip)."""
        key = ("iban_unchecked", ())
        cached = self._hits.get(key)
        if cached is None:
            cached = []
            for page in self.pages:
                for r, row in enumerate(page.rows):
                    offsets = _offsets(row)
                    for (a, b), value in find_unchecked_ibans(row.text):
                        first, last = _word_at(offsets, a), _word_at(offsets, b - 1) + 1
                        cached.append(Hit(value, page.number, r, first, last, row.box_of(first, last), 90.0))
            self._hits[key] = cached
        return cached

    def text_hits(self, page: PageView, r: int) -> list[tuple[int, int, str]]:
        """Runs of words of one row that stay within one segment (candidate names)."""
        row = page.rows[r]
        out = []
        for segment in row.segments or [list(range(len(row.words)))]:
            first, last = segment[0], segment[-1] + 1
            for start in range(first, last):
                for end in range(start + 1, min(last, start + 8) + 1):
                    out.append((start, end, row.text_of(start, end)))
        return out

    # -- phrases -----------------------------------------------------------------------------

    def find_phrase(self, phrase: str, page_number: int | None = None) -> list[Phrase]:
        """Every place ``phrase`` is printed (by folded tokens; by similarity on OCR'd pages).

        OCR glues words together and splits them ("TotalRM" for "Total RM"): on an OCR'd page a
        run of one word more or less than the phrase counts when its letters without spaces are
        the phrase's or close to them, and of overlapping runs in a row the closest is kept.
        """
        needle = tokens(phrase)
        if not needle:
            return []
        joined = " ".join(needle)
        glued = joined.replace(" ", "")
        n = len(needle)
        out: list[Phrase] = []
        for page in self.pages:
            if page_number is not None and page.number != page_number:
                continue
            for r, (toks, owner) in enumerate(page.row_tokens):
                found: list[tuple[float, int, int]] = []
                for i in range(len(toks)):
                    best: tuple[float, int] | None = None
                    for size in (n, n - 1, n + 1) if page.ocr else (n,):
                        if size < 1 or i + size > len(toks):
                            continue
                        score = _phrase_score(toks[i : i + size], needle, joined, glued, page.ocr)
                        if score is not None and (best is None or score > best[0]):
                            best = (score, size)
                    if best is None:
                        continue
                    size = best[1]
                    # A label starts and ends on word boundaries: "Kunden-Nr" does not hold "Nr".
                    if i > 0 and owner[i - 1] == owner[i]:
                        continue
                    if i + size < len(owner) and owner[i + size] == owner[i + size - 1]:
                        continue
                    found.append((best[0], i, i + size))
                taken: set[int] = set()
                for _, i, j in sorted(found, key=lambda f: (-f[0], f[1])):
                    if taken.intersection(range(i, j)):
                        continue  # a closer run overlaps it: the same label read twice
                    taken.update(range(i, j))
                    start, end = owner[i], owner[j - 1] + 1
                    out.append(Phrase(page.number, r, start, end, page.rows[r].box_of(start, end)))
        out.sort(key=lambda p: (p.page, p.row, p.start))
        return out


def _phrase_score(window: list[str], needle: list[str], joined: str, glued: str, ocr: bool) -> float | None:
    """How closely a run of folded tokens reads as a label (100: exactly), None when not close."""
    if window == needle:
        return 100.0
    if not ocr or len(joined) < 4:
        return None
    together = "".join(window)
    if together == glued:
        return 99.0  # the same letters, spaces lost or added
    if len(window) == len(needle):
        score = fuzz.ratio(" ".join(window), joined)
    elif abs(len(together) - len(glued)) <= 2:
        score = fuzz.ratio(together, glued)
    else:
        return None
    return score if score >= SETTINGS.fuzzy_label else None


# -- digits OCR read as letters ------------------------------------------------------------------

# Letters OCR reads for digits inside a number ("12/O2/2018", "7.0O", "l2.50").
_DIGIT_SLIPS = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "B": "8", "S": "5"})
_DIGIT_KINDS = frozenset({"date", "amount"})
# A value read only after such a repair counts as printed with a slip.
SLIP_SIMILARITY = 95.0
_NUMBER_WORD = re.compile(r"[\dODolI|BS][\dODolI|BS/.,:\-]*[\dODolI|BS]")


def ocr_digits(text: str) -> str:
    """``text`` with the letters OCR read for digits inside numbers put back as digits: only in
    words of digits and marks holding at least two digits and at most two such letters, and
    never in a word with other letters ("FEB", "Total"). Same length, so offsets still hold."""

    def repair(match: re.Match[str]) -> str:
        word = match.group(0)
        letters = sum(ch.isalpha() or ch == "|" for ch in word)
        digits = sum(ch.isdigit() for ch in word)
        if letters == 0 or letters > 2 or digits < 2:
            return word
        return word.translate(_DIGIT_SLIPS)

    return re.sub(r"(?<![A-Za-z])" + _NUMBER_WORD.pattern + r"(?![A-Za-z])", repair, text)


# -- dates printed as eight digits -------------------------------------------------------------

_EIGHT_DIGITS = re.compile(r"(?<![\d.,:/-])\d{8}(?![\d.,:/-])")
# Where day, month and year stand in eight digits for each date order.
_COMPACT_SLICES = {"DMY": (0, 2, 4), "MDY": (2, 0, 4), "YMD": (6, 4, 0)}
# Years a compact date may carry: other runs of eight digits are numbers, not dates.
_COMPACT_YEARS = range(1990, 2100)


def _compact_date(digits: str, order: str) -> date | None:
    d, m, y = _COMPACT_SLICES[order]
    year = int(digits[y : y + 4])
    if year not in _COMPACT_YEARS:
        return None
    try:
        return date(year, int(digits[m : m + 2]), int(digits[d : d + 2]))
    except ValueError:
        return None


def find_compact_dates(text: str, order: str) -> list[tuple[tuple[int, int], date]]:
    """Dates printed as eight digits without marks ("31122019"), read in ``order``. Only a
    template that learned its vendor prints dates so asks for them: elsewhere eight digits are
    more often a number than a date."""
    out = []
    for match in _EIGHT_DIGITS.finditer(text):
        day = _compact_date(match.group(0), order)
        if day is not None:
            out.append(((match.start(), match.end()), day))
    return out


def compact_date_orders(printed: str, day: date) -> list[str]:
    """The date orders in which ``printed``, eight digits without marks, reads as ``day``."""
    digits = printed.strip()
    if not _EIGHT_DIGITS.fullmatch(digits):
        return []
    return [order for order in _COMPACT_SLICES if _compact_date(digits, order) == day]


# -- finding a known value ---------------------------------------------------------------------


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _amount_equal(found: Any, truth: Any) -> bool:
    return isinstance(found, Decimal) and abs(found) == abs(Decimal(str(truth)))


def locate_value(view: DocumentView, kind: str, truth: Any) -> list[Hit]:
    """Every place the value ``truth`` (already normalised) is printed, in whatever format."""
    if truth is None or truth == "":
        return []
    if kind in ("amount", "quantity"):
        out: list[Hit] = []
        seen: set[tuple[int, int, int, int]] = set()
        for sep in (None, ",", "."):
            for hit in view.hits(kind, decimal_sep=sep):
                key = (hit.page, hit.row, hit.start, hit.end)
                if key not in seen and _amount_equal(hit.value, truth):
                    seen.add(key)
                    out.append(hit)
        return out
    if kind == "date":
        day = truth if isinstance(truth, date) else date.fromisoformat(str(truth))
        out, seen = [], set()
        for order in (None, "DMY", "MDY", "YMD"):
            for hit in view.hits(kind, date_order=order, compact_dates=order is not None):
                key = (hit.page, hit.row, hit.start, hit.end)
                if key not in seen and hit.value == day:
                    seen.add(key)
                    out.append(hit)
        return out
    if kind == "iban":
        wanted = _compact(str(truth))
        out = [h for h in view.hits("iban") if h.value == wanted]
        if not out:
            out = _unchecked_ibans(view, wanted)
        return out
    if kind in ("tax_id", "vat_id"):
        wanted = _compact(str(truth))
        out = [h for h in view.hits(kind) if _compact(str(h.value)) == wanted]
        return out or _fuzzy_runs(view, wanted, compact=True)
    if kind == "currency":
        code = str(truth).upper()
        return [h for h in view.hits("currency") if h.value == code]
    if kind == "identifier":
        wanted = _compact(str(truth))
        out = [h for h in view.hits("identifier") if _compact(str(h.value)) == wanted]
        return out or _fuzzy_runs(view, wanted, compact=True)
    return _text_runs(view, str(truth))


def _unchecked_ibans(view: DocumentView, wanted: str) -> list[Hit]:
    """An IBAN printed with failing check digits, or OCR garbled beyond repair: the closest run."""
    out = [h for h in view.unchecked_ibans() if fuzz.ratio(h.value, wanted) >= SETTINGS.fuzzy_value]
    return out or _fuzzy_runs(view, wanted, compact=True)


def _fuzzy_runs(view: DocumentView, wanted: str, *, compact: bool) -> list[Hit]:
    """Runs of up to eight words whose characters are an OCR slip away from ``wanted``."""
    out: list[Hit] = []
    if len(wanted) < 5:
        return out
    for page in view.pages:
        if not page.ocr:
            continue
        for r in range(len(page.rows)):
            best: Hit | None = None
            for start, end, text in view.text_hits(page, r):
                got = _compact(text) if compact else text
                if abs(len(got) - len(wanted)) > 2:
                    continue
                score = fuzz.ratio(got, wanted)
                if score >= SETTINGS.fuzzy_value and (best is None or score > best.similarity):
                    row = page.rows[r]
                    best = Hit(wanted, page.number, r, start, end, row.box_of(start, end), score)
            if best is not None:
                out.append(best)
    return out


def _fold_name(text: str) -> str:
    return " ".join(tokens(text))


def _text_runs(view: DocumentView, truth: str) -> list[Hit]:
    """Runs of words within one row segment that read as ``truth`` (a vendor name)."""
    wanted = _fold_name(truth)
    if not wanted:
        return []
    out: list[Hit] = []
    for page in view.pages:
        for r in range(len(page.rows)):
            best: Hit | None = None
            for start, end, text in view.text_hits(page, r):
                got = _fold_name(text)
                if not got or abs(len(got) - len(wanted)) > max(3, len(wanted) // 5):
                    continue
                score = 100.0 if got == wanted else fuzz.ratio(got, wanted)
                if score >= SETTINGS.fuzzy_value and (best is None or score > best.similarity):
                    row = page.rows[r]
                    best = Hit(truth, page.number, r, start, end, row.box_of(start, end), score)
            if best is not None:
                out.append(best)
    return out or _two_row_runs(view, truth, wanted)


def _two_row_runs(view: DocumentView, truth: str, wanted: str) -> list[Hit]:
    """A name printed over two rows (a shop's name, its legal form centred under it): the end of
    one row and the start of the next read together as ``truth``."""
    out: list[Hit] = []
    for page in view.pages:
        for r in range(len(page.rows) - 1):
            upper, lower = page.rows[r], page.rows[r + 1]
            best: tuple[float, int, int] | None = None
            for start in range(len(upper.words)):
                head = _fold_name(upper.text_of(start, len(upper.words)))
                if not head or len(head) >= len(wanted):
                    continue
                for end in range(1, min(len(lower.words), 8) + 1):
                    got = f"{head} {_fold_name(lower.text_of(0, end))}"
                    if abs(len(got) - len(wanted)) > max(3, len(wanted) // 5):
                        continue
                    score = 100.0 if got == wanted else fuzz.ratio(got, wanted)
                    if score >= SETTINGS.fuzzy_value and (best is None or score > best[0]):
                        best = (score, start, end)
            if best is not None:
                score, start, end = best
                box = union([upper.box_of(start, len(upper.words)), lower.box_of(0, end)])
                out.append(Hit(truth, page.number, r, start, len(upper.words), box, score))
    return out


def normalise_truth(kind: str, raw: Any) -> Any:
    """A truth value from JSON in the normal form the value types produce."""
    if raw is None or raw == "":
        return None
    if kind in ("amount", "quantity"):
        return Decimal(str(raw))
    if kind == "date":
        return date.fromisoformat(str(raw))
    if kind == "iban":
        return _compact(str(raw))
    if kind in ("tax_id", "vat_id"):
        return parse_tax_id(str(raw)) or _compact(str(raw))
    if kind == "currency":
        return parse_currency(str(raw)) or str(raw).upper()
    return " ".join(str(raw).split())


def box_union(hits: list[Hit]) -> BBox:
    return union([h.box for h in hits])
