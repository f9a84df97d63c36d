"""The corpus generator's files: e-invoice XML, Factur-X, scans, match cases and the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import facturx
import pdfplumber
import pytest
from lxml import etree
from PIL import Image

from ledgerbot.core.domain import ExtractionResult
from sandbox.corpus import build_cases, generate_corpus
from sandbox.corpus.einvoice import CAC, CBC, RAM, RSM
from sandbox.masterdata import generate_master_data

MASTER = generate_master_data()
BIN = Path(sys.executable).parent / "ledgerbot"


def _truths(folder: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        Path(name).stem: {**json.loads((folder / f"{Path(name).stem}.json").read_text()), "_file": name}
        for name in manifest["files"]
    }


@pytest.fixture(scope="module")
def payables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("payables")
    generate_corpus(out, 90, seed=17, mismatch_rate=0.2, scans=False, doc_types=["invoice", "credit_note"])
    return out


def _dec(text: str | None) -> Decimal:
    assert text is not None
    return Decimal(text)


def _abs(value: str) -> Decimal:
    return abs(Decimal(value))


def test_ubl_carries_the_truth(payables: Path) -> None:
    checked = 0
    for truth in _truths(payables).values():
        if truth["variant"] != "ubl":
            continue
        root = etree.parse(str(payables / truth["_file"])).getroot()
        credit = truth["doc_type"] == "credit_note"
        assert etree.QName(root).localname == ("CreditNote" if credit else "Invoice")
        ns = {"cac": CAC, "cbc": CBC}

        def one(path: str, root: etree._Element = root, ns: dict[str, str] = ns) -> str | None:
            return root.findtext(path, namespaces=ns)

        fields = truth["fields"]
        supplier = "cac:AccountingSupplierParty/cac:Party"
        assert one("cbc:ID") == fields["invoice_number"]
        assert one("cbc:IssueDate") == fields["invoice_date"]
        assert one("cbc:DueDate") == fields["due_date"]
        assert one("cbc:DocumentCurrencyCode") == fields["currency"]
        assert one("cac:OrderReference/cbc:ID") == fields["po_number"]
        assert one(f"{supplier}/cac:PartyName/cbc:Name") == fields["vendor_name"]
        assert one(f"{supplier}/cac:PartyTaxScheme/cbc:CompanyID") == fields["vendor_tax_id"]
        assert one("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == fields["vendor_iban"]
        assert _dec(one("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")) == _abs(fields["subtotal"])
        assert _dec(one("cac:TaxTotal/cbc:TaxAmount")) == _abs(fields["tax_amount"])
        assert _dec(one("cac:LegalMonetaryTotal/cbc:PayableAmount")) == _abs(fields["total"])
        lines = root.findall("cac:CreditNoteLine" if credit else "cac:InvoiceLine", ns)
        assert len(lines) == len(truth["lines"])
        qty_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        for element, line in zip(lines, truth["lines"], strict=True):
            assert element.findtext("cac:Item/cbc:Name", namespaces=ns) == line["description"]
            assert (
                element.findtext("cac:Item/cac:SellersItemIdentification/cbc:ID", namespaces=ns)
                == line["sku"]
            )
            assert _dec(element.findtext(qty_tag, namespaces=ns)) == Decimal(line["quantity"])
            assert _dec(element.findtext("cac:Price/cbc:PriceAmount", namespaces=ns)) == Decimal(
                line["unit_price"]
            )
            assert _dec(element.findtext("cbc:LineExtensionAmount", namespaces=ns)) == _abs(line["amount"])
        if credit:
            assert (
                one("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
                == truth["refers_to"]["invoice_number"]
            )
        checked += 1
    assert checked >= 3


def _check_cii(xml: bytes, truth: dict[str, Any]) -> None:
    root = etree.fromstring(xml)
    ns = {"rsm": RSM, "ram": RAM}
    one = lambda path: root.findtext(path, namespaces=ns)  # noqa: E731
    fields = truth["fields"]
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    sums = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert one("rsm:ExchangedDocument/ram:ID") == fields["invoice_number"]
    assert one("rsm:ExchangedDocument/ram:TypeCode") == (
        "381" if truth["doc_type"] == "credit_note" else "380"
    )
    issued = one("rsm:ExchangedDocument/ram:IssueDateTime/*")
    assert issued == fields["invoice_date"].replace("-", "")
    due = one(f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*")
    assert due == (fields["due_date"].replace("-", "") if fields["due_date"] else None)
    assert one(f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == fields["po_number"]
    assert one(f"{agreement}/ram:SellerTradeParty/ram:Name") == fields["vendor_name"]
    assert (
        one(f"{agreement}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID")
        == fields["vendor_tax_id"]
    )
    iban = one(
        f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
    )
    assert iban == fields["vendor_iban"]
    assert _dec(one(f"{sums}/ram:TaxBasisTotalAmount")) == _abs(fields["subtotal"])
    assert _dec(one(f"{sums}/ram:TaxTotalAmount")) == _abs(fields["tax_amount"])
    assert _dec(one(f"{sums}/ram:GrandTotalAmount")) == _abs(fields["total"])
    items = root.findall("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", ns)
    assert len(items) == len(truth["lines"])
    for index, (item, line) in enumerate(zip(items, truth["lines"], strict=True), start=1):
        get = lambda path, el=item: el.findtext(path, namespaces=ns)  # noqa: E731
        assert get("ram:AssociatedDocumentLineDocument/ram:LineID") == str(index)
        assert get("ram:SpecifiedTradeProduct/ram:Name") == line["description"]
        assert get("ram:SpecifiedTradeProduct/ram:SellerAssignedID") == line["sku"]
        assert _dec(get("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")) == Decimal(line["quantity"])
        price = get("ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount")
        assert _dec(price) == Decimal(line["unit_price"])
        net = get(
            "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
        )
        assert _dec(net) == _abs(line["amount"])
    # The EN 16931 schema (shipped with the factur-x library) accepts it.
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


def test_cii_carries_the_truth_and_validates(payables: Path) -> None:
    checked = 0
    for truth in _truths(payables).values():
        if truth["variant"] == "cii":
            _check_cii((payables / truth["_file"]).read_bytes(), truth)
            checked += 1
    assert checked >= 3


def test_facturx_pdf_has_the_embedded_xml_and_a_visible_page(payables: Path) -> None:
    checked = 0
    for truth in _truths(payables).values():
        if truth["variant"] != "facturx":
            continue
        data = (payables / truth["_file"]).read_bytes()
        filename, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
        assert filename == "factur-x.xml"
        _check_cii(xml, truth)
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        assert truth["fields"]["invoice_number"] in text
        checked += 1
    assert checked >= 2


@pytest.mark.slow
def test_scans_are_image_only_with_the_source_truth(tmp_path: Path) -> None:
    stats = generate_corpus(tmp_path, 24, seed=2, einvoices=False, doc_types=["invoice", "delivery_note"])
    truths = _truths(tmp_path)
    scanned = {stem: t for stem, t in truths.items() if t["variant"] in ("scan_png", "scan_pdf")}
    assert scanned and stats.by_variant.get("scan_png", 0) + stats.by_variant.get("scan_pdf", 0) == len(
        scanned
    )
    for truth in scanned.values():
        source = truths[truth["source_stem"]]
        assert {k: v for k, v in truth.items() if k not in ("variant", "source_stem", "_file")} == {
            k: v for k, v in source.items() if k not in ("variant", "source_stem", "_file")
        }
        path = tmp_path / truth["_file"]
        with pdfplumber.open(tmp_path / source["_file"]) as original:
            pages = len(original.pages)
            width_pt = float(original.pages[0].width)
        if truth["variant"] == "scan_png":
            assert pages == 1, "a PNG scan only ever holds a one-page document"
            image = Image.open(path)
            assert image.format == "PNG"
            assert abs(image.width - width_pt / 72 * 200) < 3  # rasterised at 200 dpi
            grey = image.convert("L")
            histogram = grey.histogram()
            # Not a clean render: noise leaves many distinct grey levels.
            assert sum(1 for count in histogram if count) > 60
        else:
            with pdfplumber.open(path) as pdf:
                assert len(pdf.pages) == pages
                assert not "".join(page.extract_text() or "" for page in pdf.pages).strip()
                assert pdf.pages[0].images


def test_cases_follow_the_matching_contract(payables: Path) -> None:
    truths = _truths(payables)
    cases = dict(build_cases(payables, MASTER))
    payable = {stem for stem, t in truths.items() if t["doc_type"] in ("invoice", "credit_note")}
    assert set(cases) == payable
    all_pos = {po.po_number for po in MASTER.purchase_orders}
    for stem, case in cases.items():
        truth = truths[stem]
        assert set(case) == {"invoice", "vendors", "purchase_orders", "receipts", "history", "today"}
        assert case["today"] == "2026-11-20"
        invoice = ExtractionResult.model_validate(case["invoice"])
        assert invoice.doc_type == truth["doc_type"] and invoice.doc_type_confidence == 1.0
        assert case["invoice"]["fields"] == truth["fields"] and case["invoice"]["lines"] == truth["lines"]
        assert [v["vendor_id"] for v in case["vendors"]] == [v.vendor_id for v in MASTER.vendors]
        assert set(case["vendors"][0]) == {"vendor_id", "name", "tax_id", "iban", "currency"}
        assert {po["vendor_id"] for po in case["purchase_orders"]} == {truth["vendor_id"]}
        po_numbers = {po["po_number"] for po in case["purchase_orders"]}
        assert {r["po_number"] for r in case["receipts"]} <= po_numbers
        if truth["fields"]["po_number"] in all_pos:
            assert truth["fields"]["po_number"] in po_numbers
        for po in case["purchase_orders"]:
            assert set(po) == {"po_number", "vendor_id", "currency", "status", "lines"}
            assert set(po["lines"][0]) == {"line_no", "sku", "description", "quantity", "unit_price"}
        for receipt in case["receipts"]:
            assert set(receipt) == {"receipt_number", "po_number", "date", "lines"}
        # History: earlier accepted documents of the same vendor, never one with a mismatch.
        earlier = {
            (t["fields"]["invoice_number"], t["doc_type"])
            for t in truths.values()
            if t["vendor_id"] == truth["vendor_id"]
            and t["sequence"] < truth["sequence"]
            and t["doc_type"] in ("invoice", "credit_note")
            and not t["mismatches"]
            and t["source_stem"] is None
        }
        history = {(h["fields"]["invoice_number"], h["doc_type"]) for h in case["history"]}
        assert history == earlier
        assert len(case["history"]) == len(earlier)
        for entry in case["history"]:
            assert set(entry) == {"status", "doc_type", "fields", "lines"}
        duplicate = [m for m in truth["mismatches"] if m["type"] == "duplicate"]
        if duplicate:
            assert (duplicate[0]["detail"]["invoice_number"], "invoice") in history


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=300, check=False)


def test_cli_writes_corpus_manifest_cases_and_a_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = _run("sandbox", "corpus", str(out), "--n", "16", "--seed", "4", "--no-scans", "--cases")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["documents"] == 16 and summary["seed"] == 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["by_variant"] == summary["by_variant"]
    assert "scan_png" not in manifest["by_variant"] and "scan_pdf" not in manifest["by_variant"]
    payable = sum(summary["by_doc_type"].get(k, 0) for k in ("invoice", "credit_note"))
    assert summary["cases"] == payable == len(list((out / "cases").glob("*.json")))
    # A second run into the same corpus folder replaces it cleanly.
    again = _run("sandbox", "corpus", str(out), "--n", "5", "--seed", "4", "--no-scans", "--split", "heldout")
    assert again.returncode == 0, again.stderr
    assert len(list(out.glob("*.json"))) == 5 + 1
    assert not (out / "cases").exists()


def test_cli_refuses_a_foreign_folder_and_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = _run("sandbox", "corpus", str(tmp_path), "--n", "3")
    assert result.returncode == 1
    assert "E310" in result.stderr and "not empty" in result.stderr
    assert result.stdout == ""
    assert (tmp_path / "notes.txt").read_text() == "mine"
    bad = _run("sandbox", "corpus", str(tmp_path / "new"), "--n", "3", "--split", "train")
    assert bad.returncode == 1 and "E310" in bad.stderr
