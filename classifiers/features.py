"""Turns a text-layer ``Document`` into what the classifiers read: first-page text plus layout hints.

Both models see the same hints, rendered differently: the baseline gets prefixed tokens
(``title_invoice``, ``pos_title_top_right``) so a title word weighs apart from the same word in
the body; the transformer gets a short plain-text preamble it can attend to.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from classifiers.lexicon import (
    ENGLISH,
    credit_wording_in,
    find_type_names_ocr,
    refers_to_invoice,
    type_names_ocr,
)
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

# Bumped whenever what the models read changes (the fields below, how ``for_baseline`` and
# ``for_transformer`` render them) or how a model is stored, so that a model trained before the
# change is refused at load time with a retrain hint instead of misreading every document.
# 1: the first release. 2: the transformer reads mean-pooled MiniLM vectors (``minilm.py``).
# 3: headline lines, type names read through OCR noise, types named anywhere, negative amounts.
# 4: titles in spaced capitals ("A V O I R", read "A V OIR") are one word.
# 5: the baseline is also stored compiled to arrays (``compiled.py``), read without scikit-learn.
# 6: type names in NL, ES and IT; a receipt's name ("Kassenbon", "Receipt") names a bill.
# 7: a credit note's titles in every language ("Abono", "Credit Advice", "Korrekturrechnung"),
#    refund wording and a reference to the invoice a credit note corrects; the baseline weighs
#    these and a negative amount as a block of their own.
FEATURE_VERSION = 7

# Enough of the first page to name the document type; long tables add nothing but cost.
MAX_BODY_CHARS = 2400
MAX_TITLE_WORDS = 12
# A headline is a line in the top half that is mostly a type name ("STATEMENT OF ACCOUNT",
# "Rechnung Nr. 2026-0012"); a table row "2026-05-08 INV-7 Invoice 4.446,71" is not.
HEADLINE_SHARE = 0.4
HEADLINE_RATIO = 1.15
# A line counts as "large" when its glyphs are clearly taller than the page's typical line.
TITLE_RATIO = 1.25

_DIGITS = re.compile(r"\d[\d.,/-]*")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# A minus before or after an amount, or an amount in brackets: what a credit note's totals look like.
_NEGATIVE = re.compile(r"(?:^|[\s:(])[-−–]\s?\d[\d.,]*\d|\d[.,]\d\d-(?=\s|$)|\(\d[\d.,]*[.,]\d\d\)")
_ALNUM = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True, slots=True)
class DocFeatures:
    """The classifier's view of one document."""

    title: str  # the largest-font words of the first page, in reading order
    title_zone: str  # where the title sits: top/middle/bottom x left/center/right, or "none"
    top: str  # first-page text in the top quarter (letterhead, title, reference block)
    body: str  # first-page text, digits folded
    pages: int
    scanned: bool
    # Document types the headline or title names, in any language the glossary knows (``lexicon.py``).
    named_types: tuple[str, ...] = ()
    # Document types named anywhere on the page ("Gutschrift zu Rechnung 4711" names both).
    mentioned_types: tuple[str, ...] = ()
    negative_amounts: bool = False
    # "Amount credited", "erstattet", "remboursement": money going back to the customer.
    credit_wording: bool = False
    # Another invoice named by its number ("refers to invoice 4711"): what a credit note corrects.
    refers_to_invoice: bool = False

    def credit_evidence(self) -> tuple[float, float, float]:
        """What says "credit note" whatever the title: a negative amount, refund wording, a
        reference to the invoice it corrects (the baseline weighs them as a block of their own)."""
        return (float(self.negative_amounts), float(self.credit_wording), float(self.refers_to_invoice))

    def for_baseline(self) -> str:
        """One string for the TF-IDF model: body words plus prefixed layout tokens."""
        hints = [f"kwt_{t}" for t in self.named_types] or ["kwt_none"]
        hints += [f"kwb_{t}" for t in self.mentioned_types]
        hints.append("amount_negative" if self.negative_amounts else "amount_positive")
        hints += ["credit_wording"] if self.credit_wording else []
        hints += ["refers_to_invoice"] if self.refers_to_invoice else []
        hints += [f"title_{t}" for t in _TOKEN.findall(self.title.lower())]
        hints += [f"top_{t}" for t in _TOKEN.findall(self.top.lower())]
        hints.append(f"pos_title_{self.title_zone}")
        hints.append("src_scan" if self.scanned else "src_digital")
        hints.append(f"pages_{min(self.pages, 5)}")
        return f"{self.title} \n {self.body} \n " + " ".join(hints)

    def preamble(self) -> str:
        """The layout hints as a sentence the transformer reads before the page."""
        title = self.title or "none"
        zone = self.title_zone.replace("_", " ")
        named = ", ".join(ENGLISH[DocType(t)] for t in self.named_types) or "none"
        sign = " amounts negative." if self.negative_amounts else ""
        return f"title: {title}. named: {named}. title at {zone}.{sign}"

    def for_transformer(self) -> str:
        """The preamble, then the first page (the tokenizer truncates)."""
        return f"{self.preamble()} {self.body}"


def _fold(text: str) -> str:
    """Fold every number to ``0``: amounts and references vary per document, not per type."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text)).strip()


def _line_height(line: Line) -> float:
    sizes = [w.size if w.size else w.height for w in line.words]
    sizes = [s for s in sizes if s > 0]
    return statistics.median(sizes) if sizes else 0.0


def _zone(page: Page, line: Line) -> str:
    x0, top, x1, bottom = line.bbox
    if page.width <= 0 or page.height <= 0:
        return "none"
    cy = (top + bottom) / 2 / page.height
    cx = (x0 + x1) / 2 / page.width
    vertical = "top" if cy < 1 / 3 else "middle" if cy < 2 / 3 else "bottom"
    horizontal = "left" if cx < 0.4 else "center" if cx < 0.6 else "right"
    return f"{vertical}_{horizontal}"


def _title_lines(page: Page) -> list[Line]:
    """The first page's largest-font lines, or none when every line has the same size."""
    lines = [line for line in page.lines if line.words and any(ch.isalpha() for ch in line.text)]
    heights = [_line_height(line) for line in lines]
    if not lines or not any(heights):
        return []
    typical = statistics.median(h for h in heights if h > 0)
    largest = max(heights)
    if largest < typical * TITLE_RATIO:
        return []
    # Lines within 10% of the largest size: a title split over two lines stays together.
    return [line for line, h in zip(lines, heights, strict=True) if h >= largest * 0.9]


def _shouted_runs(page: Page) -> list[str]:
    """Runs of upper-case words in the top half: titles are often set in capitals, not only large."""
    runs: list[str] = []
    for line in page.lines:
        if not line.words or line.bbox[1] > page.height / 2:
            continue
        run: list[str] = []
        for word in [*line.words, None]:
            letters = [ch for ch in word.text if ch.isalpha()] if word is not None else []
            if letters and all(ch.isupper() for ch in letters):
                run.append(word.text)  # type: ignore[union-attr]
                continue
            if any(sum(ch.isalpha() for ch in w) >= 4 for w in run):
                runs.append(" ".join(run))
            run = []
    return runs


def _headlines(page: Page) -> list[Line]:
    """Top-half lines that are mostly a type name, tallest first (then topmost).

    On a scan the OCR box heights are too noisy to find the title by size alone: a table row of
    tall digits can outgrow the title. A line that reads as little more than a type name is the
    title wherever it sits in the top half and whatever its measured size.
    """
    lines = [line for line in page.lines if line.words and any(ch.isalpha() for ch in line.text)]
    heights = [h for h in map(_line_height, lines) if h > 0]
    # Set larger than the page's typical line: "Bon de commande PO-17" in body type is a reference.
    floor = statistics.median(heights) * HEADLINE_RATIO if heights else 0.0
    found: list[tuple[float, float, Line]] = []
    for line in lines:
        if line.bbox[1] > page.height / 2 or _line_height(line) < floor:
            continue
        text = line.text
        matched = sum(m.letters for m in find_type_names_ocr(text))
        if matched and matched >= HEADLINE_SHARE * len(_ALNUM.findall(text)):
            found.append((-_line_height(line), line.bbox[1], line))
    return [line for _, _, line in sorted(found, key=lambda f: (f[0], f[1]))]


def _named_types(headlines: list[Line], title: str, page: Page) -> tuple[str, ...]:
    named: list[str] = []
    for text in [*(line.text for line in headlines), title, *_shouted_runs(page)]:
        for doc_type in type_names_ocr(text):
            if doc_type.value not in named:
                named.append(doc_type.value)
    return tuple(named)


def extract_features(document: Document) -> DocFeatures:
    """Features from the first page with any text (cover sheets and blank scans are skipped)."""
    page = next((p for p in document.pages if p.words), None)
    if page is None:
        return DocFeatures("", "none", "", "", len(document.pages), document.is_scanned)
    headlines = _headlines(page)
    titles = _title_lines(page)
    # The headline leads the title: it names the type even where a scan's sizes mislead.
    lead = [line for line in headlines[:1] if line not in titles]
    title_words = [w.text for line in [*lead, *titles] for w in line.words][:MAX_TITLE_WORDS]
    zone = _zone(page, (lead or titles)[0]) if (lead or titles) else "none"
    top_lines = [line.text for line in page.lines if line.words and line.bbox[1] < page.height / 4]
    text = page.text
    return DocFeatures(
        named_types=_named_types(headlines, " ".join(title_words), page),
        title=_fold(" ".join(title_words)),
        title_zone=zone,
        top=_fold(" ".join(top_lines))[: MAX_BODY_CHARS // 3],
        body=_fold(text)[:MAX_BODY_CHARS],
        pages=len(document.pages),
        scanned=document.is_scanned,
        mentioned_types=tuple(t.value for t in type_names_ocr(text)),
        negative_amounts=bool(_NEGATIVE.search(text)),
        credit_wording=credit_wording_in(text),
        refers_to_invoice=refers_to_invoice(text),
    )


def document_from_text(text: str, *, source: str = "") -> Document:
    """A one-page ``Document`` from plain text (clerk corrections, tests): no layout hints survive.

    Every word gets the same size and a box on its own line, so ``extract_features`` finds no
    title and the models fall back on the words alone.
    """
    lines: list[Line] = []
    for row, raw in enumerate(t for t in text.splitlines() if t.strip()):
        top = 20.0 + row * 12.0
        words, x = [], 20.0
        for token in raw.split():
            width = 6.0 * len(token)
            words.append(Word(token, (x, top, x + width, top + 10.0), size=10.0))
            x += width + 4.0
        lines.append(Line(words))
    height = max(842.0, 40.0 + 12.0 * len(lines))
    return Document(pages=[Page(number=1, width=595.0, height=height, lines=lines)], source=source)
