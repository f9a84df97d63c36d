"""Scores extraction results against a labelled corpus (the figures ``ledgerbot eval`` prints).

Comparison rules, so two runs are always comparable:

- money and quantities compare as ``Decimal`` ("1190.0" == "1190.00"); dates as ISO strings;
- ``vendor_name`` compares ignoring case, spaces and the punctuation ``. , ·``, and with one
  trailing legal form dropped on both sides ("Au bon moulin SARL" names the company the XML
  calls "Au bon moulin", "BRIGHTLINE PRINT AG" the one called "Brightline Print AG"). Letters,
  accents and the rest of the name must match. Other strings (ids, IBAN, VAT id, currency)
  ignore case and spaces;
- header-field accuracy is over the 11 header fields of every document whose truth is an
  invoice or credit note. A field whose truth is ``null`` (not printed) counts too: it is
  correct only when the extractor also says ``null`` — inventing a value is an error;
- a line item counts as found when quantity, unit price and amount all equal a truth line's
  (multiset matching, so two identical lines need two predictions);
- document-type accuracy is over every document with a truth ``doc_type``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbot.core.domain import HEADER_FIELDS, ExtractionResult

MONEY_FIELDS = frozenset({"subtotal", "tax_amount", "total"})
PAYABLE = frozenset({"invoice", "credit_note"})


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same_value(name: str, truth: Any, got: Any) -> bool:
    if truth is None or got is None:
        return truth is None and got is None
    if name in MONEY_FIELDS:
        return _dec(truth) == _dec(got)
    if name == "vendor_name":
        return vendor_key(str(truth)) == vendor_key(str(got))
    return "".join(str(truth).split()).casefold() == "".join(str(got).split()).casefold()


# Legal forms that may end a company name (EN/DE/FR and neighbours), longest first.
_LEGAL_FORM_END = re.compile(
    r"(?:\s|^)(?:gmbh\s*&\s*co\.?\s*kg|gmbh|mbh|ag|kg|ohg|ug|e\.\s?k\.|ltd\.?|limited|plc|llp|llc|inc\.?"
    r"|corp\.?|sarl|sas|sasu|eurl|s\.?a\.?|b\.?v\.?|n\.?v\.?|s\.r\.l\.|spa)\s*$"
)


def vendor_key(name: str) -> str:
    """A vendor name reduced to what identifies the company (see the module docstring)."""
    folded = unicodedata.normalize("NFC", " ".join(name.split())).casefold()
    folded = re.sub(r"\s[.,·]+(?=\w)", " ", folded)  # a stray mark before a word: "Print .AG"
    folded = _LEGAL_FORM_END.sub("", folded)
    return "".join(c for c in folded if not c.isspace() and c not in ".,·")


def _line_key(line: dict[str, Any]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    return (_dec(line.get("quantity")), _dec(line.get("unit_price")), _dec(line.get("amount")))


@dataclass
class Tally:
    """Counts for one group of documents (all, one layout, one variant)."""

    documents: int = 0
    doc_type_correct: int = 0
    doc_type_total: int = 0
    field_correct: Counter[str] = field(default_factory=Counter)
    field_total: Counter[str] = field(default_factory=Counter)
    lines_truth: int = 0
    lines_predicted: int = 0
    lines_matched: int = 0
    with_errors: int = 0

    def add(self, truth: dict[str, Any], result: ExtractionResult) -> list[dict[str, Any]]:
        """Count one document; returns its mismatches (for a details report)."""
        misses: list[dict[str, Any]] = []
        self.documents += 1
        if result.errors:
            self.with_errors += 1
        got = result.model_dump(mode="json")
        if truth.get("doc_type") is not None:
            self.doc_type_total += 1
            if got["doc_type"] == truth["doc_type"]:
                self.doc_type_correct += 1
            else:
                misses.append({"field": "doc_type", "truth": truth["doc_type"], "got": got["doc_type"]})
        if truth.get("doc_type") in PAYABLE and truth.get("fields") is not None:
            for name in HEADER_FIELDS:
                t, g = truth["fields"].get(name), got["fields"].get(name)
                self.field_total[name] += 1
                if same_value(name, t, g):
                    self.field_correct[name] += 1
                else:
                    misses.append({"field": name, "truth": t, "got": g})
            truth_lines = Counter(_line_key(line) for line in truth.get("lines") or [])
            got_lines = Counter(_line_key(line) for line in got["lines"])
            matched = sum((truth_lines & got_lines).values())
            self.lines_truth += sum(truth_lines.values())
            self.lines_predicted += sum(got_lines.values())
            self.lines_matched += matched
            if truth_lines != got_lines:
                misses.append(
                    {
                        "field": "lines",
                        "truth": len(truth.get("lines") or []),
                        "got": len(got["lines"]),
                        "matched": matched,
                    }
                )
        return misses

    def summary(self) -> dict[str, Any]:
        total = sum(self.field_total.values())
        precision = self.lines_matched / self.lines_predicted if self.lines_predicted else None
        recall = self.lines_matched / self.lines_truth if self.lines_truth else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else None
        )
        return {
            "documents": self.documents,
            "documents_with_errors": self.with_errors,
            "doc_type_accuracy": _ratio(self.doc_type_correct, self.doc_type_total),
            "header_field_accuracy": _ratio(sum(self.field_correct.values()), total),
            "field_accuracy": {
                name: _ratio(self.field_correct[name], self.field_total[name])
                for name in HEADER_FIELDS
                if self.field_total[name]
            },
            "lines": {
                "precision": _round(precision),
                "recall": _round(recall),
                "f1": _round(f1),
                "truth": self.lines_truth,
                "predicted": self.lines_predicted,
                "matched": self.lines_matched,
            },
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class Evaluation:
    overall: Tally = field(default_factory=Tally)
    by_layout: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_variant: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, truth: dict[str, Any], result: ExtractionResult) -> None:
        misses = self.overall.add(truth, result)
        if truth.get("layout"):
            self.by_layout[str(truth["layout"])].add(truth, result)
        if truth.get("variant"):
            self.by_variant[str(truth["variant"])].add(truth, result)
        if misses:
            self.details.append({"source": result.source, "layout": truth.get("layout"), "misses": misses})

    def report(self, *, pages: int, seconds: float) -> dict[str, Any]:
        out = self.overall.summary()
        out["pages"] = pages
        out["seconds"] = round(seconds, 3)
        out["pages_per_second"] = round(pages / seconds, 3) if seconds > 0 else None
        out["by_layout"] = {k: v.summary() for k, v in sorted(self.by_layout.items())}
        out["by_variant"] = {k: v.summary() for k, v in sorted(self.by_variant.items())}
        return out


def count_pages(data: bytes) -> int:
    """Pages of a PDF or frames of an image; an XML e-invoice counts as one page."""
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        try:
            import pypdfium2

            pdf = pypdfium2.PdfDocument(data)
            try:
                return len(pdf)
            finally:
                pdf.close()
        except Exception:  # unreadable PDF: it still cost the pipeline one look
            return 1
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        try:
            import io

            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                return int(getattr(image, "n_frames", 1))
        except Exception:
            return 1
    return 1
