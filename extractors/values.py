"""Shared value types (amount, quantity, date, IBAN, VAT id, currency, text) defined once for every extractor.

Templates name a type (``type: amount``) instead of carrying their own regexes, and the generic
extractor finds candidates with the same patterns, so "what is a German amount" is answered in
exactly one place. Each type has a ``pattern`` that finds candidates in a line of text and a
``parse`` that turns one candidate into its normal form (``Decimal``, ``date``, ``str``) or
``None`` when the text is not a valid value of that type.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from stdnum import numdb

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
# A currency glued to the amount after it is that one's ("-584,90 €-111,13"), not a trailing one.
_NUM = r"\d{1,3}(?:[.,'\u202f\u00a0 ]\d{3})+(?:[.,]\d{1,4})?|\d+(?:[.,]\d{1,4})?"
_CUR = r"(?:[€$£¥]|US\$|EUR|USD|GBP|CHF)"
AMOUNT_PATTERN = re.compile(
    rf"(?<![\w.,/-])(?:\(\s*)?(?:[-−–]\s?)?(?:{_CUR}\s?)?[-−–]?(?:{_NUM})(?:\s?{_CUR}(?![-−–]?\d))?(?:\s*\))?-?(?![\w/%]|[.,]\d|\s?%)"
)


def parse_amount(text: str, decimal_sep: DecimalSep | None = None) -> Decimal | None:
    """``"1.234,56 €"`` / ``"1,234.56"`` / ``"1 234,56"`` / ``"(12.00)"`` / ``"12.00-"`` -> Decimal.

    With ``decimal_sep`` unknown, the last separator followed by 1-2 digits (or exactly 4) is
    the decimal mark and a lone separator followed by exactly three digits is grouping
    ("1,234" is one thousand two hundred and thirty-four); a template that knows better says so.
    """
    return _parse_amount(text, decimal_sep)


@lru_cache(maxsize=65536)
def _parse_amount(text: str, decimal_sep: DecimalSep | None) -> Decimal | None:
    # Cached: the table reader asks about the same words many times over (a row is tried as a
    # header, as a body row and as an item), and a Decimal is immutable.
    s = text.strip()
    if not s:
        return None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    # A code may be glued to the digits ("CHF11.732,53"), so letters, not word ends, delimit it.
    s = re.sub(r"[€$£¥]|US\$|(?<![A-Za-z])(?:EUR|USD|GBP|CHF)(?![A-Za-z])", "", s).strip()
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


CURRENCY_PATTERN = re.compile(r"(?<![A-Za-z])(?:[A-Z]{3}|US\$|[€$£¥])(?![A-Za-z])")


def parse_currency(text: str) -> str | None:
    """A symbol, ISO code or name -> ISO 4217 code (``"€"`` -> ``"EUR"``)."""
    s = text.strip()
    if s.upper() in ISO_CURRENCIES:
        return s.upper()
    if s in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[s]
    return _CURRENCY_NAMES.get(s.lower())


# VAT ids name Greece "EL"; ISO 3166 and the currency tables call it "GR".
_VAT_COUNTRY = {"EL": "GR"}


@lru_cache(maxsize=64)
def country_currency(country: str) -> str | None:
    """The currency a country (ISO 3166 code, or a VAT id's prefix) pays in today: "DE" -> "EUR".

    From the CLDR tables of babel; None for an unknown code or one outside ``ISO_CURRENCIES``.
    """
    from babel.numbers import get_territory_currencies  # CLDR data loads on first use only

    code = _VAT_COUNTRY.get(country.upper(), country.upper())
    try:
        current = get_territory_currencies(code)
    except Exception:  # babel raises its own errors for codes it does not know
        return None
    return current[0] if current and current[0] in ISO_CURRENCIES else None


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
        "january jan januar jän janv janvier jänner januari enero ene gennaio gen",
        "february feb februar févr fevr fév fev février fevrier februari febrero febbraio",
        "march mar märz mär maerz mars mrz mrt maart marzo",
        "april apr avril avr abril abr aprile",
        "may mai mei mayo maggio mag",
        "june jun juni juin junio giugno giu",
        "july jul juli juillet juil julio luglio lug",
        "august aug août aout augustus agosto ago",
        "september sep sept septembre septiembre setiembre settembre set",
        "october oct oktober okt octobre octubre ottobre ott",
        "november nov novembre noviembre",
        "december dec dez dezember décembre decembre déc diciembre dicembre dic",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

# 14 March 2026 / 14th of March 2026 / 1er mars 2026 / 14-Mar-26 / 14/Mar/2026 / OCR's "9. März.2026"
# / 14 de febrero de 2025 / 1º de mayo del 2025 / 6 gennaio 2026 / 14 maart 2026
_DAY_MONTH_YEAR = (
    rf"(\d{{1,2}})(?:st|nd|rd|th|er|º|°)?\.?(?:\s+of\s+|\s+de\s+|\s+|[-/.])({_MONTH_RE})"
    rf"(?:\s+del?\s+|[\s.,/\-]*)(\d{{4}}|\d{{2}})"
)
# March 14, 2026 / Mar-14-2026 / as OCR glues them: "May10, 2026", "Oct 3,2025"
_MONTH_DAY_YEAR = (
    rf"({_MONTH_RE})\.?(?:\s+|[-/]|(?=\d))(\d{{1,2}})(?:st|nd|rd|th)?"
    rf"(?:,?\s+|,?[-/]|,(?=\d{{4}}))(\d{{4}}|\d{{2}})"
)

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


# Years a business document dates itself in; "00990811" is a number, not the 11th of August 99.
_YEARS = range(1900, 2200)


def parse_date(text: str, order: DateOrder | None = None) -> date | None:
    """ISO, numeric (day-first unless ``order`` says MDY) and EN/DE/FR/NL/ES/IT month names -> date."""
    value = _parse_date(text, order)
    return value if value is not None and value.year in _YEARS else None


def _parse_date(text: str, order: DateOrder | None) -> date | None:
    s = text.strip().rstrip(".,").lower()
    try:
        if m := re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", s):
            return date(int(m[1]), int(m[3]), int(m[4]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s):
            if int(m[1]) in _YEARS:
                return date(int(m[1]), int(m[2]), int(m[3]))
            # "27032018": a numeric date whose separators OCR did not see (the year last; the
            # two orders never both fit, since a year's first digits are no month).
            a, b, year = int(s[:2]), int(s[2:4]), int(s[4:])
            return date(year, a, b) if order == "MDY" else date(year, b, a)
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


# Two-digit years as POSIX strptime's %y reads them: 69-99 are 1969-1999, 00-68 are 2000-2068.
_CENTURY_PIVOT = 69


def _year(text: str) -> int:
    year = int(text)
    if year >= 100:
        return year
    return year + (1900 if year >= _CENTURY_PIVOT else 2000)


# --- IBAN ------------------------------------------------------------------------------------

# The IBAN registry (country -> BBAN structure) comes from python-stdnum, which keeps it in step
# with SWIFT's; a printed IBAN must fit its country's structure as well as pass mod-97.
_IBAN_REGISTRY = numdb.get("iban")
_BBAN_PART = re.compile(r"(\d+)!([nac])")
IBAN_PATTERN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# Printed IBANs are grouped by spaces, sometimes dots or hyphens, and OCR adds stray marks or
# reads look-alike characters ("NLO7 ABNA ..."); the loose form finds all of them and
# ``find_ibans`` trims each back to the longest valid IBAN. OCR may glue the label to the IBAN
# ("IBANDE61 0743 ...") and read a "J" as ")" ("9A4) OMT").
_LOOSE_IBAN = re.compile(
    r"(?:(?<![A-Za-z0-9])|(?<=IBAN))[A-Z]{2}[0-9OoDQIl|ZSB]{2}(?:[ .\-]?[A-Za-z0-9|)]){10,34}(?![A-Za-z0-9])"
)
# What OCR reads for a digit, and for a capital letter, in print.
_AS_DIGIT = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "i": "1", "|": "1",
                           "Z": "2", "z": "2", "S": "5", "s": "5", "G": "6", "B": "8"})  # fmt: skip
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G", ")": "J"})


@lru_cache(maxsize=128)
def iban_structure(country: str) -> str | None:
    """The character class of every position after the check digits ("n", "a" or "c"), or None.

    ``iban_structure("NL") == "aaaannnnnnnnnn"``; a code that is no IBAN country gives None.
    """
    info = _IBAN_REGISTRY.info(country.upper())
    bban = info[0][1].get("bban") if info and info[0][0] == country.upper() else None
    if not bban:
        return None
    return "".join(cls * int(n) for n, cls in _BBAN_PART.findall(bban))


def iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def _iban_shape(text: str, *, repair: bool) -> str | None:
    """``text`` as a compact IBAN that fits its country's structure (check digits not checked).

    With ``repair``, characters OCR confuses are put back where the structure asks for the other
    class ("NLO7" -> "NL07", "GB29 NW8K" -> "GB29NWBK"); without, the text must fit as printed.
    """
    s = re.sub(r"[\s.\-]", "", text)
    if s[:4].upper() == "IBAN":
        s = s[5:] if s[4:5] == ":" else s[4:]
    structure = iban_structure(s[:2])
    if structure is None:
        # A country outside the registry: the printed form must look like an IBAN as it is, in
        # capitals and digits set whole or in groups ("RK21012345 du 16-09-2013", a number and
        # a date, is none).
        upper = s.upper()
        printed = re.sub(r"^\s*IBAN:?\s*", "", text, flags=re.IGNORECASE)
        if re.search(r"[a-z.\-]", printed):
            return None
        return upper if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", upper) else None
    if len(s) != 4 + len(structure):
        return None
    out = [s[0], s[1]]
    for char, cls in zip(s[2:], "nn" + structure, strict=True):
        if cls == "n" and not char.isdigit() and repair:
            char = char.translate(_AS_DIGIT)
        elif cls == "a" and not char.isalpha() and repair:
            char = char.translate(_AS_LETTER)
        elif cls == "c" and char == ")" and repair:
            char = "J"  # no IBAN prints a bracket: the hook of a "J"
        char = char.upper() if cls != "n" else char
        ok = char.isdigit() if cls == "n" else char.isalpha() if cls == "a" else char.isalnum()
        if not ok or not char.isascii():
            return None
        out.append(char)
    return "".join(out)


def parse_iban(text: str) -> str | None:
    """An IBAN with or without spaces -> compact upper-case form, only if it fits and passes mod-97."""
    s = _iban_shape(text.upper(), repair=False)
    return s if s is not None and iban_checksum_ok(s) else None


def repair_iban(text: str) -> str | None:
    """An IBAN OCR misread in look-alike characters, put back only when mod-97 then holds.

    Where the structure allows letters and digits alike (a French or Italian account number),
    the class cannot tell "0" from "O": the one look-alike swap after which mod-97 holds is
    taken when exactly one does; rarer slips ("A" read "4", "Q" read "O", also where the
    structure asks for a letter) only where no common one is confirmed.
    """
    s = _iban_shape(text, repair=True)
    if s is None:
        return None
    if iban_checksum_ok(s):
        return s
    structure = iban_structure(s[:2]) or ""
    # The commonest confusions first; the rarer ones only where none of those is confirmed, so
    # that they never make a confirmed reading ambiguous.
    for look_alike, classes in _SWAP_TIERS:
        swaps = {
            s[:i] + other + s[i + 1 :]
            for i, (c, cls) in enumerate(zip(s[4:], structure, strict=False), start=4)
            if cls in classes
            for other in look_alike.get(c, "")
        }
        valid = [v for v in swaps if iban_checksum_ok(v)]
        if valid:
            return valid[0] if len(valid) == 1 else None
    return None


def repair_doubtful_iban(text: str, doubtful: Callable[[int], bool]) -> str | None:
    """An IBAN misread in look-alike characters that ``repair_iban`` cannot settle, put back
    where OCR was unsure of what it read: ``doubtful(i)`` says whether ``text[i]`` stands in a
    word read with little confidence. One swap there that mod-97 confirms, where the whole
    account number allows several ("4S8K 7UQO": "S" or "O" either way), or else two in such
    words, each the only reading that holds."""
    s = _iban_shape(text, repair=True)
    structure = iban_structure(s[:2]) if s is not None else None
    if s is None or structure is None or iban_checksum_ok(s):
        return None
    # Where each character of the compact IBAN stands in the printed text.
    at = [i for i, c in enumerate(text) if not re.fullmatch(r"[\s.\-]", c)]
    if text[:4].upper() == "IBAN":
        at = at[5:] if text[4:5] == ":" else at[4:]
    if len(at) != len(s):
        return None
    for look_alike, classes in _SWAP_TIERS:
        places = [
            (i, other)
            for i, cls in enumerate(structure, start=4)
            if cls in classes and doubtful(at[i])
            for other in look_alike.get(s[i], "")
        ]
        for count in (1, 2):
            valid = set()
            for swaps in itertools.combinations(places, count):
                if len({i for i, _ in swaps}) < count:
                    continue
                read = list(s)
                for i, other in swaps:
                    read[i] = other
                if iban_checksum_ok(candidate := "".join(read)):
                    valid.add(candidate)
            if valid:
                return valid.pop() if len(valid) == 1 else None
    return None


def iban_guessed(text: str, iban: str) -> bool:
    """True when ``iban`` is no plain reading of ``text`` but the one look-alike swap the check
    digits accepted (``repair_iban``): a guess, however likely, that a clerk should confirm."""
    return _iban_shape(text, repair=True) != iban


# Characters print and OCR confuse, each with its look-alike of the other class.
_LOOK_ALIKE = {"0": "O", "O": "0", "1": "I", "I": "1", "2": "Z", "Z": "2", "5": "S", "S": "5", "8": "B",
               "B": "8", "6": "G", "G": "6"}  # fmt: skip
# Rarer slips: "A" and "4", and letters OCR reads for one another (where the structure asks for
# a letter, a bank code of letters such as the Dutch or the Irish one reads as one either way):
# "Q", "D" and "O", and "J" read as the "I" it differs from by its hook.
_RARER_LOOK_ALIKE = {"4": "A", "A": "4", "O": "QD", "Q": "O", "D": "O", "I": "J", "J": "I"}
_SWAP_TIERS = ((_LOOK_ALIKE, "c"), (_RARER_LOOK_ALIKE, "ac"))


def _iban_stops(text: str, start: int, end: int) -> Iterator[int]:
    """Where an IBAN starting at ``start`` may end, longest first: at a character that ends a word
    or a group, never inside a run that goes on."""
    for stop in range(end, start + 13, -1):
        if text[stop - 1].isalnum() and (stop == len(text) or not text[stop].isalnum() or stop == end):
            yield stop


def _scan_ibans(
    text: str, read: Callable[[str, int, int], tuple[int, str] | None]
) -> Iterator[tuple[tuple[int, int], str]]:
    """Every (span, IBAN) that ``read`` takes from a loose match: (its end, its value) or None."""
    position = 0
    while match := _LOOSE_IBAN.search(text, position):
        start, end = match.span()
        found = read(text, start, end)
        if found is not None:
            yield (start, found[0]), found[1]
            position = found[0]
        else:
            position = start + 1


def _valid_iban_at(text: str, start: int, end: int) -> tuple[int, str] | None:
    for parse in (parse_iban, repair_iban):
        for stop in _iban_stops(text, start, end):
            value = parse(text[start:stop])
            if value is not None:
                return stop, value
    return None


def _unchecked_iban_at(text: str, start: int, end: int) -> tuple[int, str] | None:
    for stop in _iban_stops(text, start, end):
        if stop != end and text[stop] not in " ,;)":
            continue
        value = _iban_shape(text[start:stop], repair=True)
        # Without check digits that hold, only a country's own IBAN structure vouches for it: a
        # code such as "QX48 7ABC..." from outside the registry is no IBAN (an article number).
        if value is not None and iban_structure(value[:2]) is not None and not iban_checksum_ok(value):
            return stop, value
    return None


def find_ibans(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """Every (span, IBAN) in ``text``: the longest checksum-valid prefix of each loose match.

    "IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFF" first matches up to "BIC"; cutting back a
    character at a time finds the 22 characters whose mod-97 check holds. A match that fails as
    printed is tried with OCR look-alikes put back ("NLO7 ABNA ..."); the check digits confirm it.
    """
    return _scan_ibans(text, _valid_iban_at)


def find_doubtful_ibans(text: str, doubtful: Callable[[int], bool]) -> Iterator[tuple[tuple[int, int], str]]:
    """Every (span, IBAN) that ``find_ibans`` cannot settle and ``repair_doubtful_iban`` puts
    back from the look-alikes in words OCR was unsure of (``doubtful(i)`` for ``text[i]``)."""

    def read(text: str, start: int, end: int) -> tuple[int, str] | None:
        if _valid_iban_at(text, start, end) is not None:
            return None
        for stop in _iban_stops(text, start, end):
            value = repair_doubtful_iban(text[start:stop], lambda i: doubtful(start + i))
            if value is not None:
                return stop, value
        return None

    return _scan_ibans(text, read)


def find_unchecked_ibans(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """IBANs as printed that fit their country's structure but fail mod-97 (a typo on the page).

    Only whole words or groups count ("DE75 1234 ... 34," but not the first 22 characters of a
    longer number); a reader reports such an IBAN as printed with low confidence, so a clerk
    checks it against the vendor master.
    """
    return _scan_ibans(text, _unchecked_iban_at)


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
# German tax numbers (Steuernummer), which a German invoice prints where the vendor has no VAT id,
# in the forms the states give them out: "181/815/08155", "21/815/08150", "133/8150/8159",
# "22/815/0815/4", "93815/08152". No country prefix either: as with EINs, the label and the
# ranker tell them from other numbers; they are kept as printed.
DE_TAX_NUMBER_PATTERN = re.compile(r"(?<![\w/.-])(?:\d{2,3}/\d{3,4}/\d{4,5}(?:/\d)?|\d{5}/\d{5})(?![\w/-])")
TAX_ID_PATTERN = re.compile(f"{VAT_PATTERN.pattern}|{EIN_PATTERN.pattern}|{DE_TAX_NUMBER_PATTERN.pattern}")


def parse_tax_id(text: str) -> str | None:
    """A VAT id (compact form), a US EIN (``12-3456789``) or a German tax number (as printed)."""
    s = text.strip()
    if EIN_PATTERN.fullmatch(s) or DE_TAX_NUMBER_PATTERN.fullmatch(s):
        return s
    return parse_vat_id(s)


_VAT_START = re.compile(r"\b(?:" + "|".join(sorted(_VAT_FORMATS)) + r"|EL)(?=[ ]?[A-Z0-9])")
_VAT_BODY = re.compile(r"[ ]?[A-Z0-9][A-Z0-9 .]{6,16}[A-Z0-9]\b")


def find_vat_ids(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """Every VAT id in ``text``: at each country prefix, the longest run of its grouped
    characters that fits the country's format, ending at a word's end.

    The pattern alone runs on into the next word ("DE123456789 IBAN DE28..." as one match that
    fits no format), so each shorter ending is tried before the prefix is given up.
    """
    pos = 0
    while (start := _VAT_START.search(text, pos)) is not None:
        body = _VAT_BODY.match(text, start.end())
        found = None
        if body is not None:
            chunk = text[start.start() : body.end()]
            for end in range(len(chunk), 9, -1):
                if not chunk[end - 1].isalnum() or (end < len(chunk) and chunk[end].isalnum()):
                    continue
                value = parse_vat_id(chunk[:end])
                if value is not None:
                    found = ((start.start(), start.start() + end), value)
                    break
        if found is None:
            pos = start.start() + 1
            continue
        yield found
        pos = found[0][1]


def find_tax_ids(text: str) -> Iterator[tuple[tuple[int, int], str]]:
    """VAT ids, US EINs and German tax numbers in ``text``, left to right."""
    national = [
        (m.span(), m.group(0)) for regex in (EIN_PATTERN, DE_TAX_NUMBER_PATTERN) for m in regex.finditer(text)
    ]
    yield from sorted([*find_vat_ids(text), *national])


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
    "vat_id": ValueType("vat_id", VAT_PATTERN, lambda t, **_: parse_vat_id(t), find_vat_ids),
    "tax_id": ValueType("tax_id", TAX_ID_PATTERN, lambda t, **_: parse_tax_id(t), find_tax_ids),
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


# The days to pay: a lead-in ("innerhalb", "within", "binnen", "a", "Zahlungsziel:"), the number
# and a word for days (EN/DE/FR/NL/ES/IT); or the number and days before "net" or "fecha
# factura" / "data fattura" / "d.f." (counted from the invoice date); or "Net 30".
_DAY_WORDS = r"(?:tagen?|tage|kalendertagen|days?|jours?|dagen|d[ií]as|giorni|gg)"
_TERM_DAYS = re.compile(
    r"(?:innerhalb(?:\s+von)?|binnen|zahlbar\s+in|within|payable\s+in|net|netto|sous|dans\s+un\s+d[ée]lai\s+de"
    r"|[àa]|zahlungsziel:?|zahlungsbedingungen:?|zahlungsfrist:?|payment\s+terms:?|terms:?"
    r"|conditions\s+de\s+paiement\s*:?|betalingstermijn:?|betalingsvoorwaarden:?|plazo(?:\s+de\s+pago)?:?"
    r"|condiciones\s+de\s+pago:?|termini\s+di\s+pagamento:?|condizioni\s+di\s+pagamento:?)\s+(\d{1,3})\s*"
    + _DAY_WORDS
    + r"\b"
    r"|\b(\d{1,3})\s+(?:tage|days|jours|dagen|d[ií]as|giorni|gg)\s+(?:netto|net|ohne\s+abzug|rein\s+netto"
    r"|fecha\s+(?:de\s+)?factura|f\.\s?f\.|data\s+fattura|d\.\s?f\.)"
    r"|\bnet\s+(\d{1,3})\b",
    re.IGNORECASE,
)
# "30 jours fin de mois", "30 days end of month": the period ends at a month's end, not N days on.
_MONTH_END = re.compile(
    r"\s*(?:fin\s+de\s+mois|end\s+of\s+(?:the\s+)?month|eom|nach\s+monatsende|zum\s+monatsende"
    r"|fin\s+de\s+mes|fine\s+mese|(?:d\.\s?f\.\s?)?f\.\s?m\.|einde\s+(?:van\s+de\s+)?maand)",
    re.I,
)
# The line must speak of paying: "Lieferung innerhalb 3 Tagen" is a delivery term.
_PAYMENT_WORDS = re.compile(
    r"zahl|bezahl|überweis|ueberweis|fällig|faellig|netto|skonto|pay|due|net\b|terms|paiement|payer|règlement"
    r"|reglement|échéance|betaling|betalen|vervaldag|\bpago|pagar|vencimiento|pagamento|pagare|scadenza"
    r"|bonifico",
    re.IGNORECASE,
)
# A term that grants a cash discount ("14 Tage 2 % Skonto") is not when the invoice falls due.
_DISCOUNT = re.compile(
    r"^[^.\n;]{0,25}?(?:%|skonto|rabatt|discount|escompte|korting|descuento|sconto)", re.IGNORECASE
)


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
