"""Writes a planned invoice or credit note as UBL 2.1 XML, UN/CEFACT CII (EN 16931) or Factur-X.

The XML carries the same values as the visible document (the truth), with the EN 16931
semantics readers look for: BT-1 number, BT-2 issue date, BT-9 due date, BT-13 order
reference (the PO number), BT-27/BT-31 seller name and VAT id, BT-84 payee IBAN, line id,
quantity, net price and net amount, BT-110 tax total and BT-112 grand total. Credit notes use
positive amounts in the XML, as both standards require (the document type says it is a
credit); the truth JSON keeps the contract's negative amounts.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from sandbox.corpus.planner import BUYERS, DocPlan

UBL_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"


def _amount(value: Decimal | None, credit: bool) -> str:
    if value is None:
        value = Decimal("0.00")
    return format(abs(value) if credit else value, "f")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _tax_category(rate: Decimal) -> str:
    # "S" standard rate; a 0% export invoice is "G" (export outside the EU).
    return "S" if rate > 0 else "G"


def ubl_xml(plan: DocPlan) -> bytes:
    fields, lines = plan.fields, plan.lines
    assert fields is not None and lines is not None
    credit = plan.doc_type == "credit_note"
    root_name = "CreditNote" if credit else "Invoice"
    nsmap = {None: UBL_NS[root_name], "cac": CAC, "cbc": CBC}
    root = etree.Element(f"{{{UBL_NS[root_name]}}}{root_name}", nsmap=nsmap)
    cbc = lambda parent, tag, text=None, **a: _sub(parent, f"{{{CBC}}}{tag}", text, **a)  # noqa: E731
    cac = lambda parent, tag: _sub(parent, f"{{{CAC}}}{tag}")  # noqa: E731
    currency = fields.currency or "EUR"
    cbc(root, "CustomizationID", "urn:cen.eu:en16931:2017")
    cbc(root, "ID", fields.invoice_number)
    cbc(root, "IssueDate", fields.invoice_date.isoformat() if fields.invoice_date else None)
    if fields.due_date is not None and not credit:
        cbc(root, "DueDate", fields.due_date.isoformat())
    cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    cbc(root, "DocumentCurrencyCode", currency)
    cbc(root, "BuyerReference", fields.po_number)
    order = cac(root, "OrderReference")
    cbc(order, "ID", fields.po_number)
    if credit and plan.refers_to:
        billing = cac(root, "BillingReference")
        ref = cac(billing, "InvoiceDocumentReference")
        cbc(ref, "ID", plan.refers_to["invoice_number"])
        cbc(ref, "IssueDate", plan.refers_to["invoice_date"])
    vendor = plan.vendor
    supplier = cac(cac(root, "AccountingSupplierParty"), "Party")
    cbc(cac(supplier, "PartyName"), "Name", fields.vendor_name)
    address = cac(supplier, "PostalAddress")
    if vendor.address is not None:
        cbc(address, "StreetName", vendor.address.street)
        cbc(address, "CityName", vendor.address.city)
        cbc(address, "PostalZone", vendor.address.postal_code)
        cbc(cac(address, "Country"), "IdentificationCode", vendor.address.country)
    scheme = cac(supplier, "PartyTaxScheme")
    cbc(scheme, "CompanyID", fields.vendor_tax_id)
    cbc(cac(scheme, "TaxScheme"), "ID", "VAT")
    cbc(cac(supplier, "PartyLegalEntity"), "RegistrationName", fields.vendor_name)
    buyer = BUYERS[plan.company]
    customer = cac(cac(root, "AccountingCustomerParty"), "Party")
    cbc(cac(customer, "PartyName"), "Name", buyer.name)
    buyer_address = cac(customer, "PostalAddress")
    cbc(buyer_address, "StreetName", buyer.lines[0])
    postal, _, city = buyer.lines[1].partition(" ")
    cbc(buyer_address, "CityName", city)
    cbc(buyer_address, "PostalZone", postal)
    cbc(cac(buyer_address, "Country"), "IdentificationCode", buyer.lines[2])
    buyer_scheme = cac(customer, "PartyTaxScheme")
    cbc(buyer_scheme, "CompanyID", buyer.tax_id)
    cbc(cac(buyer_scheme, "TaxScheme"), "ID", "VAT")
    cbc(cac(customer, "PartyLegalEntity"), "RegistrationName", buyer.name)
    if fields.vendor_iban:
        means = cac(root, "PaymentMeans")
        cbc(means, "PaymentMeansCode", "58")
        cbc(means, "PaymentID", fields.invoice_number)
        cbc(cac(means, "PayeeFinancialAccount"), "ID", fields.vendor_iban)
    if fields.due_date is not None and fields.invoice_date is not None:
        days = (fields.due_date - fields.invoice_date).days
        cbc(cac(root, "PaymentTerms"), "Note", f"{days} days net")
    tax_total = cac(root, "TaxTotal")
    cbc(tax_total, "TaxAmount", _amount(fields.tax_amount, credit), currencyID=currency)
    subtotal = cac(tax_total, "TaxSubtotal")
    cbc(subtotal, "TaxableAmount", _amount(fields.subtotal, credit), currencyID=currency)
    cbc(subtotal, "TaxAmount", _amount(fields.tax_amount, credit), currencyID=currency)
    category = cac(subtotal, "TaxCategory")
    cbc(category, "ID", _tax_category(plan.tax_rate))
    cbc(category, "Percent", format(plan.tax_rate, "f"))
    if _tax_category(plan.tax_rate) == "G":
        cbc(category, "TaxExemptionReasonCode", "VATEX-EU-G")
    cbc(cac(category, "TaxScheme"), "ID", "VAT")
    totals = cac(root, "LegalMonetaryTotal")
    cbc(totals, "LineExtensionAmount", _amount(fields.subtotal, credit), currencyID=currency)
    cbc(totals, "TaxExclusiveAmount", _amount(fields.subtotal, credit), currencyID=currency)
    cbc(totals, "TaxInclusiveAmount", _amount(fields.total, credit), currencyID=currency)
    cbc(totals, "PayableAmount", _amount(fields.total, credit), currencyID=currency)
    for index, line in enumerate(lines, start=1):
        element = cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        cbc(element, "ID", str(index))
        cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            format(line.quantity, "f"),
            unitCode="C62",
        )
        cbc(element, "LineExtensionAmount", _amount(line.amount, credit), currencyID=currency)
        if index - 1 < len(plan.po_line_nos):
            cbc(cac(element, "OrderLineReference"), "LineID", str(plan.po_line_nos[index - 1]))
        item = cac(element, "Item")
        cbc(item, "Name", line.description)
        if line.sku:
            cbc(cac(item, "SellersItemIdentification"), "ID", line.sku)
        line_category = cac(item, "ClassifiedTaxCategory")
        cbc(line_category, "ID", _tax_category(plan.tax_rate))
        cbc(line_category, "Percent", format(plan.tax_rate, "f"))
        cbc(cac(line_category, "TaxScheme"), "ID", "VAT")
        cbc(cac(element, "Price"), "PriceAmount", format(line.unit_price, "f"), currencyID=currency)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _cii_date(parent: etree._Element, tag: str, value: str, ns: str = UDT) -> None:
    holder = _sub(parent, f"{{{RAM}}}{tag}")
    _sub(holder, f"{{{ns}}}DateTimeString", value.replace("-", ""), format="102")


def cii_xml(plan: DocPlan) -> bytes:
    """CII in the EN 16931 profile (what Factur-X EN16931 embeds)."""
    fields, lines = plan.fields, plan.lines
    assert fields is not None and lines is not None
    credit = plan.doc_type == "credit_note"
    currency = fields.currency or "EUR"
    root = etree.Element(
        f"{{{RSM}}}CrossIndustryInvoice", nsmap={"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
    )
    ram = lambda parent, tag, text=None, **a: _sub(parent, f"{{{RAM}}}{tag}", text, **a)  # noqa: E731
    context = _sub(root, f"{{{RSM}}}ExchangedDocumentContext")
    ram(ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", "urn:cen.eu:en16931:2017")
    document = _sub(root, f"{{{RSM}}}ExchangedDocument")
    ram(document, "ID", fields.invoice_number)
    ram(document, "TypeCode", "381" if credit else "380")
    issue = ram(document, "IssueDateTime")
    assert fields.invoice_date is not None
    _sub(issue, f"{{{UDT}}}DateTimeString", fields.invoice_date.strftime("%Y%m%d"), format="102")
    transaction = _sub(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    category = _tax_category(plan.tax_rate)
    rate = f"{plan.tax_rate:.2f}"
    for index, line in enumerate(lines, start=1):
        item = ram(transaction, "IncludedSupplyChainTradeLineItem")
        ram(ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
        product = ram(item, "SpecifiedTradeProduct")
        if line.sku:
            ram(product, "SellerAssignedID", line.sku)
        ram(product, "Name", line.description)
        agreement = ram(item, "SpecifiedLineTradeAgreement")
        ram(ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", format(line.unit_price, "f"))
        delivery = ram(item, "SpecifiedLineTradeDelivery")
        ram(delivery, "BilledQuantity", format(line.quantity, "f"), unitCode="C62")
        settlement = ram(item, "SpecifiedLineTradeSettlement")
        tax = ram(settlement, "ApplicableTradeTax")
        ram(tax, "TypeCode", "VAT")
        ram(tax, "CategoryCode", category)
        ram(tax, "RateApplicablePercent", rate)
        summation = ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        ram(summation, "LineTotalAmount", _amount(line.amount, credit))
    agreement = ram(transaction, "ApplicableHeaderTradeAgreement")
    ram(agreement, "BuyerReference", fields.po_number)
    vendor = plan.vendor
    seller = ram(agreement, "SellerTradeParty")
    ram(seller, "Name", fields.vendor_name)
    if vendor.address is not None:
        address = ram(seller, "PostalTradeAddress")
        ram(address, "PostcodeCode", vendor.address.postal_code)
        ram(address, "LineOne", vendor.address.street)
        ram(address, "CityName", vendor.address.city)
        ram(address, "CountryID", vendor.address.country)
    if fields.vendor_tax_id:
        ram(ram(seller, "SpecifiedTaxRegistration"), "ID", fields.vendor_tax_id, schemeID="VA")
    buyer = BUYERS[plan.company]
    buyer_party = ram(agreement, "BuyerTradeParty")
    ram(buyer_party, "Name", buyer.name)
    buyer_address = ram(buyer_party, "PostalTradeAddress")
    postal, _, city = buyer.lines[1].partition(" ")
    ram(buyer_address, "PostcodeCode", postal)
    ram(buyer_address, "LineOne", buyer.lines[0])
    ram(buyer_address, "CityName", city)
    ram(buyer_address, "CountryID", buyer.lines[2])
    ram(ram(buyer_party, "SpecifiedTaxRegistration"), "ID", buyer.tax_id, schemeID="VA")
    ram(ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", fields.po_number)
    ram(transaction, "ApplicableHeaderTradeDelivery")
    settlement = ram(transaction, "ApplicableHeaderTradeSettlement")
    ram(settlement, "InvoiceCurrencyCode", currency)
    if fields.vendor_iban:
        means = ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        ram(means, "TypeCode", "58")
        ram(ram(means, "PayeePartyCreditorFinancialAccount"), "IBANID", fields.vendor_iban)
    tax = ram(settlement, "ApplicableTradeTax")
    ram(tax, "CalculatedAmount", _amount(fields.tax_amount, credit))
    ram(tax, "TypeCode", "VAT")
    ram(tax, "BasisAmount", _amount(fields.subtotal, credit))
    ram(tax, "CategoryCode", category)
    if category == "G":
        ram(tax, "ExemptionReasonCode", "VATEX-EU-G")
    ram(tax, "RateApplicablePercent", rate)
    if fields.due_date is not None and not credit:
        terms = ram(settlement, "SpecifiedTradePaymentTerms")
        _cii_date(terms, "DueDateDateTime", fields.due_date.isoformat())
    sums = ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    ram(sums, "LineTotalAmount", _amount(fields.subtotal, credit))
    ram(sums, "TaxBasisTotalAmount", _amount(fields.subtotal, credit))
    ram(sums, "TaxTotalAmount", _amount(fields.tax_amount, credit), currencyID=currency)
    ram(sums, "GrandTotalAmount", _amount(fields.total, credit))
    ram(sums, "DuePayableAmount", _amount(fields.total, credit))
    if credit and plan.refers_to:
        referenced = ram(settlement, "InvoiceReferencedDocument")
        ram(referenced, "IssuerAssignedID", plan.refers_to["invoice_number"])
        _cii_date(referenced, "FormattedIssueDateTime", plan.refers_to["invoice_date"], ns=QDT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def facturx_pdf(visible_pdf: bytes, plan: DocPlan) -> bytes:
    """The visible PDF with the CII embedded as factur-x.xml (EN 16931 profile)."""
    from facturx import generate_from_binary

    fields = plan.fields
    assert fields is not None
    metadata = {
        "author": fields.vendor_name or "",
        "keywords": "Factur-X",
        "title": f"{fields.vendor_name}: {fields.invoice_number}",
        "subject": f"Factur-X {'credit note' if plan.doc_type == 'credit_note' else 'invoice'} "
        f"{fields.invoice_number}",
    }
    return generate_from_binary(
        visible_pdf, cii_xml(plan), flavor="factur-x", level="en16931", check_xsd=True, pdf_metadata=metadata
    )
