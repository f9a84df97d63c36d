"""The context a candidate stands in: the phrases beside and over it, its type size, its rank among rivals.

These are what a reader uses to tell the invoice number from the customer number: the words
left of a value and the words over it, how big it is printed, where on the page, and whether
its value is the largest amount or the latest date among the field's candidates. The learned
ranker turns them into features (``learned.py``); nothing here decides anything.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from extractors.generic.candidates import LEGAL_FORM, Candidate, PageContext
from extractors.generic.geometry import Row
from extractors.generic.settings import DEFAULT, GenericSettings
from textlayer.model import BBox


@dataclass(slots=True)
class Neighbourhood:
    """The phrases around one candidate, and how its type compares with the page's body text."""

    left: str = ""
    above: str = ""
    size_ratio: float = 1.0
    row_words: int = 0
    row_legal_form: bool = False  # the row names a company ("Acme GmbH · VAT DE…"): an imprint


class PageIndex:
    """Rows of one page by vertical position, to find the row a box sits in and the rows over it."""

    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.rows: list[Row] = sorted(context.rows, key=lambda r: r.top)
        self.tops = [r.top for r in self.rows]
        sizes = sorted((w.size or w.height) for r in self.rows for w in r.words)
        self.body_size = sizes[len(sizes) // 2] if sizes else 1.0

    def row_at(self, box: BBox) -> int | None:
        middle = (box[1] + box[3]) / 2
        i = bisect.bisect_right(self.tops, middle) - 1
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(self.rows) and self.rows[j].top - 1 <= middle <= self.rows[j].bottom + 1:
                return j
        return None

    def neighbourhood(self, box: BBox, settings: GenericSettings) -> Neighbourhood:
        r = self.row_at(box)
        if r is None:
            return Neighbourhood()
        row = self.rows[r]
        inside = [w for w in row.words if w.x0 >= box[0] - 0.5 and w.x1 <= box[2] + 0.5]
        left_words = [w.text for w in row.words if w.x1 <= box[0] + 0.5][-settings.context_words :]
        size = max(((w.size or w.height) for w in inside), default=self.body_size)
        above = ""
        for upper in reversed(self.rows[max(0, r - 3) : r]):
            if row.top - upper.bottom > settings.above_rows_reach * max(row.height, 1.0):
                break
            width = box[2] - box[0]
            over = [
                w.text for w in upper.words if w.x1 >= box[0] - 0.5 * width and w.x0 <= box[2] + 0.25 * width
            ][: settings.context_words]
            if over:
                above = " ".join(over)
                break
        return Neighbourhood(
            left=" ".join(left_words),
            above=above,
            size_ratio=size / self.body_size if self.body_size else 1.0,
            row_words=len(row.words),
            row_legal_form=LEGAL_FORM.search(row.text) is not None,
        )


def attach_context(
    cands: dict[str, list[Candidate]], contexts: Sequence[PageContext], settings: GenericSettings = DEFAULT
) -> None:
    """Fill every candidate's ``neighbourhood`` and its value-among-rivals features."""
    indexes = {c.rows[0].page: PageIndex(c) for c in contexts if c.rows}
    money = [c.value for name in ("subtotal", "tax_amount", "total") for c in cands.get(name, [])]
    largest = max((abs(v) for v in money), default=Decimal(0))
    # Several candidates share a box (a value found by its label and by its pattern): one look.
    seen: dict[tuple[int, BBox], Neighbourhood] = {}
    for field_cands in cands.values():
        # A field some label names on this page: values no label claims are then less likely.
        field_labelled = float(any(c.label is not None for c in field_cands))
        counts = Counter(_key(c.value) for c in field_cands)
        values = sorted({_key(c.value) for c in field_cands}, key=_order)
        for c in field_cands:
            index = indexes.get(c.page)
            key = (c.page, c.bbox)
            if key not in seen:
                seen[key] = index.neighbourhood(c.bbox, settings) if index else Neighbourhood()
            c.neighbourhood = seen[key]
            f = c.features
            f["value_count"] = float(counts[_key(c.value)])
            f["field_labelled"] = field_labelled
            f["labelled"] = float(c.label is not None)
            f["value_share"] = counts[_key(c.value)] / len(field_cands)
            f["n_candidates"] = float(len(field_cands))
            rank = values.index(_key(c.value)) if len(values) > 1 else 0
            f["value_rank"] = rank / (len(values) - 1) if len(values) > 1 else 1.0
            f["size_all"] = c.neighbourhood.size_ratio
            f["row_words"] = float(c.neighbourhood.row_words)
            f["row_legal_form"] = float(c.neighbourhood.row_legal_form)
            if isinstance(c.value, Decimal):
                f["largest_amount"] = float(abs(c.value) == largest)
                f["amount_share"] = float(abs(c.value) / largest) if largest else 0.0
                f["has_cents"] = float(c.value != c.value.to_integral_value())


def _key(value: object) -> object:
    # A name in a letterhead set in capitals is the one the footer prints in mixed case
    # ("NORDWIND HANDEL GMBH", "Nordwind Handel GmbH"): printed twice, as its rivals may be.
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    return abs(value) if isinstance(value, Decimal) else value


def _order(value: object) -> tuple[int, object]:
    if isinstance(value, Decimal):
        return (0, value)
    if isinstance(value, date):
        return (1, value.toordinal())
    return (2, str(value))
