"""The shared e-invoice corpus (ZUGFeRD/corpus): CII/UBL pairs agree, real PDFs read, broken files give codes.

Every file is a parameter, so a regression names the file that broke.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import facturx
import pytest
from lxml import etree

from extractors.einvoice import EInvoiceError, detect, parse_einvoice, read_einvoice, truth_from_einvoice
from extractors.einvoice.truth import result_for
from ledgerbot.core.domain import HEADER_FIELDS, DocType, ExtractionResult, InvoiceLine

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "einvoice"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared e-invoice corpus not at {CORPUS}")

XML_RECHNUNG = CORPUS / "XML-Rechnung"
UBL_SUFFIX, CII_SUFFIX = ".ubl.xml", ".cii.xml"


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


PAIR_STEMS = sorted(
    p.name.removesuffix(CII_SUFFIX)
    for p in _files(XML_RECHNUNG / "CII", f"*{CII_SUFFIX}")
    if (XML_RECHNUNG / "UBL" / (p.name.removesuffix(CII_SUFFIX) + UBL_SUFFIX)).exists()
)
ALL_XML = _files(XML_RECHNUNG, "*/*.xml")
ZUGFERD1_CORRECT = _files(CORPUS / "ZUGFeRDv1" / "correct", "**/*.pdf")
FAIL_FILES = [p for p in _files(CORPUS, "**/fail/**/*") if p.is_file()]

# The source's own defect: this "not_validating" sample was converted CII -> UBL with the VAT
# total and the line net amounts multiplied by ten (the UBL lines no longer add up to its own
# header) and the payment means dropped. Exactly these values may differ; nothing else.
KNOWN_PAIR_DIFFERENCES: dict[str, dict[str, tuple[Any, Any]]] = {
    "not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel": {
        "tax_amount": (Decimal("5.00"), Decimal("50")),
        "vendor_iban": ("IT1212341234123412", None),
        "lines.amount": ([Decimal("100.00")] * 2, [Decimal("1000")] * 2),
    }
}

# What each deliberately broken file gives. "ok" files are broken only for a validator (schema
# or schematron: wrong arithmetic, foreign elements, profile mismatches), not for reading.
FAIL_OUTCOMES: dict[str, str] = {
    "ZUGFeRDv1/fail/Mustangproject/fail1.pdf": "E306",  # issue date in format "1020"
    "ZUGFeRDv1/fail/Mustangproject/fail2.pdf": "ok",  # foreign dc:title element, empty currency
    "ZUGFeRDv1/fail/Mustangproject/fail3.pdf": "E303",  # empty TypeCode (BT-3)
    "ZUGFeRDv2/fail/Mustangproject/factur-x-invalid-xml-encoding-attribute.pdf": "E301",
}


def _rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def _differences(cii: ExtractionResult, ubl: ExtractionResult) -> dict[str, tuple[Any, Any]]:
    """Header fields that differ, and line attributes (``lines.<name>``) that differ on any line."""
    a, b = cii.fields.model_dump(), ubl.fields.model_dump()
    out: dict[str, tuple[Any, Any]] = {name: (a[name], b[name]) for name in a if a[name] != b[name]}
    for name in InvoiceLine.model_fields:
        left = [getattr(line, name) for line in cii.lines]
        right = [getattr(line, name) for line in ubl.lines]
        if left != right:
            out[f"lines.{name}"] = (left, right)
    return out


# --- CII / UBL pairs --------------------------------------------------------------------------


def test_corpus_has_the_pairs() -> None:
    assert len(PAIR_STEMS) >= 26


@pytest.mark.parametrize("stem", PAIR_STEMS)
def test_cii_and_ubl_of_the_same_invoice_agree(stem: str) -> None:
    cii = read_einvoice((XML_RECHNUNG / "CII" / f"{stem}{CII_SUFFIX}").read_bytes())
    ubl = read_einvoice((XML_RECHNUNG / "UBL" / f"{stem}{UBL_SUFFIX}").read_bytes())
    assert cii.lineage["einvoice"].startswith("cii@") and ubl.lineage["einvoice"].startswith("ubl@")
    assert cii.doc_type == ubl.doc_type
    assert len(cii.lines) == len(ubl.lines)
    # Decimal equality: CII writes 9.9000 where the UBL conversion writes 9.9, same amount.
    assert _differences(cii, ubl) == KNOWN_PAIR_DIFFERENCES.get(stem, {})
    # Invoice number, date and total are in every pair, and the header adds up where stated.
    assert cii.fields.invoice_number and cii.fields.invoice_date and cii.fields.total is not None


# --- an independent reading: the factur-x library's own EN 16931 parser -----------------------

_ORACLE_TERMS = {
    "invoice_number": "BT-1",
    "invoice_date": "BT-2",
    "due_date": "BT-9",
    "po_number": "BT-13",
    "currency": "BT-5",
    "subtotal": "BT-109",
    "tax_amount": "BT-110",
    "total": "BT-112",
}


@pytest.mark.parametrize("path", ALL_XML, ids=_rel)
def test_header_agrees_with_the_facturx_library_parser(path: Path) -> None:
    logging.getLogger("factur-x").setLevel(logging.ERROR)
    oracle = facturx.parse_ubl_cii_xml(etree.parse(str(path)).getroot(), check_xsd=False)
    ours = parse_einvoice(path.read_bytes())  # the document's own signs, like the library
    for name, term in _ORACLE_TERMS.items():
        expected = oracle.get(term)
        if name in ("subtotal", "tax_amount", "total") and expected is not None:
            expected = Decimal(expected)
        assert getattr(ours.fields, name) == expected, f"{name} ({term})"
    assert ours.type_code == oracle["BT-3"]
    assert len(ours.lines) == len(oracle.get("BG-25") or [])


# --- ZUGFeRD 1.0 PDFs -------------------------------------------------------------------------


def test_corpus_has_the_zugferd1_pdfs() -> None:
    assert len(ZUGFERD1_CORRECT) >= 21


@pytest.mark.parametrize("path", ZUGFERD1_CORRECT, ids=_rel)
def test_zugferd1_pdf_reads_to_a_payable_document(path: Path) -> None:
    data = path.read_bytes()
    assert detect(data) == "pdf_embedded"
    result = result_for(path)
    assert result.doc_type in (DocType.INVOICE, DocType.CREDIT_NOTE)
    assert result.method == "einvoice"
    assert result.lineage["einvoice"].startswith("zugferd1@")
    assert result.lineage["einvoice_attachment"] == "ZUGFeRD-invoice.xml"
    assert result.fields.invoice_number and result.fields.invoice_date and result.fields.total is not None
    truth = truth_from_einvoice(path)
    assert truth["fields"]["invoice_number"] == result.fields.invoice_number
    assert truth["fields"]["total"] == format(result.fields.total, "f")
    assert len(truth["lines"]) == len(result.lines)


def test_hybrid_zugferd1_and_2_pdf_reads_the_facturx_attachment() -> None:
    path = CORPUS / "ZUGFeRDv2" / "fail" / "MustangRE-20171118_506_ZUGFeRD1and2.pdf"
    assert path.exists(), f"{path} is part of the shared e-invoice samples"
    result = result_for(path)
    assert result.lineage["einvoice_attachment"] == "factur-x.xml"
    assert result.lineage["einvoice"].startswith("cii@")


@pytest.mark.parametrize(
    ("profile", "left_out"),
    [("MINIMUM", {"lines", "due_date", "vendor_iban"}), ("BASICWL", {"lines"}), ("EN16931", set())],
)
def test_truth_scores_only_what_the_profile_carries(profile: str, left_out: set[str]) -> None:
    """A MINIMUM or BASIC WL XML has no lines (MINIMUM no due date or IBAN either): the page's
    lines are not wrong because the XML cannot list them."""
    folder = CORPUS / "ZUGFeRDv2" / "fail" / "FNFE-factur-x-examples"
    paths = sorted(folder.glob(f"*_{profile}.pdf"))
    assert paths, f"no {profile} sample in {folder}"
    for path in paths:
        truth = truth_from_einvoice(path)
        if not left_out:
            assert "scored" not in truth
            continue
        assert set(truth["scored"]) == {*HEADER_FIELDS, "lines"} - left_out


# --- deliberately broken files ----------------------------------------------------------------


def test_every_listed_fail_outcome_exists() -> None:
    assert {_rel(p) for p in FAIL_FILES} >= set(FAIL_OUTCOMES)


@pytest.mark.parametrize("path", FAIL_FILES, ids=_rel)
def test_fail_file_gives_a_coded_error_or_its_documented_result(path: Path) -> None:
    expected = FAIL_OUTCOMES.get(_rel(path), "ok")
    try:
        result = result_for(path)
    except EInvoiceError as exc:  # anything else (a crash) fails the test as an error
        assert exc.code == expected, str(exc)
        return
    assert expected == "ok", f"expected {expected}, read {result.fields.invoice_number}"
    assert result.doc_type in (DocType.INVOICE, DocType.CREDIT_NOTE)
    assert result.fields.invoice_number and result.fields.total is not None


@pytest.mark.parametrize("path", ALL_XML, ids=_rel)
def test_detect_bare_xml(path: Path) -> None:
    assert detect(path.read_bytes()) == ("ubl" if "/UBL/" in path.as_posix() else "cii")


def test_credit_notes_in_the_corpus_follow_the_sign_convention() -> None:
    seen = 0
    for path in [*ALL_XML, *(p for p in FAIL_FILES if p.suffix == ".pdf")]:
        try:
            result = result_for(path)
        except EInvoiceError:
            continue
        if result.doc_type is not DocType.CREDIT_NOTE:
            continue
        seen += 1
        assert result.fields.total is not None and result.fields.total < 0, _rel(path)
        for line in result.lines:
            assert line.amount is not None and line.amount < 0, _rel(path)
            assert line.quantity is not None and line.quantity > 0, _rel(path)
            assert line.unit_price is not None and line.unit_price >= 0, _rel(path)
    assert seen >= 4  # the UBL credit note and the French 381 Factur-X samples
