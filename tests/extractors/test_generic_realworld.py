"""Template-free extraction on layouts that real German/English invoices use (several VAT rates,
position columns, sender lines, payment terms)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from ledgerbot.domain import DocType

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


@pytest.fixture(scope="module")
def extractor() -> GenericExtractor:
    return GenericExtractor()


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
