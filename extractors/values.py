"""Shared value types (amount, quantity, date, IBAN, VAT id, currency, text) defined once for every extractor.

Templates name a type (``type: amount``) instead of carrying their own regexes, and the generic
extractor finds candidates with the same patterns, so "what is a German amount" is answered in
exactly one place. Each type has a ``pattern`` that finds candidates in a line of text and a
``parse`` that turns one candidate into its normal form (``Decimal``, ``date``, ``str``) or
``None`` when the text is not a valid value of that type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

DateOrder = Literal["DMY", "MDY", "YMD"]
DecimalSep = Literal[".", ","]

# --- amounts ---------------------------------------------------------------------------------

_CURRENCY_SYMBOLS: dict[str, str] = {
    "€": "EUR",
    "$": "USD",
    "US$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "CHF": "CHF",
    "Fr.": "CHF",
    "kr": "SEK",
    "zł": "PLN",
    "Kč": "CZK",
}
# ISO 4217 codes an AP desk in Europe plausibly meets; unknown three-letter words are not currencies.
ISO_CURRENCIES = frozenset(
    (
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "JPY",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "HKD",
        "SGD",
        "INR",
        "ZAR",
        "TRY",
        "MXN",
        "BRL",
    )
)
_CURRENCY_NAMES: dict[str, str] = {
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "sterling": "GBP",
    "franken": "CHF",
}

# An amount: optional sign / parentheses, optional currency before or after, digits with
# optional grouping (",", ".", space, thin space, apostrophe) and an optional 1-4 digit fraction.
_NUM = r"\d{1,3}(?:[.,'\u202f\u00a0 ]\d{3})+(?:[.,]\d{1,4})?|\d+(?:[.,]\d{1,4})?"
_CUR = r"(?:[€$£¥]|US\$|EUR|USD|GBP|CHF)"
AMOUNT_PATTERN = re.compile(
    rf"(?<![\w.,/-])(?:\(\s*)?(?:[-−–]\s?)?(?:{_CUR}\s?)?[-−–]?(?:{_NUM})(?:\s?{_CUR})?(?:\s*\))?-?(?![\w/%]|[.,]\d|\s?%)"
)


def parse_amount(text: str, decimal_sep: DecimalSep | None = None) -> Decimal | None:
    """``"1.234,56 €"`` / ``"1,234.56"`` / ``"1 234,56"`` / ``"(12.00)"`` / ``"12.00-"`` -> Decimal.

    With ``decimal_sep`` unknown, the last separator followed by 1-2 digits (or exactly 4) is
    the decimal mark and a lone separator followed by exactly three digits is grouping
    ("1,234" is one thousand two hundred and thirty-four); a template that knows better says so.
    """
    s = text.strip()
    if not s:
        return None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    s = re.sub(r"[€$£¥]|US\$|\b(?:EUR|USD|GBP|CHF)\b", "", s).strip()
    if s[:1] in "-−–":
        negative, s = True, s[1:].strip()
    if s.endswith("-"):
        negative, s = True, s[:-1].strip()
    s = s.replace("\u202f", " ").replace("\u00a0", " ").replace("'", " ")
    if not s or not re.fullmatch(r"[\d., ]+", s) or not s[0].isdigit() or not s[-1].isdigit():
        return None
    if " " in s:
        groups = s.split(" ")
        if not all(len(g) == 3 for g in groups[1:-1]):
            return None
        last = groups[-1]
        tail = re.match(r"^(\d{3})([.,]\d+)?$", last)
        if not tail or len(groups[0].replace(".", "").replace(",", "")) > 3:
            return None
        s = "".join(groups)
    seps = [c for c in s if c in ".,"]
    if decimal_sep is None:
        decimal_sep = _guess_decimal_sep(s, seps)
    group_sep = "," if decimal_sep == "." else "."
    if s.count(decimal_sep) > 1:
        return None
    whole, _, frac = s.partition(decimal_sep)
    if group_sep in whole:
        parts = whole.split(group_sep)
        if not (1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])):
            return None
        whole = "".join(parts)
    if group_sep in frac:
        return None
    try:
        value = Decimal(f"{whole}.{frac}" if frac else whole)
    except InvalidOperation:
        return None
    return -value if negative else value


def _guess_decimal_sep(s: str, seps: list[str]) -> DecimalSep:
    if not seps:
        return "."
    last = seps[-1]
    if len(set(seps)) == 2:
        return "," if last == "," else "."
    digits_after = len(s) - s.rfind(last) - 1
    if len(seps) > 1:  # "1.234.567" — the same mark repeated is grouping
        return "," if last == "." else "."
    if digits_after == 3 and not re.match(r"0[.,]", s):
        # "1.000" is grouping, but "0.025" is not: no grouped number starts with a zero group.
        return "," if last == "." else "."
    return "," if last == "," else "."


def format_money(value: Decimal) -> str:
    return format(value, "f")


# --- currency --------------------------------------------------------------------------------

CURRENCY_PATTERN = re.compile(r"(?<![A-Za-z])(?:[A-Z]{3}|US\$|[€$£¥])(?![A-Za-z])")


def parse_currency(text: str) -> str | None:
    """A symbol, ISO code or name -> ISO 4217 code (``"€"`` -> ``"EUR"``)."""
    s = text.strip()
    if s.upper() in ISO_CURRENCIES:
        return s.upper()
    if s in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[s]
    return _CURRENCY_NAMES.get(s.lower())


def find_currency(text: str) -> str | None:
    """The first currency mentioned in a piece of text, if any."""
    for match in CURRENCY_PATTERN.finditer(text):
        code = parse_currency(match.group(0))
        if code:
            return code
    return None


# --- dates -----------------------------------------------------------------------------------

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan januar janv janvier jänner",
        "february feb februar févr fevr février fevrier",
        "march mar märz maerz mars mrz",
        "april apr avril avr",
        "may mai",
        "june jun juni juin",
        "july jul juli juillet juil",
        "august aug août aout",
        "september sep sept septembre",
        "october oct oktober okt octobre",
        "november nov novembre",
        "december dec dez dezember décembre decembre déc",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

# 14 March 2026 / 14th of March 2026 / 1er mars 2026 / 14-Mar-26 / 14/Mar/2026 / OCR's "9. März.2026"
_DAY_MONTH_YEAR = (
    rf"(\d{{1,2}})(?:st|nd|rd|th|er)?\.?(?:\s+of\s+|\s+|[-/.])({_MONTH_RE})[\s.,/\-]*(\d{{4}}|\d{{2}})"
)
# March 14, 2026 / Mar-14-2026
_MONTH_DAY_YEAR = rf"({_MONTH_RE})\.?(?:\s+|[-/])(\d{{1,2}})(?:st|nd|rd|th)?,?(?:\s+|[-/])(\d{{4}}|\d{{2}})"

DATE_PATTERN = re.compile(
    rf"(?<![\w.])(?:"
    rf"\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}"  # ISO, and year-first with slashes or dots
    rf"|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}"  # numeric D/M/Y or M/D/Y
    rf"|{_DAY_MONTH_YEAR}"
    rf"|{_MONTH_DAY_YEAR}"
    rf"|\d{{8}}"  # 20260314 (CII style)
    rf")(?![\w])",
    re.IGNORECASE,
)


def parse_date(text: str, order: DateOrder | None = None) -> date | None:
    """ISO, numeric (day-first unless ``order`` says MDY) and EN/DE/FR month names -> date."""
    s = text.strip().rstrip(".,").lower()
    try:
        if m := re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", s):
            return date(int(m[1]), int(m[3]), int(m[4]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})", s):
            a, b, year = int(m[1]), int(m[2]), _year(m[3])
            if order == "MDY":
                return date(year, a, b)
            if order is None and a <= 12 < b:
                # Unambiguous month-first date: a document that says 03/14/2026 means March.
                return date(year, a, b)
            return date(year, b, a)
        if m := re.fullmatch(_DAY_MONTH_YEAR, s):
            return date(_year(m[3]), MONTHS[m[2]], int(m[1]))
        if m := re.fullmatch(_MONTH_DAY_YEAR, s):
            return date(_year(m[3]), MONTHS[m[1]], int(m[2]))
    except ValueError:
        return None
    return None


_NUMERIC_DATE = re.compile(r"(?<![\w.,/-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|[.,]\d)")


def numeric_date_order(text: str) -> DateOrder | None:
    """The day/month order a document's numeric dates use, when one of them gives it away.

    "14/03/2026" can only be day-first and "03/14/2026" only month-first; a document prints all
    its dates one way, so such a date also decides how to read "03/04/2026" elsewhere on it.
    None when no date decides, or when the document contradicts itself.
    """
    day_first = month_first = False
    for match in _NUMERIC_DATE.finditer(text):
        a, b = int(match[1]), int(match[3])
        day_first |= 12 < a <= 31 and 1 <= b <= 12
        month_first |= 12 < b <= 31 and 1 <= a <= 12
    if day_first == month_first:
        return None
    return "DMY" if day_first else "MDY"


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


# --- IBAN ------------------------------------------------------------------------------------

_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IT": 27,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
}  # fmt: skip
IBAN_PATTERN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# Printed IBANs are grouped by spaces, sometimes dots or hyphens, and OCR adds stray marks; the
# loose form finds all of them and ``find_ibans`` trims it back to the longest valid IBAN.
_LOOSE_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ .\-]?[A-Z0-9]){10,34}\b")


def iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def parse_iban(text: str) -> str | None:
    """An IBAN with or without spaces -> compact upper-case form, only if mod-97 and length check."""
    s = re.sub(r"[\s.\-]", "", text).upper()
    if s.startswith("IBAN:"):
        s = s[5:]
    elif s.startswith("IBAN"):
        s = s[4:]
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", s):
        return None
    expected = _IBAN_LENGTHS.get(s[:2])
    if expected is not None and len(s) != expected:
        return None
    return s if iban_checksum_ok(s) else None


def find_ibans(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """Every (span, IBAN) in ``text``: the longest checksum-valid prefix of each loose match.

    "IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFF" first matches up to "BIC"; cutting back a
    character at a time finds the 22 characters whose mod-97 check holds.
    """
    position = 0
    while match := _LOOSE_IBAN.search(text, position):
        start, end = match.span()
        found = None
        for stop in range(end, start + 13, -1):
            if text[stop - 1].isalnum() and (stop == len(text) or not text[stop].isalnum() or stop == end):
                value = parse_iban(text[start:stop])
                if value is not None:
                    found = (stop, value)
                    break
        if found is not None:
            yield (start, found[0]), found[1]
            position = found[0]
        else:
            position = start + 1


# --- VAT ids ---------------------------------------------------------------------------------

_VAT_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "CH": r"E\d{9}(?:MWST|TVA|IVA)?",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "GB": r"\d{9}(?:\d{3})?|GD\d{3}|HA\d{3}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LU": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "SE": r"\d{12}",
    "CZ": r"\d{8,10}",
}
VAT_PATTERN = re.compile(
    r"\b(?:" + "|".join(sorted(_VAT_FORMATS)) + r"|EL)[ ]?[A-Z0-9][A-Z0-9 .]{6,16}[A-Z0-9]\b"
)


def parse_vat_id(text: str) -> str | None:
    """A VAT id with optional spaces/dots -> compact form, only if it fits its country's format."""
    s = re.sub(r"[\s.\-]", "", text).upper()
    country, rest = s[:2], s[2:]
    if country == "EL":
        return s if re.fullmatch(r"\d{9}", rest) else None
    fmt = _VAT_FORMATS.get(country)
    if fmt is None or not re.fullmatch(fmt, rest):
        return None
    return s


# US employer identification numbers ("Tax ID 12-3456789") have no country prefix; only a
# label makes them a tax id, so they are a separate pattern from VAT ids.
EIN_PATTERN = re.compile(r"(?<![\w-])\d{2}-\d{7}(?![\w-])")
TAX_ID_PATTERN = re.compile(f"{VAT_PATTERN.pattern}|{EIN_PATTERN.pattern}")


def parse_tax_id(text: str) -> str | None:
    """A VAT id (compact form) or a US EIN (``12-3456789``)."""
    s = text.strip()
    if EIN_PATTERN.fullmatch(s):
        return s
    return parse_vat_id(s)


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueType:
    """One kind of value: how to find candidates in text and how to normalise one."""

    name: str
    pattern: re.Pattern[str]
    parse: Callable[..., Any]
    # A type whose candidates the pattern alone cannot delimit (IBANs) brings its own search.
    search: Callable[[str], Iterator[tuple[tuple[int, int], Any]]] | None = None

    def find(self, text: str, **options: Any) -> Iterator[tuple[tuple[int, int], Any]]:
        """Every (span, normalised value) of this type in ``text``, left to right."""
        if self.search is not None:
            yield from self.search(text)
            return
        for match in self.pattern.finditer(text):
            value = self.parse(match.group(0), **options)
            if value is not None:
                yield match.span(), value


def _parse_text(text: str, **_: Any) -> str | None:
    s = " ".join(text.split()).strip(" :;,")
    return s or None


_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.#-]*\d[A-Za-z0-9/_.#-]*|\d+")


def _parse_identifier(text: str, **_: Any) -> str | None:
    s = text.strip().strip(":#.,;")
    return s if s and any(c.isdigit() for c in s) else None


def _amount(text: str, decimal_sep: DecimalSep | None = None, **_: Any) -> Decimal | None:
    return parse_amount(text, decimal_sep)


def _date(text: str, date_order: DateOrder | None = None, **_: Any) -> date | None:
    return parse_date(text, date_order)


def _quantity(text: str, decimal_sep: DecimalSep | None = None, **_: Any) -> Decimal | None:
    value = parse_amount(text, decimal_sep)
    return value if value is not None and value >= 0 else None


VALUE_TYPES: dict[str, ValueType] = {
    "amount": ValueType("amount", AMOUNT_PATTERN, _amount),
    "quantity": ValueType("quantity", AMOUNT_PATTERN, _quantity),
    "date": ValueType("date", DATE_PATTERN, _date),
    "iban": ValueType("iban", IBAN_PATTERN, lambda t, **_: parse_iban(t), find_ibans),
    "vat_id": ValueType("vat_id", VAT_PATTERN, lambda t, **_: parse_vat_id(t)),
    "tax_id": ValueType("tax_id", TAX_ID_PATTERN, lambda t, **_: parse_tax_id(t)),
    "currency": ValueType("currency", CURRENCY_PATTERN, lambda t, **_: parse_currency(t)),
    "identifier": ValueType("identifier", _ID_PATTERN, _parse_identifier),
    "text": ValueType("text", re.compile(r".+"), _parse_text),
}

# Which value type each header field holds; shared by templates, the generic extractor and eval.
FIELD_TYPES: dict[str, str] = {
    "vendor_name": "text",
    "vendor_tax_id": "tax_id",
    "vendor_iban": "iban",
    "invoice_number": "identifier",
    "invoice_date": "date",
    "due_date": "date",
    "po_number": "identifier",
    "currency": "currency",
    "subtotal": "amount",
    "tax_amount": "amount",
    "total": "amount",
}
LINE_TYPES: dict[str, str] = {
    "description": "text",
    "sku": "identifier",
    "quantity": "quantity",
    "unit_price": "amount",
    "amount": "amount",
}


def parse_value(kind: str, text: str, **options: Any) -> Any:
    """Normalise ``text`` as a value of type ``kind`` (a key of ``VALUE_TYPES``)."""
    return VALUE_TYPES[kind].parse(text, **options)


# Payment terms that state a period instead of a date: "zahlbar innerhalb 30 Tagen netto",
# "30 Tage netto", "Zahlungsziel: 14 Tage", "payable within 30 days", "Net 30", "à 30 jours".
_TERM_DAYS = re.compile(
    r"(?:innerhalb(?:\s+von)?|binnen|zahlbar\s+in|within|payable\s+in|net|netto|sous|dans\s+un\s+d[ée]lai\s+de"
    r"|[àa]|zahlungsziel:?|zahlungsbedingungen:?|zahlungsfrist:?|payment\s+terms:?|terms:?"
    r"|conditions\s+de\s+paiement\s*:?)\s+(\d{1,3})\s*"
    r"(?:tagen?|tage|kalendertagen|days?|jours?)\b"
    r"|\b(\d{1,3})\s+(?:tage|days|jours)\s+(?:netto|net|ohne\s+abzug|rein\s+netto)\b"
    r"|\bnet\s+(\d{1,3})\b",
    re.IGNORECASE,
)
# "30 jours fin de mois", "30 days end of month": the period ends at a month's end, not N days on.
_MONTH_END = re.compile(
    r"\s*(?:fin\s+de\s+mois|end\s+of\s+(?:the\s+)?month|eom|nach\s+monatsende|zum\s+monatsende)", re.I
)
# The line must speak of paying: "Lieferung innerhalb 3 Tagen" is a delivery term.
_PAYMENT_WORDS = re.compile(
    r"zahl|bezahl|überweis|ueberweis|fällig|faellig|netto|skonto|pay|due|net\b|terms|paiement|payer|règlement"
    r"|reglement|échéance",
    re.IGNORECASE,
)
# A term that grants a cash discount ("14 Tage 2 % Skonto") is not when the invoice falls due.
_DISCOUNT = re.compile(r"^[^.\n;]{0,25}?(?:%|skonto|rabatt|discount|escompte)", re.IGNORECASE)


def payment_term_days(text: str) -> int | None:
    """The days the payment terms give for paying in full, or None when the text states none.

    With a discount period and a net period ("14 Tage 2 % Skonto, 30 Tage netto") the net period
    counts; of several net periods the longest.
    """
    days = []
    for line in text.splitlines():
        if not _PAYMENT_WORDS.search(line):
            continue
        for match in _TERM_DAYS.finditer(line):
            n = int(next(g for g in match.groups() if g is not None))
            rest = line[match.end() :]
            if 0 < n <= 180 and not _DISCOUNT.match(rest) and not _MONTH_END.match(rest):
                days.append(n)
    return max(days) if days else None
