"""Property tests: consistent invoices always match, line order never matters, mismatches are caught."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
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
    assert decision.decision == "matched", decision.exceptions
    assert len(decision.line_matches) == len(case["invoice"]["lines"])


def _content(line: dict[str, Any]) -> tuple[Any, ...]:
    return (line["sku"], line["description"], line["quantity"], line["unit_price"])


def _paired_content(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Invoice line content -> PO line content, as a sorted list: identical lines may swap places."""
    decision = evaluate(to_case(case), POLICY)
    po_lines = {x["line_no"]: x for x in case["purchase_orders"][0]["lines"]}
    return sorted(
        (_content(case["invoice"]["lines"][m.invoice_line]), _content(po_lines[m.po_line_no]))
        for m in decision.line_matches
    )


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
