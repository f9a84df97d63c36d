"""Map OASIS UBL 2.1 Invoice and CreditNote e-invoices (EN 16931, Peppol BIS, XRechnung) to AP fields.

Paths follow the EN 16931 UBL binding; ``{*}`` stands for the cac/cbc namespaces, which the root
namespace has already fixed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from extractors.einvoice.cii import per_unit
from extractors.einvoice.model import EInvoice, currency_code, doc_type_for
from extractors.einvoice.values import clean_text, decimal_of, iban, iso_date_of, required, tax_id, text
from extractors.einvoice.xmlsafe import NS_UBL_CREDIT_NOTE
from ledgerbot.core.domain import DocType, InvoiceFields, InvoiceLine

# See cii._CREDIT_TRANSFER_MEANS: payment means whose payee account (BT-84) receives the money.
_CREDIT_TRANSFER_MEANS = ("30", "58", "42", "31")


def _p(path: str) -> str:
    return "/".join(f"{{*}}{step}" for step in path.split("/"))


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return None if element is None else element.find(_p(path))


def _findall(element: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if element is None else element.findall(_p(path))


def _seller_name(party: etree._Element | None) -> str | None:
    """BT-27 is the legal registration name; the trading name (BT-28) only stands in for it."""
    return clean_text(_find(party, "PartyLegalEntity/RegistrationName")) or clean_text(
        _find(party, "PartyName/Name")
    )


def _seller_tax_id(party: etree._Element | None) -> str | None:
    """BT-31 (PartyTaxScheme with TaxScheme VAT); falls back to BT-32 (any other tax scheme)."""
    schemes = _findall(party, "PartyTaxScheme")
    for want_vat in (True, False):
        for scheme in schemes:
            is_vat = text(_find(scheme, "TaxScheme/ID")) == "VAT"
            value = text(_find(scheme, "CompanyID"))
            if value and is_vat == want_vat:
                return tax_id(value) if is_vat else value
    return None


def _payee_iban(root: etree._Element) -> str | None:
    means = _findall(root, "PaymentMeans")
    ranked = sorted(means, key=lambda m: text(_find(m, "PaymentMeansCode")) not in _CREDIT_TRANSFER_MEANS)
    for candidate in ranked:
        value = iban(text(_find(candidate, "PayeeFinancialAccount/ID")))
        if value:
            return value
    return None


def _due_date(root: etree._Element) -> date | None:
    """BT-9: cbc:DueDate on an Invoice; a CreditNote carries it on PaymentMeans/PaymentDueDate."""
    due = iso_date_of(_find(root, "DueDate"))
    if due is not None:
        return due
    for means in _findall(root, "PaymentMeans"):
        due = iso_date_of(_find(means, "PaymentDueDate"))
        if due is not None:
            return due
    return None


def _tax_amount(root: etree._Element, currency: str | None) -> Decimal | None:
    """BT-110: the TaxTotal in the document currency (a second TaxTotal may hold BT-111)."""
    totals = _findall(root, "TaxTotal/TaxAmount")
    for amount in totals:
        if amount.get("currencyID") in (currency, None):
            return decimal_of(amount)
    return decimal_of(totals[0]) if totals else None


def _line(line: etree._Element, quantity_tag: str) -> InvoiceLine:
    item = _find(line, "Item")
    price = _find(line, "Price")
    unit_price = decimal_of(_find(price, "PriceAmount"))
    base_quantity = decimal_of(_find(price, "BaseQuantity"))
    if unit_price is not None and base_quantity not in (None, Decimal(0)):
        assert base_quantity is not None
        unit_price = per_unit(unit_price, base_quantity)
    return InvoiceLine(
        description=clean_text(_find(item, "Name")) or clean_text(_find(item, "Description")),
        sku=text(_find(item, "SellersItemIdentification/ID"))
        or text(_find(item, "StandardItemIdentification/ID")),
        quantity=decimal_of(_find(line, quantity_tag)),
        unit_price=unit_price,
        amount=decimal_of(_find(line, "LineExtensionAmount")),
    )


def read(root: etree._Element) -> EInvoice:
    """Read a UBL Invoice or CreditNote root element. Required: BT-1, BT-2, BT-3, BT-112 (E303)."""
    credit_note = etree.QName(root).namespace == NS_UBL_CREDIT_NOTE
    root_name = "CreditNote" if credit_note else "Invoice"
    number = text(_find(root, "ID"))
    required(number, f"{root_name}/ID", "BT-1")
    type_tag = "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode"
    type_code = text(_find(root, type_tag))
    required(type_code, f"{root_name}/{type_tag}", "BT-3")
    assert type_code is not None
    issue_date = iso_date_of(_find(root, "IssueDate"))
    required(issue_date, f"{root_name}/IssueDate", "BT-2")
    monetary = _find(root, "LegalMonetaryTotal")
    grand_total = _find(monetary, "TaxInclusiveAmount")
    total = decimal_of(grand_total)
    required(total, "LegalMonetaryTotal/TaxInclusiveAmount", "BT-112")
    # Same rule as CII: an empty BT-5 falls back to the grand total's currencyID, else null.
    currency = currency_code(
        text(_find(root, "DocumentCurrencyCode"))
        or (grand_total.get("currencyID") if grand_total is not None else None),
        f"{root_name}/DocumentCurrencyCode",
    )

    party = _find(root, "AccountingSupplierParty/Party")
    fields = InvoiceFields(
        vendor_name=_seller_name(party),
        vendor_tax_id=_seller_tax_id(party),
        vendor_iban=_payee_iban(root),
        invoice_number=number,
        invoice_date=issue_date,
        due_date=_due_date(root),
        po_number=text(_find(root, "OrderReference/ID")),
        currency=currency,
        subtotal=decimal_of(_find(monetary, "TaxExclusiveAmount")),
        tax_amount=_tax_amount(root, currency),
        total=total,
    )
    line_tag, quantity_tag = (
        ("CreditNoteLine", "CreditedQuantity") if credit_note else ("InvoiceLine", "InvoicedQuantity")
    )
    lines = [_line(line, quantity_tag) for line in _findall(root, line_tag)]
    # The UBL CreditNote root is a credit note whatever its type code says (it may carry 381,
    # 396, or a non-standard code); an Invoice root follows BT-3.
    doc_type = doc_type_for(type_code, f"{root_name}/{type_tag}")
    if credit_note:
        doc_type = DocType.CREDIT_NOTE
    profile = text(_find(root, "CustomizationID")) or "unknown"
    return EInvoice(
        syntax="ubl", profile=profile, type_code=type_code, doc_type=doc_type, fields=fields, lines=lines
    )
