"""One scenario per reason code: a clean case bent in exactly one way raises exactly that code."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rules.codes import ReasonCode
from rules.engine import evaluate
from rules.policy import load_policy
from tests.rules.builders import OTHER_VENDOR, clean_case, invoice_doc, restate, to_case

POLICY = load_policy()
Case = dict[str, Any]


def codes_of(case: Case) -> list[str]:
    return evaluate(to_case(case), POLICY).codes


def test_clean_case_matches_with_full_evidence() -> None:
    decision = evaluate(to_case(clean_case()), POLICY)
    assert decision.decision == "matched"
    assert decision.exceptions == []
    assert [(m.invoice_line, m.po_line_no) for m in decision.line_matches] == [(0, 1), (1, 2), (2, 3)]
    assert decision.line_matches[1].po_unit_price == Decimal("12.50")
    assert decision.line_matches[1].received == Decimal(20)
    assert decision.vendor_id == "V001" and decision.vendor_match == "tax_id"
    assert decision.policy_version == "default@4"
    assert decision.company == "1000"
    assert decision.unmatched_po_lines == []


def _fields(case: Case, **values: Any) -> Case:
    case["invoice"]["fields"].update(values)
    return case


def _line(case: Case, index: int, **values: Any) -> Case:
    case["invoice"]["lines"][index].update(values)
    return case


def _price_up(case: Case) -> Case:
    case["invoice"]["lines"][1]["unit_price"] = "13.00"  # 12.50 -> 13.00 is 4% over a 2% limit
    return restate(case)


def _qty_over_received(case: Case) -> Case:
    case["receipts"][0]["lines"][2]["quantity"] = "10"  # 30 ordered, 10 received, 30 invoiced
    return case


def _qty_over_ordered(case: Case) -> Case:
    case["invoice"]["lines"][0]["quantity"] = "11"
    case["receipts"][0]["lines"][0]["quantity"] = "11"  # over-delivered, so only the order is exceeded
    return restate(case)


def _no_receipt_at_all(case: Case) -> Case:
    case["receipts"] = []
    return case


def _no_receipt_for_line(case: Case) -> Case:
    del case["receipts"][0]["lines"][1]
    return case


def _closed(case: Case) -> Case:
    case["purchase_orders"][0]["status"] = "closed"
    return case


def _unknown_vendor(case: Case) -> Case:
    return _fields(
        case, vendor_name="Totally Different Trading Ltd", vendor_tax_id="GB999999999", vendor_iban=None
    )


def _other_vendors_po(case: Case) -> Case:
    case["purchase_orders"][0]["vendor_id"] = "V002"
    return case


def _extra_line(case: Case) -> Case:
    case["invoice"]["lines"].append(
        {
            "description": "Express freight surcharge",
            "sku": "FRT-1",
            "quantity": "1",
            "unit_price": "45.00",
            "amount": "45.00",
        }
    )
    return restate(case)


def _duplicate_number(case: Case) -> Case:
    earlier = copy.deepcopy(case["invoice"])
    earlier["fields"]["invoice_number"] = "re 2026/1001"  # same number, other spelling
    earlier["fields"]["po_number"] = "PO-99999"  # another order, so quantities stay fine
    earlier["fields"]["total"] = "1.00"
    case["history"] = [{"status": "posted", **earlier}]
    return case


def _duplicate_amount_date(case: Case) -> Case:
    earlier = copy.deepcopy(case["invoice"])
    earlier["fields"]["invoice_number"] = "RE-2026-0999"
    earlier["fields"]["po_number"] = "PO-99999"
    case["history"] = [{"status": "approved", **earlier}]
    return case


def _line_amount(case: Case) -> Case:
    # The header still adds up: the line amount alone is wrong, and so the subtotal disagrees too.
    return _line(case, 0, amount="1010.00")


SCENARIOS: list[tuple[str, Callable[[Case], Case], set[str]]] = [
    ("missing invoice number", lambda c: _fields(c, invoice_number=None), {"MISSING_FIELD"}),
    ("line amount wrong", _line_amount, {"LINE_AMOUNT_MISMATCH", "SUBTOTAL_MISMATCH"}),
    (
        "subtotal wrong",
        lambda c: _fields(c, subtotal="4000.00", tax_amount="760.00", total="4760.00"),
        {"SUBTOTAL_MISMATCH"},
    ),
    ("total wrong", lambda c: _fields(c, total="9999.00"), {"TOTAL_MISMATCH"}),
    ("tax rate 16%", lambda c: _fields(c, tax_amount="631.52", total="4578.52"), {"TAX_RATE_IMPLAUSIBLE"}),
    ("future date", lambda c: _fields(c, invoice_date="2026-03-21", due_date="2026-04-21"), {"FUTURE_DATE"}),
    ("due before invoice", lambda c: _fields(c, due_date="2026-03-13"), {"DUE_BEFORE_INVOICE"}),
    ("currency", lambda c: _fields(c, currency="USD"), {"CURRENCY_MISMATCH"}),
    ("vendor unknown", _unknown_vendor, {"VENDOR_UNKNOWN"}),
    ("po of other vendor", _other_vendors_po, {"PO_VENDOR_MISMATCH"}),
    ("bank changed", lambda c: _fields(c, vendor_iban="DE02120300000000202051"), {"BANK_DETAILS_CHANGED"}),
    ("duplicate number", _duplicate_number, {"DUPLICATE_SUSPECT"}),
    ("duplicate amount+date", _duplicate_amount_date, {"DUPLICATE_SUSPECT"}),
    ("po not found", lambda c: _fields(c, po_number="PO-99999"), {"PO_NOT_FOUND"}),
    ("po closed", _closed, {"PO_CLOSED"}),
    ("extra line", _extra_line, {"INVOICE_LINE_UNMATCHED"}),
    ("price up", _price_up, {"PRICE_VARIANCE"}),
    ("qty over ordered", _qty_over_ordered, {"QTY_ORDERED_EXCEEDED"}),
    ("qty over received", _qty_over_received, {"QTY_RECEIVED_EXCEEDED"}),
    ("nothing received", _no_receipt_at_all, {"NO_RECEIPT"}),
    ("line not received", _no_receipt_for_line, {"NO_RECEIPT"}),
    (
        "low field confidence",
        lambda c: (c["invoice"]["field_confidence"].update(total=0.41), c)[1],
        {"LOW_CONFIDENCE"},
    ),
    (
        "low doc type confidence",
        lambda c: (c["invoice"].update(doc_type_confidence=0.5), c)[1],
        {"LOW_CONFIDENCE"},
    ),
    (
        "not payable",
        lambda c: (c["invoice"].update(doc_type="delivery_note"), c)[1],
        {"DOC_TYPE_NOT_PAYABLE"},
    ),
]


@pytest.mark.parametrize(("name", "bend", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_one_deviation_one_code(name: str, bend: Callable[[Case], Case], expected: set[str]) -> None:
    decision = evaluate(to_case(bend(clean_case())), POLICY)
    assert decision.decision == "exception"
    assert set(decision.codes) == expected
    for item in decision.exceptions:
        assert item.message
        # Numbers in evidence are strings, never floats.
        assert not any(isinstance(v, float) for v in item.evidence.values())


def test_every_reason_code_has_a_scenario_or_its_own_test() -> None:
    covered = set().union(*(s[2] for s in SCENARIOS)) | {"AMOUNT_LIMIT", "CREDIT_EXCEEDS_INVOICED"}
    assert covered == {code.value for code in ReasonCode}


def test_readme_documents_every_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "rules" / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    assert documented == {code.value for code in ReasonCode}


def test_price_variance_evidence() -> None:
    decision = evaluate(to_case(_price_up(clean_case())), POLICY)
    (item,) = decision.exceptions
    assert item.evidence == {
        "invoice_line": 1,
        "po_line_no": 2,
        "invoice_price": "13.00",
        "po_price": "12.50",
        "difference": "0.50",
        "variance_pct": "4.0",
        "limit_pct": "2",
    }
    assert "4.0% above PO price 12.50" in item.message


def test_vendor_found_by_iban_then_by_fuzzy_name() -> None:
    by_iban = _fields(clean_case(), vendor_tax_id=None)
    assert evaluate(to_case(by_iban), POLICY).vendor_match == "iban"
    by_name = _fields(clean_case(), vendor_tax_id=None, vendor_iban=None, vendor_name="ACME Tools  GmbH.")
    decision = evaluate(to_case(by_name), POLICY)
    assert decision.vendor_match == "name" and decision.vendor_id == "V001"
    assert decision.decision == "matched"


def test_bank_change_is_caught_when_vendor_found_by_tax_id_and_needs_four_eyes() -> None:
    case = _fields(clean_case(), vendor_iban=OTHER_VENDOR["iban"])
    decision = evaluate(to_case(case), POLICY)
    assert decision.codes == ["BANK_DETAILS_CHANGED"]
    assert decision.exceptions[0].evidence["master_iban"] == "DE89370400440532013000"
    assert decision.needs_second_approver is True


def test_iban_spacing_is_not_a_change() -> None:
    case = _fields(clean_case(), vendor_iban="de89 3704 0044 0532 0130 00")
    assert codes_of(case) == []


def test_amount_limit_and_second_approver(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "name: tight\nversion: 2\nchecks:\n  amount_limit: '4000.00'\n  second_approver_above: '1000.00'\n"
    )
    policy = load_policy(policy_file)
    decision = evaluate(to_case(clean_case()), policy)  # total 4696.93
    assert decision.codes == ["AMOUNT_LIMIT"]
    assert decision.exceptions[0].evidence == {"total": "4696.93", "limit": "4000.00"}
    assert decision.needs_second_approver is True
    assert decision.policy_version == "tight@2"


def test_partial_deliveries_billed_by_two_invoices() -> None:
    """Half received and billed, then the rest received and billed: both invoices pass."""
    first = clean_case(received_fraction=Decimal("0.5"))
    assert codes_of(first) == []
    second = copy.deepcopy(first)
    second["receipts"].append(
        {
            "receipt_number": "GR-2",
            "po_number": "PO-45012",
            "date": "2026-03-15",
            "lines": copy.deepcopy(first["receipts"][0]["lines"]),
        }
    )
    second["history"] = [{"status": "posted", "source": "inv-1.pdf", **copy.deepcopy(first["invoice"])}]
    second["invoice"]["fields"]["invoice_number"] = "RE-2026-1002"
    second["invoice"]["fields"]["invoice_date"] = "2026-03-16"
    assert codes_of(second) == []
    decision = evaluate(to_case(second), POLICY)
    assert decision.line_matches[0].invoiced_before == Decimal(5)
    # Billing the second half before it arrives is caught, cumulatively.
    early = copy.deepcopy(second)
    early["receipts"].pop()
    assert set(codes_of(early)) == {"QTY_RECEIVED_EXCEEDED"}


def test_credit_note_reduces_invoiced_quantity() -> None:
    """Full delivery billed, 4 units credited back: billing 4 more is fine, 5 more is not."""
    base = clean_case()
    posted = {"status": "posted", "source": "inv-1.pdf", **copy.deepcopy(base["invoice"])}
    sku, desc, _, price = "HX-10020", "Hex bolt M8x40, box of 100", None, Decimal("100.00")
    credit = {
        "status": "posted",
        "source": "cn-1.pdf",
        **invoice_doc([(sku, desc, Decimal(4), price)], number="GS-1", doc_type="credit_note"),
    }
    again = clean_case()
    again["invoice"] = invoice_doc([(sku, desc, Decimal(4), price)], number="RE-2026-1077")
    again["history"] = [posted, credit]
    assert codes_of(again) == []
    again["invoice"] = invoice_doc([(sku, desc, Decimal(5), price)], number="RE-2026-1078")
    assert set(codes_of(again)) == {"QTY_ORDERED_EXCEEDED", "QTY_RECEIVED_EXCEEDED"}


def test_credit_note_is_checked_against_invoiced_and_never_a_duplicate() -> None:
    base = clean_case()
    posted = {"status": "posted", "source": "inv-1.pdf", **copy.deepcopy(base["invoice"])}
    case = clean_case()
    case["history"] = [posted]
    sku, desc, price = "WS-10131", "Washer DIN 125 M12, box of 500", Decimal("12.50")
    # Same number as the posted invoice, but a credit note is never a duplicate suspect.
    case["invoice"] = invoice_doc(
        [(sku, desc, Decimal(20), price)], number="RE-2026-1001", doc_type="credit_note"
    )
    assert codes_of(case) == []
    case["invoice"] = invoice_doc([(sku, desc, Decimal(21), price)], number="GS-2", doc_type="credit_note")
    decision = evaluate(to_case(case), POLICY)
    assert decision.codes == ["CREDIT_EXCEEDS_INVOICED"]
    assert decision.exceptions[0].evidence["invoiced_before"] == "20"


def test_rejected_history_is_neither_duplicate_nor_invoiced() -> None:
    case = clean_case()
    case["history"] = [{"status": "rejected", **copy.deepcopy(case["invoice"])}]
    assert codes_of(case) == []


def test_history_of_itself_is_ignored() -> None:
    case = clean_case()
    case["invoice"]["source"] = "inbox/0042.pdf"
    case["history"] = [{"status": "posted", **copy.deepcopy(case["invoice"])}]
    assert codes_of(case) == []


def test_small_header_difference_is_accepted_and_recorded() -> None:
    case = _fields(clean_case(), total="4696.95")  # 0.02 over: within the default small difference
    decision = evaluate(to_case(case), POLICY)
    assert decision.decision == "matched"
    assert [(a.check, a.difference) for a in decision.accepted_differences] == [("total", Decimal("0.02"))]


def test_mixed_tax_rates_need_the_policy_to_allow_them(tmp_path: Path) -> None:
    case = _fields(clean_case(), tax_amount="500.00", total="4447.00")  # ~12.7%, between 7% and 19%
    assert codes_of(case) == ["TAX_RATE_IMPLAUSIBLE"]
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("name: m\nversion: 1\ntax_rates:\n  DE: {rates: ['0', '7', '19'], mixed: true}\n")
    assert evaluate(to_case(case), load_policy(policy_file)).codes == []


def test_vendor_override_loosens_price(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("name: v\nversion: 1\noverrides:\n  vendors:\n    V001: {price: {pct: '5'}}\n")
    case = _price_up(clean_case())
    assert codes_of(case) == ["PRICE_VARIANCE"]
    assert evaluate(to_case(case), load_policy(policy_file)).codes == []


def test_invoice_without_po_number() -> None:
    case = _fields(clean_case(), po_number=None)
    decision = evaluate(to_case(case), POLICY)
    assert decision.codes == ["MISSING_FIELD"]
    assert decision.exceptions[0].evidence == {"field": "po_number"}
    assert decision.line_matches == []


def test_evaluation_is_pure() -> None:
    case = to_case(_price_up(clean_case()))
    before = case.model_dump_json()
    assert evaluate(case, POLICY) == evaluate(case, POLICY)
    assert case.model_dump_json() == before


def _identical_lines_case(billed: list[int], history: list[int] | None) -> Case:
    """Three PO lines of the same docking station at the same price, delivered in two halves."""
    desc, price = "Laptop docking station USB-C", Decimal("210.50")
    case = clean_case()
    case["purchase_orders"][0]["lines"] = [
        {"line_no": n, "sku": "LT-10744", "description": desc, "quantity": str(q), "unit_price": "210.50"}
        for n, q in ((1, 15), (2, 15), (3, 24))
    ]
    case["receipts"] = [
        {
            "receipt_number": "GR-1",
            "po_number": "PO-45012",
            "date": "2026-03-01",
            "lines": [{"po_line_no": n, "quantity": str(q)} for n, q in ((1, 8), (2, 8), (3, 12))],
        },
        {
            "receipt_number": "GR-2",
            "po_number": "PO-45012",
            "date": "2026-03-10",
            "lines": [{"po_line_no": n, "quantity": str(q)} for n, q in ((1, 7), (2, 7), (3, 12))],
        },
    ]
    case["invoice"] = invoice_doc(
        [("LT-10744", desc, Decimal(q), price) for q in billed], invoice_date="2026-03-02"
    )
    if history is not None:
        earlier = invoice_doc(
            [("LT-10744", desc, Decimal(q), price) for q in history],
            number="RE-2026-0990",
            invoice_date="2026-03-12",
        )
        case["history"] = [{"status": "posted", **earlier}]
    return case


def test_identical_po_lines_billed_out_of_order_pair_by_delivery() -> None:
    """The second delivery was billed first; the first delivery's invoice must still pass."""
    assert codes_of(_identical_lines_case([8, 8, 12], history=[7, 7, 12])) == []
    decision = evaluate(to_case(_identical_lines_case([8, 8, 12], history=[7, 7, 12])), POLICY)
    assert [(m.po_line_no, m.invoice_quantity) for m in decision.line_matches] == [
        (1, Decimal(8)),
        (2, Decimal(8)),
        (3, Decimal(12)),
    ]


def test_identical_po_lines_overbilled_on_one_line_is_caught() -> None:
    codes = codes_of(_identical_lines_case([8, 8, 25], history=[7, 7, 12]))
    assert set(codes) == {"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"}


def test_identical_po_lines_merged_on_the_invoice_are_checked_together() -> None:
    assert codes_of(_identical_lines_case([28], history=[7, 7, 12])) == []
    decision = evaluate(to_case(_identical_lines_case([29], history=[7, 7, 12])), POLICY)
    assert set(decision.codes) == {"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"}
    assert decision.exceptions[0].evidence["po_line_nos"] == [1, 2, 3]
    assert decision.exceptions[0].evidence["invoiced_total"] == "55"


def test_overbilling_that_equals_a_sibling_lines_quantity_is_caught() -> None:
    """PO lines 1 (24) and 2 (20) hold the same article; the first delivery brought 12 and 10. An
    invoice written after that delivery bills 12 and 24: paired by what had arrived by its date,
    the 24 belongs to line 2 and overruns it, although 24 alone would fit line 1."""
    desc, price = "Battery AA alkaline, pack of 40", Decimal("19.00")
    case = clean_case()
    case["purchase_orders"][0]["lines"] = [
        {"line_no": n, "sku": "BT-10888", "description": desc, "quantity": str(q), "unit_price": "19.00"}
        for n, q in ((1, 24), (2, 20))
    ]
    case["receipts"] = [
        {
            "receipt_number": f"GR-{i}",
            "po_number": "PO-45012",
            "date": day,
            "lines": [{"po_line_no": 1, "quantity": "12"}, {"po_line_no": 2, "quantity": "10"}],
        }
        for i, day in ((1, "2026-03-01"), (2, "2026-03-10"))
    ]
    case["invoice"] = invoice_doc(
        [("BT-10888", desc, Decimal(q), price) for q in (12, 10)], invoice_date="2026-03-02"
    )
    assert codes_of(case) == []
    case["invoice"] = invoice_doc(
        [("BT-10888", desc, Decimal(q), price) for q in (12, 24)], invoice_date="2026-03-02"
    )
    decision = evaluate(to_case(case), POLICY)
    assert set(decision.codes) == {"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"}
    assert decision.exceptions[0].evidence["po_line_no"] == 2


def test_merged_line_does_not_borrow_from_a_sibling_not_yet_delivered() -> None:
    """PO lines 1 (1 unit) and 2 (8 units) hold the same panel; by the invoice's date only 4 of line 2
    had arrived. One invoice line of 9 cannot stand for line 1 too: it overruns line 2 (8 in all)."""
    desc, price = "LED panel 60x60 36W", Decimal("59.00")
    case = clean_case()
    case["purchase_orders"][0]["lines"] = [
        {"line_no": n, "sku": "FL-10593", "description": desc, "quantity": str(q), "unit_price": "59.00"}
        for n, q in ((1, 1), (2, 8))
    ]
    case["receipts"] = [
        {
            "receipt_number": "GR-1",
            "po_number": "PO-45012",
            "date": "2026-03-01",
            "lines": [{"po_line_no": 2, "quantity": "4"}],
        },
        {
            "receipt_number": "GR-2",
            "po_number": "PO-45012",
            "date": "2026-03-10",
            "lines": [{"po_line_no": 1, "quantity": "1"}, {"po_line_no": 2, "quantity": "4"}],
        },
    ]
    case["invoice"] = invoice_doc([("FL-10593", desc, Decimal(9), price)], invoice_date="2026-03-02")
    assert set(codes_of(case)) == {"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"}
    # Written after both deliveries, the same single line of 9 bills both PO lines: fine.
    case["invoice"] = invoice_doc([("FL-10593", desc, Decimal(9), price)], invoice_date="2026-03-11")
    assert codes_of(case) == []


def test_vendor_override_can_loosen_the_name_lookup_for_that_vendor_only(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "name: n\nversion: 1\noverrides:\n  vendors:\n    V001: {vendor_name_min_score: 60}\n"
    )
    case = _fields(clean_case(), vendor_tax_id=None, vendor_iban=None, vendor_name="Acme Tooling Germany")
    assert codes_of(case) == ["VENDOR_UNKNOWN"]
    loose = evaluate(to_case(case), load_policy(policy_file))
    assert loose.codes == [] and loose.vendor_match == "name"
    # Loosened for V002, whose PO this now is: the lookup must not hand the invoice to V001.
    other = tmp_path / "other.yaml"
    other.write_text("name: n\nversion: 1\noverrides:\n  vendors:\n    V002: {vendor_name_min_score: 60}\n")
    case["purchase_orders"][0]["vendor_id"] = "V002"
    decision = evaluate(to_case(case), load_policy(other))
    assert "VENDOR_UNKNOWN" in decision.codes and decision.vendor_match is None


def test_credit_note_over_identical_lines_is_checked_per_article() -> None:
    desc, price = "Corrugated box 400x300x200, bundle of 25", Decimal("27.45")
    case = clean_case()
    case["purchase_orders"][0]["lines"] = [
        {"line_no": n, "sku": "BX-10337", "description": desc, "quantity": str(q), "unit_price": "27.45"}
        for n, q in ((1, 6), (2, 10))
    ]
    case["receipts"] = [
        {
            "receipt_number": "GR-1",
            "po_number": "PO-45012",
            "date": "2026-03-01",
            "lines": [{"po_line_no": 1, "quantity": "6"}, {"po_line_no": 2, "quantity": "10"}],
        }
    ]
    billed = invoice_doc([("BX-10337", desc, Decimal(q), price) for q in (6, 10)], invoice_date="2026-03-02")
    case["history"] = [{"status": "posted", **billed}]
    # 5 + 2 back: whichever twin each line is paired with, 16 were invoiced.
    case["invoice"] = invoice_doc(
        [("BX-10337", desc, Decimal(q), price) for q in (5, 2)], number="GS-7", doc_type="credit_note"
    )
    assert codes_of(case) == []
    case["invoice"] = invoice_doc(
        [("BX-10337", desc, Decimal(q), price) for q in (11, 6)], number="GS-8", doc_type="credit_note"
    )
    decision = evaluate(to_case(case), POLICY)
    assert decision.codes == ["CREDIT_EXCEEDS_INVOICED"]
    assert decision.exceptions[0].evidence["credited_now"] == "17"
