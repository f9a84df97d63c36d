from __future__ import annotations

import random

from classifier_corpus_gen import make_document

from classifiers.features import document_from_text, extract_features
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word


def _line(text: str, x: float, top: float, size: float) -> Line:
    words, cursor = [], x
    for token in text.split():
        words.append(Word(token, (cursor, top, cursor + 6 * len(token), top + size), size=size))
        cursor += 6 * len(token) + 4
    return Line(words)


def test_largest_font_line_is_the_title_and_its_zone_is_recorded() -> None:
    page = Page(
        number=1,
        width=600,
        height=800,
        lines=[
            _line("Acme Tools GmbH", 20, 20, 9),
            _line("CREDIT NOTE", 400, 60, 20),
            _line("Credit note no 4711 dated 2026-03-14", 20, 120, 9),
            _line("Amount credited -1,190.00 EUR", 20, 140, 9),
        ],
    )
    features = extract_features(Document(pages=[page]))
    assert features.title == "CREDIT NOTE"
    assert features.title_zone == "top_right"
    assert "title_credit" in features.for_baseline()
    assert features.named_types == ("credit_note",)
    assert "kwt_credit_note" in features.for_baseline()
    assert features.for_transformer().startswith(
        "title: CREDIT NOTE. named: credit note. title at top right."
    )


def test_numbers_are_folded_so_amounts_do_not_become_vocabulary() -> None:
    features = extract_features(document_from_text("Invoice 2026-00417\nTotal 1,190.00 EUR"))
    assert "2026" not in features.body and "1,190.00" not in features.body
    assert features.body == "Invoice 0 Total 0 EUR"


def test_plain_text_has_no_title_because_every_line_has_the_same_size() -> None:
    features = extract_features(document_from_text("INVOICE\nInvoice number 12\nDue date 2026-01-01"))
    assert features.title == ""
    assert features.title_zone == "none"
    assert "pos_title_none" in features.for_baseline()


def test_blank_first_page_is_skipped_and_empty_document_gives_empty_features() -> None:
    blank = Page(number=1, width=600, height=800, lines=[])
    text = Page(
        number=2,
        width=600,
        height=800,
        lines=[_line("REMITTANCE ADVICE", 20, 40, 18), _line("paid", 20, 90, 9)],
    )
    features = extract_features(Document(pages=[blank, text]))
    assert features.title == "REMITTANCE ADVICE"
    assert features.pages == 2
    empty = extract_features(Document(pages=[blank]))
    assert (empty.title, empty.body, empty.title_zone) == ("", "", "none")


def test_scanned_documents_are_marked_for_both_models() -> None:
    doc = make_document(DocType.STATEMENT, random.Random(3), layout=1, scanned=True)
    features = extract_features(doc)
    assert features.scanned
    assert "src_scan" in features.for_baseline()


def test_type_names_in_capitals_count_as_titles_but_references_in_running_text_do_not() -> None:
    page = Page(
        number=1,
        width=600,
        height=800,
        lines=[
            _line("Nordlicht France SAS AVIS DE PAIEMENT", 20, 30, 9),
            _line("Bon de commande PO-45012", 20, 200, 9),
        ],
    )
    features = extract_features(Document(pages=[page]))
    assert features.title == ""  # every line has the same size
    assert features.named_types == ("remittance_advice",)


def test_a_scan_headline_names_the_type_though_a_table_row_measures_taller() -> None:
    # OCR gives box heights: a row of tall digits can outgrow the title of a statement.
    page = Page(
        number=1,
        width=1650,
        height=2330,
        lines=[
            _line("Orbis Electrique B.V.", 100, 100, 36),
            _line("Damrak 21 Amsterdam", 100, 170, 15),
            _line("STATEMENT OF ACCOUNT", 100, 240, 30),
            _line("Statement date Customer No", 100, 330, 14),
            _line("Bill to Nordlicht France SAS", 100, 440, 15),
            _line("Date Reference Description Balance", 100, 770, 18),
            _line("2026-05-08 2026-00960 Invoice 4.446,71 4.446,71", 100, 814, 36),
            _line("Please remit the balance due", 100, 1030, 17),
        ],
        source="ocr",
    )
    features = extract_features(Document(pages=[page]))
    assert features.named_types[0] == "statement"
    assert features.title.startswith("STATEMENT OF ACCOUNT")


def test_a_reference_in_body_type_is_no_headline() -> None:
    page = Page(
        number=1,
        width=600,
        height=800,
        lines=[
            _line("Zenith Components SA", 20, 20, 9),
            _line("Avoir", 400, 40, 20),
            _line("Bon de commande PO-2026-17", 20, 90, 9),
            _line("Facturé à Nordlicht Handels GmbH", 20, 110, 9),
            _line("Net à payer -1.190,00 EUR", 20, 300, 9),
        ],
    )
    features = extract_features(Document(pages=[page]))
    assert features.named_types == ("credit_note",)
    assert set(features.mentioned_types) == {"credit_note", "purchase_order", "invoice"}


def test_negative_amounts_are_a_hint_and_dates_are_not() -> None:
    credit = extract_features(document_from_text("Credit\nTotal -1,190.00 EUR\nRefund 119,00-"))
    invoice = extract_features(document_from_text("Invoice 2026-03-14\nTotal 1,190.00 EUR\nTel 030-1234"))
    assert credit.negative_amounts and "amount_negative" in credit.for_baseline()
    assert "amounts negative." in credit.preamble()
    assert not invoice.negative_amounts and "amount_positive" in invoice.for_baseline()


def test_refund_wording_and_the_corrected_invoice_are_hints() -> None:
    credit = extract_features(
        document_from_text(
            "ABONO\nAbono sobre factura FA-2026-88 del 12/03/2026\nImporte a devolver 119,00 EUR"
        )
    )
    invoice = extract_features(document_from_text("Factura\nNúmero de factura FA-2026-88\nTotal 119,00 EUR"))
    assert credit.named_types == ("credit_note",)
    assert credit.refers_to_invoice and "refers_to_invoice" in credit.for_baseline().split()
    assert credit.credit_wording and "credit_wording" in credit.for_baseline().split()
    assert not invoice.refers_to_invoice and not invoice.credit_wording
    assert "refers_to_invoice" not in invoice.for_baseline().split()
