"""Every tolerance at its edge: exactly at the limit passes, one cent (one last-decimal unit) over fails."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rapidfuzz import fuzz, utils

from rules.checks import order_state
from rules.engine import evaluate
from rules.matching import score_matrix
from rules.policy import Policy, load_policy, parse_policy
from rules.results import Decision
from tests.rules.builders import clean_case, restate, to_case

Case = dict[str, Any]
# clean_case(): subtotal 3947.00, tax 749.93 (19%), total 4696.93; line 2 is 20 x 12.50.


DEFAULT_TAX_RATES = {key: rule.model_dump(mode="json") for key, rule in load_policy().tax_rates.items()}


def policy(**checks: Any) -> Policy:
    data = {"name": "edge", "version": 1, "checks": checks, "tax_rates": DEFAULT_TAX_RATES}
    return parse_policy(data, source="test")


def run(case: Case, checks: dict[str, Any] | None = None) -> Decision:
    return evaluate(to_case(case), policy(**(checks or {})))


def header(case: Case, subtotal: str, tax: str, total: str) -> Case:
    case["invoice"]["fields"].update(subtotal=subtotal, tax_amount=tax, total=total)
    return case


def with_price(price: str) -> Case:
    case = clean_case()
    case["invoice"]["lines"][1]["unit_price"] = price
    return restate(case)


def with_qty(qty: str, received: str | None = None) -> Case:
    case = clean_case()
    case["invoice"]["lines"][0]["quantity"] = qty  # PO line 1: 10 ordered, 10 received
    case["receipts"][0]["lines"][0]["quantity"] = received or qty
    return restate(case)


def with_line_amount(amount: str) -> Case:
    """Line 1 is 10 x 100.00; the header follows the printed amount so only the line is off."""
    case = clean_case()
    case["invoice"]["lines"][0]["amount"] = amount
    subtotal = Decimal("2947.00") + Decimal(amount)
    return header(case, str(subtotal), "749.93", str(subtotal + Decimal("749.93")))


# (name, case at the limit, case one unit over, checks, expected code)
EDGES: list[tuple[str, Callable[[], Case], Callable[[], Case], dict[str, Any], str]] = [
    (
        "line rounding",
        lambda: with_line_amount("1000.01"),
        lambda: with_line_amount("1000.02"),
        {"line_rounding": "0.01"},
        "LINE_AMOUNT_MISMATCH",
    ),
    (
        "subtotal small difference",
        lambda: header(clean_case(), "3947.02", "749.93", "4696.95"),
        lambda: header(clean_case(), "3947.03", "749.93", "4696.96"),
        {"small_difference": {"abs": "0.02"}},
        "SUBTOTAL_MISMATCH",
    ),
    (
        "subtotal small difference pct",  # 0.1% of 3947.00 = 3.947
        lambda: header(clean_case(), "3950.94", "749.93", "4700.87"),
        lambda: header(clean_case(), "3950.95", "749.93", "4700.88"),
        {"small_difference": {"pct": "0.1"}, "tax_rounding": "1"},
        "SUBTOTAL_MISMATCH",
    ),
    (
        "total small difference",
        lambda: header(clean_case(), "3947.00", "749.93", "4696.95"),
        lambda: header(clean_case(), "3947.00", "749.93", "4696.96"),
        {"small_difference": {"abs": "0.02"}},
        "TOTAL_MISMATCH",
    ),
    (
        "tax rounding",  # 19% of 3947.00 = 749.93 exactly
        lambda: header(clean_case(), "3947.00", "749.98", "4696.98"),
        lambda: header(clean_case(), "3947.00", "749.99", "4696.99"),
        {"tax_rounding": "0.05"},
        "TAX_RATE_IMPLAUSIBLE",
    ),
    (
        "price pct",
        lambda: with_price("12.75"),
        lambda: with_price("12.76"),
        {"price": {"pct": "2"}},
        "PRICE_VARIANCE",
    ),
    (
        "price abs",
        lambda: with_price("12.80"),
        lambda: with_price("12.81"),
        {"price": {"abs": "0.30"}},
        "PRICE_VARIANCE",
    ),
    (
        "price pct and abs",
        lambda: with_price("12.60"),
        lambda: with_price("12.61"),
        {"price": {"pct": "5", "abs": "0.10"}},
        "PRICE_VARIANCE",
    ),
    (
        "price under",
        lambda: with_price("11.25"),
        lambda: with_price("11.24"),
        {"price_under": {"pct": "10"}},
        "PRICE_VARIANCE",
    ),
    (
        "qty ordered abs",
        lambda: with_qty("10.5"),
        lambda: with_qty("10.51"),
        {"qty_ordered": {"abs": "0.5"}},
        "QTY_ORDERED_EXCEEDED",
    ),
    (
        "qty ordered pct",
        lambda: with_qty("11"),
        lambda: with_qty("11.01"),
        {"qty_ordered": {"pct": "10"}},
        "QTY_ORDERED_EXCEEDED",
    ),
    (
        "qty received abs",
        lambda: with_qty("10", received="9"),
        lambda: with_qty("10.01", received="9"),
        {"qty_received": {"abs": "1"}, "qty_ordered": {"abs": "1"}},
        "QTY_RECEIVED_EXCEEDED",
    ),
    (
        "qty received pct",
        lambda: with_qty("10", received="8"),
        lambda: with_qty("10.01", received="8"),
        {"qty_received": {"pct": "25"}, "qty_ordered": {"abs": "1"}},
        "QTY_RECEIVED_EXCEEDED",
    ),
    ("amount limit", clean_case, clean_case, {"amount_limit": "4696.93"}, "AMOUNT_LIMIT"),
]


@pytest.mark.parametrize(("name", "at", "over", "checks", "code"), EDGES, ids=[e[0] for e in EDGES])
def test_at_limit_passes_one_over_fails(
    name: str, at: Callable[[], Case], over: Callable[[], Case], checks: dict[str, Any], code: str
) -> None:
    passing = run(at(), checks)
    assert passing.decision == "matched", passing.exceptions
    if name == "amount limit":
        checks = {"amount_limit": "4696.92"}
    failing = run(over(), checks)
    assert failing.codes == [code], failing.exceptions


def test_second_approver_threshold_is_strictly_above() -> None:
    assert run(clean_case(), {"second_approver_above": "4696.93"}).needs_second_approver is False
    assert run(clean_case(), {"second_approver_above": "4696.92"}).needs_second_approver is True


@pytest.mark.parametrize(("confidence", "codes"), [(0.7, []), (0.699, ["LOW_CONFIDENCE"])])
def test_field_confidence_minimum(confidence: float, codes: list[str]) -> None:
    case = clean_case()
    case["invoice"]["field_confidence"]["po_number"] = confidence
    assert run(case, {"confidence": {"field": 0.7}}).codes == codes


@pytest.mark.parametrize(("confidence", "codes"), [(0.7, []), (0.4, ["LOW_CONFIDENCE"])])
def test_line_items_read_with_low_confidence_go_to_a_clerk(confidence: float, codes: list[str]) -> None:
    # The extractor lowers the confidence of "lines" when rows were repaired from OCR or do not
    # add up to the printed subtotal; the default policy routes that to review.
    case = clean_case()
    case["invoice"]["field_confidence"]["lines"] = confidence
    decision = run(case)
    assert decision.codes == codes
    if codes:
        assert decision.exceptions[0].evidence["field"] == "lines"


@pytest.mark.parametrize(("confidence", "codes"), [(0.8, []), (0.799, ["LOW_CONFIDENCE"])])
def test_doc_type_confidence_minimum(confidence: float, codes: list[str]) -> None:
    case = clean_case()
    case["invoice"]["doc_type_confidence"] = confidence
    assert run(case, {"confidence": {"doc_type": 0.8}}).codes == codes


def test_vendor_name_score_minimum() -> None:
    case = clean_case()
    name = "Acme Tool GmbH"
    case["invoice"]["fields"].update(vendor_name=name, vendor_tax_id=None, vendor_iban=None)
    score = fuzz.token_sort_ratio(name, "Acme Tools GmbH", processor=utils.default_process)
    assert run(case, {"vendor_name_min_score": score}).vendor_match == "name"
    assert run(case, {"vendor_name_min_score": score + 0.01}).codes == ["VENDOR_UNKNOWN"]


def test_line_match_score_minimum() -> None:
    case = clean_case()
    case["invoice"]["lines"][2]["sku"] = None
    case["invoice"]["lines"][2]["description"] = "Toner black"
    parsed = to_case(case)
    po = parsed.purchase_orders[0]
    state = order_state(po, parsed.receipts, [], exclude_source="", min_score=50)
    status = state.open_lines(credit=False)
    score = float(score_matrix(parsed.invoice.lines[2:], po.lines[2:], status[2:])[0, 0])
    assert 50 < score < 90
    assert run(case, {"line_match_min_score": score}).decision == "matched"
    assert "INVOICE_LINE_UNMATCHED" in run(case, {"line_match_min_score": score + 0.01}).codes
