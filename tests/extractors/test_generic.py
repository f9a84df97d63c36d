"""The generic extractor on a layout of our own (EN/DE/FR, invoices and credit notes)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from invoice_fixtures import Invoice

from extractors.generic import GenericExtractor
from extractors.generic.candidates import Candidate
from extractors.generic.consistency import choose_totals
from extractors.generic.labels import label_finder
from ledgerbot.core.domain import DocType
from textlayer import read_document


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
@pytest.mark.parametrize("credit", [False, True], ids=["invoice", "credit"])
def test_header_fields_and_lines_match_the_printed_invoice(
    extractor: GenericExtractor, lang: str, credit: bool
) -> None:
    invoice = Invoice(lang=lang, credit=credit)
    document = read_document(invoice.pdf(), name="fixture.pdf")
    doc_type = DocType.CREDIT_NOTE if credit else DocType.INVOICE
    result = extractor.extract(document, doc_type)
    truth = invoice.truth()
    got = result.model_dump(mode="json")
    assert got["fields"] == truth["fields"]
    assert [(line["quantity"], line["unit_price"], line["amount"]) for line in got["lines"]] == [
        (line["quantity"], line["unit_price"], line["amount"]) for line in truth["lines"]
    ]
    assert [line["description"] for line in got["lines"]] == [line["description"] for line in truth["lines"]]
    assert result.method == "generic"
    assert result.lineage["extractor"].startswith("generic-")


def test_buyer_vat_id_is_not_taken_for_the_vendors(extractor: GenericExtractor) -> None:
    invoice = Invoice(vendor_vat="DE999999999", buyer_vat="DE811234567")
    result = extractor.extract(read_document(invoice.pdf(), name="x.pdf"), DocType.INVOICE)
    assert result.fields.vendor_tax_id == "DE999999999"


def test_boxes_point_at_the_printed_values(extractor: GenericExtractor) -> None:
    invoice = Invoice()
    document = read_document(invoice.pdf(), name="x.pdf")
    result = extractor.extract(document, DocType.INVOICE)
    words = {w.text: w for _, w in document.iter_words()}
    box = result.field_boxes["invoice_number"]
    assert box.page == 1
    assert box.bbox == pytest.approx(words["RE-2026-1001"].bbox, abs=0.5)
    total_box = result.field_boxes["total"].bbox
    assert total_box[0] > 400 and total_box[1] > 300  # the totals block, bottom right
    assert set(result.field_confidence) >= {"invoice_number", "total", "invoice_date"}
    assert all(0 < c <= 1 for c in result.field_confidence.values())


def test_without_doc_type_a_credit_note_is_recognised_by_its_title(extractor: GenericExtractor) -> None:
    invoice = Invoice(credit=True)
    result = extractor.extract(read_document(invoice.pdf(), name="x.pdf"), None)
    assert result.fields.total is not None and result.fields.total < 0
    assert all(line.amount is not None and line.amount < 0 for line in result.lines)
    assert all(line.quantity is not None and line.quantity > 0 for line in result.lines)


def test_missing_fields_stay_null(extractor: GenericExtractor) -> None:
    invoice = Invoice(po="")
    result = extractor.extract(read_document(invoice.pdf(), name="x.pdf"), DocType.INVOICE)
    assert result.fields.po_number is None


def _cand(name: str, value: str, score: float) -> Candidate:
    return Candidate(name, Decimal(value), value, 1, (0, 0, 1, 1), "right", score=score)


def test_consistency_prefers_the_combination_that_adds_up() -> None:
    subtotals = [_cand("subtotal", "1000.00", 0.9)]
    taxes = [_cand("tax_amount", "19.00", 0.9), _cand("tax_amount", "190.00", 0.8)]
    totals = [_cand("total", "1190.00", 0.9)]
    chosen = choose_totals(subtotals, taxes, totals, Decimal("1000.00"))
    assert chosen["tax_amount"].candidate is not None
    assert chosen["tax_amount"].candidate.value == Decimal("190.00")
    assert chosen["total"].confidence > 0.9


def test_labels_are_found_whatever_the_punctuation() -> None:
    finder = label_finder()
    kinds = lambda text: {m.kind for m in finder.find(text.split())}  # noqa: E731
    assert "invoice_number" in kinds("Rechnungs-Nr.: 4711")
    assert "due_date" in kinds("Date d'échéance : 12/04/2026")
    assert "subtotal" in kinds("Total net 1,000.00")
    assert "po_number" not in kinds("Ref PO-45012")  # the value is not its own label
    assert kinds("Kunden-Nr.: 55") == {"other_id"}
