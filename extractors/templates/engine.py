"""Applies vendor templates: picks the template that matches a document and reads it by its rules.

Label rules reuse the generic extractor's page geometry (rows, value types); line rules reuse its
table reader with the columns the template names, so a template only says *where* things are,
never how an amount or a date is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from extractors.generic.geometry import Row, build_rows
from extractors.generic.labels import tokens
from extractors.generic.tables import Column, arithmetic_ok, read_table
from extractors.templates.schema import FieldRule, LineRules, Template, load_templates
from extractors.values import VALUE_TYPES, find_currency
from ledgerbot.core.domain import DocType, ExtractionResult, FieldBox, InvoiceFields, InvoiceLine
from ledgerbot.core.settings import TemplateSettings, load_section
from textlayer.model import BBox, Document

ENGINE_VERSION = "template-engine-1.0"
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


class TemplateExtractor:
    """Extractor protocol: ``name``, ``is_available()``, ``extract(document, doc_type)``."""

    name = "template"

    def __init__(self, templates: list[Template]) -> None:
        self.templates = templates
        self._generic: Any = None

    @classmethod
    def load(cls, folder: Path | None = None) -> TemplateExtractor:
        return cls(load_templates(folder or default_templates_dir()))

    def is_available(self) -> bool:
        return bool(self.templates)

    # -- matching ----------------------------------------------------------------------------

    def match(self, document: Document) -> Template | None:
        """The matching template with the most evidence (keywords + identity), or None."""
        text = " ".join(tokens(document.text))
        compact = re.sub(r"[\s.\-]", "", document.text).upper()
        best: tuple[int, Template] | None = None
        for template in self.templates:
            m = template.match
            if not all(self._has(text, k) for k in m.all):
                continue
            if m.any and not any(self._has(text, k) for k in m.any):
                continue
            if any(self._has(text, k) for k in m.none):
                continue
            identity = [i for i in (*m.tax_ids, *m.ibans) if re.sub(r"[\s.\-]", "", i).upper() in compact]
            if (m.tax_ids or m.ibans) and not identity:
                continue
            score = len(m.all) + len(identity) * 10
            if best is None or score > best[0]:
                best = (score, template)
        return best[1] if best else None

    @staticmethod
    def _has(text: str, keyword: str) -> bool:
        needle = " ".join(tokens(keyword))
        return bool(needle) and f" {needle} " in f" {text} "

    # -- extraction --------------------------------------------------------------------------

    def extract(self, document: Document, doc_type: DocType | None = None) -> ExtractionResult | None:
        template = self.match(document)
        if template is None:
            return None
        return self.apply(template, document, doc_type)

    def apply(
        self, template: Template, document: Document, doc_type: DocType | None = None
    ) -> ExtractionResult:
        pages = []
        for page in document.pages:
            rows = build_rows(page)
            pages.append(_Page(page.number, rows, [tokens(r.text) for r in rows]))
        options = {
            "decimal_sep": template.options.decimal_separator,
            "date_order": template.options.date_order,
        }
        fields: dict[str, Any] = {}
        confidence: dict[str, float] = {}
        boxes: dict[str, FieldBox] = {}
        generic: ExtractionResult | None = None
        for rule in template.fields:
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
        if "currency" not in fields:
            code = template.options.currency or self._currency(pages)
            if code:
                fields["currency"] = code
                confidence["currency"] = 0.9
        lines = self._lines(template.lines, pages) if template.lines else []
        # A scan can blur a label or a column header the template relies on; rather than lose
        # the field, fall back to the generic reading of it, with less confidence.
        missing = [rule.name for rule in template.fields if rule.name not in fields]
        if missing or (template.lines is not None and not lines):
            if generic is None:
                generic = self._generic_result(document, doc_type)
            for name in missing:
                value = getattr(generic.fields, name)
                if value is not None:
                    fields[name] = value
                    confidence[name] = round(0.8 * generic.field_confidence.get(name, 0.5), 3)
                    if name in generic.field_boxes:
                        boxes[name] = generic.field_boxes[name]
            if template.lines is not None and not lines:
                lines = [line.model_copy() for line in generic.lines]
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
            lineage={"template": template.ref, "extractor": ENGINE_VERSION},
        )

    def _generic_result(self, document: Document, doc_type: DocType | None) -> ExtractionResult:
        if self._generic is None:
            from extractors.generic import GenericExtractor

            self._generic = GenericExtractor()
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

    def _lines(self, rules: LineRules, pages: list[_Page]) -> list[InvoiceLine]:
        out: list[InvoiceLine] = []
        for page in pages:
            for r, row in enumerate(page.rows):
                columns = self._header(rules, row)
                if columns is None:
                    continue
                stop = {x.index for x in page.rows if any(self._starts_with(x, p) for p in rules.end)}
                skip = frozenset(
                    x.index for x in page.rows if any(self._starts_with(x, p) for p in rules.skip)
                )
                items, _ = read_table(page.rows, r, columns, stop, skip)
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
    def _header(rules: LineRules, row: Row) -> list[Column] | None:
        columns = []
        for name, header in rules.columns.items():
            span = _word_span(row, header)
            if span is None:
                if name in _OPTIONAL_COLUMNS:  # "#" or "Pos." is easily lost in a scan
                    continue
                return None
            box = row.box_of(*span)
            columns.append(Column(_COLUMN_KINDS[name], box[0], box[2]))
        return sorted(columns, key=lambda c: c.x0)


def check_lines(lines: list[InvoiceLine]) -> bool:
    """Every line multiplies out (used by ``template test`` to flag a drifting table rule)."""
    return all(arithmetic_ok(line.quantity, line.unit_price, line.amount) for line in lines)


def money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
