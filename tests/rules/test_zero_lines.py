"""Lines that bill nothing (quantity 0, amount 0: a backordered item listed for information)
need no receipt, so they never send an otherwise clean invoice to review as NO_RECEIPT."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from rules.checks import bills_nothing
from rules.engine import evaluate
from rules.policy import load_policy
from tests.rules.builders import CATALOGUE, clean_case, restate, to_case

POLICY = load_policy()


def _backordered(case: dict[str, Any], missing: set[int], *, blank_amount: bool = False) -> dict[str, Any]:
    """Nothing received yet for the PO lines in ``missing``: the invoice lists them at 0."""
    for line in case["invoice"]["lines"]:
        sku = line["sku"]
        po_line = next(x for x in case["purchase_orders"][0]["lines"] if x["sku"] == sku)
        if po_line["line_no"] in missing:
            line["quantity"] = "0"
    restate(case)
    if blank_amount:
        for line in case["invoice"]["lines"]:
            if line["quantity"] == "0":
                line["amount"] = None
    case["receipts"][0]["lines"] = [r for r in case["receipts"][0]["lines"] if r["po_line_no"] not in missing]
    if not case["receipts"][0]["lines"]:
        case["receipts"] = []
    return case


def test_a_line_that_bills_nothing_needs_no_receipt() -> None:
    case = _backordered(clean_case(3), {2})
    decision = evaluate(to_case(case), POLICY)
    assert decision.decision == "matched", decision.codes
    assert [m.po_line_no for m in decision.line_matches] == [1, 2, 3]


def test_a_line_that_bills_something_without_a_receipt_still_stops() -> None:
    case = clean_case(3)
    case["receipts"][0]["lines"] = [r for r in case["receipts"][0]["lines"] if r["po_line_no"] != 2]
    assert "NO_RECEIPT" in evaluate(to_case(case), POLICY).codes
    case = clean_case(2)
    case["receipts"] = []  # nothing received at all, and the invoice bills something
    assert "NO_RECEIPT" in evaluate(to_case(case), POLICY).codes


def test_only_quantity_and_amount_zero_means_billing_nothing() -> None:
    from ledgerbot.core.domain import InvoiceLine

    assert bills_nothing(InvoiceLine(quantity=Decimal(0), amount=Decimal("0.00"), unit_price=Decimal(5)))
    assert bills_nothing(InvoiceLine(quantity=Decimal(0), amount=None, unit_price=Decimal(5)))
    assert not bills_nothing(InvoiceLine(quantity=Decimal(0), amount=Decimal("5.00"), unit_price=Decimal(5)))
    assert not bills_nothing(InvoiceLine(quantity=Decimal(1), amount=Decimal("0"), unit_price=Decimal(0)))
    assert not bills_nothing(InvoiceLine(quantity=None, amount=None, unit_price=None))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(min_value=2, max_value=len(CATALOGUE)), blank=st.booleans())
def test_backordered_lines_never_stop_a_clean_partial_delivery(
    data: st.DataObject, n: int, blank: bool
) -> None:
    lines = list(range(1, n + 1))
    missing = set(data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=n - 1, unique=True)))
    note(f"{n} lines, nothing received for {sorted(missing)}, amounts blank: {blank}")
    decision = evaluate(to_case(_backordered(clean_case(n), missing, blank_amount=blank)), POLICY)
    assert decision.decision == "matched", decision.codes
