"""Finds where the documents in one file begin: a learned page-boundary model, or rules when none is trained.

Every page gets signals from its own words (a title naming a type, a reference block near the
top, "Page 2 of 3" / "Seite 2/3", a totals block, vendor identifiers, the letterhead, where the
words sit) and the splitter compares them with the previous non-blank page and with what the
current document's pages so far said. The learned model is a small network (one hidden layer)
stored as plain arrays, so reading a file never imports scikit-learn; blank
pages are separators and belong to no document. Every boundary has a confidence, and a file with
a boundary below ``SplitterSettings.review`` goes to a clerk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from classifiers.errors import ArtifactError
from classifiers.lexicon import TYPE_NAMES, fold, type_names_in, type_names_ocr
from ledgerbot.core.artifacts import Artifact, ArtifactStore, ModelNotFound
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

SPLITTER = "splitter"
# 2: a document number seen again continues the document, a header block with a new one starts one.
RULES = "splitter-rules@2"
# Bumped whenever the signals or the feature vector change: an older model is then refused.
# 2: titles name types in NL, ES and IT too, and a receipt's name counts as a bill's.
# 3: the header's reference values shared with the previous page, a carried-forward line on the
#    previous page, a change of page shape; a totals label counts only beside a figure, and a
#    "brought forward from page 1" line is no page number; a title is a short line on born-digital
#    pages too.
# 4: what the current document's pages so far said: its vendor's ids and letterhead words, its
#    numbers repeated anywhere on the page, a header block with a new document number, a totals
#    block already seen, its page count and numbering; decided page by page, so a start found
#    begins a new document's memory; a change between scan and born-digital; a title on a born-digital
#    page is set larger than its typical word; amounts are no reference values; the model has one
#    hidden layer.
# 5: a table's figures are no reference values (a line holding an amount gives none, nor does a bare
#    number under four digits: quantities, house numbers, "500 ml"); a type name after a possessive
#    ("Ihre Bestellung", "your invoice") or below the page's first item rows ("Lieferschein 4711 vom
#    ..." among the lines) is no title, a German or Dutch compound ending in a type name
#    ("Warenrechnung", "verkoopfactuur") is; a grouped IBAN no longer also reads as a tax id, and a
#    new id counts only against ids of its own kind (a bank account on a later page is no new vendor);
#    a date and the count of reference values in the page's top part; reference values shared with
#    the current document's pages so far; on a scan a title is little more than the type name.
# 6: credit notes' titles in every language (``lexicon.TYPE_NAMES``); what a first page has and a
#    list or a page of notes lacks, read alike through OCR: a postal address in the top part, how
#    many of the top part's lines are dated (a header block dates a few, a delivery list every
#    row), the share of running-text lines.
SPLIT_FEATURE_VERSION = 6
WEIGHTS = "splitter.npz"


@dataclass(frozen=True)
class SplitterSettings:
    """The splitter's constants."""

    # A page whose confident words hold fewer letters and digits than this is a blank separator.
    blank_max_chars: int = 12
    # OCR words below this confidence do not count towards a page's content (specks, dust).
    blank_min_word_confidence: float = 0.30
    # P(a document starts here) at or above this: a boundary.
    threshold: float = 0.5
    # A boundary decision less sure than this (max(p, 1 - p)) sends the file to a clerk.
    review: float = 0.80
    # Share of the page height searched for the title and the reference block, and for the letterhead.
    header_share: float = 0.40
    letterhead_share: float = 0.18
    # Share of the page height, from the top, above which a totals label does not count.
    totals_from: float = 0.35
    # A title is a short line: the top part's lines of at most this many words are read for a
    # type name (a sentence such as "here is your invoice of May" names no document's start); on
    # a scan through OCR noise, at most ``title_candidates`` of them (the matcher is slow).
    title_max_words: int = 6
    title_candidates: int = 8
    # Lines holding an amount above a line, from which on the page's type names are no title: item
    # rows ("Lieferschein 4711 vom 02.03." among them names the delivery a row came with).
    title_below_rows: int = 1
    # A bare number of fewer digits is no reference value (a quantity, a house number, "500 ml").
    bare_value_digits: int = 4
    # On a born-digital page a title is also set larger than the page's typical word (the median
    # font size) by at least this factor, or is little more than the type name (at most
    # ``title_plain_words`` words of three letters or more): a table's column names or the short
    # last line of a paragraph naming the invoice are no title, "Invoice 2026-17" in body type is.
    title_size_ratio: float = 1.15
    title_plain_words: int = 2
    # Cells of the word-position grid (rows, columns) compared between consecutive pages.
    grid: tuple[int, int] = (12, 8)
    # A line with more words than this is a table's column header, not a totals row.
    totals_max_words: int = 8
    # A width-to-height ratio differing by more than this share from the previous page's: another
    # paper (A4 and US Letter differ by 9%, a till slip by far more). The ratio, not the size:
    # a scan measures its page in pixels, a born-digital page in points.
    shape_change: float = 0.03
    # A line of running text (notes, terms) has at least this many words of three letters or more.
    prose_min_words: int = 7
    # Dated lines of the top part counted up to this many (a header block dates one to three).
    dated_rows_cap: int = 8


SETTINGS = SplitterSettings()

_NUMBERING = re.compile(
    r"(?:page|seite|pg\.?|p\.|blatt|feuille|pagina)\s*([0-9lIO]{1,3})\s*(?:of|von|/|sur|de|aus|di)\s*([0-9lIO]{1,3})\b",
    re.IGNORECASE,
)
_BARE_NUMBERING = re.compile(r"^\s*-?\s*(\d{1,2})\s*/\s*(\d{1,2})\s*-?\s*$")
_PAGE_ONLY = re.compile(
    r"(?:page|seite|blatt|feuille)\s*([0-9lIO]{1,3})\b(?!\s*(?:of|von|/|sur|de))", re.IGNORECASE
)
_REFERENCE = re.compile(
    r"\b(?:invoice\s*(?:no|number|#|date)|rechnungs?\s*-?\s*(?:nr|nummer|datum)|facture\s*n|n[°o]\s*de\s*facture"
    r"|date|datum|customer\s*(?:no|number|id)|kunden\s*-?\s*nr|order\s*(?:no|number|date)|bestell\s*-?\s*nr"
    r"|due\s*date|f[äa]llig|[ée]ch[ée]ance|delivery\s*date|liefer\s*datum|account\s*no|po\s*(?:no|number))\b",
    re.IGNORECASE,
)
_TOTALS = re.compile(
    r"\b(?:total|gesamt\w*|summe|endbetrag|zu\s*zahlen|amount\s*due|balance\s*due|net\s*[àa]\s*payer"
    r"|montant|ttc|rechnungsbetrag|closing\s*balance|saldo)\b",
    re.IGNORECASE,
)
_CONTINUED = re.compile(
    r"\b(?:continued|cont'?d|fortsetzung|[üu]bertrag|carried\s*(?:forward|over)|brought\s*forward"
    r"|carry\s*forward|[cb]/f|previous\s*page|suite|[àa]\s*reporter|report[ée]|report\s*page"
    r"|page\s*pr[ée]c[ée]dente|over\s*te\s*brengen|overgebracht|vorige\s*pagina|suma\s*y\s*sigue"
    r"|suma\s*anterior|p[áa]gina\s*anterior|a\s*transportar|riport\w*|pagina\s*precedente)(?!\w)",
    re.IGNORECASE,
)
# Spaces only, never a line break: an id does not run on into the next line's words.
_TAX_ID = re.compile(r"\b(?:DE|AT|FR|GB|NL|BE|IT|ES|CH|LU|PL|DK|SE|IE|CZ) ?[0-9A-Z]{2}[0-9 ]{6,12}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
# A page's ids by kind: ``iban:<IBAN>``, ``tax:<VAT id>``.
_ID_KINDS = ("iban", "tax")
_TOKEN = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# A word of a title line other than a number mark ("No.", "Nr", "Nº").
_TITLE_WORD = re.compile(r"(?!(?:no|nr|num|nummer|number|numéro|número|numero)\b)[^\W\d_]{3,}", re.I)
# A reference value in the header: a document or customer number, a date (at least three digits).
_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./\-]*\d[A-Za-z0-9./\-]*")
_DIGIT = re.compile(r"\d")
# An amount of money ("774.72", "1.234,50"): no reference value, however many digits it has.
_AMOUNT = re.compile(r"\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}")
# A postal code before its town ("80331 München", "D-4020 Linz", "2511 CV Den Haag", "75008 PARIS")
# at the start of a line or of an address part.
_POSTAL = re.compile(
    r"(?:^|(?<=[|·,;])|(?<=\s[-–]))\s*(?:[A-Z]{1,2}-)?\d{4,5}(?:\s[A-Z]{2})?(?=\s+[A-ZÀ-Þ][A-ZÀ-Þa-zà-ÿ])"
)
# An amount standing on its own in a line (not the day and month of "15.01.2026").
_PRICED = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}(?![.,]?\d)")
# A document's own number: the value right after a document-number label ("Invoice No. 4711",
# "Rechnungsnummer: 2014-03") or right after a type name ("Rechnung RE1001", "FACTURE F-12").
_DOC_NUMBER = re.compile(
    r"\b(?:(?:invoice|inv|credit\s*note|bill|document|doc|receipt|statement|rechnung|gutschrift|beleg"
    r"|facture|avoir|factuur|creditnota|factura|fattura|nota\s*di\s*credito)s?\.?\s*-?\s*"
    r"(?:no|nr|number|nummer|num|n[°º]|#|numéro|número|numero)?\.?"
    r"|n[°º]\s*de\s*(?:facture|l'avoir|document)|num[ée]ro\s*de\s*facture|n[úu]mero\s*de\s*factura"
    r"|numero\s*(?:di\s*)?fattura|bon\s*n[°º]?|receipt|bill|ticket)\s*[:#]?\s*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9./\-]*\d[A-Za-z0-9./\-]*)",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:jan|feb|m[äa]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz]|janv|f[ée]v|avr|juil|ao[uû]"
    r"|d[ée]c|mrt|ene|abr|ago|dic|gen|mag|giu|lug|ott)[a-zéûä]*\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{1,2}}\.?\s*{_MONTH}\s*\d{{2,4}}"
    rf"|{_MONTH}\s*\d{{1,2}},?\s*\d{{4}})\b",
    re.IGNORECASE,
)
# A value of four digits or more anywhere on the page: where a document's number turns up again.
_LONG_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./\-]*\d{2}[A-Za-z0-9./\-]*")
_OCR_DIGITS = str.maketrans({"l": "1", "I": "1", "O": "0"})
# A type name after a possessive names another paper ("Ihre Bestellung", "votre facture", "uw
# factuur", "su pedido"), matched on folded text (``lexicon.fold``), one word allowed between.
_POSSESSIVES = (
    "your|our|ihre|ihrer|ihres|ihrem|ihren|unsere|unserer|unseres|unserem|unseren|votre|vos|notre|nos"
    "|uw|onze|su|sus|nuestra|nuestro|nuestras|nuestros|vostra|vostro|vostre|vostri|nostra|nostro|nostre|nostri"
)
_TYPE_PHRASES = "|".join(
    sorted((re.escape(name) for names in TYPE_NAMES.values() for name in names), key=len, reverse=True)
)
_REFERRED = re.compile(rf" (?:{_POSSESSIVES}) (?:[a-z]+ )?(?:{_TYPE_PHRASES}) ")
# German and Dutch write a kind of bill as one word ending in the type name ("Warenrechnung",
# "Sammelrechnung", "verkoopfactuur"): one-word names of at least this many letters are suffixes.
_COMPOUND_MIN = 7
_COMPOUND_SUFFIXES = tuple(
    (name, doc_type)
    for doc_type, names in TYPE_NAMES.items()
    for name in names
    if " " not in name and len(name) >= _COMPOUND_MIN
)

_ONE_WORD_NAMES = frozenset(name for names in TYPE_NAMES.values() for name in names if " " not in name)


def _number(text: str) -> int | None:
    digits = text.translate(_OCR_DIGITS)
    return int(digits) if digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What one page says about where it sits in a document."""

    blank: bool
    scanned: bool
    numbering: tuple[int, int] | None = None  # (k, n) from "Page k of n"
    page_only: int | None = None  # k from "Page k" without a total
    title_types: tuple[str, ...] = ()  # document types a headline in the top part names
    references: int = 0  # reference labels (invoice no., date, customer no.) in the top part
    totals: bool = False  # a totals label in the lower part
    continued: bool = (
        False  # "brought forward", "Übertrag" in the upper half: this page goes on from the last
    )
    carries: bool = False  # "carried forward", "à reporter" in the lower half: the next page goes on
    ids: frozenset[str] = frozenset()  # tax ids and IBANs on the page
    values: frozenset[str] = frozenset()  # reference values of the top part (numbers, dates)
    numbers: frozenset[str] = frozenset()  # values beside a document-number label in the top part
    dated: bool = False  # a date among the top part's values
    dated_rows: int = 0  # lines of the top part holding a date: a few in a header, every row in a list
    addressed: bool = False  # a postal code before its town in the top part: a letter's address block
    prose: float = 0.0  # share of the page's lines that are running text
    all_values: frozenset[str] = frozenset()  # values of four digits or more anywhere on the page
    shape: float = 0.0  # the page's width divided by its height
    letterhead: frozenset[str] = frozenset()  # words of the top strip
    tokens: frozenset[str] = frozenset()  # every word of three letters or more
    grid: np.ndarray = field(default_factory=lambda: np.zeros(0))  # where the words sit, L2-normalised

    def without_numbering(self) -> PageSignals:
        """The same page had its document printed no page numbers (training augmentation)."""
        return replace(self, numbering=None, page_only=None)


def page_signals(page: Page, settings: SplitterSettings = SETTINGS) -> PageSignals:
    scanned = page.source == "ocr"
    words = page.words
    if (
        _content_chars(words, scanned, settings) < settings.blank_max_chars
        or page.height <= 0
        or page.width <= 0
    ):
        return PageSignals(blank=True, scanned=scanned)
    numbering: tuple[int, int] | None = None
    page_only: int | None = None
    title_types: list[str] = []
    references = 0
    totals = continued = carries = False
    letterhead: list[str] = []
    values: list[str] = []
    numbers: list[str] = []
    dated = False
    dated_rows = prose_lines = lines = 0
    addressed = False
    fuzzy_budget = settings.title_candidates
    title_floor = 0.0 if scanned else _median_size(words) * settings.title_size_ratio
    item_rows = 0  # lines holding an amount so far, from the top: below the first rows, no title
    for line in page.lines:
        if not line.words:
            continue
        text = line.text
        top = line.bbox[1]
        rel = top / page.height
        carry_line = _CONTINUED.search(text) is not None
        priced = _PRICED.search(text) is not None
        # "Brought forward from page 1" names the page before, not this one.
        if numbering is None and not carry_line:
            match = _NUMBERING.search(text) or _BARE_NUMBERING.match(text)
            if match:
                k, n = _number(match.group(1)), _number(match.group(2))
                if k is not None and n is not None and 1 <= k <= n <= 999:
                    numbering = (k, n)
            if numbering is None and page_only is None and (only := _PAGE_ONLY.search(text)):
                page_only = _number(only.group(1))
        if rel < settings.header_share:
            # The OCR-tolerant matcher costs milliseconds a line: only a scan's short lines need it;
            # born-digital text is matched exactly.
            if len(line.words) > settings.title_max_words or item_rows >= settings.title_below_rows:
                named = []
            elif not scanned:
                prominent = (
                    _line_size(line) >= title_floor
                    or len(_TITLE_WORD.findall(text)) <= settings.title_plain_words
                )
                named = _title_types(text) if prominent else []
            elif fuzzy_budget > 0 and len(_TITLE_WORD.findall(text)) <= settings.title_plain_words + 1:
                # No type size on a scan: a title there is little more than the type name, and a
                # table's column names ("Date Delivery note Order Item Qty") are none.
                fuzzy_budget -= 1
                named = [] if _REFERRED.search(fold(text)) else type_names_ocr(text)
            else:
                named = []
            for doc_type in named:
                if doc_type.value not in title_types:
                    title_types.append(doc_type.value)
            references += len(_REFERENCE.findall(text))
            has_date = _DATE.search(text) is not None
            dated_rows += has_date
            addressed = addressed or _POSTAL.search(text) is not None
            # A line holding an amount is an item or totals row: its figures are no references.
            if not carry_line and not priced:
                values += _reference_values(text, settings)
                dated = dated or has_date
                numbers += [
                    value
                    for match in _DOC_NUMBER.finditer(text)
                    if len(_DIGIT.findall(value := match.group("value").strip("./-").lower())) >= 3
                    and not _DATE.fullmatch(value)
                ]
        if rel < settings.letterhead_share:
            letterhead += _TOKEN.findall(text.lower())
        # A totals row holds its figure; a column header naming a "Total" column does not.
        if (
            not totals
            and rel >= settings.totals_from
            and len(line.words) <= settings.totals_max_words
            and _DIGIT.search(text)
            and _TOTALS.search(text)
        ):
            totals = True
        if carry_line and rel < 0.5:
            continued = True
        elif carry_line:
            carries = True
        item_rows += priced
        lines += 1
        prose_lines += not priced and len(_TOKEN.findall(text)) >= settings.prose_min_words
    grid = _grid(page, words, settings)
    norm = float(np.linalg.norm(grid))
    text = page.text
    ids = _page_ids(text)
    return PageSignals(
        blank=False,
        scanned=scanned,
        numbering=numbering,
        page_only=page_only,
        title_types=tuple(title_types),
        references=references,
        totals=totals,
        continued=continued,
        carries=carries,
        ids=frozenset(ids),
        values=frozenset(values),
        numbers=frozenset(numbers),
        dated=dated,
        dated_rows=dated_rows,
        addressed=addressed,
        prose=prose_lines / lines if lines else 0.0,
        all_values=frozenset(
            v.strip("./-").lower() for v in _LONG_VALUE.findall(text) if len(_DIGIT.findall(v)) >= 4
        ),
        shape=page.width / page.height,
        letterhead=frozenset(letterhead),
        tokens=frozenset(_TOKEN.findall(text.lower())),
        grid=grid / norm if norm > 0 else grid,
    )


def _reference_values(text: str, settings: SplitterSettings) -> list[str]:
    """A header line's reference values: its dates whole, then numbers of three digits or more,
    without postal codes (every letter to one company carries its postal code) or bare short numbers."""
    dates = [" ".join(m.group(0).lower().split()) for m in _DATE.finditer(text)]
    rest = _POSTAL.sub(" ", _DATE.sub(" ", text))
    return [
        *(d for d in dates if len(_DIGIT.findall(d)) >= 3),
        *(
            value
            for v in _VALUE.findall(rest)
            if len(_DIGIT.findall(value := v.strip("./-").lower())) >= 3
            and not (value.isdigit() and len(value) < settings.bare_value_digits)
        ),
    ]


def _title_types(text: str) -> list[DocType]:
    """The types a born-digital title line names: none after a possessive, compounds counted."""
    folded = fold(text)
    if _REFERRED.search(folded):
        return []
    named = type_names_in(text)
    for word in folded.split():
        if word in _ONE_WORD_NAMES:
            continue  # a name of its own ("korrekturrechnung"), not a compound of a shorter one
        for suffix, doc_type in _COMPOUND_SUFFIXES:
            if len(word) > len(suffix) and word.endswith(suffix):
                if doc_type not in named:
                    named.append(doc_type)
                break
    return named


def _page_ids(text: str) -> frozenset[str]:
    """IBANs and VAT ids, each with its kind; an IBAN's digits are not read again as a VAT id."""
    ibans = {re.sub(r"\s", "", m) for m in _IBAN.findall(text)}
    rest = _IBAN.sub(" ", text)
    taxes = {re.sub(r"\s", "", m) for m in _TAX_ID.findall(rest)}
    return frozenset({f"iban:{i}" for i in ibans} | {f"tax:{t}" for t in taxes})


def _new_ids(known: frozenset[str] | set[str], page: frozenset[str]) -> bool:
    """The page shows an id of a kind already known that is not among the known ones."""
    return any(
        bool(mine) and bool(theirs - mine)
        for mine, theirs in (
            ({i for i in known if i.startswith(kind)}, {i for i in page if i.startswith(kind)})
            for kind in _ID_KINDS
        )
    )


def _median_size(words: list[Word]) -> float:
    sizes = sorted(w.size for w in words if w.size)
    if not sizes:
        return 0.0
    if any(size != size for size in sizes):  # NaN: sorting cannot place it, numpy says NaN
        return float(np.median(sizes))
    # numpy's median, without its overhead on the few words of one line (called for every line).
    middle = len(sizes) // 2
    return float(sizes[middle] if len(sizes) % 2 else (sizes[middle - 1] + sizes[middle]) / 2)


def _line_size(line: Line) -> float:
    return _median_size(line.words)


def _content_chars(words: list[Word], scanned: bool, settings: SplitterSettings) -> int:
    """Letters and digits of confident words, counted only as far as the blank-page limit."""
    count = 0
    for word in words:
        if scanned and word.confidence < settings.blank_min_word_confidence:
            continue
        count += sum(ch.isalnum() for ch in word.text)
        if count >= settings.blank_max_chars:
            break
    return count


def _grid(page: Page, words: list[Word], settings: SplitterSettings) -> np.ndarray:
    """Word width per cell of a rows x columns grid over the page: the page's layout in a vector."""
    rows, cols = settings.grid
    boxes = np.array([w.bbox for w in words], dtype=np.float64).reshape(-1, 4)
    r = np.clip(((boxes[:, 1] + boxes[:, 3]) / 2 / page.height * rows).astype(int), 0, rows - 1)
    c = np.clip(((boxes[:, 0] + boxes[:, 2]) / 2 / page.width * cols).astype(int), 0, cols - 1)
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 0.0) / page.width
    return np.bincount(r * cols + c, weights=widths, minlength=rows * cols).astype(np.float64)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


# What the current document's pages so far said (``DocumentMemory.features``).
MEMORY_FEATURES = (
    "doc_ids_shared",
    "doc_ids_new",
    "doc_vendor_words",
    "doc_number_repeated",
    "doc_values_shared",
    "header_block",
    "header_number_new",
    "header_with_title",
    "doc_totals_seen",
    "doc_pages",
    "doc_numbering_continues",
)
FEATURES = (
    "blank_before",
    "numbered",
    "number_is_1",
    "number_above_1",
    "number_continues",
    "prev_number_last",
    "prev_number_not_last",
    "page_only_1",
    "page_only_above_1",
    "title",
    "title_same_as_last_title",
    "title_other_than_last_title",
    "references",
    "dated",
    "dated_rows",
    "addressed",
    "prose",
    "header_values",
    "prev_totals",
    "totals",
    "continued",
    "prev_carries",
    "values_shared",
    "values_new",
    "shape_change",
    "ids_new",
    "ids_shared",
    "letterhead_similarity",
    "word_similarity",
    "layout_similarity",
    "scanned",
    "source_change",
    *MEMORY_FEATURES,
)


def _shape_changed(a: float, b: float, settings: SplitterSettings) -> bool:
    return abs(a - b) > settings.shape_change * max(a, b)


def pair_features(
    prev: PageSignals,
    page: PageSignals,
    *,
    blank_before: bool,
    last_title: tuple[str, ...],
    recent_values: frozenset[str] | None = None,
    memory: DocumentMemory | None = None,
    settings: SplitterSettings = SETTINGS,
) -> np.ndarray:
    """The feature vector (``FEATURES``) of ``page`` following the non-blank page ``prev``.

    ``recent_values``: the reference values of the two non-blank pages before (``prev``'s if not
    given), since an appendix page between may repeat no number of the document it belongs to.
    """
    if recent_values is None:
        recent_values = prev.values
    num, pnum = page.numbering, prev.numbering
    same_title = bool(page.title_types) and bool(set(page.title_types) & set(last_title))
    if memory is None:
        memory = DocumentMemory.starting(prev)
    return np.array(
        [
            float(blank_before),
            float(num is not None),
            float(num is not None and num[0] == 1),
            float(num is not None and num[0] > 1),
            float(num is not None and pnum is not None and num == (pnum[0] + 1, pnum[1])),
            float(pnum is not None and pnum[0] == pnum[1]),
            float(pnum is not None and pnum[0] < pnum[1]),
            float(page.page_only == 1),
            float(page.page_only is not None and page.page_only > 1),
            float(bool(page.title_types)),
            float(same_title),
            float(bool(page.title_types) and bool(last_title) and not same_title),
            min(page.references, 4) / 4.0,
            # What a document's first page has of its own: a date and reference values in its top
            # part (a terms page, a slip or a page of notes mostly has neither).
            float(page.dated),
            # A list's rows each dated, not a header block; a first page's address block; a page
            # of running text (notes, terms): what survives OCR where vendor words do not.
            min(page.dated_rows, settings.dated_rows_cap) / settings.dated_rows_cap,
            float(page.addressed),
            page.prose,
            min(len(page.values), 4) / 4.0,
            float(prev.totals),
            float(page.totals),
            float(page.continued),
            float(prev.carries),
            float(bool(page.values & recent_values)),
            float(bool(page.values) and not page.values & recent_values),
            float(_shape_changed(prev.shape, page.shape, settings)),
            float(_new_ids(prev.ids, page.ids)),
            float(bool(page.ids & prev.ids)),
            _jaccard(prev.letterhead, page.letterhead),
            _jaccard(prev.tokens, page.tokens),
            float(np.dot(prev.grid, page.grid)) if prev.grid.size and page.grid.size else 0.0,
            float(page.scanned),
            # Read by OCR after a born-digital page or the reverse: one document's pages are alike.
            float(page.scanned != prev.scanned),
            *memory.features(page),
        ]
    )


@dataclass
class DocumentMemory:
    """What the pages of the document being read so far said: its vendor, numbers and totals."""

    ids: set[str] = field(default_factory=set)
    vendor_words: frozenset[str] = frozenset()  # the first page's letterhead words
    numbers: set[str] = field(default_factory=set)  # its document numbers
    values: set[str] = field(default_factory=set)  # every reference value of its pages' top parts
    totals: bool = False
    pages: int = 0
    numbering: tuple[int, int] | None = None  # the first page's "k of n"

    @classmethod
    def starting(cls, page: PageSignals) -> DocumentMemory:
        memory = cls(vendor_words=page.letterhead, numbering=page.numbering)
        memory.add(page)
        return memory

    def add(self, page: PageSignals) -> None:
        self.ids |= page.ids
        self.numbers |= page.numbers
        self.values |= page.values
        self.totals = self.totals or page.totals
        self.pages += 1

    def features(self, page: PageSignals) -> list[float]:
        # A document number labelled on either side turning up on the other.
        repeated = bool(self.numbers & (page.all_values | page.values)) or bool(page.numbers & self.values)
        header = bool(page.numbers) and (page.dated or page.references >= 2)
        first = self.numbering
        return [
            float(bool(page.ids & self.ids)),
            float(_new_ids(self.ids, page.ids)),
            len(self.vendor_words & page.tokens) / len(self.vendor_words) if self.vendor_words else 0.0,
            float(repeated),
            # Its order or customer number, a date of its pages (not only of the page before).
            float(bool(page.values & self.values)),
            float(header),
            float(bool(page.numbers) and not repeated and not page.numbers & (self.numbers | self.values)),
            float(header and bool(page.title_types)),
            float(self.totals),
            min(self.pages, 5) / 5.0,
            float(
                page.numbering is not None
                and first is not None
                and page.numbering == (first[0] + self.pages, first[1])
            ),
        ]


@dataclass(frozen=True)
class Pair:
    """A non-blank page after the first, with its features; ``index`` is 0-based in the file."""

    index: int
    features: np.ndarray


def page_pairs(
    signals: Sequence[PageSignals],
    *,
    starts: set[int] | None = None,
    decide: Callable[[np.ndarray], float] | None = None,
    threshold: float = SETTINGS.threshold,
) -> tuple[int | None, list[Pair], dict[int, float]]:
    """The first non-blank page's index, every later non-blank page's features, and P(start) per page.

    The document memory is reset where a document starts: at the ``starts`` given (training, the
    true starts) or where ``decide`` says P(start) reaches the threshold (reading a file).
    """
    first: int | None = None
    prev: PageSignals | None = None
    memory: DocumentMemory | None = None
    blank_before = False
    last_title: tuple[str, ...] = ()
    before_prev: frozenset[str] = frozenset()
    pairs: list[Pair] = []
    probabilities: dict[int, float] = {}
    for index, page in enumerate(signals):
        if page.blank:
            blank_before = prev is not None
            continue
        if prev is None or memory is None:
            first = index
            memory = DocumentMemory.starting(page)
        else:
            features = pair_features(
                prev,
                page,
                blank_before=blank_before,
                last_title=last_title,
                recent_values=prev.values | before_prev,
                memory=memory,
            )
            pairs.append(Pair(index, features))
            if decide is not None:
                probabilities[index] = decide(features)
                start = probabilities[index] >= threshold
            else:
                start = starts is not None and index in starts
            if start:
                memory = DocumentMemory.starting(page)
            else:
                memory.add(page)
            before_prev = prev.values
        if page.title_types:
            last_title = page.title_types
        prev, blank_before = page, False
    return first, pairs, probabilities


@dataclass(frozen=True)
class SplitPart:
    """One document found in a file: its pages (1-based, inclusive) and the type its title names."""

    first: int
    last: int
    page_type: str | None  # the type a title on its first page names, if any
    confidence: float  # how sure the splitter is that a document starts at ``first``


@dataclass(frozen=True)
class SplitPlan:
    parts: list[SplitPart]
    decided_by: str  # ``splitter@<version>`` or ``splitter-rules@2``
    # Per non-first, non-blank page (1-based): P(a document starts there).
    start_probability: dict[int, float]
    low_confidence: bool
    min_confidence: float
    # Pages (1-based) where whether a document starts was decided with less than the review
    # sureness: where a clerk checking the split should look first.
    doubtful: tuple[int, ...] = ()

    def lineage(self) -> dict[str, str]:
        out = {"splitter": self.decided_by, "split_confidence": f"{self.min_confidence:.3f}"}
        if self.doubtful:
            out["split_doubts"] = ",".join(str(page) for page in self.doubtful)
        return out


def plan_from_starts(
    signals: Sequence[PageSignals],
    probabilities: dict[int, float],
    *,
    decided_by: str,
    settings: SplitterSettings = SETTINGS,
) -> SplitPlan:
    """Parts from P(start) per page index (0-based); blank pages at a part's ends belong to no part."""
    content = [i for i, s in enumerate(signals) if not s.blank]
    if not content:
        last = max(len(signals), 1)
        return SplitPlan([SplitPart(1, last, None, 1.0)], decided_by, {}, False, 1.0)
    starts = [content[0]] + [i for i in content[1:] if probabilities.get(i, 0.0) >= settings.threshold]
    parts: list[SplitPart] = []
    for k, start in enumerate(starts):
        end = (starts[k + 1] if k + 1 < len(starts) else len(signals)) - 1
        while end > start and signals[end].blank:
            end -= 1
        title = signals[start].title_types
        confidence = 1.0 if k == 0 else probabilities[start]
        parts.append(SplitPart(start + 1, end + 1, title[0] if title else None, confidence))
    sureness = {i: max(p, 1.0 - p) for i, p in probabilities.items()}
    least = min(sureness.values(), default=1.0)
    return SplitPlan(
        parts,
        decided_by,
        {i + 1: round(p, 4) for i, p in probabilities.items()},
        least < settings.review,
        least,
        tuple(sorted(i + 1 for i, sure in sureness.items() if sure < settings.review)),
    )


class RuleSplitter:
    """Page numbering, blank separators and titles, for when no splitter model is trained."""

    name = RULES

    def __init__(self, settings: SplitterSettings = SETTINGS) -> None:
        self.settings = settings

    @staticmethod
    def probability(features: np.ndarray) -> float:
        f = dict(zip(FEATURES, features, strict=True))
        if (
            f["number_continues"]
            or f["number_above_1"]
            or f["page_only_above_1"]
            or f["continued"]
            or f["doc_number_repeated"]
        ):
            return 0.05
        if f["number_is_1"] or f["page_only_1"] or f["blank_before"] or f["prev_number_last"]:
            return 0.95
        if f["header_block"] and f["header_number_new"]:
            return 0.85
        if f["title"] and f["references"] > 0 and not f["prev_number_not_last"]:
            return 0.85
        return 0.15

    def split(self, document: Document) -> SplitPlan:
        return self.split_signals([page_signals(page, self.settings) for page in document.pages])

    def split_signals(self, signals: Sequence[PageSignals]) -> SplitPlan:
        _, _, probabilities = page_pairs(signals, decide=self.probability, threshold=self.settings.threshold)
        return plan_from_starts(signals, probabilities, decided_by=self.name, settings=self.settings)


class LearnedSplitter:
    """The trained network, computed with NumPy: one hidden layer of rectified units and a logistic
    output, ``sigmoid(relu(((x - mean) / scale) @ hidden + hidden_bias) @ coef + intercept)``.

    A hidden layer because the signals count together: a title starts a document when the page
    also has a header block of its own, and not on a terms page of the same vendor; "page 2 of 3"
    on the page before holds unless a blank page or a new number says otherwise.
    """

    def __init__(
        self,
        *,
        mean: np.ndarray,
        scale: np.ndarray,
        hidden: np.ndarray,
        hidden_bias: np.ndarray,
        coef: np.ndarray,
        intercept: float,
        version: str = "unsaved",
        settings: SplitterSettings = SETTINGS,
    ) -> None:
        self.mean = mean
        self.scale = scale
        self.hidden = hidden
        self.hidden_bias = hidden_bias
        self.coef = coef
        self.intercept = intercept
        self.name = f"{SPLITTER}@{version}"
        self.settings = settings

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if features.size == 0:
            return np.zeros(0)
        units = np.maximum(((features - self.mean) / self.scale) @ self.hidden + self.hidden_bias, 0.0)
        z = units @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def split(self, document: Document) -> SplitPlan:
        return self.split_signals([page_signals(page, self.settings) for page in document.pages])

    def split_signals(self, signals: Sequence[PageSignals]) -> SplitPlan:
        # Page by page: whether a document started decides what the next page is compared with.
        _, _, probabilities = page_pairs(
            signals,
            decide=lambda x: float(self.probabilities(x[None, :])[0]),
            threshold=self.settings.threshold,
        )
        return plan_from_starts(signals, probabilities, decided_by=self.name, settings=self.settings)

    def save(self, folder: Path) -> None:
        np.savez(
            folder / WEIGHTS,
            mean=self.mean,
            scale=self.scale,
            hidden=self.hidden,
            hidden_bias=self.hidden_bias,
            coef=self.coef,
            intercept=[self.intercept],
        )
        (folder / "features.json").write_text(json.dumps(list(FEATURES)) + "\n", encoding="utf-8")

    @classmethod
    def from_artifact(cls, artifact: Artifact, settings: SplitterSettings = SETTINGS) -> LearnedSplitter:
        if artifact.meta.get("feature_version") != SPLIT_FEATURE_VERSION:
            raise ArtifactError(
                f"{artifact.ref} was trained on splitter features v{artifact.meta.get('feature_version')}, "
                f"this code reads v{SPLIT_FEATURE_VERSION}; retrain with `ledgerbot train splitter CORPUS`"
            )
        try:
            with np.load(artifact.path / WEIGHTS) as arrays:
                model = cls(
                    mean=arrays["mean"],
                    scale=arrays["scale"],
                    hidden=arrays["hidden"],
                    hidden_bias=arrays["hidden_bias"],
                    coef=arrays["coef"],
                    intercept=float(arrays["intercept"][0]),
                    version=artifact.version,
                    settings=settings,
                )
        except (OSError, KeyError, ValueError) as error:
            raise ArtifactError(f"cannot load the splitter from {artifact.path}: {error}") from error
        units = model.coef.shape[0]
        if model.hidden.shape != (len(FEATURES), units) or model.hidden_bias.shape != (units,):
            raise ArtifactError(
                f"{artifact.ref} has {model.hidden.shape} input weights, expected ({len(FEATURES)}, {units})"
            )
        return model


Splitter = LearnedSplitter | RuleSplitter


def load_splitter(models_dir: Path, settings: SplitterSettings = SETTINGS) -> tuple[Splitter, str | None]:
    """The newest trained splitter, else the rules, with a note on why the rules decide."""
    try:
        return LearnedSplitter.from_artifact(ArtifactStore(models_dir).resolve(SPLITTER), settings), None
    except ModelNotFound:
        return RuleSplitter(settings), "no trained splitter; page numbering, blank pages and titles decide"
    except ArtifactError as error:
        return RuleSplitter(
            settings
        ), f"[{error.code}] {error.message}; page numbering, blank pages and titles decide"
