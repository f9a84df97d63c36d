"""Reads what a person typed into a correction: one parser per value type, in the user's or document's locale.

Amounts and dates go through the extractors' own parsers (``extractors.values``), so a clerk's
``1.234,56`` and a printed ``1.234,56`` are read by the same code; the locale only decides what an
ambiguous text means (``1.234`` is one thousand two hundred and thirty-four in German, one and a
bit in English). Every rule here is the same for the pages and the API: both call ``check``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format
from babel.numbers import format_currency, format_decimal, get_decimal_symbol, list_currencies
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from extractors.values import DateOrder, DecimalSep, parse_amount, parse_currency, parse_date, parse_tax_id
from ledgerbot.core.errors import CorrectionInvalid

# Longest text a person may type into each header field, in characters.
TEXT_LIMITS: dict[str, int] = {
    "vendor_name": 300,
    "invoice_number": 100,
    "po_number": 50,
    "vendor_tax_id": 30,
    "vendor_iban": 50,
    "currency": 10,
}
LINE_TEXT_LIMITS: dict[str, int] = {"description": 1000, "sku": 100}
# Any number typed into a form; longer text is not a number anyone means.
NUMBER_TEXT_LIMIT = 40
DATE_TEXT_LIMIT = 40
AMOUNT_FIELDS = frozenset({"subtotal", "tax_amount", "total"})
DATE_FIELDS = frozenset({"invoice_date", "due_date"})
LINE_AMOUNTS = frozenset({"unit_price", "amount"})
# ISO 4217 codes that name no money an invoice is paid in (testing, no currency).
_NOT_MONEY = frozenset({"XXX", "XTS"})
_GENERIC_TAX_ID = re.compile(r"[A-Z]{2}[A-Z0-9+*]{2,18}")


@dataclass(frozen=True)
class Bounds:
    """Limits on what a correction may say; built from the review settings."""

    max_amount: Decimal  # largest absolute amount (per line and per document)
    max_quantity: Decimal
    amount_places: int  # decimal places an amount may have
    quantity_places: int
    oldest_days: int  # how far in the past a document date may lie
    newest_days: int  # how far in the future


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale | None:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=64)
def _country_locale(country: str) -> str | None:
    """The main locale of a country (``DE`` -> ``de_DE``), from CLDR's likely subtags."""
    found = _locale(f"und_{country}") if country.isalpha() and len(country) == 2 else None
    return str(found) if found is not None else None


def known_locale(name: str) -> bool:
    return _locale(name) is not None


# Cached: the document page formats every amount and quantity it shows with it.
@lru_cache(maxsize=64)
def decimal_mark(locale: str) -> DecimalSep:
    found = _locale(locale)
    return "," if found is not None and get_decimal_symbol(found) == "," else "."


def date_order(locale: str) -> DateOrder:
    found = _locale(locale)
    if found is None:
        return "DMY"
    pattern = get_date_format("short", locale=found).pattern.lstrip("'")
    first = pattern[:1].lower()
    return "MDY" if first == "m" else "YMD" if first == "y" else "DMY"


def document_locale(fields: dict[str, Any]) -> str | None:
    """The locale a document is printed in, from the country of its IBAN or VAT id."""
    for name in ("vendor_iban", "vendor_tax_id"):
        value = fields.get(name)
        if isinstance(value, str) and len(value) >= 2 and value[:2].isalpha():
            country = value[:2].upper()
            found = _country_locale("GR" if country == "EL" else country)
            if found:
                return found
    return None


@dataclass(frozen=True)
class Reading:
    """How to read what one person typed on one document."""

    user_locale: str
    document_locale: str | None
    bounds: Bounds
    today: date

    def marks(self) -> list[DecimalSep]:
        """Decimal marks to try, in order: the user's, the document's, then the other one."""
        order = [decimal_mark(self.user_locale)]
        if self.document_locale:
            order.append(decimal_mark(self.document_locale))
        order += [".", ","]
        return list(dict.fromkeys(order))

    def orders(self) -> list[DateOrder]:
        order = [date_order(self.user_locale)]
        if self.document_locale:
            order.append(date_order(self.document_locale))
        order += ["DMY", "MDY"]
        return list(dict.fromkeys(order))


@dataclass
class Checked:
    """Collects parsed values and per-field errors over a whole form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.items()))
            raise CorrectionInvalid(
                f"{len(self.errors)} value(s) need a look; first: {first[1]}", errors=dict(self.errors)
            )


def _clean_text(text: str) -> str:
    return " ".join(text.split())


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text)


def read_text(text: str, limit: int) -> str | None:
    """Free text: trimmed, no control characters, at most ``limit`` characters."""
    value = _clean_text(text)
    if not value:
        return None
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters (this is {len(value)})")
    if has_control(value):
        raise ValueError("contains control characters")
    return value


def read_number(text: str, reading: Reading, *, limit: Decimal, places: int, what: str) -> Decimal | None:
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > NUMBER_TEXT_LIMIT:
        raise ValueError(f"is not {what}")
    value = None
    for mark in reading.marks():
        value = parse_amount(stripped, mark)
        if value is not None:
            break
    if value is None or not value.is_finite():
        raise ValueError(f"is not {what} (for example 1234.56 or 1.234,56)")
    if abs(value) > limit:
        raise ValueError(f"is above the largest {what} accepted ({limit:,})")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"has more than {places} decimal places")
    return value


def read_amount(text: str, reading: Reading) -> Decimal | None:
    bounds = reading.bounds
    return read_number(text, reading, limit=bounds.max_amount, places=bounds.amount_places, what="an amount")


def read_quantity(text: str, reading: Reading) -> Decimal | None:
    bounds = reading.bounds
    return read_number(
        text, reading, limit=bounds.max_quantity, places=bounds.quantity_places, what="a quantity"
    )


def read_date(text: str, reading: Reading) -> date | None:
    stripped = text.strip()
    if not stripped:
        return None
    value = None
    if len(stripped) <= DATE_TEXT_LIMIT:
        for order in reading.orders():
            value = parse_date(stripped, order)
            if value is not None:
                break
    if value is None:
        raise ValueError("is not a date (for example 31.12.2026 or 2026-12-31)")
    oldest = reading.today - timedelta(days=reading.bounds.oldest_days)
    newest = reading.today + timedelta(days=reading.bounds.newest_days)
    if not oldest <= value <= newest:
        raise ValueError(f"{value.isoformat()} is outside {oldest.isoformat()} .. {newest.isoformat()}")
    return value


def read_iban(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        return str(stdnum_iban.validate(text[: TEXT_LIMITS["vendor_iban"] + 20]))
    except InvalidChecksum:
        raise ValueError("check digits do not match (mod 97): a digit is wrong or swapped") from None
    except InvalidLength:
        raise ValueError("has the wrong length for its country") from None
    except (InvalidFormat, InvalidComponent):
        raise ValueError("is not an IBAN (country code, two check digits, account)") from None


def read_currency(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return None
    code = (parse_currency(stripped) or stripped).upper()
    if len(code) != 3 or code not in _iso_currencies():
        raise ValueError(f"{stripped[:10]!r} is not an ISO 4217 currency code (EUR, USD, CHF, ...)")
    return code


@lru_cache(maxsize=1)
def _iso_currencies() -> frozenset[str]:
    return frozenset(list_currencies()) - _NOT_MONEY


def read_tax_id(text: str) -> str | None:
    value = read_text(text, TEXT_LIMITS["vendor_tax_id"])
    if value is None:
        return None
    parsed = parse_tax_id(value)
    if parsed is not None:
        return parsed
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if _GENERIC_TAX_ID.fullmatch(compact):
        return compact
    raise ValueError("is not a VAT id (country code and number, e.g. DE123456789)")


def read_field(name: str, text: str, reading: Reading) -> Any:
    """The typed value of one header field; ``None`` for an empty box. Raises ``ValueError``."""
    if name in AMOUNT_FIELDS:
        return read_amount(text, reading)
    if name in DATE_FIELDS:
        return read_date(text, reading)
    if name == "vendor_iban":
        return read_iban(text)
    if name == "currency":
        return read_currency(text)
    if name == "vendor_tax_id":
        return read_tax_id(text)
    return read_text(text, TEXT_LIMITS.get(name, 300))


def read_fields(raw: dict[str, str], reading: Reading, checked: Checked) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, text in raw.items():
        try:
            out[name] = read_field(name, text, reading)
        except ValueError as error:
            checked.fail(f"field.{name}", f"{name.replace('_', ' ')}: {error}")
    return out


def read_line(index: int, raw: dict[str, str], reading: Reading, checked: Checked) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in ("description", "sku", "quantity", "unit_price", "amount"):
        text = raw.get(column) or ""
        try:
            if column in LINE_TEXT_LIMITS:
                out[column] = read_text(text, LINE_TEXT_LIMITS[column])
            elif column == "quantity":
                out[column] = read_quantity(text, reading)
            else:
                out[column] = read_amount(text, reading)
        except ValueError as error:
            checked.fail(f"line-{index}.{column}", f"line {index + 1} {column.replace('_', ' ')}: {error}")
    return out


def read_lines(
    rows: Iterable[tuple[int, dict[str, str]]], reading: Reading, checked: Checked
) -> list[dict[str, Any]]:
    return [read_line(index, raw, reading, checked) for index, raw in rows]


def show_number(value: Decimal | str | None, locale: str) -> str:
    """A number as a person in ``locale`` types it back: the locale's decimal mark, no grouping.

    Form fields are filled this way so that a value sent back unchanged reads as the same value.
    """
    if value is None or value == "":
        return ""
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", ",") if decimal_mark(locale) == "," else text


def show_money(value: Decimal | str | None, currency: str | None, locale: str) -> str:
    """An amount for people to read: grouped, in the locale's marks, with its currency."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    found = _locale(locale) or _locale("en_GB")
    if currency and len(currency) == 3 and currency.upper() in _iso_currencies():
        return str(format_currency(number, currency.upper(), locale=found, currency_digits=False))
    return str(format_decimal(number, locale=found, decimal_quantization=False))
