"""Printed representations of amounts, dates and IBANs, and the generator's argument checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.corpus import CorpusError, generate_corpus
from sandbox.corpus.formats import fmt_date, fmt_iban, fmt_money, fmt_number, fmt_quantity, money
from sandbox.corpus.planner import Planner
from sandbox.masterdata import generate_master_data


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        ("1234.56", "en", "1,234.56"),
        ("1234.56", "de", "1.234,56"),
        ("1234.56", "fr", "1 234,56"),
        ("1234567.5", "ch", "1'234'567.50"),
        ("-1234.5", "de", "-1.234,50"),
        ("0", "en", "0.00"),
        ("999.999", "en", "1,000.00"),
        ("12", "plain", "12.00"),
    ],
)
def test_fmt_number(value: str, style: str, expected: str) -> None:
    assert fmt_number(Decimal(value), style) == expected


def test_money_rounds_half_up_not_to_even() -> None:
    assert money(Decimal("0.125")) == Decimal("0.13")
    assert money(Decimal("2.675")) == Decimal("2.68")
    assert money(Decimal("-0.125")) == Decimal("-0.13")


def test_quantities_and_currencies() -> None:
    assert fmt_quantity(Decimal("10"), "de") == "10"
    assert fmt_quantity(Decimal("1500"), "en") == "1,500"
    assert fmt_quantity(Decimal("2.5"), "de") == "2,50"
    assert fmt_money(Decimal("1234.5"), "EUR", "de", "symbol_after") == "1.234,50 €"
    assert fmt_money(Decimal("1234.5"), "GBP", "en", "symbol_before") == "£1,234.50"
    assert fmt_money(Decimal("1234.5"), "EUR", "en", "symbol_before") == "€ 1,234.50"
    assert fmt_money(Decimal("-3"), "USD", "en", "code_before") == "USD -3.00"
    with pytest.raises(ValueError):
        fmt_money(Decimal(1), "EUR", "en", "sideways")


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("iso", "2026-03-04"),
        ("dmy_dot", "04.03.2026"),
        ("dmy_slash", "04/03/2026"),
        ("en_long", "March 4, 2026"),
        ("en_short", "04 Mar 2026"),
        ("de_long", "4. März 2026"),
        ("fr_long", "4 mars 2026"),
    ],
)
def test_fmt_date(style: str, expected: str) -> None:
    assert fmt_date(date(2026, 3, 4), style) == expected


def test_fmt_iban() -> None:
    assert fmt_iban("DE89370400440532013000", True) == "DE89 3704 0044 0532 0130 00"
    assert fmt_iban("DE89370400440532013000", False) == "DE89370400440532013000"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "at least 1"),
        ({"n": 5, "mismatch_rate": 1.5}, "between 0 and 1"),
        ({"n": 5, "split": "train"}, "--split"),
        ({"n": 5, "doc_types": ["receipt"]}, "unknown document types"),
    ],
)
def test_bad_arguments_are_coded_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(CorpusError, match=message) as info:
        generate_corpus(tmp_path / "out", seed=1, **kwargs)
    assert info.value.code == "E310"
    assert not (tmp_path / "out").exists()


def test_a_small_master_runs_out_of_receipts_and_says_so() -> None:
    master = generate_master_data(3, n_vendors=4, n_orders=6)
    plan = Planner(master, 1, mismatch_rate=0.0, doc_types=["invoice"]).plan(40)
    assert "pool_exhausted" in plan.notes
    issued = [d for d in plan.documents if d.source_stem is None]
    receipts = {d.extra["receipt_number"] for d in issued}
    assert len(receipts) == len(issued) <= len(master.receipts), "a receipt is never billed twice"


@pytest.mark.parametrize("master_seed", [1, 2, 3, 20260301])
def test_any_master_seed_plans_invoices_with_lines(master_seed: int) -> None:
    """Some master data has receipts without a received quantity; they are never invoiced."""
    master = generate_master_data(master_seed)
    plan = Planner(master, master_seed, mismatch_rate=0.5, doc_types=["invoice", "credit_note"]).plan(300)
    assert len(plan.documents) == 300
    assert all(doc.lines for doc in plan.documents)
