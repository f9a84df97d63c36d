"""Learns a vendor template from one document and its correct values (``ledgerbot template learn``).

Each given value is looked for on the sample in whatever format it is printed (``1.234,56``,
``31/12/2018``, ``DE 123 456 789``, an OCR slip). Where it is found, the template learns how to
find it again: the label printed before it or over it and the value's box relative to that label,
or its place on the page when nothing labels it. Every learned anchor must read the value back
on the sample itself before it is kept. The line table is learned from the rows that print the
given lines (its header and columns), the vendor from the VAT id, IBAN and name the sample
prints, and the layout from the words every document of it prints (a fingerprint that does not
depend on the number of lines).

A second sample of a vendor that already has a template refines it: anchors that read the new
sample right gain weight and come first, a field printed elsewhere gets a second anchor (a
variant), a new line table a line variant; the version goes up and the previous one is kept
under ``history/``. A new IBAN or VAT id on a known vendor is never added to the vendor's
identity silently: it is reported, so a changed bank account still reaches the rules engine as
one.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from extractors.generic.geometry import Row
from extractors.generic.labels import LABELS, tokens
from extractors.generic.table_header import find_header_at
from extractors.templates.anchors import SETTINGS as ANCHOR_SETTINGS
from extractors.templates.anchors import between_label_and_value, label_places, label_weight, read_anchor
from extractors.templates.catalog import folder_entries
from extractors.templates.golden import golden_view, run_sample
from extractors.templates.index import identity_key, printed_numbers
from extractors.templates.lifecycle import next_version
from extractors.templates.locate import (
    DocumentView,
    Hit,
    PageView,
    compact_date_orders,
    locate_value,
    normalise_truth,
)
from extractors.templates.schema import Anchor, Template, TemplateError, TemplateStatus, parse_template
from extractors.values import FIELD_TYPES, parse_amount, parse_date
from ledgerbot.core.domain import DocType, ExtractionResult, InvoiceFields, InvoiceLine
from ledgerbot.core.errors import BusinessError
from textlayer.model import BBox, Document

LEARNER_VERSION = "template-learner-1.0"
_COLUMN_NAMES = {
    "col_description": "description",
    "col_sku": "sku",
    "col_quantity": "quantity",
    "col_unit_price": "unit_price",
    "col_amount": "amount",
    "col_pos": "pos",
    "col_tax": "tax",
    "col_unit": "unit",
}
_LANGUAGE_HINTS = {
    "en": {"invoice", "date", "due", "total", "amount", "qty", "description"},
    "de": {"rechnung", "datum", "betrag", "menge", "netto", "bezeichnung", "gesamtbetrag", "mwst"},
    "fr": {"facture", "montant", "echeance", "ttc", "ht", "tva", "designation", "quantite"},
}


class LearningError(BusinessError):
    """A sample or truth file learning cannot use; the message says which and why."""

    code = "E411"


@dataclass(frozen=True, slots=True)
class LearnSettings:
    """How learning picks anchors and describes a layout."""

    # Anchors kept per field (the best first); more only slow reading down.
    max_anchors: int = 4
    # A label left of a value counts when the gap is at most this share of the page width.
    label_gap: float = 0.4
    # Rows above a value searched for a label printed over it.
    rows_above: int = 3
    # Words in a layout fingerprint (labels and headers, in reading order).
    fingerprint_words: int = 60
    # Label words enough to tell a layout by; with fewer, the sample's other words are added.
    min_label_words: int = 6
    # Share of its fingerprint a document must print for a vendor's name alone to match.
    min_fingerprint: float = 0.8
    # Rows above the first item row searched for the line table's header.
    header_reach: int = 6
    # Rank lost by a label printed more than once on the sample (a known field label wins 10).
    repeated_label: float = 3.0
    # A row with priced rows at most this many rows above and below it is part of the items.
    item_gap: int = 2
    # Rows under the vendor's name searched for its letterhead numbers, and how many are kept.
    letterhead_rows: int = 6
    max_numbers: int = 4


SETTINGS = LearnSettings()


@dataclass(slots=True)
class Truth:
    """A document's correct values (the shape of contracts/extraction.md, possibly partial)."""

    doc_type: DocType
    fields: dict[str, Any]  # normalised values, only the keys given and not null
    lines: list[InvoiceLine] | None

    @property
    def named(self) -> list[str]:
        return [*self.fields, *(["lines"] if self.lines else [])]


def parse_truth(data: Any, source: str) -> Truth:
    """Validate a truth document; a bad one raises ``LearningError`` naming the key."""
    if not isinstance(data, dict):
        raise LearningError(f"{source}: the truth must be a JSON object with 'fields' and optional 'lines'")
    raw_fields = data.get("fields")
    if raw_fields is not None and not isinstance(raw_fields, dict):
        raise LearningError(f"{source}: 'fields' must be an object")
    raw_fields = {k: v for k, v in (raw_fields or {}).items() if v is not None and v != ""}
    unknown = sorted(set(raw_fields) - set(FIELD_TYPES))
    if unknown:
        raise LearningError(f"{source}: unknown field(s) {unknown}; known: {', '.join(FIELD_TYPES)}")
    try:
        InvoiceFields.model_validate(raw_fields)
        lines = [InvoiceLine.model_validate(line) for line in data["lines"]] if data.get("lines") else None
        doc_type = DocType(data.get("doc_type") or "invoice")
    except (ValidationError, ValueError, TypeError) as error:
        first = str(error).splitlines()
        raise LearningError(f"{source}: not a valid truth file: {' '.join(first[:3])}") from None
    fields = {name: normalise_truth(FIELD_TYPES[name], value) for name, value in raw_fields.items()}
    if not fields and not lines:
        raise LearningError(f"{source}: gives no field and no line to learn")
    return Truth(doc_type, fields, lines)


def read_truth(path: Path) -> Truth:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LearningError(f"{path}: cannot be read: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise LearningError(f"{path}: not JSON: {error}") from None
    return parse_truth(data, path.name)


# -- locating and anchoring --------------------------------------------------------------------


def _same(kind: str, found: Any, truth: Any) -> bool:
    if kind in ("amount", "quantity"):
        return isinstance(found, Decimal) and abs(found) == abs(truth)
    if kind == "text":
        return " ".join(tokens(str(found))) == " ".join(tokens(str(truth)))
    if kind in ("iban", "tax_id", "vat_id", "identifier"):
        return identity_key(str(found)) == identity_key(str(truth))
    return bool(found == truth)


def _label_left(page: PageView, hit: Hit) -> tuple[str, BBox] | None:
    """The words printed right before a value in its row: its label, if they are one."""
    row = page.rows[hit.row]
    words = row.words
    end = hit.start
    # A lone ":", a rate ("VAT 20 %") or a currency ("Total EUR") may stand between label and
    # value; the label is the words before them, which do not change from invoice to invoice.
    while end > 0:
        text = words[end - 1].text
        rate = end < hit.start and words[end].text.startswith("%") and re.fullmatch(r"[\d.,]+", text)
        if tokens(text) and not between_label_and_value(text) and not rate:
            break
        end -= 1
    start = end
    while start > 0 and end - start < ANCHOR_SETTINGS.max_label_words:
        word = words[start - 1]
        if any(ch.isdigit() for ch in word.text) or not tokens(word.text):
            break
        if start < end and words[start].x0 - word.x1 > ANCHOR_SETTINGS.label_join * max(row.height, 1.0):
            break  # a wide gap: the words before it belong to another column
        start -= 1
    if start == end:
        return None
    box = row.box_of(start, hit.start)
    if hit.box[0] - box[2] > SETTINGS.label_gap * page.width:
        return None
    return row.text_of(start, end), row.box_of(start, end)


def _label_above(page: PageView, hit: Hit) -> tuple[str, BBox] | None:
    """Words printed over a value (a label in a box or a column of labels above values)."""
    for r in range(hit.row - 1, max(-1, hit.row - 1 - SETTINGS.rows_above), -1):
        row: Row = page.rows[r]
        over = [
            i
            for i, w in enumerate(row.words)
            if w.x1 > hit.box[0] - 2 and w.x0 < hit.box[2] + 2 and tokens(w.text)
        ]
        if not over:
            continue
        if any(any(ch.isdigit() for ch in row.words[i].text) for i in over):
            return None  # a row of values above (a totals block): no label over this one
        segment = row.segment_of(over[0])
        chosen = [
            i
            for i in segment
            if not any(ch.isdigit() for ch in row.words[i].text)
            and not between_label_and_value(row.words[i].text)
        ]
        chosen = [i for i in chosen if tokens(row.words[i].text)][: ANCHOR_SETTINGS.max_label_words]
        if not chosen:
            return None
        start, end = chosen[0], chosen[-1] + 1
        return row.text_of(start, end), row.box_of(start, end)
    return None


def _clean_label(text: str) -> str:
    return text.strip().rstrip(":").strip() or text.strip()


def _relative(box: BBox, origin: BBox, width: float) -> tuple[float, float, float, float]:
    """``box`` from ``origin``'s top-left corner, in page widths: the same on a scan in pixels."""
    x, y = origin[0], origin[1]
    return (
        round((box[0] - x) / width, 4),
        round((box[1] - y) / width, 4),
        round((box[2] - x) / width, 4),
        round((box[3] - y) / width, 4),
    )


def _item_label(view: DocumentView, label: str, priced: set[tuple[int, int]]) -> bool:
    """Whether ``label`` is printed on two or more rows that print an amount: an item's tax code
    or unit, no header label (which of its places a value sits by changes with the items)."""
    return sum((p.page, p.row) in priced for p in label_places(view, label)) > 1


_CENTS = re.compile(r"\d[.,]\s?\d{2}(?!\d)")


def _with_cents(view: DocumentView, hit: Hit) -> bool:
    """Whether an amount is printed with a decimal mark and two decimals."""
    page = view.page(hit.page)
    assert page is not None
    return bool(_CENTS.search(page.rows[hit.row].text_of(hit.start, hit.end)))


@dataclass(slots=True)
class _Candidate:
    anchor: Anchor
    rank: float


def anchors_for(
    view: DocumentView,
    name: str,
    kind: str,
    truth: Any,
    options: dict[str, Any],
    stamp: tuple[str, date],
    avoid_rows: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> tuple[list[Anchor], bool]:
    """Anchors that read ``truth`` back on ``view`` (best first), and whether the value was found."""
    hits = locate_value(view, kind, truth)
    header_hits = [h for h in hits if (h.page, h.row) not in avoid_rows] or hits
    if not header_hits:
        return [], False
    if kind == "amount":
        # A sum of money is printed with its cents ("7.00"); the same number printed bare is
        # something else that happens to equal it (a house number, a count of items).
        header_hits = [h for h in header_hits if _with_cents(view, h)] or header_hits
    sha, today = stamp
    candidates: list[_Candidate] = []
    priced = {(h.page, h.row) for h in view.hits("amount", decimal_sep=options.get("decimal_sep"))}
    for order, hit in enumerate(header_hits):
        page = view.page(hit.page)
        assert page is not None
        for relation, found in (("left", _label_left(page, hit)), ("above", _label_above(page, hit))):
            if found is None:
                continue
            label, label_box = found
            label = _clean_label(label)
            if not tokens(label):
                continue
            anchor = Anchor(
                label=label,
                box=_relative(hit.box, label_box, page.width),
                at=(round(label_box[0] / page.width, 4), round(label_box[1] / page.height, 4)),
                held=1,
                samples=[sha],
                learned_on=today,
            )
            rank = (
                10 * label_weight(name, label)
                + (2 if relation == "left" else 1)
                + hit.similarity / 100
                - 0.01 * order
                - SETTINGS.repeated_label * _item_label(view, label, priced)
            )
            candidates.append(_Candidate(anchor, rank))
        pos = (
            round(hit.box[0] / page.width, 4),
            round(hit.box[1] / page.height, 4),
            round(hit.box[2] / page.width, 4),
            round(hit.box[3] / page.height, 4),
        )
        last = hit.page == len(view.pages) and len(view.pages) > 1
        position = Anchor(box=pos, page=-1 if last else hit.page, held=1, samples=[sha], learned_on=today)
        candidates.append(_Candidate(position, -1.0 - 0.01 * order))
    candidates.sort(key=lambda c: -c.rank)
    kept: list[Anchor] = []
    seen: set[tuple[str | None, int | None]] = set()
    for candidate in candidates:
        anchor = candidate.anchor
        key = (anchor.label and " ".join(tokens(anchor.label)), anchor.page)
        if key in seen:
            continue
        got = read_anchor(view, anchor, kind, options)
        if got is None or not _same(kind, got.value, truth):
            continue
        seen.add(key)
        kept.append(anchor)
        if len(kept) >= SETTINGS.max_anchors:
            break
    # A position anchor is the last resort: kept only when it is the only way found.
    labelled = [a for a in kept if a.label is not None]
    # A second anchor by a label printed more than once on the sample that does not name the
    # field (an item's tax code beside the one item's amount) would read another item's amount
    # on the next document: the first anchor is read alone then.
    labelled = labelled[:1] + [
        a
        for a in labelled[1:]
        if a.label is not None and (label_weight(name, a.label) > 0 or len(label_places(view, a.label)) <= 1)
    ]
    return (labelled[:2] or kept[:1]), True


# -- the line table ----------------------------------------------------------------------------


def _line_rows(view: DocumentView, lines: list[InvoiceLine], sep: str | None) -> list[tuple[int, int]]:
    """(page, row) of the rows that print each given line's amount next to its quantity or price.

    Of several rows that could, the one printing more of the line's numbers wins ("1 x 23.00 =
    23.00" over a date "23-Nov"), and among equals the first below the previous line's row.
    """
    by_row: dict[tuple[int, int], Counter[Decimal]] = {}
    # Word by word: "12 116.70" is a quantity and a price, not twelve thousand.
    for page in view.pages:
        for r, row in enumerate(page.rows):
            for word in row.words:
                value = parse_amount(word.text.strip("()€$£"), sep)  # type: ignore[arg-type]
                if value is not None:
                    by_row.setdefault((page.number, r), Counter())[abs(value)] += 1
    # And as printed over several words ("1 234,56", "EUR 12.00").
    for hit in view.hits("amount", decimal_sep=sep):
        values = by_row.setdefault((hit.page, hit.row), Counter())
        if abs(hit.value) not in values:
            values[abs(hit.value)] += 1
    used: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    previous = (0, -1)
    for line in lines:
        if line.amount is None:
            continue
        others = {abs(v) for v in (line.quantity, line.unit_price) if v is not None}
        wanted = Counter([abs(line.amount), *others])
        best: tuple[tuple[int, bool], tuple[int, int]] | None = None
        for key, values in sorted(by_row.items()):
            if key in used or abs(line.amount) not in values:
                continue
            if others and not others & set(values):
                continue
            rank = (sum((wanted & values).values()), key > previous)
            if best is None or rank > best[0]:
                best = (rank, key)
        if best is not None:
            used.add(best[1])
            out.append(best[1])
            previous = best[1]
    return sorted(out)


def _header_above(view: DocumentView, first: tuple[int, int]) -> dict[str, str] | None:
    page = view.page(first[0])
    assert page is not None
    for r in range(first[1] - 1, max(-1, first[1] - 1 - SETTINGS.header_reach), -1):
        header = find_header_at(page.rows, r)
        if header is None:
            continue
        columns = {
            _COLUMN_NAMES[c.kind]: c.text for c in header.columns if c.kind in _COLUMN_NAMES and c.text
        }
        if {"amount", "unit_price", "quantity"} & set(columns):
            return columns  # one row, or two stacked (the engine reads both ways)
    return None


def _lines_equal(got: list[InvoiceLine], want: list[InvoiceLine]) -> bool:
    def key(line: InvoiceLine) -> tuple[Any, ...]:
        return tuple(abs(v) if v is not None else None for v in (line.quantity, line.unit_price, line.amount))

    return len(got) == len(want) and all(key(a) == key(b) for a, b in zip(got, want, strict=True))


def learn_lines(
    view: DocumentView, truth: Truth, options: dict[str, Any], end: list[str], sha: str
) -> tuple[dict[str, Any] | None, set[tuple[int, int]]]:
    """A line rule that reads the given lines back, and the rows the items are printed on."""
    from extractors.templates.engine import TemplateExtractor, _Page
    from extractors.templates.schema import LineRules

    if not truth.lines:
        return None, set()
    rows = _line_rows(view, truth.lines, options.get("decimal_sep"))
    if not rows:
        return None, set()
    columns = _header_above(view, rows[0])
    if columns is None:
        return None, set(rows)
    text = f" {' '.join(tokens(view.document.text))} "
    carry = [p for p in LABELS["carry"][1] if f" {' '.join(tokens(p))} " in text]
    rule: dict[str, Any] = {"columns": columns, "end": end}
    if carry:
        rule["skip"] = carry
    rule["samples"] = [sha]
    pages = [_Page(p.number, p.rows, [toks for toks, _ in p.row_tokens]) for p in view.pages]
    got = TemplateExtractor([])._lines(LineRules.model_validate(rule), pages, view)
    if not _lines_equal(got, truth.lines):
        return None, set(rows)
    return rule, set(rows)


# -- options, identity, fingerprint ------------------------------------------------------------


def learn_options(view: DocumentView, truth: Truth) -> dict[str, Any]:
    """Decimal mark and date order as the sample prints them (the truth says which reading is right)."""
    options: dict[str, Any] = {}
    words = view.token_set
    scores = {lang: len(words & hints) for lang, hints in _LANGUAGE_HINTS.items()}
    options["language"] = max(scores, key=lambda k: scores[k])
    for name in ("total", "subtotal", "tax_amount"):
        value = truth.fields.get(name)
        if value is None:
            continue
        for hit in locate_value(view, "amount", value):
            page = view.page(hit.page)
            assert page is not None
            printed = page.rows[hit.row].text_of(hit.start, hit.end)
            digits = re.sub(r"[^\d.,]", "", printed)
            if len(digits) > 3 and digits[-3] in ".,":
                options["decimal_separator"] = digits[-3]
                break
        if "decimal_separator" in options:
            break
    for name in ("invoice_date", "due_date"):
        value = truth.fields.get(name)
        if value is None:
            continue
        for hit in locate_value(view, "date", value):
            page = view.page(hit.page)
            assert page is not None
            printed = page.rows[hit.row].text_of(hit.start, hit.end)
            compact = compact_date_orders(printed, value)
            if compact:
                # Eight digits without marks ("31122019"): only the order that reads the truth
                # says how the vendor prints dates; two that do leave the order unknown.
                if len(compact) == 1:
                    options["date_order"] = compact[0]
                    options["compact_dates"] = True
                    break
                continue
            orders = [o for o in ("DMY", "MDY") if parse_date(printed, o) == value]  # type: ignore[arg-type]
            if len(orders) == 1 and parse_date(printed, None) != value:
                options["date_order"] = orders[0]
            elif len(orders) == 1 and re.search(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", printed):
                a, b = (int(x) for x in re.findall(r"\d+", printed)[:2])
                if a <= 12 and b <= 12:
                    options["date_order"] = orders[0]
            if "date_order" in options:
                break
    currency = truth.fields.get("currency")
    if currency is not None:
        # A vendor bills in its currency; a symbol OCR garbles must not change it.
        options["currency"] = currency
    return options


def item_zone(view: DocumentView, decimal_sep: str | None) -> set[tuple[int, int]]:
    """(page, row) of the rows that print an amount, and of the rows between two of them (an
    item's description over or under its prices): what they say changes from document to
    document, even where no line of the truth names them (a receipt's items)."""
    priced = {(hit.page, hit.row) for hit in view.hits("amount", decimal_sep=decimal_sep)}
    out = set(priced)
    for page in view.pages:
        for r in range(len(page.rows)):
            above = any((page.number, r - k) in priced for k in range(1, SETTINGS.item_gap + 1))
            below = any((page.number, r + k) in priced for k in range(1, SETTINGS.item_gap + 1))
            if above and below:
                out.add((page.number, r))
    return out


def fingerprint(
    view: DocumentView,
    truth: Truth,
    labels: list[str],
    skip_rows: set[tuple[int, int]],
    decimal_sep: str | None = None,
) -> list[str]:
    """Words the layout prints on every document: first the labels its values were found by and
    its table's headers (they tell one layout from another), then other words printed outside
    values, items and names, up to ``fingerprint_words``."""
    personal = set(tokens(str(truth.fields.get("vendor_name") or "")))
    for line in truth.lines or []:
        personal.update(tokens(line.description or ""))
    out: list[str] = []
    for label in labels:
        for tok in tokens(label):
            if len(tok) >= 2 and tok.isalpha() and tok not in personal and tok not in out:
                out.append(tok)
    if len(out) >= SETTINGS.min_label_words:
        return out[: SETTINGS.fingerprint_words]
    items = item_zone(view, decimal_sep)
    for page in view.pages:
        for r, (toks, _) in enumerate(page.row_tokens):
            if (page.number, r) in skip_rows or (page.number, r) in items:
                continue
            for tok in toks:
                if len(tok) >= 3 and tok.isalpha() and tok not in personal and tok not in out:
                    out.append(tok)
                    if len(out) >= SETTINGS.fingerprint_words:
                        return out
    return out


# -- the whole template --------------------------------------------------------------------


@dataclass(slots=True)
class Learned:
    """What one sample taught: the template body and what was and was not found."""

    body: dict[str, Any]
    learned: list[str]
    not_found: list[str]
    identity: dict[str, str]  # identity values printed on the sample
    fingerprint: list[str]
    line_rule: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def learn_document(document: Document, truth: Truth, sha: str, today: date) -> Learned:
    """The template body (match, options, fields, lines) one document and its truth teach."""
    view = DocumentView(document)
    options = learn_options(view, truth)
    reading: dict[str, Any] = {
        "decimal_sep": options.get("decimal_separator"),
        "date_order": options.get("date_order"),
        "compact_dates": bool(options.get("compact_dates")),
    }
    stamp = (sha[:16], today)
    # The totals' labels end the line table: learn them first, the table needs them.
    fields: list[dict[str, Any]] = []
    learned: list[str] = []
    not_found: list[str] = []
    generic: list[str] = []
    found_rows: set[tuple[int, int]] = set()
    value_rows: set[tuple[int, int]] = set()
    line_rows = set(_line_rows(view, truth.lines, reading["decimal_sep"])) if truth.lines else set()
    anchors: dict[str, list[Anchor]] = {}
    for name in FIELD_TYPES:
        value = truth.fields.get(name)
        if value is None or name == "currency":
            continue
        kind = FIELD_TYPES[name]
        found, located = anchors_for(view, name, kind, value, reading, stamp, line_rows)
        if found:
            anchors[name] = found
            fields.append(
                {"name": name, "anchors": [a.model_dump(mode="json", exclude_none=True) for a in found]}
            )
            learned.append(name)
        elif located:
            # Printed, but no label or place reads it back alone: the template says so and asks
            # the generic extractor for it.
            fields.append({"name": name, "generic": True})
            generic.append(name)
        else:
            not_found.append(name)
        for hit in locate_value(view, kind, value):
            found_rows.add((hit.page, hit.row))
            if not name.startswith("vendor_"):
                value_rows.add((hit.page, hit.row))
    end = []
    for name in ("subtotal", "total", "tax_amount"):
        labelled = [a.label for a in anchors.get(name, []) if a.label]
        if labelled:
            end.append(labelled[0])
            break
    line_rule, item_rows = learn_lines(view, truth, reading, end, sha[:16])
    if truth.lines:
        (learned if line_rule is not None else not_found).append("lines")
    if "currency" in truth.fields:
        learned.append("currency")  # confirmed by the read-back below
    identity: dict[str, str] = {}
    for name in ("vendor_tax_id", "vendor_iban", "vendor_name"):
        value = truth.fields.get(name)
        if value is not None and locate_value(view, FIELD_TYPES[name], value):
            identity[name] = str(value)
    notes: list[str] = []
    if not identity:
        # A partial truth without the vendor: its identity as the generic extractor reads it
        # from the page (a VAT id, an IBAN, a name printed there), and the output says so.
        identity = _printed_identity(document, view)
        if identity:
            notes.append(f"vendor identity read from the page: {', '.join(sorted(identity))}")
    labels = [a.label for found in anchors.values() for a in found if a.label is not None]
    if line_rule is not None:
        labels.extend(line_rule["columns"].values())
    prints = fingerprint(view, truth, labels, found_rows | item_rows, reading["decimal_sep"])
    match: dict[str, Any] = {}
    if "vendor_tax_id" in identity:
        match["tax_ids"] = [identity["vendor_tax_id"]]
    if "vendor_iban" in identity:
        match["ibans"] = [identity["vendor_iban"]]
    if "vendor_name" in identity:
        # As given, and as printed when the print differs (an OCR slip, another spelling).
        given = identity["vendor_name"]
        printed = [_printed_text(view, hit) for hit in locate_value(view, "text", given)]
        # A name printed over two rows is known by its whole: the upper row alone ("Acme" over
        # "Trading Ltd") is no name of the vendor's.
        printed = [p for p in printed if abs(len(p) - len(given)) <= max(3, len(given) // 5)]
        names = [given, *printed]
        match["names"] = [n for i, n in enumerate(names) if tokens(n) and n not in names[:i]]
    if not match.get("tax_ids") and not match.get("ibans"):
        numbers = letterhead_numbers(view, truth, value_rows)
        if numbers:
            match["numbers"] = numbers
    if not match:
        raise LearningError(
            "the sample prints none of the vendor's VAT id, IBAN or name as given in the truth: "
            "a template without an identity could be applied to other vendors"
        )
    match["fingerprint"] = prints
    match["min_fingerprint"] = SETTINGS.min_fingerprint
    body: dict[str, Any] = {"match": match, "options": options, "fields": fields}
    if line_rule is not None:
        body["lines"] = line_rule
    if generic:
        notes.append(f"read by the generic extractor (no anchor reads them back): {', '.join(generic)}")
    return Learned(body, learned, not_found, identity, prints, line_rule, notes)


def letterhead_numbers(view: DocumentView, truth: Truth, value_rows: set[tuple[int, int]]) -> list[str]:
    """Numbers printed in the rows under the vendor's name, before the first row of a value
    (registration, telephone and tax numbers of the letterhead): the vendor prints them again,
    however OCR reads its name. A receipt's or document's own numbers come with its values."""
    name = truth.fields.get("vendor_name")
    hits = locate_value(view, "text", name) if name else []
    if not hits:
        return []
    first = hits[0]
    page = view.page(first.page)
    assert page is not None
    below = [r for p, r in value_rows if p == first.page and r > first.row]
    stop = min([first.row + 1 + SETTINGS.letterhead_rows, *below])
    given = {re.sub(r"\D", "", str(v)) for v in truth.fields.values()}
    out: list[str] = []
    for r in range(first.row + 1, min(stop, len(page.rows))):
        for number in printed_numbers(page.rows[r].text):
            if number not in given and number not in out:
                out.append(number)
    return out[: SETTINGS.max_numbers]


def _printed_text(view: DocumentView, hit: Hit) -> str:
    page = view.page(hit.page)
    assert page is not None
    return page.rows[hit.row].text_of(hit.start, hit.end)


def _printed_identity(document: Document, view: DocumentView) -> dict[str, str]:
    from extractors.generic import GenericExtractor

    fields = GenericExtractor().extract(document).fields
    out = {}
    for name in ("vendor_tax_id", "vendor_iban", "vendor_name"):
        value = getattr(fields, name)
        if value is not None and locate_value(
            view, FIELD_TYPES[name], normalise_truth(FIELD_TYPES[name], value)
        ):
            out[name] = str(value)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(tokens(text))).strip("-")[:60] or "vendor"


# libyaml's emitter when the build has it (a template is written in a few milliseconds).
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Boxes (four numbers) on one line, so a person reads a rule at a glance."""


def _list(dumper: Any, data: list[Any]) -> yaml.Node:
    flow = bool(data) and len(data) <= 4 and all(isinstance(v, int | float) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)


def dump_template(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _existing(
    folder: Path, truth: Truth, template_id: str | None, printed: dict[str, str]
) -> tuple[Path, dict[str, Any]] | None:
    """The learned template in ``folder`` this vendor already has (by id, or by its identity)."""
    if template_id is not None:
        path = folder / f"{template_id}.yml"
        if path.is_file():
            return path, yaml.safe_load(path.read_text(encoding="utf-8"))
        return None
    given = {**printed, **{n: str(v) for n, v in truth.fields.items() if n.startswith("vendor_")}}
    keys = {identity_key(given[n]) for n in ("vendor_tax_id", "vendor_iban") if given.get(n)}
    name = " ".join(tokens(given.get("vendor_name") or ""))
    for entry in folder_entries(folder):
        if not entry.learned or entry.status == "retired":
            continue
        known = {identity_key(v) for v in (*entry.match.tax_ids, *entry.match.ibans)}
        names = {" ".join(tokens(n)) for n in entry.match.names}
        if keys & known or (name and name in names):
            path = folder / f"{entry.id}.yml"
            return path, yaml.safe_load(path.read_text(encoding="utf-8"))
    return None


def _same_anchor(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if (a.get("label") is None) != (b.get("label") is None):
        return False
    if a.get("label") is not None and tokens(a["label"]) != tokens(b["label"]):
        return False
    if a.get("label") is None and a.get("page") != b.get("page"):
        return False
    scale = 0.02 if a.get("label") is None else 0.01
    return all(abs(x - y) <= scale for x, y in zip(a["box"], b["box"], strict=True))


def refine(
    old: dict[str, Any], new: Learned, document: Document, truth: Truth, sha: str
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The next version of ``old`` after one more sample: variants added, held anchors first."""
    view = DocumentView(document)
    template = parse_template(old, f"{old['id']}.yml")
    reading = {
        "decimal_sep": template.options.decimal_separator or new.body["options"].get("decimal_separator"),
        "date_order": template.options.date_order or new.body["options"].get("date_order"),
        "compact_dates": template.options.compact_dates or bool(new.body["options"].get("compact_dates")),
    }
    variants: list[str] = []
    fields: list[dict[str, Any]] = [dict(rule) for rule in old["fields"]]
    new_rules = {rule["name"]: rule for rule in new.body["fields"]}
    by_name = {rule["name"]: rule for rule in fields}
    for name, value in truth.fields.items():
        rule = by_name.get(name)
        if rule is None:
            if name in new_rules:
                fields.append(new_rules[name])
            continue
        if rule.get("generic") and "anchors" in new_rules.get(name, {}):
            rule.pop("generic")  # learned where the first sample could not anchor it
            rule["anchors"] = new_rules[name]["anchors"]
            variants.append(name)
            continue
        if "anchors" not in rule:
            continue  # a hand-written rule stays as written
        kind = FIELD_TYPES[name]
        kept = []
        held = False
        for anchor in rule["anchors"]:
            got = read_anchor(view, Anchor.model_validate(anchor), kind, reading)
            if got is not None and _same(kind, got.value, value):
                anchor = {**anchor, "held": anchor.get("held", 1) + 1}
                anchor["samples"] = [*anchor.get("samples", []), sha[:16]]
                held = True
            kept.append(anchor)
        if not held:
            # The field moved (another layout, another place): what found it here is a variant.
            for anchor in new_rules.get(name, {}).get("anchors", []):
                if not any(_same_anchor(anchor, k) for k in kept):
                    kept.append(anchor)
                    variants.append(name)
        kept.sort(key=lambda a: -int(a.get("held", 1)))  # stable: among equals the older first
        rule["anchors"] = kept[: SETTINGS.max_anchors]
    body = {**old, "fields": fields}
    match = dict(old["match"])
    unlearned: dict[str, str] = {}
    for key, name in (("tax_ids", "vendor_tax_id"), ("ibans", "vendor_iban")):
        value = new.identity.get(name)
        known = {identity_key(v) for v in match.get(key, [])}
        if value is not None and identity_key(value) not in known and known:
            # A vendor's bank account or registration that changed is for a person to confirm
            # (and for the rules engine to flag), never for the template to take over quietly.
            unlearned[name] = value
        elif value is not None and not known:
            match[key] = [value]
    if new.identity.get("vendor_name") and not match.get("names"):
        match["names"] = [new.identity["vendor_name"]]
    old_prints = list(match.get("fingerprint", []))
    if old_prints:
        shared = [w for w in old_prints if w in view.token_set]
        if len(shared) >= float(match.get("min_fingerprint", 0.6)) * len(old_prints):
            match["fingerprint"] = shared  # the words both samples print
    else:
        match["fingerprint"] = new.fingerprint
    body["match"] = match
    if new.line_rule is not None:
        tables = [t for t in (old.get("lines"), *old.get("line_variants", [])) if t]
        if not any(t["columns"] == new.line_rule["columns"] for t in tables):
            if old.get("lines"):
                body["line_variants"] = [*old.get("line_variants", []), new.line_rule]
                variants.append("lines")
            else:
                body["lines"] = new.line_rule
    return body, sorted(set(variants)), unlearned


@dataclass(slots=True)
class Outcome:
    template: Path
    id: str
    version: int
    learned: list[str]
    not_found: list[str]
    sample_reads_back: bool
    status: str
    refined: bool
    variants: list[str]
    identity_not_learned: dict[str, str]
    samples_ok: int
    samples: int
    mismatches: list[str]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "template": str(self.template),
            "id": self.id,
            "version": self.version,
            "learned": self.learned,
            "not_found": self.not_found,
            "sample_reads_back": self.sample_reads_back,
            "status": self.status,
            "refined": self.refined,
            "variants": self.variants,
            "identity_not_learned": self.identity_not_learned,
            "samples_ok": f"{self.samples_ok}/{self.samples}",
            "mismatches": self.mismatches,
            "notes": self.notes,
        }


def _read_sample(sample: Path) -> Document:
    from ledgerbot.core.errors import LedgerbotError
    from textlayer import read_document

    if not sample.is_file():
        raise LearningError(f"{sample}: no such file", code="E412")
    try:
        document = read_document(sample, name=sample.name)
    except LedgerbotError as error:
        raise LearningError(f"{sample.name}: cannot be read: {error.message}", code="E412") from None
    if not any(page.words for page in document.pages):
        raise LearningError(
            f"{sample.name}: no text could be read from it (blank or unreadable)", code="E412"
        )
    return document


def compare(result: ExtractionResult, truth: Truth, names: list[str]) -> list[str]:
    """The fields (and "lines") of ``names`` the result does not read as the truth gives them."""
    out = []
    for name in names:
        if name == "lines":
            if truth.lines and not _lines_equal(result.lines, truth.lines):
                out.append("lines")
            continue
        got = getattr(result.fields, name)
        want = truth.fields[name]
        if got is None or not _same(FIELD_TYPES[name], got, want):
            out.append(name)
    return out


def learn_template(
    sample: Path,
    truth_path: Path | Truth,
    folder: Path,
    *,
    template_id: str | None = None,
    status: TemplateStatus = "active",
    today: date | None = None,
    document: Document | None = None,
) -> Outcome:
    """Learn (or refine) the vendor template for ``sample`` and write it, its sample and golden.

    ``document`` is the sample's text layer when the caller has read it already.
    """
    truth = truth_path if isinstance(truth_path, Truth) else read_truth(truth_path)
    document = document or _read_sample(sample)
    today = today or date.today()
    sha = file_sha(sample)
    new = learn_document(document, truth, sha, today)
    folder.mkdir(parents=True, exist_ok=True)
    existing = _existing(folder, truth, template_id, new.identity)
    source = {"file": sample.name, "sha256": sha, "learned_on": today.isoformat()}
    if existing is not None:
        path, old = existing
        body, variants, unlearned = refine(old, new, document, truth, sha)
        tid = str(old["id"])
        version = next_version(folder, tid, int(old["version"]))
        history = folder / "history" / tid
        history.mkdir(parents=True, exist_ok=True)
        archived = history / f"v{old['version']}.yml"
        shutil.copyfile(path, archived)
        provenance = dict(old.get("provenance") or {"source": "learned"})
        provenance["samples"] = [*provenance.get("samples", []), source]
        provenance["previous"] = str(archived.relative_to(folder))
        samples = list(old.get("samples", []))
        kept_status = str(old.get("status", status))
    else:
        named = truth.fields.get("vendor_name") or new.identity.get("vendor_name")
        tid = template_id or _slug(str(named or sample.stem))
        while (folder / f"{tid}.yml").exists():
            tid = (
                f"{tid}-2"
                if not re.search(r"-\d+$", tid)
                else re.sub(r"\d+$", lambda m: str(int(m[0]) + 1), tid)
            )
        path = folder / f"{tid}.yml"
        body, variants, unlearned = new.body, [], {}
        version = 1
        provenance = {"source": "learned", "samples": [source]}
        samples = []
        kept_status = status
    sample_dir = folder / "samples" / tid
    sample_dir.mkdir(parents=True, exist_ok=True)
    copied = sample_dir / f"{sha[:12]}-{sample.name}"
    if copied.resolve() != sample.resolve():
        shutil.copyfile(sample, copied)
    relative = f"samples/{tid}/{copied.name}"
    if relative not in samples:
        samples.append(relative)
    described = truth.fields.get("vendor_name") or tid
    data: dict[str, Any] = {
        "id": tid,
        "version": version,
        "status": kept_status,
        "description": f"Learned ({LEARNER_VERSION}) from {len(provenance['samples'])} sample(s) "
        f"of {described}.",
        "provenance": provenance,
        **{
            k: v
            for k, v in body.items()
            if k not in ("id", "version", "status", "description", "provenance", "samples")
        },
        "samples": samples,
    }
    template = parse_template(data, path.name)  # a template that would not load is never written
    try:
        result = run_sample(template, copied, truth.doc_type, document)
    except TemplateError:
        if existing is None:
            copied.unlink(missing_ok=True)  # nothing of a template that cannot read its sample stays
        raise
    path.write_text(dump_template(data), encoding="utf-8")
    truth_copy = copied.with_name(copied.stem + ".truth.json")
    truth_copy.write_text(
        json.dumps(_truth_json(truth), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    golden = copied.with_suffix(".json")
    golden.write_text(json.dumps(golden_view(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    wrong = compare(result, truth, [n for n in truth.named if n not in new.not_found])
    learned = [n for n in new.learned if n not in wrong]
    ok = _check_samples(folder, template, copied)
    return Outcome(
        template=path,
        id=tid,
        version=version,
        learned=learned,
        not_found=new.not_found,
        sample_reads_back=not wrong,
        status=kept_status,
        refined=existing is not None,
        variants=variants,
        identity_not_learned=unlearned,
        samples_ok=ok,
        samples=len(template.samples),
        mismatches=wrong,
        notes=new.notes,
    )


def _truth_json(truth: Truth) -> dict[str, Any]:
    fields = InvoiceFields.model_validate(truth.fields).model_dump(mode="json", exclude_none=True)
    out: dict[str, Any] = {"doc_type": truth.doc_type.value, "fields": fields}
    if truth.lines:
        out["lines"] = [line.model_dump(mode="json") for line in truth.lines]
    return out


def _check_samples(folder: Path, template: Template, current: Path) -> int:
    """How many of the template's samples it reads as their golden files say (``current``, whose
    golden was just written from this version, counts without being read again)."""
    from extractors.templates.golden import _one, sample_paths

    ok = 1
    for sample in sample_paths(folder / f"{template.id}.yml", template):
        if sample.resolve() != current.resolve():
            ok += _one(template, sample, False)["status"] in ("ok", "written")
    return ok
