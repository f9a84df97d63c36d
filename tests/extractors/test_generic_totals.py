"""Subtotal, tax and total from the totals block's arithmetic, whatever words stand beside the amounts."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from extractors.generic import GenericExtractor
from extractors.generic.candidates import Candidate
from textlayer.model import Document, Line, Page, Word

CHAR = 5.0  # width of one character at the 10 pt the cells are set in
HEAD = [
    (40, 40, "Harbour Supplies Ltd"),
    (40, 120, "Invoice No."),
    (48, 135, "INV-2044"),
    (40, 300, "Description"),
    (300, 300, "Qty"),
    (380, 300, "Unit price"),
    (480, 300, "Amount"),
    (40, 315, "Widget large"),
    (300, 315, "2"),
    (380, 315, "50.00"),
    (480, 315, "100.00"),
    (40, 330, "Widget small"),
    (300, 330, "4"),
    (380, 330, "25.00"),
    (480, 330, "100.00"),
]


def _document(cells: Sequence[tuple[float, float, str]], size: float = 10.0) -> Document:
    """A one-page A4 document with each cell's words placed left to right from (x, top)."""
    lines = []
    for x, top, text in cells:
        words = []
        for token in text.split():
            width = CHAR * len(token)
            words.append(Word(token, (x, top, x + width, top + size), size=size))
            x += width + CHAR
        lines.append(Line(words))
    return Document(source="cells.pdf", pages=[Page(1, 595.0, 842.0, lines)])


# Label words no vocabulary of ours holds: only the arithmetic can say which amount is which.
UNKNOWN_WORDS = [(380, 375, "Grondslag"), (380, 390, "Heffing 20%"), (380, 405, "Eindsom")]


def test_every_amount_below_the_line_table_is_a_candidate_for_all_three_totals() -> None:
    document = _document(
        [
            *HEAD,
            *UNKNOWN_WORDS,
            (480, 375, "200.00"),
            (480, 390, "40.00"),
            (480, 405, "240.00"),
            (300, 420, "Cash 300.00"),
            (300, 435, "A 20% 200.00 40.00"),
        ]
    )
    cands = GenericExtractor().read_unscored(document).candidates

    def unlabelled(name: str, value: str) -> list[Candidate]:
        return [c for c in cands[name] if c.label is None and c.value == Decimal(value)]

    for name in ("subtotal", "tax_amount", "total"):
        for value in ("200.00", "40.00", "240.00"):
            assert any(c.features["totals_region"] == 1.0 for c in unlabelled(name, value)), (name, value)
        # A payment is a candidate too, marked by its label; a breakdown row's cells by their number.
        (cash,) = unlabelled(name, "300.00")
        assert cash.features["other_amount_label"] > 0.5
        assert {c.features["row_amounts"] for c in unlabelled(name, "40.00")} == {1.0, 2.0}
    # The line rows' own amounts stay the table's.
    assert not unlabelled("subtotal", "100.00")
