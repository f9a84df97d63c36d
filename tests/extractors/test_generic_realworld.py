"""Template-free extraction on layouts that real German/English invoices use (several VAT rates,
position columns, sender lines, payment terms)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.labels import label_finder
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

_HEAD = [
    (40, 30, "Lieferant GmbH · Lieferantenstraße 20 · 80333 München"),
    (40, 100, "Kunden AG"),
    (40, 112, "Kundenstraße 15"),
    (40, 124, "69876 Frankfurt"),
    (350, 100, "Rechnungsnummer:"),
    (450, 100, "471102"),
    (350, 112, "Rechnungsdatum:"),
    (450, 112, "05.03.2013"),
    (40, 200, "Pos."),
    (70, 200, "Artikel"),
    (250, 200, "Menge"),
    (300, 200, "Einheit"),
    (350, 200, "Einzelpreis"),
    (420, 200, "MwSt."),
    (480, 200, "Gesamtpreis"),
    (40, 215, "1"),
    (70, 215, "Trennblätter A4"),
    (250, 215, "20,00"),
    (300, 215, "Stk"),
    (350, 215, "9,90"),
    (420, 215, "19%"),
    (480, 215, "198,00"),
    (40, 230, "2"),
    (70, 230, "Joghurt Banane"),
    (250, 230, "50,00"),
    (300, 230, "Stk"),
    (350, 230, "5,50"),
    (420, 230, "7%"),
    (480, 230, "275,00"),
]
_TOTALS = (Decimal("473.00"), Decimal("56.87"), Decimal("529.87"))


def test_one_tax_row_per_rate_adds_up_to_the_tax_total(extractor: GenericExtractor) -> None:
    document = _document(
        [
            *_HEAD,
            (300, 300, "Summe netto"),
            (480, 300, "473,00 €"),
            (300, 315, "zzgl. 7% MwSt. auf 275,00 €"),
            (480, 315, "19,25 €"),
            (300, 330, "zzgl. 19% MwSt. auf 198,00 €"),
            (480, 330, "37,62 €"),
            (300, 345, "Gesamtbetrag"),
            (480, 345, "529,87 €"),
        ]
    )
    result = extractor.extract(document, DocType.INVOICE)
    fields = result.fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == _TOTALS
    # The base a rate applies to ("auf 275,00 €") is never the tax.
    assert [i.amount for i in result.lines] == [Decimal("198.00"), Decimal("275.00")]


@pytest.mark.parametrize("sum_row", [True, False])
def test_a_vat_breakdown_table_gives_the_amounts_over_all_rates(
    extractor: GenericExtractor, sum_row: bool
) -> None:
    cells = [
        *_HEAD,
        (40, 300, "MwSt.-Satz"),
        (150, 300, "Nettobetrag"),
        (300, 300, "MwSt.-Betrag"),
        (450, 300, "Bruttobetrag"),
        (40, 315, "7,00 %"),
        (150, 315, "275,00"),
        (300, 315, "19,25"),
        (450, 315, "294,25"),
        (40, 330, "19,00 %"),
        (150, 330, "198,00"),
        (300, 330, "37,62"),
        (450, 330, "235,62"),
    ]
    if sum_row:
        cells += [(40, 345, "Summe"), (150, 345, "473,00"), (300, 345, "56,87"), (450, 345, "529,87")]
    result = extractor.extract(_document(cells), DocType.INVOICE)
    fields = result.fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == _TOTALS
    assert result.field_confidence["total"] > 0.8
    # A printed sum row has a box of its own.
    assert ("total" in result.field_boxes) is True


def test_a_single_rate_row_is_not_summed_with_an_unrelated_amount(extractor: GenericExtractor) -> None:
    document = _document(
        [
            *_HEAD[:8],
            (300, 300, "Nettobetrag"),
            (480, 300, "100,00 €"),
            (300, 315, "MwSt. 19%"),
            (480, 315, "19,00 €"),
            (300, 330, "MwSt. 19% (Vorauszahlung)"),
            (480, 330, "5,00 €"),
            (300, 345, "Rechnungsbetrag"),
            (480, 345, "119,00 €"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )


def _letter(cells: list[tuple[float, float, str, float]]) -> Document:
    """A one-page document whose cells each have their own type size."""
    lines = []
    for x, top, text, size in cells:
        words = []
        for token in text.split():
            width = 0.5 * size * len(token)
            words.append(Word(token, (x, top, x + width, top + size), size=size))
            x += width + 0.5 * size
        lines.append(Line(words))
    return Document(source="letter.pdf", pages=[Page(1, 595.0, 842.0, lines)])


_WINDOW = [
    (40, 100, "Kunden AG", 10.0),
    (40, 112, "Kundenstraße 15", 10.0),
    (40, 124, "69876 Frankfurt", 10.0),
    (350, 150, "Rechnungsnummer: 4711", 10.0),
    (300, 400, "Gesamtbetrag 119,00 €", 10.0),
]


@pytest.mark.parametrize(
    ("letterhead", "vendor"),
    [
        # No legal form: the letterhead still beats the recipient in the address window.
        (
            [(350, 30, "Malerbetrieb Hans Meier", 14.0), (350, 48, "Hauptstraße 5", 10.0)],
            "Malerbetrieb Hans Meier",
        ),
        # A name in large type wrapped over two lines is one name.
        (
            [
                (350, 30, "KVA Beispielhafter", 14.0),
                (350, 46, "Versicherungsverein Beispielstadt a.G.", 14.0),
                (350, 64, "Musterstraße 1", 10.0),
            ],
            "KVA Beispielhafter Versicherungsverein Beispielstadt a.G.",
        ),
        # 'Lieferant' (supplier) is a label, but not when a legal form follows it; the street
        # line under the name is an address, not a name.
        (
            [(40, 30, "Lieferant GmbH", 10.0), (40, 42, "Lieferantenstraße 20", 10.0)],
            "Lieferant GmbH",
        ),
    ],
)
def test_vendor_from_the_letterhead_not_the_address_window(
    extractor: GenericExtractor, letterhead: list[tuple[float, float, str, float]], vendor: str
) -> None:
    fields = extractor.extract(_letter(letterhead + _WINDOW), DocType.INVOICE).fields
    assert fields.vendor_name == vendor


def test_a_label_word_that_starts_a_company_name_is_part_of_it(extractor: GenericExtractor) -> None:
    document = _document([*_HEAD, (300, 300, "Gesamtbetrag"), (480, 300, "473,00 €")])
    assert extractor.extract(document, DocType.INVOICE).fields.vendor_name == "Lieferant GmbH"


def test_a_due_date_from_payment_terms_is_derived_with_low_confidence(extractor: GenericExtractor) -> None:
    document = _document([*_HEAD, (40, 380, "Zahlbar innerhalb 30 Tagen ohne Abzug.")])
    result = extractor.extract(document, DocType.INVOICE)
    assert result.fields.due_date == date(2013, 4, 4)
    assert result.field_confidence["due_date"] <= 0.5
    assert "due_date" not in result.field_boxes
    assert result.lineage["due_date"] == "payment terms: invoice date + 30 days"


def test_a_printed_due_date_wins_over_the_terms(extractor: GenericExtractor) -> None:
    document = _document([*_HEAD, (40, 380, "Zahlbar innerhalb 30 Tagen, spätestens bis zum 20.03.2013.")])
    assert extractor.extract(document, DocType.INVOICE).fields.due_date == date(2013, 3, 20)


def test_line_confidence_is_the_weakest_rows(extractor: GenericExtractor) -> None:
    document = _document(_HEAD)
    assert extractor.extract(document, DocType.INVOICE).field_confidence["lines"] == 1.0
    # A row that does not multiply out (20 x 9,90 is not 190,00) is a row to check.
    shaky = [(x, y, "190,00" if text == "198,00" else text) for x, y, text in _HEAD]
    assert extractor.extract(_document(shaky), DocType.INVOICE).field_confidence["lines"] < 0.6


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Versicherungsteuer 19 %", "tax_amount"),  # insurance premium invoices
        ("Versicherungssteuer", "tax_amount"),
        ("Beitragsrechnung Nr.", "invoice_number"),
        ("Dokument-Nr.", "invoice_number"),
        ("Abrechnungsdatum", "invoice_date"),
        ("Versicherungsschein-Nr.", "other_id"),  # the policy, not the invoice
        ("Vertragsnummer", "other_id"),
    ],
)
def test_german_insurance_and_document_labels(text: str, kind: str) -> None:
    assert [m.kind for m in label_finder().find(text.split(), [])] == [kind]


def test_lines_that_miss_the_printed_subtotal_do_not_override_it(extractor: GenericExtractor) -> None:
    # The second row's amount is misprinted (50 x 5,50 is 275,00): the lines sum to 473,50.
    head = [(x, y, "275,50" if text == "275,00" else text) for x, y, text in _HEAD]
    totals = [
        (300, 300, "Summe netto"),
        (480, 300, "473,00 €"),
        (300, 315, "MwSt. 19 %"),
        (480, 315, "89,87 €"),
        (300, 330, "Gesamtbetrag"),
        (480, 330, "562,87 €"),
    ]
    result = extractor.extract(_document(head + totals), DocType.INVOICE)
    fields = result.fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("473.00"),
        Decimal("89.87"),
        Decimal("562.87"),
    )
    assert result.field_confidence["lines"] <= 0.4
    # Lines that add up keep the confidence of their rows.
    agreeing = extractor.extract(_document([*_HEAD, *totals]), DocType.INVOICE)
    assert agreeing.field_confidence["lines"] == 1.0
