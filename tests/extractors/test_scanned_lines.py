"""Line items read from scans: a quantity "1" read as a stroke, and row amounts OCR misread that
the document's own totals put right."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractors.generic import GenericExtractor
from extractors.generic.extractor import reconcile_lines
from extractors.generic.table_header import header_columns
from extractors.generic.table_numbers import number_spans
from extractors.generic.tables import Item
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

D = Decimal


def _item(qty: str, price: str, amount: str | None, *, text: str = "", confidence: float = 0.95) -> Item:
    return Item(
        quantity=D(qty),
        unit_price=D(price),
        amount=D(amount) if amount is not None else None,
        amount_text=text or (amount or "").replace(".", ","),
        amount_confidence=confidence if amount is not None else 0.0,
    )


def test_a_lone_stroke_is_a_one_only_on_a_scan() -> None:
    words = [Word("|", (10, 0, 13, 10), confidence=0.4), Word("Grinding", (20, 0, 60, 10), confidence=0.9)]
    (span,) = number_spans(words, ocr=True)
    assert (span.value, span.repaired) == (D(1), True)
    assert number_spans([Word("|", (10, 0, 13, 10))], ocr=False) == []


def test_a_missing_and_a_misread_amount_are_put_right_when_the_totals_confirm() -> None:
    items = [
        _item("12", "11.50", "138.00"),
        _item("6", "11.50", "6.00", text="6,00"),  # "69,00" with a digit lost
        _item("1", "22.50", "2.50", text="2,50"),
        _item("5", "14.25", None),  # "71,25" read "I1L25"
    ]
    assert reconcile_lines(items, D("300.75"), scanned={1}) == [1, 2, 3]
    # The same rows on a born-digital page are what the vendor printed: never changed.
    assert reconcile_lines(items, D("300.75"), scanned=set()) == []
    # Totals that no replacement reaches change nothing.
    assert reconcile_lines(items, D("999.00"), scanned={1}) == []


def test_an_amount_printed_wrong_and_read_cleanly_stays_as_printed() -> None:
    # 10 x 15.00 printed as 165.00 and read with full confidence: the vendor's error, not OCR's.
    items = [_item("2", "50.00", "100.00"), _item("10", "15.00", "165.00", confidence=0.97)]
    assert reconcile_lines(items, D("250.00"), scanned={1}) == []
    # Read doubtfully, the same digits may be a misread that the totals put right.
    doubtful = [items[0], _item("10", "15.00", "165.00", confidence=0.6)]
    assert reconcile_lines(doubtful, D("250.00"), scanned={1}) == [1]


def test_two_ways_to_reach_the_totals_change_nothing() -> None:
    items = [_item("2", "10.00", "2.00", text="2,00"), _item("2", "10.00", "2.00", text="2,00")]
    assert reconcile_lines(items, D("22.00"), scanned={1}) == []


def _scanned_invoice(amount_text: str, qty_text: str = "1") -> Document:
    rows = [
        [(40, 30, "Acme Fournitures SAS", 0.95)],
        [(60, 200, "Qté", 0.9), (100, 200, "Désignation", 0.9), (380, 200, "PUHT", 0.6),
         (480, 200, "Total", 0.7), (515, 200, "HT", 0.7)],
        [(60, 220, "12", 0.95), (100, 220, "Shipping", 0.95), (150, 220, "label", 0.95),
         (380, 220, "11,50", 0.95), (480, 220, "138,00", 0.95)],
        [(60, 240, qty_text, 0.4), (100, 240, "Air", 0.95), (130, 240, "filter", 0.95),
         (380, 240, "22,50", 0.95), (480, 240, amount_text, 0.93)],
        [(380, 300, "Total", 0.95), (410, 300, "HT", 0.95), (480, 300, "160,50", 0.95)],
        [(380, 315, "TVA", 0.95), (410, 315, "20,00", 0.95), (445, 315, "%", 0.95),
         (480, 315, "32,10", 0.95)],
        [(380, 330, "Total", 0.95), (410, 330, "TTC", 0.95), (480, 330, "192,60", 0.95)],
    ]  # fmt: skip
    lines = [
        Line(
            [
                Word(text, (x, top, x + 5 * len(text), top + 10), confidence=c, size=10.0)
                for x, top, text, c in row
            ]
        )
        for row in rows
    ]
    return Document(source="scan.png", pages=[Page(1, 595.0, 842.0, lines, source="ocr")])


@pytest.mark.parametrize(("amount", "qty"), [("22,50", "|"), ("2,50", "1"), ("2,50", "|")])
def test_a_scanned_table_with_a_stroke_for_one_and_a_lost_digit(amount: str, qty: str) -> None:
    assert header_columns(_scanned_invoice(amount, qty).pages[0].lines[1].words, 10.0) is not None
    result = GenericExtractor().extract(_scanned_invoice(amount, qty), DocType.INVOICE)
    assert [(i.quantity, i.unit_price, i.amount) for i in result.lines] == [
        (D("12"), D("11.50"), D("138.00")),
        (D("1"), D("22.50"), D("22.50")),
    ]
    assert result.fields.subtotal == D("160.50")
    # Worked out rather than read: a clerk sees the rows with their confidence.
    assert result.field_confidence["lines"] <= 0.5
