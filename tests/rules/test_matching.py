"""Line assignment: optimal rather than first-fit, unmatched lines on both sides, large documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

import rules.matching as matching
from ledgerbot.core.domain import InvoiceLine, POLine
from rules.matching import match_lines, normalise_sku


def inv(sku: str | None, desc: str, qty: str, price: str) -> InvoiceLine:
    return InvoiceLine(
        sku=sku,
        description=desc,
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        amount=Decimal(qty) * Decimal(price),
    )


def po(no: int, sku: str | None, desc: str, qty: str, price: str) -> POLine:
    return POLine(line_no=no, sku=sku, description=desc, quantity=Decimal(qty), unit_price=Decimal(price))


def pairs(invoice: list[InvoiceLine], order: list[POLine]) -> list[tuple[int, int]]:
    result = match_lines(invoice, order, min_score=50)
    return [(p.invoice_line, order[p.po_line_index].line_no) for p in result.pairs]


def test_assignment_is_optimal_not_first_fit() -> None:
    """Line A fits both PO lines almost equally; line B fits only PO line 1. First-fit would give A
    line 1 and leave B with a poor pairing; the optimal assignment gives B line 1 and A line 2."""
    order = [po(1, "X1", "Hex bolt M8x40", "5", "10.00"), po(2, "Y1", "Hex bolt M8x40", "6", "10.00")]
    invoice = [inv(None, "Hex bolt M8x40", "5", "10.00"), inv("X1", "Hex bolt M8x40", "6", "10.00")]
    scores = matching.score_matrix(invoice, order)
    assert scores[0, 0] > scores[0, 1]  # a greedy pass would take line 1 for A
    assert pairs(invoice, order) == [(0, 2), (1, 1)]


def test_description_and_price_decide_without_skus() -> None:
    order = [
        po(1, None, "Copy paper A4 80g, carton of 5 reams", "10", "24.95"),
        po(2, None, "Toner cartridge black TK-5240", "2", "89.90"),
        po(3, None, "Safety shoes S3 size 43", "4", "64.00"),
    ]
    invoice = [
        inv(None, "Safety shoes S3, size 43", "4", "64.00"),
        inv(None, "Toner black TK5240", "2", "89.90"),
        inv(None, "A4 copy paper 80 g (5 reams)", "10", "24.95"),
    ]
    assert pairs(invoice, order) == [(0, 3), (1, 2), (2, 1)]


def test_unmatched_lines_on_both_sides() -> None:
    order = [po(1, "HX-1", "Hex bolt M8x40", "10", "1.00"), po(2, "WS-2", "Washer M12", "10", "0.20")]
    invoice = [inv("HX-1", "Hex bolt M8x40", "10", "1.00"), inv("FRT", "Freight and packaging", "1", "45.00")]
    result = match_lines(invoice, order, min_score=50)
    assert [(p.invoice_line, p.po_line_index) for p in result.pairs] == [(0, 0)]
    assert result.unmatched_invoice == [1]
    assert result.unmatched_po == [1]
    assert 0 < result.best_score[1] < 50


def test_a_bad_pair_is_never_forced() -> None:
    order = [po(1, "A", "Nitrile gloves size L", "10", "6.00")]
    invoice = [inv("B", "Consulting day, senior engineer", "1", "1200.00")]
    result = match_lines(invoice, order, min_score=50)
    assert result.pairs == [] and result.unmatched_invoice == [0] and result.unmatched_po == [0]


def test_empty_sides() -> None:
    assert match_lines([], [po(1, "A", "x", "1", "1")]).unmatched_po == [0]
    assert match_lines([inv("A", "x", "1", "1")], []).unmatched_invoice == [0]


def test_repeated_sku_lines_are_told_apart_by_quantity_and_price() -> None:
    order = [po(1, "HX-1", "Hex bolt", "10", "1.00"), po(2, "HX-1", "Hex bolt", "200", "0.90")]
    invoice = [inv("HX-1", "Hex bolt", "200", "0.90"), inv("HX-1", "Hex bolt", "10", "1.00")]
    assert pairs(invoice, order) == [(0, 2), (1, 1)]


@pytest.mark.parametrize(
    ("raw", "key"), [("hx-10020", "HX10020"), (" HX 10020 ", "HX10020"), ("", None), ("--", None)]
)
def test_sku_normalisation(raw: str, key: str | None) -> None:
    assert normalise_sku(raw) == key


def test_oversized_documents_are_solved_in_sku_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    order = [po(i + 1, f"SKU-{i % 7}", f"Item {i % 7}", str(1 + i), "2.00") for i in range(30)]
    invoice = [inv(f"SKU-{i % 7}", f"Item {i % 7}", str(1 + i), "2.00") for i in reversed(range(30))]
    invoice.append(inv(None, "Item 3", "999", "2.00"))  # no SKU: left for the leftover solve
    dense = match_lines(invoice, order)
    monkeypatch.setattr(matching, "MAX_DENSE_CELLS", 50)
    blocked = match_lines(invoice, order)
    assert [(p.invoice_line, p.po_line_index) for p in blocked.pairs] == [
        (p.invoice_line, p.po_line_index) for p in dense.pairs
    ]
    assert blocked.unmatched_invoice == dense.unmatched_invoice == [30]
    assert len(blocked.pairs) == 30
