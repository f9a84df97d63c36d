"""Map UN/CEFACT CII e-invoices to AP fields: CII D16B (EN 16931, Factur-X, ZUGFeRD 2.x, XRechnung)
and the older ZUGFeRD 1.0 CrossIndustryDocument, which differ only in element names.

Paths use the ``{*}`` namespace wildcard below the root: the root namespace has already decided
the syntax, and ZUGFeRD 1.0 writers are known to mix schema versions of the ``ram``/``udt``
namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from extractors.einvoice.model import EInvoice, currency_code, doc_type_for
from extractors.einvoice.values import (
    cii_date_of,
    clean_text,
    decimal_of,
    iban,
    required,
    tax_id,
    text,
)
from ledgerbot.core.domain import InvoiceFields, InvoiceLine

# Payment means codes (UNTDID 4461) for credit transfers: 30 credit transfer, 58 SEPA credit
# transfer, 42 payment to bank account, 31 debit transfer (used by older ZUGFeRD 1.0 writers for
# plain transfers). Their payee account is where the money goes (BT-84).
_CREDIT_TRANSFER_MEANS = ("30", "58", "42", "31")
# Extended-profile line status codes whose amounts are not part of the invoice totals (a GROUP
# line sums its DETAIL sub-lines; an INFORMATION line is informative only).
_NON_BILLED_LINE_STATUS = frozenset({"GROUP", "INFORMATION"})


@dataclass(frozen=True, slots=True)
class _Paths:
    """Element names that differ between CII D16B and ZUGFeRD 1.0."""

    context: str
    document: str
    transaction: str
    agreement: str
    settlement: str
    summation: str
    order_id: str
    line_agreement: str
    line_delivery: str
    line_settlement: str
    line_summation: str


D16B = _Paths(
    context="ExchangedDocumentContext",
    document="ExchangedDocument",
    transaction="SupplyChainTradeTransaction",
    agreement="ApplicableHeaderTradeAgreement",
    settlement="ApplicableHeaderTradeSettlement",
    summation="SpecifiedTradeSettlementHeaderMonetarySummation",
    order_id="BuyerOrderReferencedDocument/IssuerAssignedID",
    line_agreement="SpecifiedLineTradeAgreement",
    line_delivery="SpecifiedLineTradeDelivery",
    line_settlement="SpecifiedLineTradeSettlement",
    line_summation="SpecifiedTradeSettlementLineMonetarySummation",
)

ZUGFERD1 = _Paths(
    context="SpecifiedExchangedDocumentContext",
    document="HeaderExchangedDocument",
    transaction="SpecifiedSupplyChainTradeTransaction",
    agreement="ApplicableSupplyChainTradeAgreement",
    settlement="ApplicableSupplyChainTradeSettlement",
    summation="SpecifiedTradeSettlementMonetarySummation",
    order_id="BuyerOrderReferencedDocument/ID",
    line_agreement="SpecifiedSupplyChainTradeAgreement",
    line_delivery="SpecifiedSupplyChainTradeDelivery",
    line_settlement="SpecifiedSupplyChainTradeSettlement",
    line_summation="SpecifiedTradeSettlementMonetarySummation",
)


def _p(path: str) -> str:
    """``A/B`` -> ``{*}A/{*}B`` (namespace-agnostic ElementPath)."""
    return "/".join(f"{{*}}{step}" for step in path.split("/"))


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return None if element is None else element.find(_p(path))


def _findall(element: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if element is None else element.findall(_p(path))


def _amount_in(elements: list[etree._Element], currency: str | None) -> Decimal | None:
    """The amount in the invoice currency when an amount is given in several currencies.

    CII repeats TaxTotalAmount for the VAT accounting currency (BT-111); the invoice-currency
    one (BT-110) carries currencyID = BT-5, or no currencyID at all in older writers.
    """
    if not elements:
        return None
    for element in elements:
        if element.get("currencyID") in (currency, None):
            return decimal_of(element)
    return decimal_of(elements[0])


def _seller_tax_id(seller: etree._Element | None) -> str | None:
    """BT-31 seller VAT id (schemeID VA); falls back to BT-32 tax registration (FC)."""
    registrations = _findall(seller, "SpecifiedTaxRegistration/ID")
    for scheme, compact in (("VA", True), ("FC", False)):
        for registration in registrations:
            if registration.get("schemeID") == scheme and text(registration):
                value = text(registration)
                return tax_id(value) if compact else value
    return None


def _payee_iban(settlement: etree._Element | None) -> str | None:
    """BT-84 of a credit-transfer payment means, else of any means that names a payee account."""
    means = _findall(settlement, "SpecifiedTradeSettlementPaymentMeans")
    ranked = sorted(means, key=lambda m: text(_find(m, "TypeCode")) not in _CREDIT_TRANSFER_MEANS)
    for candidate in ranked:
        value = iban(text(_find(candidate, "PayeePartyCreditorFinancialAccount/IBANID")))
        if value:
            return value
    return None


def _due_date(settlement: etree._Element | None) -> date | None:
    """BT-9: the first payment terms that carry a due date."""
    for terms in _findall(settlement, "SpecifiedTradePaymentTerms"):
        due = cii_date_of(_find(terms, "DueDateDateTime"))
        if due is not None:
            return due
    return None


def _line(item: etree._Element, paths: _Paths) -> InvoiceLine | None:
    status = text(_find(item, "AssociatedDocumentLineDocument/LineStatusReasonCode"))
    if status in _NON_BILLED_LINE_STATUS:
        return None
    product = _find(item, "SpecifiedTradeProduct")
    agreement = _find(item, paths.line_agreement)
    net_price = _find(agreement, "NetPriceProductTradePrice")
    quantity = decimal_of(_find(item, f"{paths.line_delivery}/BilledQuantity"))
    amount = decimal_of(_find(item, f"{paths.line_settlement}/{paths.line_summation}/LineTotalAmount"))
    unit_price = decimal_of(_find(net_price, "ChargeAmount"))
    base_quantity = decimal_of(_find(net_price, "BasisQuantity"))
    if unit_price is not None and base_quantity not in (None, Decimal(0)):
        assert base_quantity is not None
        unit_price = per_unit(unit_price, base_quantity)
    description = clean_text(_find(product, "Name")) or clean_text(_find(product, "Description"))
    sku = text(_find(product, "SellerAssignedID")) or text(_find(product, "GlobalID"))
    if quantity is None and amount is None and description is None:
        return None  # a free-text note line (ZUGFeRD 1.0 writers use these for remarks)
    return InvoiceLine(
        description=description, sku=sku, quantity=quantity, unit_price=unit_price, amount=amount
    )


def per_unit(price: Decimal, base_quantity: Decimal) -> Decimal:
    """BT-146 is the price for BT-149 units; AP matching compares prices per single unit."""
    if base_quantity == 1:
        return price  # keep the scale exactly as written
    # Decimal division is exact when it can be (5.00 / 100 = 0.05) and has 28 digits otherwise.
    return price / base_quantity


def read(root: etree._Element, syntax: str) -> EInvoice:
    """Read a CII D16B (``syntax="cii"``) or ZUGFeRD 1.0 (``"zugferd1"``, also its release
    candidate) root element. Required: BT-1, BT-2, BT-3, BT-112 (E303 otherwise)."""
    paths = ZUGFERD1 if syntax == "zugferd1" else D16B
    document = _find(root, paths.document)
    transaction = _find(root, paths.transaction)
    agreement = _find(transaction, paths.agreement)
    settlement = _find(transaction, paths.settlement)
    summation = _find(settlement, paths.summation)
    seller = _find(agreement, "SellerTradeParty")

    number = text(_find(document, "ID"))
    required(number, f"{paths.document}/ID", "BT-1")
    type_code = text(_find(document, "TypeCode"))
    required(type_code, f"{paths.document}/TypeCode", "BT-3")
    assert type_code is not None
    issue_date = cii_date_of(_find(document, "IssueDateTime"))
    required(issue_date, f"{paths.document}/IssueDateTime", "BT-2")
    grand_total = _find(summation, "GrandTotalAmount")
    total = decimal_of(grand_total)
    required(total, f"{paths.summation}/GrandTotalAmount", "BT-112")
    # BT-5 is mandatory, but real ZUGFeRD 1.0 writers leave it empty; the currencyID of the grand
    # total says the same thing, and with neither the currency is unknown (null), not an error.
    currency = currency_code(
        text(_find(settlement, "InvoiceCurrencyCode"))
        or (grand_total.get("currencyID") if grand_total is not None else None),
        f"{paths.settlement}/InvoiceCurrencyCode",
    )

    fields = InvoiceFields(
        vendor_name=clean_text(_find(seller, "Name")),
        vendor_tax_id=_seller_tax_id(seller),
        vendor_iban=_payee_iban(settlement),
        invoice_number=number,
        invoice_date=issue_date,
        due_date=_due_date(settlement),
        po_number=text(_find(agreement, paths.order_id)),
        currency=currency,
        subtotal=decimal_of(_find(summation, "TaxBasisTotalAmount")),
        tax_amount=_amount_in(_findall(summation, "TaxTotalAmount"), currency),
        total=total,
    )
    lines = [
        line
        for item in _findall(transaction, "IncludedSupplyChainTradeLineItem")
        if (line := _line(item, paths)) is not None
    ]
    profile = text(_find(root, f"{paths.context}/GuidelineSpecifiedDocumentContextParameter/ID")) or "unknown"
    return EInvoice(
        syntax=syntax,
        profile=profile,
        type_code=type_code,
        doc_type=doc_type_for(type_code, f"{paths.document}/TypeCode"),
        fields=fields,
        lines=lines,
    )
