"""Strict readers for the XML data types of e-invoices: decimals, dates and text.

E-invoice values are machine-written (xs:decimal, UN/CEFACT date format codes), so they are
parsed strictly and a bad one is an E306 naming the element, instead of the lenient guessing the
visual extractors need (``extractors/values.py``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from extractors.einvoice.errors import INVALID_VALUE, MISSING_ELEMENT, EInvoiceError

# xs:decimal: optional sign, digits with an optional fraction; no exponent, no grouping.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_SPACES = re.compile(r"\s+")
# Read-time bounds, so a hostile value fails here with E306 instead of later (a million-digit
# total overflowed the matcher's decimal context). 15 integer digits cover any real amount or
# quantity (a trillion in any currency); 10 fraction digits cover unit prices and quantities.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10
# Longest text kept from one element: far above any real name, address or line description.
MAX_TEXT_CHARS = 4000


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def describe(element: etree._Element) -> str:
    """A short path naming an element in messages (``ExchangedDocument/IssueDateTime``)."""
    parent = element.getparent()
    own = local_name(element)
    return f"{local_name(parent)}/{own}" if parent is not None else own


def text(element: etree._Element | None) -> str | None:
    """Stripped text of an element, ``None`` when the element is absent or empty."""
    if element is None or element.text is None:
        return None
    if len(element.text) > MAX_TEXT_CHARS * 4:  # before stripping a hostile megabyte
        raise _too_long(element, len(element.text))
    value = element.text.strip()
    if len(value) > MAX_TEXT_CHARS:
        raise _too_long(element, len(value))
    return value or None


def _too_long(element: etree._Element, size: int) -> EInvoiceError:
    return EInvoiceError(
        INVALID_VALUE,
        f"{describe(element)} is {size} characters long, over the limit of {MAX_TEXT_CHARS}",
        element=describe(element),
    )


def clean_text(element: etree._Element | None) -> str | None:
    """Text with runs of whitespace (layout line breaks, tabs) folded to one space."""
    value = text(element)
    return _SPACES.sub(" ", value) if value else None


def decimal_of(element: etree._Element | None) -> Decimal | None:
    """An xs:decimal as ``Decimal`` with the scale written in the XML (``9.9000`` stays so)."""
    raw = text(element)
    if raw is None:
        return None
    assert element is not None
    if not _DECIMAL.fullmatch(raw):
        raise EInvoiceError(
            INVALID_VALUE,
            f"{describe(element)} is not a decimal number: {raw[:40]!r}",
            element=describe(element),
        )
    whole, _, fraction = raw.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
        raise EInvoiceError(
            INVALID_VALUE,
            f"{describe(element)} has {len(whole)} integer and {len(fraction)} fraction digits, over the "
            f"limits of {MAX_INTEGER_DIGITS} and {MAX_FRACTION_DIGITS}",
            element=describe(element),
        )
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid literals
        raise EInvoiceError(INVALID_VALUE, f"{describe(element)}: {raw!r}") from exc


def _make_date(element: etree._Element, raw: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise EInvoiceError(
            INVALID_VALUE, f"{describe(element)} is not a valid date: {raw!r}", element=describe(element)
        ) from exc


def iso_date_of(element: etree._Element | None) -> date | None:
    """A UBL xs:date (``2018-03-05``, an optional time zone is ignored)."""
    raw = text(element)
    if raw is None:
        return None
    assert element is not None
    match = _ISO_DATE.fullmatch(raw)
    if not match:
        raise EInvoiceError(
            INVALID_VALUE, f"{describe(element)} is not an ISO date: {raw!r}", element=describe(element)
        )
    return _make_date(element, raw, *match.groups())


def cii_date_of(element: etree._Element | None) -> date | None:
    """A CII date: ``udt:DateTimeString`` with format 102 (CCYYMMDD) under ``element``.

    Formats 610 (month) and 616 (week) name no day, so they cannot be an invoice or due date and
    are E306 like any unknown format code. A missing format attribute is read as 102 when the
    text has its shape (older ZUGFeRD 1.0 writers omit it); the ZUGFeRD 1.0 release candidate
    puts text and format on the element itself, and some writers put an ISO date-time there.
    """
    if element is None:
        return None
    string = element.find("{*}DateTimeString")
    if string is None:
        string = element
    raw = text(string)
    if raw is None:
        return None
    fmt = string.get("format")
    if fmt in ("102", None) and re.fullmatch(r"\d{8}", raw):
        return _make_date(string, raw, raw[:4], raw[4:6], raw[6:8])
    if fmt is None and _ISO_DATE.fullmatch(raw):
        return iso_date_of(string)
    raise EInvoiceError(
        INVALID_VALUE,
        f"{describe(element)} has date {raw!r} in format {fmt!r}; only 102 (CCYYMMDD) names a day",
        element=describe(element),
    )


def required(value: object, name: str, bt: str) -> None:
    """E303 naming the element (and its EN 16931 business term) when ``value`` is missing."""
    if value is None or value == "":
        raise EInvoiceError(
            MISSING_ELEMENT, f"required element {name} ({bt}) is missing or empty", element=name
        )


def iban(raw: str | None) -> str | None:
    """A payee account as compact IBAN, or ``None`` when the account is not an IBAN at all.

    The checksum is deliberately not enforced here: the e-invoice is the legal document, and a
    wrong IBAN must reach the bank-detail rules as written so they can flag it.
    """
    if not raw:
        return None
    compact = _SPACES.sub("", raw).upper()
    return compact if _IBAN_SHAPE.fullmatch(compact) else None


def tax_id(raw: str | None) -> str | None:
    """A VAT identifier in compact form (spaces inside a VAT id carry no meaning)."""
    return _SPACES.sub("", raw).upper() if raw else None
