"""Legacy display and input formats of the sandbox ERP: DD.MM.YYYY dates and ``1.234,56`` amounts.

Screens show numbers the way a German-localised ERP does; input fields accept that style and
the plain ``1234.56`` style that robots copy from ``ledgerbot extract`` output, so one parser
decides what a typed number means (see ``parse_number``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

_DATE = re.compile(r"^\s*(\d{2})\.(\d{2})\.(\d{4})\s*$")
# Digits with optional grouping by "." / "," / space and one optional decimal part.
_NUMBER = re.compile(r"^[+-]?(\d{1,3}([., ]\d{3})+|\d+)([.,]\d+)?$")


class FormatError(ValueError):
    """A typed value that does not follow the ERP's input format."""


def format_date(value: date | str | None) -> str:
    """``2026-03-14`` -> ``14.03.2026``; empty for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d.%m.%Y")


def parse_date(text: str) -> date:
    """Parse ``DD.MM.YYYY`` strictly (two-digit day and month, four-digit year)."""
    match = _DATE.match(text or "")
    if not match:
        raise FormatError(f"{text!r} is not a date in DD.MM.YYYY format")
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as error:
        raise FormatError(f"{text!r} is not a valid calendar date") from error


def format_amount(value: Decimal | str | None, places: int = 2) -> str:
    """``Decimal("1234.5")`` -> ``1.234,50`` (dot groups thousands, comma before decimals)."""
    if value is None or value == "":
        return ""
    number = Decimal(value).quantize(Decimal(1).scaleb(-places))
    text = f"{number:,.{places}f}"  # 1,234.50
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_price(value: Decimal | str | None) -> str:
    """Unit prices: two decimals, or up to four when the price has them (``0,0125``)."""
    if value is None or value == "":
        return ""
    exponent = Decimal(value).normalize().as_tuple().exponent
    places = min(max(-exponent, 2), 4) if isinstance(exponent, int) else 2
    return format_amount(value, places)


def format_timestamp(value: str | None) -> str:
    """ISO timestamp -> ``14.03.2026 09:30:00``."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M:%S")


def format_quantity(value: Decimal | str | None) -> str:
    """Quantities without trailing zeros: ``10``, ``2,5``."""
    if value is None or value == "":
        return ""
    number = Decimal(value).normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    sign, rest = ("-", format(-number, "f")) if number < 0 else ("", format(number, "f"))
    whole, _, fraction = rest.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return sign + grouped + ("," + fraction if fraction else "")


def parse_number(text: str, *, max_places: int) -> Decimal:
    """Parse a typed amount or quantity.

    Accepted: ``1234.56``, ``1234,56``, ``1.234,56``, ``1,234.56``, ``1 234,56``, ``-12,5``.
    When both ``.`` and ``,`` occur, the right-most one is the decimal separator. A single
    separator followed by exactly three digits after a group (``1.234`` / ``1,234``) is read as
    a decimal separator, because robots type contract-style ``1.234`` meaning one point two
    three four; amounts with more than ``max_places`` decimals are refused, not rounded.
    """
    raw = (text or "").strip()
    if not raw or not _NUMBER.match(raw):
        raise FormatError(f"{text!r} is not a number")
    sign = ""
    if raw[0] in "+-":
        sign, raw = ("-" if raw[0] == "-" else ""), raw[1:]
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif raw.count(".") + raw.count(",") == 1:
        decimal_sep = "." if last_dot >= 0 else ","
    else:
        decimal_sep = ""  # only grouping separators, or none at all
    whole, fraction = raw.rsplit(decimal_sep, 1) if decimal_sep else (raw, "")
    whole = re.sub(r"[., ]", "", whole)
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise FormatError(f"{text!r} is not a number")
    if len(fraction) > max_places:
        raise FormatError(f"{text!r} has more than {max_places} decimal places")
    try:
        return Decimal(sign + whole + ("." + fraction if fraction else ""))
    except InvalidOperation as error:  # pragma: no cover - the regex already guards this
        raise FormatError(f"{text!r} is not a number") from error
