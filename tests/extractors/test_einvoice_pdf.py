"""E-invoices embedded in PDFs: a hand-built Factur-X round-trips, ZUGFeRD 1.0 names, hybrids, broken PDFs."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import facturx
import pytest
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from extractors.einvoice import EInvoiceError, detect, embedded_xml, read_einvoice, read_einvoice_pdf
from extractors.einvoice import truth_from_einvoice as truth_of
from extractors.einvoice.make_truth import main as make_truth_main

# A complete Factur-X EN 16931 invoice, valid against the Factur-X XSD (generate_from_binary checks).
FACTURX_XML = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
 xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100">
 <rsm:ExchangedDocumentContext>
  <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID>
  </ram:GuidelineSpecifiedDocumentContextParameter>
 </rsm:ExchangedDocumentContext>
 <rsm:ExchangedDocument>
  <ram:ID>FX-2026-0042</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20260301</udt:DateTimeString></ram:IssueDateTime>
 </rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
   <ram:SpecifiedTradeProduct><ram:SellerAssignedID>WID-7</ram:SellerAssignedID>
    <ram:Name>Widget, blue</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement>
    <ram:NetPriceProductTradePrice><ram:ChargeAmount>12.50</ram:ChargeAmount></ram:NetPriceProductTradePrice>
   </ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">8</ram:BilledQuantity>
   </ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement>
    <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
     <ram:RateApplicablePercent>20.00</ram:RateApplicablePercent></ram:ApplicableTradeTax>
    <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>100.00</ram:LineTotalAmount>
    </ram:SpecifiedTradeSettlementLineMonetarySummation>
   </ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:BuyerReference>LEITWEG-1</ram:BuyerReference>
   <ram:SellerTradeParty><ram:Name>Widgets SARL</ram:Name>
    <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR11999999998</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Buyer GmbH</ram:Name></ram:BuyerTradeParty>
   <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-777</ram:IssuerAssignedID>
   </ram:BuyerOrderReferencedDocument>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeDelivery/>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>
    <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR7630006000011234567890189</ram:IBANID>
    </ram:PayeePartyCreditorFinancialAccount>
   </ram:SpecifiedTradeSettlementPaymentMeans>
   <ram:ApplicableTradeTax><ram:CalculatedAmount>20.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
    <ram:BasisAmount>100.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
    <ram:RateApplicablePercent>20.00</ram:RateApplicablePercent></ram:ApplicableTradeTax>
   <ram:SpecifiedTradePaymentTerms>
    <ram:DueDateDateTime><udt:DateTimeString format="102">20260331</udt:DateTimeString></ram:DueDateDateTime>
   </ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount>
    <ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">20.00</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>
    <ram:DuePayableAmount>120.00</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


# A minimal ZUGFeRD 1.0 BASIC invoice, as carried by ZUGFeRD-invoice.xml attachments.
ZUGFERD1_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
 <rsm:SpecifiedExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
  <ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:basic</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
 </rsm:SpecifiedExchangedDocumentContext>
 <rsm:HeaderExchangedDocument><ram:ID>Z1-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20140301</udt:DateTimeString></ram:IssueDateTime>
 </rsm:HeaderExchangedDocument>
 <rsm:SpecifiedSupplyChainTradeTransaction><ram:ApplicableSupplyChainTradeSettlement>
  <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
  <ram:SpecifiedTradeSettlementMonetarySummation><ram:GrandTotalAmount>119.00</ram:GrandTotalAmount>
  </ram:SpecifiedTradeSettlementMonetarySummation>
 </ram:ApplicableSupplyChainTradeSettlement></rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>"""


def facturx_xml(type_code: str = "380") -> bytes:
    return FACTURX_XML.replace("{type_code}", type_code).encode()


def visible_pdf(text: str = "Invoice FX-2026-0042 total 120.00 EUR") -> bytes:
    out = BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.drawString(72, 760, text)
    page.showPage()
    page.save()
    return out.getvalue()


def pdf_with_attachments(*attachments: tuple[str, bytes]) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for name, content in attachments:
        writer.add_attachment(name, content)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def facturx_pdf() -> bytes:
    return facturx.generate_from_binary(visible_pdf(), facturx_xml(), check_xsd=True)


def test_hand_built_facturx_round_trips(facturx_pdf: bytes) -> None:
    found = embedded_xml(facturx_pdf)
    assert found is not None
    assert found[0] == "factur-x.xml"
    assert found[1] == facturx_xml()
    from_pdf = read_einvoice_pdf(facturx_pdf, source="fx.pdf")
    assert from_pdf is not None
    bare = read_einvoice(facturx_xml(), source="fx.pdf")
    assert from_pdf.model_dump(exclude={"lineage"}) == bare.model_dump(exclude={"lineage"})
    assert from_pdf.lineage["einvoice_attachment"] == "factur-x.xml"
    assert json.loads(from_pdf.to_json_line())["fields"] == {
        "vendor_name": "Widgets SARL",
        "vendor_tax_id": "FR11999999998",
        "vendor_iban": "FR7630006000011234567890189",
        "invoice_number": "FX-2026-0042",
        "invoice_date": "2026-03-01",
        "due_date": "2026-03-31",
        "po_number": "PO-777",
        "currency": "EUR",
        "subtotal": "100.00",
        "tax_amount": "20.00",
        "total": "120.00",
    }
    assert [line.model_dump(mode="json") for line in from_pdf.lines] == [
        {
            "description": "Widget, blue",
            "sku": "WID-7",
            "quantity": "8",
            "unit_price": "12.50",
            "amount": "100.00",
        }
    ]
    assert detect(facturx_pdf) == "pdf_embedded"


def test_facturx_credit_note_signs() -> None:
    pdf = facturx.generate_from_binary(visible_pdf(), facturx_xml("381"), check_xsd=True)
    result = read_einvoice_pdf(pdf)
    assert result is not None
    assert result.doc_type == "credit_note"
    assert [str(result.fields.total), str(result.lines[0].amount), str(result.lines[0].quantity)] == [
        "-120.00",
        "-100.00",
        "8",
    ]


def test_plain_pdf_has_no_embedded_einvoice() -> None:
    plain = visible_pdf()
    assert embedded_xml(plain) is None
    assert read_einvoice_pdf(plain) is None
    assert detect(plain) is None


def test_pdf_with_unrelated_attachment_is_not_an_einvoice() -> None:
    pdf = pdf_with_attachments(("notes.xml", b"<notes/>"))
    assert embedded_xml(pdf) is None
    assert detect(pdf) is None


def test_zugferd1_attachment_name_is_found() -> None:
    pdf = pdf_with_attachments(("ZUGFeRD-invoice.xml", ZUGFERD1_XML))
    result = read_einvoice_pdf(pdf)
    assert result is not None
    assert result.lineage["einvoice"].startswith("zugferd1@")
    assert result.lineage["einvoice_attachment"] == "ZUGFeRD-invoice.xml"
    assert (result.fields.invoice_number, str(result.fields.total)) == ("Z1-1", "119.00")
    assert detect(pdf) == "pdf_embedded"


def test_hybrid_pdf_prefers_the_facturx_attachment() -> None:
    pdf = pdf_with_attachments(("ZUGFeRD-invoice.xml", ZUGFERD1_XML), ("factur-x.xml", facturx_xml()))
    found = embedded_xml(pdf)
    assert found is not None and found[0] == "factur-x.xml"


def test_broken_embedded_xml_gets_its_own_code_not_none() -> None:
    pdf = pdf_with_attachments(("factur-x.xml", b"<rsm:CrossIndustryInvoice><unclosed>"))
    with pytest.raises(EInvoiceError) as info:
        read_einvoice_pdf(pdf)
    assert info.value.code == "E301"


def test_empty_embedded_xml_is_e305() -> None:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice_pdf(pdf_with_attachments(("factur-x.xml", b"")))
    assert info.value.code == "E305"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n1 0 obj <</Type /EmbeddedFile>> garbage", b"%PDF-1.4\n" + b"\x00" * 200],
    ids=["garbage-with-marker", "nul-bytes"],
)
def test_unreadable_pdf_is_e305_and_detect_stays_quiet(data: bytes) -> None:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice_pdf(data)
    assert info.value.code == "E305"
    assert detect(data) is None


def test_truth_and_make_truth(tmp_path: Path, facturx_pdf: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "fx.pdf").write_bytes(facturx_pdf)
    (source / "plain.pdf").write_bytes(visible_pdf())
    truth = truth_of(source / "sub" / "fx.pdf")
    assert set(truth) == {"doc_type", "fields", "lines"}
    assert truth["doc_type"] == "invoice" and truth["fields"]["total"] == "120.00"
    with pytest.raises(EInvoiceError) as info:
        truth_of(source / "plain.pdf")
    assert info.value.code == "E305"

    out = tmp_path / "out"
    assert make_truth_main([str(source), str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == ["sub/fx.json"]
    assert summary["skipped"] == {"plain.pdf": "E305"}
    assert json.loads((out / "sub" / "fx.json").read_text()) == truth
    assert (out / "sub" / "fx.pdf").read_bytes() == facturx_pdf
    with pytest.raises(SystemExit):
        make_truth_main([str(source), str(source / "nested")])  # never writes into the source corpus


def test_an_embedded_einvoice_is_read_without_pypdf_as_pypdf_reads_it(
    tmp_path: Path, facturx_pdf: bytes
) -> None:
    import subprocess
    import sys

    from extractors.einvoice.pdf import _pypdf_attachments

    path = tmp_path / "fx.pdf"
    path.write_bytes(facturx_pdf)
    # A process of its own: what reading imports is seen only there.
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from extractors.einvoice import detect, read_einvoice_pdf\n"
        "data = Path(sys.argv[1]).read_bytes()\n"
        "result = read_einvoice_pdf(data) if detect(data) == 'pdf_embedded' else None\n"
        "print(json.dumps({'fields': json.loads(result.to_json_line())['fields'],\n"
        "                  'pypdf': any(m.split('.')[0] == 'pypdf' for m in sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["pypdf"] is False
    assert seen["fields"]["invoice_number"] == "FX-2026-0042" and seen["fields"]["total"] == "120.00"
    # The bytes pdfium hands over are those pypdf reads.
    assert list(_pypdf_attachments(facturx_pdf, ("factur-x.xml",))) == [("factur-x.xml", facturx_xml())]
    assert embedded_xml(facturx_pdf) == ("factur-x.xml", facturx_xml())
