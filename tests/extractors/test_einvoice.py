"""E-invoice XML readers on generated UBL / CII / ZUGFeRD 1.0 documents: field mapping, signs, codes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from extractors.einvoice import EInvoiceError, detect, parse_einvoice, read_einvoice
from ledgerbot.core.domain import DocType, ExtractionResult

CII_NS = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"'
)
UBL_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def cii_line(
    name: str = "Hex bolt M8x40",
    sku: str = "HX-10020",
    qty: str = "10",
    price: str = "100.00",
    amount: str = "1000.00",
    basis: str | None = None,
    status: str | None = None,
) -> str:
    basis_xml = f'<ram:BasisQuantity unitCode="H87">{basis}</ram:BasisQuantity>' if basis else ""
    status_xml = f"<ram:LineStatusReasonCode>{status}</ram:LineStatusReasonCode>" if status else ""
    return f"""
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID>{status_xml}</ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct>
        <ram:GlobalID schemeID="0160">4012345001235</ram:GlobalID>
        <ram:SellerAssignedID>{sku}</ram:SellerAssignedID>
        <ram:Name>{name}</ram:Name>
      </ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:NetPriceProductTradePrice>
          <ram:ChargeAmount>{price}</ram:ChargeAmount>{basis_xml}
        </ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery>
        <ram:BilledQuantity unitCode="H87">{qty}</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:SpecifiedTradeSettlementLineMonetarySummation>
          <ram:LineTotalAmount>{amount}</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>"""


def cii_invoice(
    *,
    number: str = "RE-2026-1001",
    type_code: str = "380",
    issue: str = '<udt:DateTimeString format="102">20260314</udt:DateTimeString>',
    currency: str = "EUR",
    tax_ids: str = '<ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID>'
    "</ram:SpecifiedTaxRegistration><ram:SpecifiedTaxRegistration>"
    '<ram:ID schemeID="VA">DE 123 456 789</ram:ID></ram:SpecifiedTaxRegistration>',
    payment_means: str = "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
    "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE89 3704 0044 0532 0130 00</ram:IBANID>"
    "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>",
    due: str = '<udt:DateTimeString format="102">20260413</udt:DateTimeString>',
    order_ref: str = "<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-45012</ram:IssuerAssignedID>"
    "</ram:BuyerOrderReferencedDocument>",
    buyer_reference: str = "<ram:BuyerReference>04011000-12345-34</ram:BuyerReference>",
    lines: str | None = None,
    subtotal: str = "1000.00",
    tax: str = '<ram:TaxTotalAmount currencyID="EUR">190.00</ram:TaxTotalAmount>',
    total: str = "1190.00",
) -> bytes:
    lines = cii_line() if lines is None else lines
    due_xml = (
        f"<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>{due}</ram:DueDateDateTime>"
        "</ram:SpecifiedTradePaymentTerms>"
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice {CII_NS}>
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{number}</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime>{issue}</ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>{lines}
    <ram:ApplicableHeaderTradeAgreement>
      {buyer_reference}
      <ram:SellerTradeParty><ram:Name>Acme Tools
        GmbH</ram:Name>{tax_ids}</ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Buyer AG</ram:Name></ram:BuyerTradeParty>
      {order_ref}
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>{currency}</ram:InvoiceCurrencyCode>
      {payment_means}
      {due_xml}
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{subtotal}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{subtotal}</ram:TaxBasisTotalAmount>
        {tax}
        <ram:GrandTotalAmount>{total}</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{total}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>""".encode()


def ubl_document(
    *,
    root: str = "Invoice",
    type_code: str = "380",
    qty_tag: str | None = None,
    price: str = '<cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount>',
    payment_means: str = "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>"
    "<cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>",
    due: str = "<cbc:DueDate>2026-04-13</cbc:DueDate>",
    tax_totals: str = '<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">190.00</cbc:TaxAmount></cac:TaxTotal>',
    tax_schemes: str = "<cac:PartyTaxScheme><cbc:CompanyID>201/113/40209</cbc:CompanyID>"
    "<cac:TaxScheme><cbc:ID>FC</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    "<cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID>"
    "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
) -> bytes:
    ns = f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
    line_tag = "CreditNoteLine" if root == "CreditNote" else "InvoiceLine"
    qty_tag = qty_tag or ("CreditedQuantity" if root == "CreditNote" else "InvoicedQuantity")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="{ns}" {UBL_NS}>
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>RE-2026-1001</cbc:ID>
  <cbc:IssueDate>2026-03-14</cbc:IssueDate>
  {due}
  <cbc:{root}TypeCode>{type_code}</cbc:{root}TypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>04011000-12345-34</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>PO-45012</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Acme Trading Name</cbc:Name></cac:PartyName>
    {tax_schemes}
    <cac:PartyLegalEntity><cbc:RegistrationName>Acme Tools GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  {payment_means}
  {tax_totals}
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">1000.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">1190.00</cbc:TaxInclusiveAmount>
    <cbc:PrepaidAmount currencyID="EUR">100.00</cbc:PrepaidAmount>
    <cbc:PayableAmount currencyID="EUR">1090.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:{line_tag}>
    <cbc:ID>1</cbc:ID>
    <cbc:{qty_tag} unitCode="H87">10</cbc:{qty_tag}>
    <cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Hex bolt M8x40</cbc:Name>
      <cac:SellersItemIdentification><cbc:ID>HX-10020</cbc:ID></cac:SellersItemIdentification>
    </cac:Item>
    <cac:Price>{price}</cac:Price>
  </cac:{line_tag}>
</{root}>""".encode()


EXPECTED_FIELDS = {
    "vendor_name": "Acme Tools GmbH",
    "vendor_tax_id": "DE123456789",
    "vendor_iban": "DE89370400440532013000",
    "invoice_number": "RE-2026-1001",
    "invoice_date": "2026-03-14",
    "due_date": "2026-04-13",
    "po_number": "PO-45012",
    "currency": "EUR",
    "subtotal": "1000.00",
    "tax_amount": "190.00",
    "total": "1190.00",
}
EXPECTED_LINE = {
    "description": "Hex bolt M8x40",
    "sku": "HX-10020",
    "quantity": "10",
    "unit_price": "100.00",
    "amount": "1000.00",
}


def as_json(result: ExtractionResult) -> dict:
    return json.loads(result.to_json_line())


def codes_of(data: bytes) -> str:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice(data)
    return info.value.code


# --- the contract line ------------------------------------------------------------------------


@pytest.mark.parametrize("document", [cii_invoice(), ubl_document()], ids=["cii", "ubl"])
def test_invoice_reads_every_contract_field(document: bytes) -> None:
    line = as_json(read_einvoice(document, source="in/acme.xml"))
    assert line["source"] == "in/acme.xml"
    assert line["doc_type"] == "invoice"
    assert line["doc_type_confidence"] == 1.0
    assert line["method"] == "einvoice"
    assert line["fields"] == EXPECTED_FIELDS
    assert line["lines"] == [EXPECTED_LINE]
    assert line["field_confidence"] == dict.fromkeys(EXPECTED_FIELDS, 1.0)
    assert line["errors"] == []


def test_lineage_names_syntax_and_profile() -> None:
    assert read_einvoice(cii_invoice()).lineage["einvoice"] == "cii@urn:cen.eu:en16931:2017"
    assert read_einvoice(ubl_document()).lineage["einvoice"] == "ubl@urn:cen.eu:en16931:2017"


def test_field_confidence_only_for_present_fields() -> None:
    result = read_einvoice(cii_invoice(order_ref="", payment_means="", tax=""))
    assert result.fields.po_number is None
    assert result.fields.vendor_iban is None
    assert result.fields.tax_amount is None
    assert set(result.field_confidence) == set(EXPECTED_FIELDS) - {"po_number", "vendor_iban", "tax_amount"}


def test_amounts_keep_the_scale_written_in_the_xml() -> None:
    result = as_json(
        read_einvoice(cii_invoice(lines=cii_line(qty="20.0000", price="9.9000", amount="198.00")))
    )
    assert result["lines"][0] == {
        **EXPECTED_LINE,
        "quantity": "20.0000",
        "unit_price": "9.9000",
        "amount": "198.00",
    }


# --- business-term choices --------------------------------------------------------------------


def test_buyer_reference_is_never_the_po_number() -> None:
    assert read_einvoice(cii_invoice(order_ref="")).fields.po_number is None
    ubl = ubl_document().replace(b"<cac:OrderReference><cbc:ID>PO-45012</cbc:ID></cac:OrderReference>", b"")
    assert read_einvoice(ubl).fields.po_number is None


def test_total_is_grand_total_not_amount_due() -> None:
    # The UBL sample has a prepayment: payable 1090.00, grand total 1190.00.
    assert read_einvoice(ubl_document()).fields.total == Decimal("1190.00")


def test_seller_tax_id_falls_back_to_tax_registration() -> None:
    fc_only = (
        '<ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID>'
        "</ram:SpecifiedTaxRegistration>"
    )
    assert read_einvoice(cii_invoice(tax_ids=fc_only)).fields.vendor_tax_id == "201/113/40209"
    assert read_einvoice(cii_invoice(tax_ids="")).fields.vendor_tax_id is None
    fc_scheme = (
        "<cac:PartyTaxScheme><cbc:CompanyID>201/113/40209</cbc:CompanyID>"
        "<cac:TaxScheme><cbc:ID>FC</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    )
    assert read_einvoice(ubl_document(tax_schemes=fc_scheme)).fields.vendor_tax_id == "201/113/40209"


def test_ubl_seller_name_is_the_legal_name_not_the_trading_name() -> None:
    assert read_einvoice(ubl_document()).fields.vendor_name == "Acme Tools GmbH"


def test_payee_iban_prefers_credit_transfer_and_ignores_direct_debit_accounts() -> None:
    means = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>59</ram:TypeCode>"
        "<ram:PayerPartyDebtorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>"
        "</ram:PayerPartyDebtorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    assert read_einvoice(cii_invoice(payment_means=means)).fields.vendor_iban is None
    card_then_transfer = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>1</ram:TypeCode>"
        "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode>"
        "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>de89 3704 0044 0532 0130 00</ram:IBANID>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    assert (
        read_einvoice(cii_invoice(payment_means=card_then_transfer)).fields.vendor_iban
        == "DE89370400440532013000"
    )


def test_ubl_non_iban_account_is_not_reported_as_iban() -> None:
    means = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        "<cac:PayeeFinancialAccount><cbc:ID>1234567</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>"
    )
    assert read_einvoice(ubl_document(payment_means=means)).fields.vendor_iban is None


def test_tax_amount_is_the_one_in_the_invoice_currency() -> None:
    two = (
        '<ram:TaxTotalAmount currencyID="NOK">2100.00</ram:TaxTotalAmount>'
        '<ram:TaxTotalAmount currencyID="EUR">190.00</ram:TaxTotalAmount>'
    )
    assert read_einvoice(cii_invoice(tax=two)).fields.tax_amount == Decimal("190.00")
    ubl_two = (
        '<cac:TaxTotal><cbc:TaxAmount currencyID="NOK">2100.00</cbc:TaxAmount></cac:TaxTotal>'
        '<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">190.00</cbc:TaxAmount></cac:TaxTotal>'
    )
    assert read_einvoice(ubl_document(tax_totals=ubl_two)).fields.tax_amount == Decimal("190.00")


def test_unit_price_is_per_single_unit_when_a_base_quantity_is_given() -> None:
    line = read_einvoice(
        cii_invoice(lines=cii_line(qty="1000", price="5.00", amount="50.00", basis="100"))
    ).lines[0]
    assert line.unit_price == Decimal("0.05")
    assert line.quantity is not None and line.quantity * line.unit_price == line.amount
    ubl = ubl_document(
        price='<cbc:PriceAmount currencyID="EUR">1000.00</cbc:PriceAmount>'
        "<cbc:BaseQuantity>10</cbc:BaseQuantity>"
    )
    assert read_einvoice(ubl).lines[0].unit_price == Decimal("100")


def test_base_quantity_of_one_keeps_the_price_as_written() -> None:
    line = read_einvoice(cii_invoice(lines=cii_line(price="9.9000", basis="1.0000"))).lines[0]
    assert format(line.unit_price, "f") == "9.9000"


def test_group_and_information_lines_are_not_billed_lines() -> None:
    lines = (
        cii_line(name="Kit", status="GROUP")
        + cii_line(name="Part")
        + cii_line(name="Note", status="INFORMATION")
    )
    assert [line.description for line in read_einvoice(cii_invoice(lines=lines)).lines] == ["Part"]


def test_whitespace_in_names_is_folded() -> None:
    assert read_einvoice(cii_invoice()).fields.vendor_name == "Acme Tools GmbH"


def test_due_date_on_a_ubl_credit_note_comes_from_payment_means() -> None:
    means = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2026-05-01</cbc:PaymentDueDate></cac:PaymentMeans>"
    )
    result = read_einvoice(ubl_document(root="CreditNote", type_code="381", due="", payment_means=means))
    assert result.fields.due_date == date(2026, 5, 1)


# --- document types and the credit-note sign convention ---------------------------------------


@pytest.mark.parametrize(
    ("code", "doc_type"),
    [("380", "invoice"), ("384", "invoice"), ("389", "invoice"), ("875", "invoice"), ("381", "credit_note"),
     ("396", "credit_note"), ("261", "credit_note")],
)  # fmt: skip
def test_doc_type_follows_the_type_code(code: str, doc_type: str) -> None:
    assert read_einvoice(cii_invoice(type_code=code)).doc_type == DocType(doc_type)
    assert read_einvoice(ubl_document(type_code=code)).doc_type == DocType(doc_type)


def test_ubl_credit_note_root_is_a_credit_note_whatever_its_code() -> None:
    assert read_einvoice(ubl_document(root="CreditNote", type_code="380")).doc_type is DocType.CREDIT_NOTE


ZERO_UBL_TAX = '<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount></cac:TaxTotal>'


@pytest.mark.parametrize(
    "document",
    [cii_invoice(type_code="381", tax='<ram:TaxTotalAmount currencyID="EUR">0.00</ram:TaxTotalAmount>',
                 total="1000.00"),
     ubl_document(root="CreditNote", type_code="381", tax_totals=ZERO_UBL_TAX)],
    ids=["cii-381", "ubl-creditnote"],
)  # fmt: skip
def test_credit_note_amounts_are_negative_and_quantities_positive(document: bytes) -> None:
    line = as_json(read_einvoice(document))
    assert line["doc_type"] == "credit_note"
    assert line["fields"]["subtotal"] == "-1000.00"
    assert line["fields"]["tax_amount"] == "0.00"  # a zero stays unsigned
    assert line["fields"]["total"].startswith("-")
    assert line["lines"] == [{**EXPECTED_LINE, "amount": "-1000.00"}]


def test_parse_keeps_the_documents_own_signs() -> None:
    parsed = parse_einvoice(cii_invoice(type_code="381"))
    assert parsed.fields.total == Decimal("1190.00")
    assert parsed.type_code == "381"


def test_corrective_invoice_with_negative_amounts_keeps_them() -> None:
    doc = cii_invoice(type_code="384", lines=cii_line(qty="-5", price="1.00", amount="-5.00"), total="-5.95")
    result = read_einvoice(doc)
    assert result.doc_type is DocType.INVOICE
    assert result.fields.total == Decimal("-5.95")
    assert result.lines[0].quantity == Decimal("-5")


# --- ZUGFeRD 1.0 ------------------------------------------------------------------------------

ZUGFERD1 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:SpecifiedExchangedDocumentContext>
  <rsm:HeaderExchangedDocument>
    <ram:ID>471102</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20130305</udt:DateTimeString></ram:IssueDateTime>
  </rsm:HeaderExchangedDocument>
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID>
        </ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerOrderReferencedDocument><ram:ID>B123456789</ram:ID></ram:BuyerOrderReferencedDocument>
    </ram:ApplicableSupplyChainTradeAgreement>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>31</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE08700901001234567890</ram:IBANID>
        </ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:SpecifiedTradePaymentTerms>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20130404</udt:DateTimeString>
        </ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementMonetarySummation>
        <ram:TaxBasisTotalAmount currencyID="EUR">198.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">37.62</ram:TaxTotalAmount>
        <ram:GrandTotalAmount currencyID="EUR">235.62</ram:GrandTotalAmount>
      </ram:SpecifiedTradeSettlementMonetarySummation>
    </ram:ApplicableSupplyChainTradeSettlement>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument>
        <ram:IncludedNote><ram:Content>Free-text remark, not a billed line</ram:Content></ram:IncludedNote>
      </ram:AssociatedDocumentLineDocument>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:SpecifiedSupplyChainTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount currencyID="EUR">9.9000</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice>
      </ram:SpecifiedSupplyChainTradeAgreement>
      <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">20.0000</ram:BilledQuantity>
      </ram:SpecifiedSupplyChainTradeDelivery>
      <ram:SpecifiedSupplyChainTradeSettlement><ram:SpecifiedTradeSettlementMonetarySummation>
        <ram:LineTotalAmount currencyID="EUR">198.00</ram:LineTotalAmount>
      </ram:SpecifiedTradeSettlementMonetarySummation></ram:SpecifiedSupplyChainTradeSettlement>
      <ram:SpecifiedTradeProduct><ram:SellerAssignedID>TB100A4</ram:SellerAssignedID>
        <ram:Name>Trennbl\xc3\xa4tter A4</ram:Name></ram:SpecifiedTradeProduct>
    </ram:IncludedSupplyChainTradeLineItem>
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>"""


def test_zugferd1_cross_industry_document() -> None:
    result = as_json(read_einvoice(ZUGFERD1))
    assert result["fields"] == {
        "vendor_name": "Lieferant GmbH",
        "vendor_tax_id": "DE123456789",
        "vendor_iban": "DE08700901001234567890",
        "invoice_number": "471102",
        "invoice_date": "2013-03-05",
        "due_date": "2013-04-04",
        "po_number": "B123456789",
        "currency": "EUR",
        "subtotal": "198.00",
        "tax_amount": "37.62",
        "total": "235.62",
    }
    # The note-only line item is a remark, not a billed line.
    assert result["lines"] == [
        {"description": "Trennblätter A4", "sku": "TB100A4", "quantity": "20.0000", "unit_price": "9.9000",
         "amount": "198.00"}
    ]  # fmt: skip
    assert result["lineage"]["einvoice"] == "zugferd1@urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"


def test_blank_lines_before_the_declaration_are_tolerated() -> None:
    assert read_einvoice(b"\n\r\n  " + cii_invoice()).fields.invoice_number == "RE-2026-1001"


def test_currency_is_upper_cased() -> None:
    assert read_einvoice(cii_invoice(currency="eur")).fields.currency == "EUR"


def test_empty_currency_falls_back_to_the_grand_total_currency() -> None:
    doc = ZUGFERD1.replace(
        b"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>", b"<ram:InvoiceCurrencyCode/>"
    )
    assert read_einvoice(doc).fields.currency == "EUR"
    no_attr = doc.replace(b'<ram:GrandTotalAmount currencyID="EUR">', b"<ram:GrandTotalAmount>")
    assert read_einvoice(no_attr).fields.currency is None


# --- coded errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "code", "named"),
    [
        (b"", "E301", "empty"),
        (b"this is not xml", "E301", "not well-formed"),
        (b"<rsm:CrossIndustryInvoice", "E301", "not well-formed"),
        (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "E302", "Order"),
        (b"<html><body>invoice</body></html>", "E302", "html"),
        (cii_invoice(number=""), "E303", "ExchangedDocument/ID (BT-1)"),
        (cii_invoice(type_code=""), "E303", "BT-3"),
        (cii_invoice(issue=""), "E303", "BT-2"),
        (cii_invoice(total=""), "E303", "GrandTotalAmount (BT-112)"),
        (ubl_document().replace(b"<cbc:IssueDate>2026-03-14</cbc:IssueDate>", b""), "E303", "IssueDate"),
        (cii_invoice(total="1.190,00"), "E306", "GrandTotalAmount"),
        (cii_invoice(total="1E+3"), "E306", "GrandTotalAmount"),
        (cii_invoice(subtotal="NaN"), "E306", "TaxBasisTotalAmount"),
        (
            cii_invoice(issue='<udt:DateTimeString format="102">20260231</udt:DateTimeString>'),
            "E306",
            "20260231",
        ),
        (cii_invoice(issue='<udt:DateTimeString format="610">202603</udt:DateTimeString>'), "E306", "610"),
        (
            cii_invoice(due='<udt:DateTimeString format="102">2026-04-13</udt:DateTimeString>'),
            "E306",
            "DueDate",
        ),
        (ubl_document(due="<cbc:DueDate>13.04.2026</cbc:DueDate>"), "E306", "DueDate"),
        (cii_invoice(lines=cii_line(qty="ten")), "E306", "BilledQuantity"),
        (cii_invoice(type_code="INV"), "E306", "TypeCode"),
        (ubl_document(type_code="3800"), "E306", "InvoiceTypeCode"),
        (cii_invoice(currency="Euro"), "E306", "InvoiceCurrencyCode"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "E302", "PDF"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_bad_documents_give_one_coded_error(document: bytes, code: str, named: str) -> None:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice(document)
    assert info.value.code == code
    assert named in info.value.message
    assert str(info.value).startswith(f"[{code}] ")
    assert "\n" not in str(info.value)


def test_error_is_a_business_error_with_evidence() -> None:
    from ledgerbot.core.errors import BusinessError

    with pytest.raises(BusinessError) as info:
        read_einvoice(cii_invoice(number=""))
    assert info.value.as_dict()["evidence"] == {"element": "ExchangedDocument/ID"}


def test_unknown_error_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        EInvoiceError("E399", "no such code")


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (cii_invoice(), "cii"),
        (ubl_document(), "ubl"),
        (ubl_document(root="CreditNote"), "ubl"),
        (ZUGFERD1, "zugferd1"),
        (b"\xef\xbb\xbf" + cii_invoice(), "cii"),
        (cii_invoice().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), "cii"),
        (b"<html/>", None),
        (b"plain text", None),
        (b"", None),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"%PDF-1.4\n%%EOF", None),
    ],
)
def test_detect(data: bytes, kind: str | None) -> None:
    assert detect(data) == kind


def test_detect_reads_only_the_root_of_a_truncated_document() -> None:
    assert detect(cii_invoice()[:400]) == "cii"
