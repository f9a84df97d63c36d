"""Which label owns a value: order references, other documents' dates, a letter's date, a year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.candidates import LEGAL_FORM, Candidate
from extractors.generic.consistency import choose_dates
from extractors.generic.labels import label_finder

_HEAD = [
    (40, 40, "Nordwind Handel GmbH"),
    (40, 55, "Hafenweg 3, 20457 Hamburg"),
    (350, 150, "Invoice No. 2026-0815"),
    (350, 165, "Date 12.03.2026"),
    (300, 400, "Subtotal 100,00"),
    (300, 415, "VAT 19% 19,00"),
    (300, 430, "Total 119,00"),
]


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.phrase) for m in label_finder().find(text.split())]


def _values(extractor: GenericExtractor, cells: list[tuple[float, float, str]], field: str) -> set[object]:
    return {c.value for c in extractor.read_unscored(_document(cells)).candidates[field]}


@pytest.mark.parametrize("box", ["PO Box 1234", "P.O. Box 77 London", "Post Office Box 9"])
def test_a_post_office_box_names_no_purchase_order(extractor: GenericExtractor, box: str) -> None:
    assert not _values(extractor, [*_HEAD, (40, 70, box)], "po_number")
    assert "po_number" not in {kind for kind, _ in _kinds(box)}


@pytest.mark.parametrize(
    ("word", "kind", "phrase"),
    [
        ("Leistungs-/Rechnungsdatum", "invoice_date", "rechnungsdatum"),
        # The first alternative shares the second's ending: the invoice's own date comes first.
        ("Rechnungs-/Lieferdatum:", "invoice_date", "rechnungsdatum"),
        ("Liefer-/Leistungsdatum", "other_date", "leistungsdatum"),
    ],
)
def test_two_labels_joined_as_alternatives_are_one_label(word: str, kind: str, phrase: str) -> None:
    assert _kinds(f"{word} 08.08.2026") == [(kind, phrase)]


def test_a_slash_between_other_words_is_no_label() -> None:
    assert _kinds("Soll-/Haben 08.08.2026") == []


def test_a_date_under_another_dates_label_is_no_invoice_date(extractor: GenericExtractor) -> None:
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 150, "N° de facture"),
        (140, 150, "Date de facture"),
        (240, 150, "Date de livraison"),
        (40, 165, "INV/489-23"),
        (140, 165, "11-08-2023"),
        (240, 165, "02-08-2023"),
    ]
    assert _values(extractor, cells, "invoice_date") == {date(2023, 8, 11)}


@pytest.mark.parametrize(
    "line",
    [
        "Lieferschein 908703 vom 19.07.2026",
        "Bon de livraison 380255 du 19-07-2026",
        "Storno fattura R007582 del 19/07/2026",
    ],
)
def test_the_date_of_another_document_is_no_invoice_date(extractor: GenericExtractor, line: str) -> None:
    cells = [(40, 40, "Nordwind Handel GmbH"), (40, 150, "Rechnung 4711 vom 08.08.2026"), (40, 300, line)]
    assert _values(extractor, cells, "invoice_date") == {date(2026, 8, 8)}


def test_a_town_and_a_date_under_a_due_label_are_the_letters_date(extractor: GenericExtractor) -> None:
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 150, "Re-Nr.: F/000869"),
        (40, 165, "Bitte zahlen bis: 17. November 2024"),
        (40, 180, "Leipzig, 16. November 2024"),
    ]
    reading = extractor.read_unscored(_document(cells))
    assert {c.value for c in reading.candidates["due_date"]} == {date(2024, 11, 17)}
    assert date(2024, 11, 16) in {c.value for c in reading.candidates["invoice_date"]}


def test_the_field_labels_under_an_address_end_the_buyers_block(extractor: GenericExtractor) -> None:
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 120, "Rechnungsempfänger"),
        (40, 135, "Bonnet & Dupuis SA"),
        (40, 150, "31000 Toulouse"),
        (40, 165, "Rechnungsdatum 2026-08-08"),
    ]
    reading = extractor.read_unscored(_document(cells))
    dates = [c for c in reading.candidates["invoice_date"] if c.label is not None]
    assert dates and not any(c.features["in_buyer"] for c in dates)


def test_a_founding_year_and_an_order_number_across_a_gap_are_no_invoice_number(
    extractor: GenericExtractor,
) -> None:
    cells = [
        (40, 40, "Dexneo Techniek N.V."),
        (300, 40, "Familiebedrijf sinds 1977"),
        (40, 150, "Numéro:"),
        (200, 150, "00085234"),
        (40, 165, "Réf. commande:"),
        (200, 165, "PO45439"),
    ]
    numbers = _values(extractor, cells, "invoice_number")
    assert "00085234" in numbers
    assert not numbers & {"1977", "PO45439"}


def _dated(field: str, day: date, score: float, top: float) -> Candidate:
    return Candidate(field, day, day.isoformat(), 1, (40.0, top, 120.0, top + 10), "layout", score=score)


def test_the_order_of_the_dates_settles_between_alike_dates_only() -> None:
    due = [_dated("due_date", date(2013, 12, 6), 0.99, 500)]
    # A premium billed after its due day: the letter's date stands against one the ranker ruled out.
    issued = [
        _dated("invoice_date", date(2014, 1, 24), 0.92, 100),
        _dated("invoice_date", date(2013, 12, 6), 0.14, 300),
    ]
    assert choose_dates(issued, due)["invoice_date"].candidate is issued[0]
    # Two dates the ranker found alike: the one before the due date is the invoice's.
    alike = [
        _dated("invoice_date", date(2014, 1, 24), 0.62, 100),
        _dated("invoice_date", date(2013, 11, 6), 0.6, 300),
    ]
    assert choose_dates(alike, due)["invoice_date"].candidate is alike[1]


@pytest.mark.parametrize("name", ["Rixmonnix S.Coop.", "Services Lambert SCOP", "Zuivel Coöperatie U.A."])
def test_a_cooperatives_legal_form_ends_its_name(name: str) -> None:
    assert LEGAL_FORM.search(name) is not None


def test_the_groups_of_an_iban_are_no_vat_id(extractor: GenericExtractor) -> None:
    cells = [*_HEAD, (40, 600, "IBAN BE18 9455 5725 7865"), (40, 615, "TVA BE0428759497")]
    assert _values(extractor, cells, "vendor_tax_id") == {"BE0428759497"}
    assert _values(extractor, cells, "vendor_iban") == {"BE18945557257865"}


def test_the_items_total_under_an_unknown_label_ends_the_table(extractor: GenericExtractor) -> None:
    cells = [
        (40, 40, "Kaver S.r.l."),
        (40, 200, "Q.ta"),
        (90, 200, "Descrizione"),
        (300, 200, "Prezzo"),
        (400, 200, "Totale"),
        (40, 215, "16"),
        (90, 215, "Manodopera"),
        (300, 215, "1,05"),
        (400, 215, "16,80"),
        (40, 230, "325"),
        (90, 230, "Spese di trasporto"),
        (300, 230, "1,49"),
        (400, 230, "484,25"),
        # Set under the descriptions, where no numeric column is.
        (200, 245, "Imponibile 501,05 EUR"),
        (200, 260, "Totale documento 611,28 EUR"),
    ]
    reading = extractor.read_unscored(_document(cells))
    assert [(i.description, i.amount) for i in reading.table.items] == [
        ("Manodopera", Decimal("16.80")),
        ("Spese di trasporto", Decimal("484.25")),
    ]
    assert Decimal("501.05") in {c.value for c in reading.candidates["subtotal"]}


def test_a_unit_that_is_also_a_till_word_does_not_hide_the_first_items(extractor: GenericExtractor) -> None:
    # No header: the table is found from its first row that multiplies out.
    cells = [(40, 40, "Rixra Embalajes S.A.")]
    for n, (count, unit, price, amount) in enumerate(
        [
            ("20", "caja", "87,79", "1.755,80"),
            ("2", "caja", "18,00", "36,00"),
            ("1", "uds", "134,69", "134,69"),
        ]
    ):
        top = 215 + 15 * n
        cells += [
            (40, top, f"{count} {unit}"),
            (120, top, "Switch de red"),
            (300, top, price),
            (400, top, amount),
        ]
    items = extractor.read_unscored(_document(cells)).table.items
    assert [(i.quantity, i.amount) for i in items] == [
        (Decimal("20"), Decimal("1755.80")),
        (Decimal("2"), Decimal("36.00")),
        (Decimal("1"), Decimal("134.69")),
    ]


@pytest.mark.parametrize(
    "cells",
    [
        [(350, 150, "Bill No"), (350, 165, "INV 3305775")],
        [(300, 150, "N° facture:"), (420, 150, "FAC 6720057")],
    ],
)
def test_the_documents_name_heads_the_number_after_its_label(
    extractor: GenericExtractor, cells: list[tuple[float, float, str]]
) -> None:
    labelled = {
        c.value for c in extractor.read_unscored(_document(cells)).candidates["invoice_number"] if c.label
    }
    assert labelled == {cells[1][2]}


def test_the_house_number_ending_a_street_line_is_no_invoice_number(extractor: GenericExtractor) -> None:
    cells = [(40, 40, "Serrano Embalajes S.L.U."), (200, 55, "Avenida de la Constitución, 118b")]
    assert "118b" not in _values(extractor, cells, "invoice_number")


def test_a_date_a_column_gap_after_another_dates_label_is_no_invoice_date(
    extractor: GenericExtractor,
) -> None:
    cells = [
        (40, 40, "Solmonka V.O.F."),
        (300, 120, "LEVERDATUM:"),
        (450, 120, "11.04.2026"),
        (40, 160, "Creditnota AV-00000740 van 25.04.2026"),
    ]
    assert _values(extractor, cells, "invoice_date") == {date(2026, 4, 25)}


def test_the_house_number_over_a_postcode_line_is_no_invoice_number(extractor: GenericExtractor) -> None:
    cells = [(40, 40, "Kühn Maschinenbau UG"), (400, 55, "Im Winkel 97a"), (400, 66, "10117 Berlin")]
    assert "97a" not in _values(extractor, cells, "invoice_number")


def test_the_dutch_delivery_date_is_another_date() -> None:
    assert _kinds("Afleverdatum 04.02.2024") == [("other_date", "afleverdatum")]


@pytest.mark.parametrize("due_label", ["Bitte zahlen bis", "Please pay by"])
def test_a_value_under_the_courtesy_words_that_open_its_label_is_the_labels(
    extractor: GenericExtractor, due_label: str
) -> None:
    # The value is set under the segment's first word, left of the label's own words.
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 150, "Rechnungsdatum"),
        (250, 150, "Re. Nummer"),
        (420, 150, due_label),
        (40, 163, "06.04.2026"),
        (250, 163, "R-2026/0815"),
        (420, 163, "05.06.2026"),
    ]
    reading = extractor.read_unscored(_document(cells))
    due = [c for c in reading.candidates["due_date"] if c.relation == "below"]
    assert [c.value for c in due] == [date(2026, 6, 5)]
    numbers = [c for c in reading.candidates["invoice_number"] if c.relation == "below"]
    assert [c.value for c in numbers] == ["R-2026/0815"]
