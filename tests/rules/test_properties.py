"""Property tests: consistent invoices always match, line order never matters, mismatches are caught."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from rules.engine import evaluate
from rules.policy import load_policy
from tests.rules.builders import to_case
from tests.rules.strategies import CATCHES, consistent_cases, mismatched_cases

POLICY = load_policy()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(consistent_cases())
def test_a_consistent_invoice_always_matches(case: dict[str, Any]) -> None:
    decision = evaluate(to_case(case), POLICY)
    note(_describe(case))
    assert decision.decision == "matched", decision.exceptions
    assert len(decision.line_matches) == len(case["invoice"]["lines"])


def _describe(case: dict[str, Any]) -> str:
    """The lines that matter, readable, for hypothesis's report of a falsifying example."""

    def rows(lines: list[dict[str, Any]]) -> str:
        return "; ".join(
            f"{x.get('line_no', '')}:{x['sku']}|{x['description'][:12]}|{x['quantity']}@{x['unit_price']}"
            for x in lines
        )

    parts = [f"PO {rows(case['purchase_orders'][0]['lines'])}", f"INV {rows(case['invoice']['lines'])}"]
    parts += [f"HIST {rows(h['lines'])}" for h in case["history"]]
    parts += [f"GR {[(r['po_line_no'], r['quantity']) for r in gr['lines']]}" for gr in case["receipts"]]
    return "\n".join(parts)


def _content(line: dict[str, Any]) -> tuple[Any, ...]:
    return (line["sku"], line["description"], line["quantity"], line["unit_price"])


def _paired_content(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Invoice line content -> PO line content, as a sorted list: identical lines may swap places."""
    decision = evaluate(to_case(case), POLICY)
    po_lines = {x["line_no"]: x for x in case["purchase_orders"][0]["lines"]}
    paired = []
    for m in decision.line_matches:
        line, po_line = case["invoice"]["lines"][m.invoice_line], po_lines[m.po_line_no]
        # Without a SKU on the invoice, PO lines differing only by SKU are the same to it; identical
        # lines (same content, same open quantity) may swap.
        po_content = _content(po_line)[1:] if line["sku"] is None else _content(po_line)
        paired.append((_content(line), po_content))
    return sorted(paired)


@SETTINGS
@given(
    st.one_of(consistent_cases(), mismatched_cases().map(lambda km: km[1])), st.randoms(use_true_random=False)
)
def test_matching_is_invariant_to_line_order(case: dict[str, Any], rnd: Any) -> None:
    shuffled = copy.deepcopy(case)
    rnd.shuffle(shuffled["invoice"]["lines"])
    rnd.shuffle(shuffled["purchase_orders"][0]["lines"])
    first, second = evaluate(to_case(case), POLICY), evaluate(to_case(shuffled), POLICY)
    assert first.decision == second.decision
    assert sorted(first.codes) == sorted(second.codes)
    assert _paired_content(case) == _paired_content(shuffled)


@SETTINGS
@given(mismatched_cases())
def test_every_injected_mismatch_is_caught(kind_and_case: tuple[str, dict[str, Any]]) -> None:
    kind, case = kind_and_case
    decision = evaluate(to_case(case), POLICY)
    assert CATCHES[kind] & set(decision.codes), (kind, decision.codes)
