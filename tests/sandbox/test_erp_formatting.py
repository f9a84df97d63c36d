"""The ERP's legacy input and display formats: DD.MM.YYYY dates and 1.234,56 numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sandbox.erp.formatting import (
    FormatError,
    format_amount,
    format_date,
    format_price,
    format_quantity,
    format_timestamp,
    parse_date,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1.234.567", "1234567"),
        ("-12,5", "-12.5"),
        ("+7", "7"),
        ("0.05", "0.05"),
        ("  100  ", "100"),
    ],
)
def test_parse_number_accepts_both_styles(text: str, expected: str) -> None:
    assert parse_number(text, max_places=2) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "12a", "1..2", "1,2,3.4.5", "1.2.3", "--1", "1e5", "12,345"])
def test_parse_number_refuses_garbage_and_extra_decimals(text: str) -> None:
    with pytest.raises(FormatError):
        parse_number(text, max_places=2)


def test_parse_number_places_limit_is_per_field() -> None:
    assert parse_number("0,0125", max_places=4) == Decimal("0.0125")
    with pytest.raises(FormatError):
        parse_number("0,0125", max_places=2)


def test_dates_are_strict_dd_mm_yyyy() -> None:
    assert parse_date("14.03.2026") == date(2026, 3, 14)
    for bad in ("2026-03-14", "14/03/2026", "1.3.2026", "31.02.2026", "14.03.26", ""):
        with pytest.raises(FormatError):
            parse_date(bad)
    assert format_date("2026-03-14") == "14.03.2026"
    assert format_date(None) == ""


def test_display_formats() -> None:
    assert format_amount(Decimal("1234567.5")) == "1.234.567,50"
    assert format_amount("-0.5") == "-0,50"
    assert format_price(Decimal("17")) == "17,00"
    assert format_price(Decimal("0.0125")) == "0,0125"
    assert format_quantity(Decimal("10.000")) == "10"
    assert format_quantity(Decimal("2.5")) == "2,5"
    assert format_quantity(Decimal("1500")) == "1.500"
    assert format_timestamp("2026-03-14T09:30:05+00:00") == "14.03.2026 09:30:05"
