"""How amounts, quantities, dates and IBANs look when a layout prints them.

One place for every printed representation, so the renderer and the tests that look for
truth values in the rendered text agree on what a value looks like on paper.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# (thousands separator, decimal separator); "fr" uses a plain space because a narrow
# no-break space does not survive every PDF text extractor.
_NUMBER_STYLES: dict[str, tuple[str, str]] = {
    "en": (",", "."),
    "de": (".", ","),
    "fr": (" ", ","),
    "ch": ("'", "."),
    "plain": ("", "."),
    "plain_comma": ("", ","),
}

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}

_MONTHS["nl"] = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip
_MONTHS["es"] = [
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
]  # fmt: skip
_MONTHS["it"] = [
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
]  # fmt: skip

DATE_STYLES = (
    "iso",
    "dmy_dot",
    "dmy_slash",
    "en_long",
    "en_short",
    "de_long",
    "fr_long",
    "dmy_dash",
    "dmy_dot_short",
    "dmy_dot_nopad",
    "en_dmy_long",
    "en_dash",
    "nl_long",
    "es_long",
    "it_long",
)
CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def money(value: Decimal) -> Decimal:
    """Round to cents the way invoices do (half up), never banker's rounding."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_number(value: Decimal, style: str, places: int = 2) -> str:
    """``Decimal("-1234.5")`` -> ``-1,234.50`` / ``-1.234,50`` / ``-1 234,50`` ..."""
    thousands, decimal_sep = _NUMBER_STYLES[style]
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    text = f"{abs(quantized):.{places}f}"
    integer, _, fraction = text.partition(".")
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    out = sign + thousands.join(groups)
    return out + (decimal_sep + fraction if places else "")


def fmt_quantity(value: Decimal, style: str) -> str:
    """Whole quantities print without decimals ("10"), others with the layout's separator."""
    if value == value.to_integral_value():
        return fmt_number(value, style, places=0)
    return fmt_number(value, style, places=2)


def fmt_money(value: Decimal, currency: str, style: str, placement: str) -> str:
    """An amount with its currency as a layout shows it (symbol or ISO code, before or after)."""
    number = fmt_number(value, style)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if placement == "symbol_before":
        return f"{symbol}{number}" if currency != "EUR" else f"€ {number}"
    if placement == "symbol_after":
        return f"{number} {symbol}"
    if placement == "code_before":
        return f"{currency} {number}"
    if placement == "code_after":
        return f"{number} {currency}"
    if placement == "none":
        return number
    raise ValueError(f"unknown currency placement {placement!r}")


def fmt_date(value: date, style: str) -> str:
    if style == "iso":
        return value.isoformat()
    if style == "dmy_dot":
        return value.strftime("%d.%m.%Y")
    if style == "dmy_slash":
        return value.strftime("%d/%m/%Y")
    if style == "en_long":
        return f"{_MONTHS['en'][value.month - 1]} {value.day}, {value.year}"
    if style == "en_short":
        return f"{value.day:02d} {_MONTHS['en'][value.month - 1][:3]} {value.year}"
    if style == "de_long":
        return f"{value.day}. {_MONTHS['de'][value.month - 1]} {value.year}"
    if style == "fr_long":
        return f"{value.day} {_MONTHS['fr'][value.month - 1]} {value.year}"
    if style == "dmy_dash":
        return value.strftime("%d-%m-%Y")
    if style == "dmy_dot_short":
        return value.strftime("%d.%m.%y")
    if style == "dmy_dot_nopad":
        return f"{value.day}.{value.month}.{value.year}"
    if style == "en_dmy_long":
        return f"{value.day} {_MONTHS['en'][value.month - 1]} {value.year}"
    if style == "en_dash":
        return f"{value.day:02d}-{_MONTHS['en'][value.month - 1][:3]}-{value.year}"
    if style == "nl_long":
        return f"{value.day} {_MONTHS['nl'][value.month - 1]} {value.year}"
    if style == "es_long":
        return f"{value.day} de {_MONTHS['es'][value.month - 1]} de {value.year}"
    if style == "it_long":
        return f"{value.day} {_MONTHS['it'][value.month - 1]} {value.year}"
    raise ValueError(f"unknown date style {style!r}")


def fmt_iban(iban: str, grouped: bool) -> str:
    """IBANs are usually printed in groups of four; some layouts print them unbroken."""
    if not grouped:
        return iban
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
