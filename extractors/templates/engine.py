"""Applies vendor templates: picks the template that matches a document and reads it by its rules.

Label rules reuse the generic extractor's page geometry (rows, value types); line rules reuse its
table reader with the columns the template names, so a template only says *where* things are,
never how an amount or a date is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from extractors.generic.geometry import Row
from extractors.generic.labels import build_indexes, tokens
from extractors.generic.table_header import stacked_words
from extractors.generic.tables import Column, read_table
from extractors.templates.anchors import fit_anchor, label_weight
from extractors.templates.catalog import Entry, load_entries
from extractors.templates.index import Evidence, VendorIndex, name_tokens, ocr_rows, printed_like
from extractors.templates.locate import DocumentView, Hit
from extractors.templates.schema import USED_FOR_DECISIONS, Anchor, FieldRule, LineRules, Template
from extractors.templates.witness import one_digit_apart, witnessed_total
from extractors.values import VALUE_TYPES, find_currency
from ledgerbot.core.domain import DocType, ExtractionResult, FieldBox, InvoiceFields, InvoiceLine
from ledgerbot.core.settings import TemplateSettings, load_section
from textlayer.model import BBox, Document

ENGINE_VERSION = "template-engine-1.1"
# Fit added per place down the anchor list: a later anchor must fit clearly better to win.
ANCHOR_ORDER_WEIGHT = 0.05
_NUMERIC_COLUMNS = frozenset({"col_quantity", "col_unit_price", "col_amount"})
# Similarity (0-100) of an OCR'd header word to the header a template names for a column.
FUZZY_HEADER = 80.0
# Similarity of an OCR'd word to a fingerprint word for the layout to count it as printed, for
# words of at least this many letters (a slip in a shorter word makes another word).
FUZZY_WORD = 75.0
FUZZY_WORD_LENGTH = 4
# A fingerprint word of at least this many letters counts on an OCR'd page when its letters are
# printed inside a run of words OCR glued together (shorter ones are inside too many words).
GLUED_WORD_LENGTH = 3
# On an OCR'd page a crease, a stain or a faded line loses whole words beyond any similarity:
# the share of a layout's fingerprint a vendor's name must come with is lower by this there.
OCR_FINGERPRINT_SLACK = 0.15
_COLUMN_KINDS = {
    "description": "col_description",
    "sku": "col_sku",
    "quantity": "col_quantity",
    "unit_price": "col_unit_price",
    "amount": "col_amount",
    "pos": "col_pos",
    "tax": "col_tax",
    "unit": "col_unit",
}


_OPTIONAL_COLUMNS = frozenset({"pos", "tax", "unit"})
# A learned table also holds when its text columns' headers moved to another row: the numbers
# still line up under their own headers.
_OPTIONAL_LEARNED = _OPTIONAL_COLUMNS | {"description", "sku"}
# A header row and the row under it are one stacked header ("Unit" over "price") when the gap
# between them is under this share of the upper row's height.
STACKED_HEADER_GAP = 0.8


def default_templates_dir() -> Path:
    """``$LEDGERBOT_TEMPLATES_DIR``, else the repository's top-level ``templates/``."""
    configured = load_section(TemplateSettings).dir
    if configured is not None:
        return configured
    return Path(__file__).resolve().parents[2] / "templates"


@dataclass
class _Page:
    number: int
    rows: list[Row]
    folded: list[list[str]]  # tokens per row


def _find_tokens(haystack: list[str], needle: list[str]) -> int:
    n = len(needle)
    for i in range(len(haystack) - n + 1):
        if haystack[i : i + n] == needle:
            return i
    return -1


def _word_span(row: Row, phrase: str) -> tuple[int, int] | None:
    """Word indexes (start, end) of ``phrase`` in ``row``, matched on folded tokens."""
    needle = tokens(phrase)
    if not needle:
        return None
    toks: list[str] = []
    owner: list[int] = []
    for i, word in enumerate(row.words):
        for tok in tokens(word.text):
            toks.append(tok)
            owner.append(i)
    at = _find_tokens(toks, needle)
    if at < 0:
        return None
    return owner[at], owner[at + len(needle) - 1] + 1


def _fuzzy_span(row: Row, phrase: str) -> tuple[int, int] | None:
    """``_word_span`` for an OCR'd row: the run of words most similar to ``phrase``, if close."""
    needle = " ".join(tokens(phrase))
    if len(needle) < 3:
        return None
    n = max(1, len(needle.split()))
    best: tuple[float, tuple[int, int]] | None = None
    for start in range(len(row.words)):
        for end in range(start + 1, min(len(row.words), start + n + 1) + 1):
            score = fuzz.ratio(" ".join(tokens(row.text_of(start, end))), needle)
            if score >= FUZZY_HEADER and (best is None or score > best[0]):
                best = (score, (start, end))
    return best[1] if best else None


def _fingerprint_share(fingerprint: list[str], view: DocumentView, ocr: bool = False) -> float:
    """The share of a layout's fingerprint words a document prints (1.0 without a fingerprint).

    On an OCR'd page a word may be printed with a slip ("Tirne" for "Time"), on the sample the
    fingerprint was learned from or on this one: a word of four letters or more counts when the
    page prints one close to it, and a word of three or more when the page prints its letters
    inside a run of words OCR glued together ("PLEASECOMEAGAIN") or across two it split.
    """
    if not fingerprint:
        return 1.0
    words = view.token_set
    found = 0
    near: list[str] | None = None
    glued: str | None = None
    for word in fingerprint:
        if word in words:
            found += 1
        elif ocr and len(word) >= GLUED_WORD_LENGTH:
            if glued is None:
                glued = "\n".join("".join(toks) for page in view.pages for toks, _ in page.row_tokens)
            if word in glued:
                found += 1
                continue
            if len(word) < FUZZY_WORD_LENGTH:
                continue
            if near is None:
                near = [w for w in words if len(w) >= FUZZY_WORD_LENGTH - 1]
            found += process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD) is not None
    return found / len(fingerprint)


def _totals_add_up(fields: dict[str, Any]) -> bool:
    """Subtotal + tax = total, to the cent (True when one of them is not there to check)."""
    net, tax, gross = (fields.get(n) for n in ("subtotal", "tax_amount", "total"))
    if net is None or tax is None or gross is None:
        return True
    return bool(abs(abs(net) + abs(tax) - abs(gross)) <= Decimal("0.011"))


def _reconcile_totals(
    anchored: dict[str, list[Hit]], fields: dict[str, Any], boxes: dict[str, FieldBox]
) -> None:
    """When the anchors of the totals disagree, take the readings for which net + tax = gross.

    Anchors learned on one document may point at several amounts on the next (a VAT breakdown
    with more rows); that subtotal + tax = total does not vary, so it decides between them.
    """
    options = [anchored.get(n) or [] for n in ("subtotal", "tax_amount", "total")]
    if not all(options) or all(len(o) == 1 for o in options):
        return
    best: tuple[int, tuple[Hit, Hit, Hit]] | None = None
    for i, net in enumerate(options[0]):
        for j, tax in enumerate(options[1]):
            for k, gross in enumerate(options[2]):
                adds_up = abs(abs(net.value) + abs(tax.value) - abs(gross.value)) <= Decimal("0.011")
                if adds_up and (best is None or i + j + k < best[0]):
                    best = (i + j + k, (net, tax, gross))
    if best is None:
        return
    for name, hit in zip(("subtotal", "tax_amount", "total"), best[1], strict=True):
        fields[name] = hit.value
        boxes[name] = FieldBox(page=hit.page, bbox=hit.box)


class TemplateExtractor:
    """Extractor protocol: ``name``, ``is_available()``, ``prepare()``, ``extract(document, doc_type)``."""

    name = "template"

    def __init__(self, templates: Sequence[Template | Entry], models_dir: Path | None = None) -> None:
        self.entries = [t if isinstance(t, Entry) else Entry.of(t) for t in templates]
        self.index = VendorIndex(self.entries)
        self._generic: Any = None
        # The generic extractor a field falls back to is the pipeline's own (its trained ranker).
        self.models_dir = models_dir

    @classmethod
    def load(
        cls, folder: Path | None = None, extra: Sequence[Path] = (), models_dir: Path | None = None
    ) -> TemplateExtractor:
        """The templates of ``folder`` (default: the shipped ones) and of every ``extra`` folder.

        Only their identities are read up front (``catalog``); a template's rules are parsed the
        first time a document points at it. ``models_dir`` is where the generic extractor that
        reads what a template cannot finds its ranker (None: its hand-set weights).
        """
        return cls(load_entries([folder or default_templates_dir(), *extra]), models_dir)

    @property
    def templates(self) -> list[Template]:
        """Every template, parsed (all of them: for listing and tests, not for reading)."""
        return [entry.template() for entry in self.entries]

    def is_available(self) -> bool:
        return bool(self.entries)

    def prepare(self) -> None:
        """Build what the first document would build for every later one (the label indexes
        that matching and the generic fallback read)."""
        build_indexes()

    # -- matching ----------------------------------------------------------------------------

    def match(self, document: Document, view: DocumentView | None = None) -> Template | None:
        """The matching template with the most evidence (identity, then keywords), or None."""
        found = self.match_evidence(view or DocumentView(document))
        return found.template if found is not None else None

    def match_evidence(
        self, view: DocumentView, *, statuses: frozenset[str] = USED_FOR_DECISIONS
    ) -> Evidence | None:
        """The best template for ``view`` among those with one of ``statuses``, and why it applies."""
        text = " ".join(tokens(view.document.text))
        ocr = any(page.ocr for page in view.pages)
        best: tuple[float, Evidence] | None = None
        for evidence in self.index.candidates(view):
            entry = evidence.entry
            if entry.status not in statuses:
                continue
            m = entry.match
            if not all(self._has(text, k) for k in m.all):
                continue
            if m.any and not any(self._has(text, k) for k in m.any):
                continue
            if any(self._has(text, k) for k in m.none):
                continue
            share = _fingerprint_share(m.fingerprint, view, ocr)
            needed = m.min_fingerprint - (OCR_FINGERPRINT_SLACK if ocr else 0.0)
            if evidence.by in ("name", "numbers") and m.fingerprint and share < needed:
                # A name alone is weak (a buyer may carry it, a reseller may print it), and so
                # are numbers: the layout must also be the vendor's.
                continue
            # A template learned for this one vendor knows it better than a layout template
            # written for every vendor printing with that layout.
            own = 20 if entry.learned else 0
            score = evidence.score * 100 + own + share * 10 + len(m.all)
            if best is None or score > best[0]:
                best = (score, evidence)
        return best[1] if best else None

    @staticmethod
    def _has(text: str, keyword: str) -> bool:
        needle = " ".join(tokens(keyword))
        return bool(needle) and f" {needle} " in f" {text} "

    # -- extraction --------------------------------------------------------------------------

    def extract(self, document: Document, doc_type: DocType | None = None) -> ExtractionResult | None:
        view = DocumentView(document)
        evidence = self.match_evidence(view)
        if evidence is None:
            return None
        identified = evidence.by in ("tax_id", "iban", "numbers")
        result = self.apply(evidence.template, document, doc_type, view=view, identified=identified)
        result.lineage["template_match"] = evidence.by
        return result

    def apply(
        self,
        template: Template,
        document: Document,
        doc_type: DocType | None = None,
        *,
        view: DocumentView | None = None,
        identified: bool = False,
    ) -> ExtractionResult:
        """Read ``document`` by ``template``. ``identified``: the document was matched to the
        template by the vendor's tax id, IBAN or letterhead numbers, so on a scan or photo the
        vendor's name is the template's even where OCR garbled the printed one."""
        view = view or DocumentView(document)
        pages = [_Page(p.number, p.rows, [toks for toks, _ in p.row_tokens]) for p in view.pages]
        options = {
            "decimal_sep": template.options.decimal_separator,
            "date_order": template.options.date_order,
            "compact_dates": template.options.compact_dates,
        }
        fields: dict[str, Any] = {}
        confidence: dict[str, float] = {}
        boxes: dict[str, FieldBox] = {}
        generic: ExtractionResult | None = None
        anchored: dict[str, list[Hit]] = {}
        # Fields read on a photo or scan by their place alone or beside a label that does not
        # name them (the amount tendered, where it equalled the total on the sample).
        unsure: list[str] = []
        ocr = any(page.ocr for page in view.pages)
        printed_name = self._printed_name(template, view)
        if printed_name is None and identified and document.is_scanned and template.match.names:
            printed_name = template.match.names[0]
        for rule in template.fields:
            if rule.name == "vendor_name" and printed_name is not None:
                # The vendor is known by its name: the name as the template knows it is printed.
                fields["vendor_name"] = printed_name
                confidence["vendor_name"] = 0.99
                continue
            if rule.anchors:
                read = self._anchored(rule, view, options)
                anchored[rule.name] = [hit for hit, _ in read]
                if read:
                    hit, anchor = read[0]
                    fields[rule.name] = hit.value
                    confidence[rule.name] = 0.99
                    boxes[rule.name] = FieldBox(page=hit.page, bbox=hit.box)
                    if ocr and (anchor.label is None or label_weight(rule.name, anchor.label) <= 0):
                        unsure.append(rule.name)
                continue
            if rule.generic:
                if generic is None:
                    generic = self._generic_result(document, doc_type)
                value = getattr(generic.fields, rule.name)
                if value is not None:
                    fields[rule.name] = value
                    confidence[rule.name] = generic.field_confidence.get(rule.name, 0.5)
                    if rule.name in generic.field_boxes:
                        boxes[rule.name] = generic.field_boxes[rule.name]
                continue
            found = self._apply_rule(rule, pages, options)
            if found is None:
                continue
            value, page_no, box = found
            fields[rule.name] = value
            confidence[rule.name] = 0.99
            if box is not None:
                boxes[rule.name] = FieldBox(page=page_no, bbox=box)
        _reconcile_totals(anchored, fields, boxes)
        if "currency" not in fields:
            code = template.options.currency or self._currency(pages)
            if code:
                fields["currency"] = code
                confidence["currency"] = 0.9
        if "vendor_name" not in fields and printed_name is not None:
            fields["vendor_name"] = printed_name
            confidence["vendor_name"] = 0.99
        lines: list[InvoiceLine] = []
        for table in [template.lines, *template.line_variants]:
            if table is not None:
                lines = self._lines(table, pages, view)
                if table.samples and any(line.amount is None for line in lines):
                    # A learned table that reads rows without an amount is another table.
                    lines = []
                if lines:
                    break
        # A scan can blur a label or a column header the template relies on; rather than lose
        # the field, fall back to the generic reading of it, with less confidence.
        missing = [rule.name for rule in template.fields if rule.name not in fields]
        fallback: list[str] = []
        if missing or not lines:
            if generic is None:
                generic = self._generic_result(document, doc_type)
            for name in missing:
                value = getattr(generic.fields, name)
                if value is not None:
                    fields[name] = value
                    confidence[name] = round(0.8 * generic.field_confidence.get(name, 0.5), 3)
                    fallback.append(name)
                    if name in generic.field_boxes:
                        boxes[name] = generic.field_boxes[name]
            if not lines and generic.lines:
                lines = [line.model_copy() for line in generic.lines]
                fallback.append("lines")
        if unsure:
            # A photo shifts and scales the page and the next receipt pays in other notes: such a
            # reading is checked against the generic extractor, which finds the field by its own
            # label knowledge, and where both read a value and they differ, the generic one stands.
            generic = generic or self._generic_result(document, doc_type)
            for name in unsure:
                value = getattr(generic.fields, name)
                if value is not None and value != fields.get(name):
                    fields[name] = value
                    confidence[name] = round(0.8 * generic.field_confidence.get(name, 0.5), 3)
                    fallback.append(name)
                    if name in generic.field_boxes:
                        boxes[name] = generic.field_boxes[name]
                    else:
                        boxes.pop(name, None)
        if document.is_scanned and not _totals_add_up(fields):
            # Net + tax = gross does not vary: on a scan, totals that do not add up were misread,
            # and the generic reading of them stands if it adds up. A born-digital page prints
            # what it prints: totals that do not add up there are for the rules engine to flag.
            generic = generic or self._generic_result(document, doc_type)
            theirs = {n: getattr(generic.fields, n) for n in ("subtotal", "tax_amount", "total")}
            if _totals_add_up(theirs):
                for name, value in theirs.items():
                    if value is not None and value != fields.get(name):
                        fields[name] = value
                        confidence[name] = round(0.8 * generic.field_confidence.get(name, 0.5), 3)
                        fallback.append(name)
        lineage = {"template": template.ref, "extractor": ENGINE_VERSION}
        read_total = fields.get("total")
        if ocr and read_total is not None:
            agreed = witnessed_total(view, template.options.decimal_separator)
            if agreed is not None and agreed != abs(read_total) and one_digit_apart(agreed, read_total):
                # A digit of the total misread on a photo: what tendered - change and net + tax
                # (+ rounding) both give was printed.
                fields["total"] = agreed
                confidence["total"] = 0.9
                lineage["total_repaired"] = (
                    f"{read_total} -> {agreed}: tendered - change = net + tax + rounding"
                )
        if fallback:
            # Which fields the template could not find on this document and the generic
            # extractor read instead: a decision on them is the generic extractor's.
            lineage["template_fallback"] = f"{self._generic_name()}: {', '.join(fallback)}"
        credit = doc_type == DocType.CREDIT_NOTE
        if doc_type is None:
            from extractors.generic.extractor import _looks_like_credit

            credit = _looks_like_credit(document)
        if credit:
            for name in ("subtotal", "tax_amount", "total"):
                if fields.get(name) is not None:
                    fields[name] = -abs(fields[name])
            for line in lines:
                if line.amount is not None:
                    line.amount = -abs(line.amount)
        return ExtractionResult(
            source=document.source,
            method=f"template:{template.id}",
            fields=InvoiceFields(**fields),
            field_confidence=confidence,
            field_boxes=boxes,
            lines=lines,
            lineage=lineage,
        )

    def _generic_name(self) -> str:
        return str(getattr(self._generic, "lineage", "generic")) if self._generic is not None else "generic"

    @staticmethod
    def _printed_name(template: Template, view: DocumentView) -> str | None:
        """The vendor's name as the template knows it (its first name: the one a person gave or
        confirmed), when the document prints one of its names: as learned, or on an OCR'd page
        with a slip ("ACMF" for "ACME"), which is the same vendor and not a name to copy."""
        if not template.match.names:
            return None
        printed = f" {' '.join(tokens(view.document.text))} "
        if any(f" {' '.join(tokens(n))} " in printed for n in template.match.names):
            return template.match.names[0]
        rows = ocr_rows(view)
        if rows and any(printed_like(name_tokens(n), rows) for n in template.match.names):
            return template.match.names[0]
        return None

    @staticmethod
    def _anchored(rule: FieldRule, view: DocumentView, options: dict[str, Any]) -> list[tuple[Hit, Anchor]]:
        """What each anchor points at, best anchor first (one hit per anchor that finds one)."""
        found: list[tuple[float, Hit, Anchor]] = []
        for order, anchor in enumerate(rule.anchors):
            fit = fit_anchor(view, anchor, rule.value_type, options)
            if fit is not None:
                # Where anchors disagree, the one whose label and value sit most nearly as
                # learned wins; among equals, the one that held on more samples (listed first).
                found.append((fit[0] + ANCHOR_ORDER_WEIGHT * order, fit[1], anchor))
        out: list[tuple[Hit, Anchor]] = []
        for _, hit, anchor in sorted(found, key=lambda f: f[0]):
            if all(hit.value != h.value for h, _ in out):
                out.append((hit, anchor))
        return out

    def _generic_result(self, document: Document, doc_type: DocType | None) -> ExtractionResult:
        if self._generic is None:
            from extractors.generic import GenericExtractor

            self._generic = GenericExtractor.load(self.models_dir)
        result: ExtractionResult = self._generic.extract(document, doc_type)
        return result

    def _apply_rule(
        self, rule: FieldRule, pages: list[_Page], options: dict[str, Any]
    ) -> tuple[Any, int, BBox | None] | None:
        kind = VALUE_TYPES[rule.value_type]
        if rule.value is not None:
            parsed = kind.parse(rule.value, **options)
            return (parsed, 1, None) if parsed is not None else None
        hits = self.hits(rule, pages, options)
        index = rule.occurrence - 1 if rule.occurrence > 0 else rule.occurrence
        if -len(hits) <= index < len(hits):
            return hits[index]
        return None

    def hits(
        self, rule: FieldRule, pages: list[_Page], options: dict[str, Any]
    ) -> list[tuple[Any, int, BBox]]:
        """Every (value, page, box) the rule finds, in reading order."""
        out: list[tuple[Any, int, BBox]] = []
        for page in pages:
            if rule.page is not None and page.number != rule.page:
                continue
            found = (
                self._regex(rule, page, options)
                if rule.regex is not None
                else self._label(rule, page, options)
            )
            out.extend((value, page.number, box) for value, box in found)
        return out

    def _regex(self, rule: FieldRule, page: _Page, options: dict[str, Any]) -> list[tuple[Any, BBox]]:
        assert rule.regex is not None
        pattern = re.compile(rule.regex, re.MULTILINE | re.IGNORECASE)
        out = []
        for row in page.rows:
            m = pattern.search(row.text)
            if m is None:
                continue
            parsed = VALUE_TYPES[rule.value_type].parse(m.group("value"), **options)
            if parsed is None:
                continue
            start = len(row.text[: m.start("value")].split())
            end = max(start + 1, len(row.text[: m.end("value")].split()))
            out.append((parsed, row.box_of(start, min(end, len(row.words)))))
        return out

    def _label(self, rule: FieldRule, page: _Page, options: dict[str, Any]) -> list[tuple[Any, BBox]]:
        kind = VALUE_TYPES[rule.value_type]
        out = []
        for r, row in enumerate(page.rows):
            for label in rule.labels:
                span = _word_span(row, label)
                if span is None:
                    continue
                if rule.direction == "right":
                    candidates = [(row, span[1], len(row.words))]
                else:
                    box = row.box_of(*span)
                    candidates = []
                    for below in page.rows[r + 1 : r + 3]:
                        idx = [
                            i for i, w in enumerate(below.words) if w.x1 > box[0] - 2 and w.x0 < box[2] + 60
                        ]
                        if idx:
                            candidates.append((below, idx[0], idx[-1] + 1))
                            break
                hit = self._first_value(kind, candidates, options)
                if hit is not None:
                    out.append(hit)
                    break  # one hit per row, whichever of the rule's labels found it
        return out

    @staticmethod
    def _first_value(kind: Any, candidates: list[tuple[Row, int, int]], options: dict[str, Any]) -> Any:
        for target, start, end in candidates:
            text = " ".join(w.text for w in target.words[start:end])
            for (a, b), value in kind.find(text, **options):
                first = len(text[:a].split())
                last = max(first + 1, len(text[:b].split()))
                return value, target.box_of(start + first, min(start + last, end))
        return None

    def _currency(self, pages: list[_Page]) -> str | None:
        for page in pages:
            for row in page.rows:
                code = find_currency(row.text)
                if code:
                    return code
        return None

    def _lines(
        self, rules: LineRules, pages: list[_Page], view: DocumentView | None = None
    ) -> list[InvoiceLine]:
        out: list[InvoiceLine] = []
        for index, page in enumerate(pages):
            ocr = view is not None and view.pages[index].ocr
            for r, row in enumerate(page.rows):
                columns = self._header(rules, row, ocr)
                last = r  # the header's last row: the body starts under it
                if columns is None and rules.samples and r + 1 < len(page.rows):
                    # A column name printed over two lines ("Unit" over "price"), on this
                    # document or on the one the table was learned from: a narrow column wraps
                    # its header, a wider one (longer amounts) does not.
                    stacked = _stacked_header(row, page.rows[r + 1])
                    if stacked is not None:
                        columns = self._header(rules, stacked, ocr)
                        last = r + 1
                if columns is None:
                    continue
                stop = {x.index for x in page.rows if any(self._starts_with(x, p) for p in rules.end)}
                skip = frozenset(
                    x.index for x in page.rows if any(self._starts_with(x, p) for p in rules.skip)
                )
                items, _ = read_table(page.rows, last, columns, stop, skip)
                for item in items:
                    out.append(
                        InvoiceLine(
                            description=item.description,
                            sku=item.sku,
                            quantity=abs(item.quantity) if item.quantity is not None else None,
                            unit_price=abs(item.unit_price) if item.unit_price is not None else None,
                            amount=item.amount,
                        )
                    )
                break
        return out

    @staticmethod
    def _starts_with(row: Row, phrase: str) -> bool:
        span = _word_span(row, phrase)
        return span is not None and span[0] <= 1

    @staticmethod
    def _header(rules: LineRules, row: Row, ocr: bool = False) -> list[Column] | None:
        columns = []
        for name, header in rules.columns.items():
            span = _word_span(row, header) or (_fuzzy_span(row, header) if ocr else None)
            if span is None:
                if name in (
                    _OPTIONAL_LEARNED if rules.samples else _OPTIONAL_COLUMNS
                ):  # "#" or "Pos." is easily lost in a scan
                    continue
                return None
            box = row.box_of(*span)
            columns.append(Column(_COLUMN_KINDS[name], box[0], box[2]))
        if len([c for c in columns if c.kind in _NUMERIC_COLUMNS]) < 2:
            return None
        return sorted(columns, key=lambda c: c.x0)


def _stacked_header(upper: Row, lower: Row) -> Row | None:
    """Two rows read as one header row, each column's words top to bottom, when they sit close."""
    if lower.top - upper.bottom >= STACKED_HEADER_GAP * upper.height:
        return None
    words = stacked_words(upper, lower)
    return Row(page=upper.page, words=words, index=upper.index, segments=[list(range(len(words)))])


def money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
