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
- document-type accuracy is over every document with a truth ``doc_type``;
- a truth that lists ``scored`` fields (a receipt's key file, see ``receipt_truth``) is scored on
  those fields alone, and on its line items only when ``lines`` is among them;
- calibration pairs each field value the extractor gave with its ``field_confidence`` and
  whether it was right: the expected calibration error (ECE) per field and a reliability table
  say whether a value given at 0.95 is right 95% of the time.

Receipts (ICDAR SROIE key files: company, date, address, total as printed) are scored as
invoices: for accounts payable a till receipt is an invoice settled on the spot, and the
contract has no receipt type. Only what the key file labels is compared: ``vendor_name`` (the
company as printed, so by fuzzy match of the normalised names), ``invoice_date`` and ``total``
(exactly); the address has no contract field.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
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


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    """Constants of scoring that are not plain equality."""

    # A printed company name (a receipt's key file) matches the extracted vendor name when their
    # normalised forms (vendor_key) are at least this similar (rapidfuzz ratio, 0-1): OCR of a
    # receipt header drops or doubles a letter, and the key file keeps the print's spacing.
    fuzzy_vendor_similarity: float = 0.9
    # Reliability table and ECE: confidences fall into this many equal-width bins over [0, 1].
    calibration_bins: int = 10


SCORING = ScoringSettings()


def same_value(name: str, truth: Any, got: Any, *, fuzzy_vendor: bool = False) -> bool:
    if truth is None or got is None:
        return truth is None and got is None
    if name in MONEY_FIELDS:
        return _dec(truth) == _dec(got)
    if name == "vendor_name":
        if fuzzy_vendor:
            return similar_vendor(str(truth), str(got))
        return vendor_key(str(truth)) == vendor_key(str(got))
    return "".join(str(truth).split()).casefold() == "".join(str(got).split()).casefold()


def similar_vendor(truth: str, got: str, settings: ScoringSettings = SCORING) -> bool:
    """The same company printed with OCR slips: normalised names nearly equal (fuzzy match)."""
    from rapidfuzz import fuzz

    a, b = vendor_key(truth), vendor_key(got)
    if not a or not b:
        return a == b
    return fuzz.ratio(a, b) / 100.0 >= settings.fuzzy_vendor_similarity


# Legal forms that may end a company name (EN/DE/FR and neighbours, and Malaysia's Sdn Bhd and
# Bhd), longest first.
_LEGAL_FORM_END = re.compile(
    r"(?:\s|^)(?:gmbh\s*&\s*co\.?\s*kg|gmbh|mbh|ag|kg|ohg|ug|e\.\s?k\.|ltd\.?|limited|plc|llp|llc|inc\.?"
    r"|corp\.?|sarl|sas|sasu|eurl|s\.?a\.?|b\.?v\.?|n\.?v\.?|s\.r\.l\.|spa|sdn\.?\s*bhd\.?|bhd\.?)\s*$"
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

    def add(
        self, truth: dict[str, Any], result: ExtractionResult, calibration: Calibration | None = None
    ) -> list[dict[str, Any]]:
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
            scored = truth.get("scored")
            names = [n for n in HEADER_FIELDS if scored is None or n in scored]
            fuzzy_vendor = truth.get("vendor_match") == "fuzzy"
            for name in names:
                t, g = truth["fields"].get(name), got["fields"].get(name)
                self.field_total[name] += 1
                correct = same_value(name, t, g, fuzzy_vendor=fuzzy_vendor)
                if correct:
                    self.field_correct[name] += 1
                else:
                    misses.append({"field": name, "truth": t, "got": g})
                if calibration is not None and g is not None:
                    calibration.add(name, result.field_confidence.get(name), correct)
            if scored is None or "lines" in scored:
                misses.extend(self._add_lines(truth, got))
        return misses

    def _add_lines(self, truth: dict[str, Any], got: dict[str, Any]) -> list[dict[str, Any]]:
        truth_lines = Counter(_line_key(line) for line in truth.get("lines") or [])
        got_lines = Counter(_line_key(line) for line in got["lines"])
        matched = sum((truth_lines & got_lines).values())
        self.lines_truth += sum(truth_lines.values())
        self.lines_predicted += sum(got_lines.values())
        self.lines_matched += matched
        if truth_lines == got_lines:
            return []
        return [
            {
                "field": "lines",
                "truth": len(truth.get("lines") or []),
                "got": len(got["lines"]),
                "matched": matched,
            }
        ]

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


def expected_calibration_error(
    pairs: Iterable[tuple[float, bool]], bins: int = SCORING.calibration_bins
) -> float | None:
    """Expected calibration error: per confidence bin, |accuracy - mean confidence|, weighted.

    Bins are equal-width over [0, 1] (a confidence of 1.0 falls in the last one). ``None`` when
    there is nothing to measure.
    """
    return _reliability(list(pairs), bins)[0]


def _bin(confidence: float, bins: int) -> int:
    return min(bins - 1, max(0, int(confidence * bins)))


def _reliability(pairs: list[tuple[float, bool]], bins: int) -> tuple[float | None, list[dict[str, Any]]]:
    if not pairs:
        return None, []
    counts = [0] * bins
    confidence = [0.0] * bins
    right = [0] * bins
    for value, correct in pairs:
        b = _bin(value, bins)
        counts[b] += 1
        confidence[b] += value
        right[b] += bool(correct)
    ece = sum(abs(right[b] - confidence[b]) for b in range(bins) if counts[b]) / len(pairs)
    table = [
        {
            "low": round(b / bins, 4),
            "high": round((b + 1) / bins, 4),
            "count": counts[b],
            "confidence": round(confidence[b] / counts[b], 4) if counts[b] else None,
            "accuracy": round(right[b] / counts[b], 4) if counts[b] else None,
        }
        for b in range(bins)
    ]
    return ece, table


@dataclass
class Calibration:
    """Each extracted field value's stated confidence beside whether it was right."""

    bins: int = SCORING.calibration_bins
    pairs: dict[str, list[tuple[float, bool]]] = field(default_factory=lambda: defaultdict(list))
    # Values given without a confidence: they cannot be routed by confidence at all.
    unrated: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, confidence: float | None, correct: bool) -> None:
        if confidence is None:
            self.unrated[name] += 1
        else:
            self.pairs[name].append((float(confidence), correct))

    def summary(self) -> dict[str, Any]:
        every = [pair for name in sorted(self.pairs) for pair in self.pairs[name]]
        ece, table = _reliability(every, self.bins)
        return {
            "bins": self.bins,
            "values": len(every),
            "ece": _round(ece),
            "ece_by_field": {
                name: _round(_reliability(self.pairs[name], self.bins)[0]) for name in sorted(self.pairs)
            },
            "values_by_field": {name: len(self.pairs[name]) for name in sorted(self.pairs)},
            "without_confidence": dict(sorted(self.unrated.items())),
            "reliability": table,
        }


@dataclass
class Evaluation:
    overall: Tally = field(default_factory=Tally)
    calibration: Calibration = field(default_factory=Calibration)
    by_layout: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_variant: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, truth: dict[str, Any], result: ExtractionResult) -> None:
        misses = self.overall.add(truth, result, self.calibration)
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
        out["calibration"] = self.calibration.summary()
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


# --- receipts (ICDAR SROIE key files) --------------------------------------------------------

_RECEIPT_KEYS = frozenset({"company", "date", "address", "total"})
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def is_receipt_key(data: Any) -> bool:
    """A receipt's key file (company, date, address, total), not a truth in the contract's shape."""
    return (
        isinstance(data, dict)
        and "doc_type" not in data
        and bool(set(data) & _RECEIPT_KEYS)
        and set(data) <= _RECEIPT_KEYS
    )


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def receipt_date(text: str) -> date | None:
    """A date as a receipt prints it: day first (25/12/2018, 25-12-18, 25 Dec 18), ISO, or 8 digits.

    Receipts of the public set come from a day-first locale; a date that cannot be day-first
    (a month over 12) is read month-first. ``None`` when it is no date.
    """
    raw = " ".join(text.split())
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", raw):
        return _valid(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", raw):
        day, month, year = int(m[1]), int(m[2]), _year(m[3])
        return _valid(year, month, day) or _valid(year, day, month)
    if m := re.fullmatch(r"(\d{1,2})[ -]?([A-Za-z]{3,9})\.?[ -]?,?\s?(\d{4}|\d{2})", raw):
        named = _MONTHS.get(m[2].casefold())
        return _valid(_year(m[3]), named, int(m[1])) if named else None
    if m := re.fullmatch(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4}|\d{2})", raw):
        named = _MONTHS.get(m[1].casefold())
        return _valid(_year(m[3]), named, int(m[2])) if named else None
    if re.fullmatch(r"\d{8}", raw):
        return _valid(int(raw[:4]), int(raw[4:6]), int(raw[6:])) or _valid(
            int(raw[4:]), int(raw[2:4]), int(raw[:2])
        )
    return None


def receipt_amount(text: str) -> Decimal | None:
    """A printed total as a decimal: currency letters, spaces and thousands commas dropped."""
    cleaned = re.sub(r"[^\d.,-]", "", text)
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"-?\d+,\d{2}", cleaned):
        cleaned = cleaned.replace(",", ".")
    return _dec(cleaned) if re.fullmatch(r"-?\d+(\.\d+)?", cleaned) else None


def receipt_truth(key: dict[str, Any]) -> dict[str, Any]:
    """A receipt's key file in the contract's truth shape, scored on the fields it labels.

    The receipt is scored as an invoice (see the module docstring). A key whose date or total
    cannot be read as one is left out of the scored fields rather than scored as ``null``.
    """
    fields: dict[str, Any] = {}
    scored: list[str] = []
    company = " ".join(str(key.get("company") or "").split())
    if company:
        fields["vendor_name"] = company
        scored.append("vendor_name")
    when = receipt_date(str(key.get("date") or ""))
    if when is not None:
        fields["invoice_date"] = when.isoformat()
        scored.append("invoice_date")
    total = receipt_amount(str(key.get("total") or ""))
    if total is not None:
        fields["total"] = str(total)
        scored.append("total")
    return {"doc_type": "invoice", "fields": fields, "scored": scored, "vendor_match": "fuzzy"}


def contract_truth(data: dict[str, Any]) -> dict[str, Any]:
    """A truth file in the contract's shape: receipt key files are mapped, others kept."""
    return receipt_truth(data) if is_receipt_key(data) else data
