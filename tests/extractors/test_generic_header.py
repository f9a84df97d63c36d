"""Header fields of layouts the generic extractor was not built on: vocabulary, geometry, OCR slips."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from extractors.evaluation import same_value, vendor_key
from extractors.generic import GenericExtractor, labels
from extractors.generic.candidates import Candidate
from extractors.generic.consistency import Choice, choose_dates, choose_totals
from extractors.generic.geometry import split_glued
from extractors.generic.labels import label_finder, ocr_tokens
from extractors.generic.ranking import shipped_scorer
from extractors.values import VALUE_TYPES, numeric_date_order, parse_date
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

CHAR = 5.0  # width of one character at the 10 pt the cells are set in


def _document(cells: list[tuple[float, float, str]], size: float = 10.0) -> Document:
    """A one-page A4 document with each cell's words placed left to right from (x, top)."""
    lines = []
    for x, top, text in cells:
        words = []
        for token in text.split():
            width = CHAR * len(token)
            words.append(Word(token, (x, top, x + width, top + size), size=size))
            x += width + CHAR
        lines.append(Line(words))
    return Document(source="cells.pdf", pages=[Page(1, 595.0, 842.0, lines)])


def _kinds(text: str) -> set[str]:
    return {m.kind for m in label_finder().find(text.split())}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Rechnungs-Nr.: 4711", "invoice_number"),
        ("Beleg-Nr. 4711", "invoice_number"),
        ("N° facture FA-1", "invoice_number"),
        ("Leistungsdatum 17.11.2017", "other_date"),
        ("Date of delivery 2019-06-10", "other_date"),
        ("zahlbar bis 12.06.2014", "due_date"),
        ("Please remit until 2019-07-01.", "due_date"),
        ("Échéance 12/04/2026", "due_date"),
        ("Summe netto 100,00", "subtotal"),
        ("Total HT 100,00", "subtotal"),
        ("Total Before Tax 32.838,00", "subtotal"),
        ("Total before VAT 100.00", "subtotal"),
        ("Tax point 14/03/2026", "invoice_date"),
        ("Total inc. VAT 119.00", "total"),
        ("USt. Gesamt: 75,04 €", "tax_amount"),
        ("Total taxes 46,25 €", "tax_amount"),
        ("VAT total: 75.04 €", "tax_amount"),
        ("Rechnungsbetrag 119,00", "total"),
        ("Endbetrag 119,00", "total"),
        ("Due payable: 571.04 €", "total"),
        ("Total TTC 671,15 €", "total"),
        ("USt-IdNr. DE123456789", "vendor_tax_id"),
        ("N° TVA intracommunautaire FR11999999998", "vendor_tax_id"),
        ("N° TVA client FR19787878784", "buyer_tax_id"),
        ("Ihre Bestellung 4500012", "po_number"),
        ("Bon de commande n° BC543", "po_number"),
        ("Votre référence PO445", "order_ref"),
        ("Facture FA-2017-0010", "doc_title"),
        # A VAT breakdown's columns: the amount without the tax and with it.
        ("Without VAT 1,742.21", "subtotal"),
        ("Ohne MwSt. 1.742,21", "subtotal"),
        ("With VAT 2,073.23", "total"),
        ("Total with tax: 2,073.23", "total"),
        # The party that issues the invoice, the clerk who made it out, the bank block.
        ("Provider", "vendor"),
        ("Leistungserbringer:", "vendor"),
        ("Creator: J. Smith", "other_id"),
        ("Bearbeiter: Frau Klein", "other_id"),
        ("Payment information", "other_id"),
        ("Re.-Nummer: 4711", "invoice_number"),
        ("RE. NUMMER", "invoice_number"),
        # A German compound ending in the document's name is its title.
        ("Ausgangsrechnung RE-2026-17", "doc_title"),
        ("Schlussrechnung 4711", "doc_title"),
        ("Kostenrechnung Nr. 4711", "invoice_number"),
        ("COMPTE CLIENT: 7153636", "other_id"),
        ("Invoice Nbr. 4711", "invoice_number"),
        ("Order Nbr 4500012", "po_number"),
        ("Vs. Partita IVA: IT01234567890", "buyer_tax_id"),
        ("Your tax ID: 12-3456789", "buyer_tax_id"),
        ("Issued by", "vendor"),
        ("Sold by", "vendor"),
        ("Issued to", "buyer"),
        ("To:", "buyer"),
        ("Aan", "buyer"),
    ],
)
def test_label_vocabulary_en_de_fr(text: str, kind: str) -> None:
    assert kind in _kinds(text)


@pytest.mark.parametrize("text", ["Berechnung 4711", "Verrechnung 4711", "Abrechnung 4711", "Umrechnung 1"])
def test_a_verbs_noun_of_rechnen_is_no_title(text: str) -> None:
    assert "doc_title" not in _kinds(text)


def test_a_label_never_spans_a_wide_gap_between_cells() -> None:
    finder = label_finder()
    # "Montant" heads a column of the tax grid; "Total" starts the totals cell to its right.
    words = ["Montant", "Total", "46,25"]
    assert [(m.phrase, m.start) for m in finder.find(words)] == [("montant total", 0)]
    assert [(m.phrase, m.start) for m in finder.find(words, breaks={1})] == [("total", 1)]


def test_ocr_slips_in_label_words_are_repaired_but_real_words_are_kept() -> None:
    assert ocr_tokens("T0tal lnvoice nvoice Rechnungsdatu m") == [
        "total",
        "invoice",
        "invoice",
        "rechnungsdatu",
        "m",
    ]
    # One letter away from "supplier", but s/r is not a slip OCR makes: a different word.
    assert ocr_tokens("Supplies") == ["supplies"]
    assert "vendor" not in _kinds("Vektor Supplies Limited")
    assert "total" in _kinds("T0tal 1.190,00")


def test_the_words_a_slip_is_looked_up_among_are_every_word_one_slip_away() -> None:
    # Every label word with each of its letters changed, left out or doubled: the indexed
    # look-up finds exactly the words that comparing with the whole vocabulary finds.
    words = sorted(labels._label_words())
    some = words[::6]
    reads = {w[:i] + c + w[i + 1 :] for w in some for i in range(len(w)) for c in "lo"}
    reads |= {w[:i] + w[i + 1 :] for w in some for i in range(len(w))}
    reads |= {w[:i] + w[i] + w[i:] for w in some for i in range(len(w))}
    for read in reads:
        expected = {w for w in words if labels.ocr_slip(read, w)}
        assert {w for w in labels._slip_candidates(read) if labels.ocr_slip(read, w)} == expected, read


def test_two_label_words_read_without_the_space_between_them_are_a_label() -> None:
    finder = label_finder()
    glued = finder.find(["Scadenzapagamento:", "29/03/2025."])
    assert [(m.kind, m.phrase, m.start, m.end) for m in glued] == [("due_date", "scadenza pagamento", 0, 1)]
    hint = finder.find(["Payable", "nolater", "than", "02/12/2025."])
    assert [(m.kind, m.phrase, m.start, m.end) for m in hint] == [("due_hint", "no later than", 1, 3)]
    # A compound that is a label of its own stays whole; a glued name is no label.
    assert [m.phrase for m in finder.find(["Rechnungsnummer:", "123"])] == ["rechnungsnummer"]
    assert finder.find(["MorettiForniture", "S.n.c."]) == []


def test_ibans_are_found_with_spaces_dots_and_a_bic_after_them() -> None:
    def ibans(text: str) -> list[str]:
        return [value for _, value in VALUE_TYPES["iban"].find(text)]

    assert ibans("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFF") == ["DE89370400440532013000"]
    assert ibans("IBAN FR74 3000 4638 1321.4403 1554 045 - BIC MCPEFRZY") == ["FR7430004638132144031554045"]
    assert ibans("IBAN : FR20 1242 1242 1242 1242 1242 124 - BIC") == ["FR2012421242124212421242124"]
    assert ibans("IBAN DE89 3704 0044 0532 0130 01") == []  # checksum fails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14. März 2026", date(2026, 3, 14)),
        ("1 août 2026", date(2026, 8, 1)),
        ("March 14th, 2026", date(2026, 3, 14)),
        ("14-Mar-26", date(2026, 3, 14)),
        ("14.3.2026", date(2026, 3, 14)),
        ("14th March 2026", date(2026, 3, 14)),
        ("1st of April 2026", date(2026, 4, 1)),
        ("1er mars 2026", date(2026, 3, 1)),
    ],
)
def test_dates_with_month_names(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def _amount(name: str, text: str, score: float) -> Candidate:
    value = Decimal(text.replace(",", "."))
    return Candidate(name, value, text, 1, (0, 0, 1, 1), "right", score=score)


def test_a_decimal_mark_lost_by_ocr_is_restored_when_the_other_amounts_imply_it() -> None:
    chosen = choose_totals(
        [_amount("subtotal", "551525", 0.8)],
        [_amount("tax_amount", "1103,05", 0.8)],
        [_amount("total", "6618,30", 0.8)],
        None,
    )
    assert chosen["subtotal"].candidate is not None
    assert chosen["subtotal"].candidate.value == Decimal("5515.25")


def test_an_amount_with_other_digits_is_never_replaced_by_arithmetic() -> None:
    chosen = choose_totals(
        [_amount("subtotal", "551526", 0.8)],
        [_amount("tax_amount", "1103,05", 0.8)],
        [_amount("total", "6618,30", 0.8)],
        None,
    )
    assert chosen["subtotal"].candidate is not None
    assert chosen["subtotal"].candidate.value == Decimal("551526")


def test_vendor_names_compare_without_case_spacing_or_a_trailing_legal_form() -> None:
    assert same_value("vendor_name", "Au bon moulin", "Au bon moulin SARL")
    assert same_value("vendor_name", "Brightline Print AG", "BRIGHTLINE PRINT AG")
    assert same_value("vendor_name", "Die Vordefinierte Firma", "DieVordefinierteFirma")
    assert same_value("vendor_name", "Acme Tools GmbH & Co. KG", "Acme Tools")
    assert same_value("vendor_name", "Brightline Print AG", "Brightline Print .AG")
    assert not same_value("vendor_name", "Moreau Hygiène SA", "Moreau Hygiéne SA")  # accents count
    assert not same_value("vendor_name", "Acme Tools GmbH", "Acme GmbH")
    assert vendor_key("GmbH") == ""  # a bare legal form is no name


def test_french_layout_title_number_reference_and_totals_row_in_a_grid(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (120, 40, "Au bon moulin SARL - 1242 chemin de l'olive - 84340 Malaucène"),
            (120, 55, "TVA : FR11999999998 - SIRET : 99999999800010"),
            (40, 130, "Facture FA-2017-0010"),
            (40, 200, "Date de facture"),
            (200, 200, "13/11/2017"),
            (40, 230, "Date d'échéance"),
            (200, 230, "13/12/2017"),
            (40, 245, "Votre référence"),
            (200, 245, "PO445"),
            (40, 260, "N° TVA client"),
            (200, 260, "FR19787878784"),
            (40, 400, "Taxe"),
            (150, 400, "Base"),
            (250, 400, "Montant"),
            (400, 400, "Total HT"),
            (480, 400, "624,90 €"),
            (400, 415, "Total taxes"),
            (480, 415, "46,25 €"),
            (400, 430, "Total TTC"),
            (480, 430, "671,15 €"),
            (40, 470, "Notes"),
            (150, 470, "Franco de port (commande > 300 € HT)"),
            (40, 500, "IBAN : FR20 1242 1242 1242 1242 1242 124 - BIC : FIDCFR21XXX"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_number == "FA-2017-0010"
    assert (fields.invoice_date, fields.due_date) == (date(2017, 11, 13), date(2017, 12, 13))
    assert fields.po_number == "PO445"
    assert fields.vendor_tax_id == "FR11999999998"
    assert fields.vendor_iban == "FR2012421242124212421242124"
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("624.90"),
        Decimal("46.25"),
        Decimal("671.15"),
    )


def test_german_layout_date_after_the_number_and_a_service_date(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Bei Spiel GmbH"),
            (40, 150, "Rechnung # RE-20171118/506 von 18.11.2017"),
            (40, 165, "Leistungsdatum 17.11.2017"),
            (300, 330, "Nettobetrag: 496,00 €"),
            (40, 350, "USt. Satz"),
            (150, 350, "Nettopreis"),
            (300, 350, "USt.-Betrag"),
            (40, 365, "19%"),
            (150, 365, "336,00 €"),
            (300, 365, "63,84 €"),
            (300, 390, "USt. Gesamt: 75,04 €"),
            (300, 405, "Gesamtbetrag: 571,04 €"),
            (40, 440, "Bitte überweisen Sie bis zum 09.12.2017."),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_number == "RE-20171118/506"
    assert fields.invoice_date == date(2017, 11, 18)
    assert fields.due_date == date(2017, 12, 9)
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("496.00"),
        Decimal("75.04"),
        Decimal("571.04"),
    )
    assert fields.po_number is None


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("Date 03/14/2026 Due 04/13/2026", "MDY"),
        ("Datum 14.03.2026", "DMY"),
        ("Date 03/04/2026", None),  # nothing decides
        ("14/03/2026 and 03/14/2026", None),  # the document contradicts itself
    ],
)
def test_numeric_date_order_is_read_from_the_unambiguous_dates(text: str, order: str | None) -> None:
    assert numeric_date_order(text) == order


def test_ambiguous_dates_follow_the_documents_order(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Acme Tools Inc."),
            (40, 150, "Invoice Date"),
            (200, 150, "03/04/2026"),
            (40, 165, "Due Date"),
            (200, 165, "04/13/2026"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert (fields.invoice_date, fields.due_date) == (date(2026, 3, 4), date(2026, 4, 13))


@pytest.mark.parametrize(
    ("text", "expected"), [("9. März.2026", date(2026, 3, 9)), ("23. März -2026", date(2026, 3, 23))]
)
def test_month_name_dates_survive_ocr_punctuation(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_a_parenthesised_qualifier_does_not_cut_off_its_labels_value(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Muster Handel GmbH"),
            (300, 300, "Nettobetrag 100,00 EUR"),
            (300, 315, "Umsatzsteuer 19 % 19,00 EUR"),
            (300, 330, "Rechnungsbetrag (inkl. USt.) 119,00 EUR"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.total == Decimal("119.00")


@pytest.mark.parametrize("text", ["2026/03/14", "2026.03.14", "2026-03-14"])
def test_year_first_dates_with_any_separator(text: str) -> None:
    assert parse_date(text) == date(2026, 3, 14)


def test_an_unreadable_labelled_amount_is_derived_from_the_other_two() -> None:
    subtotals, totals = [_amount("subtotal", "100,00", 0.8)], [_amount("total", "119,00", 0.8)]
    chosen = choose_totals(subtotals, [], totals, None, labelled={"subtotal", "tax_amount", "total"})
    derived = chosen["tax_amount"].candidate
    assert derived is not None and derived.value == Decimal("19.00") and derived.relation == "derived"
    assert chosen["tax_amount"].confidence < 0.5
    # No tax label anywhere: the document prints no tax, and none is invented.
    assert (
        choose_totals(subtotals, [], totals, None, labelled={"subtotal", "total"})["tax_amount"].candidate
        is None
    )


def test_the_lines_sum_stands_in_for_a_garbled_subtotal_only_when_tax_and_total_confirm_it() -> None:
    taxes, totals = [_amount("tax_amount", "19,00", 0.8)], [_amount("total", "119,00", 0.8)]
    garbled = [_amount("subtotal", "20", 0.8)]
    kinds = {"subtotal", "tax_amount", "total"}
    chosen = choose_totals(garbled, taxes, totals, Decimal("100.00"), labelled=kinds)
    assert chosen["subtotal"].candidate is not None and chosen["subtotal"].candidate.value == Decimal(
        "100.00"
    )
    # Lines that disagree with the printed totals (a misread table) never replace them.
    printed = [_amount("subtotal", "100,00", 0.8)]
    chosen = choose_totals(printed, taxes, totals, Decimal("80.00"), labelled=kinds)
    assert chosen["subtotal"].candidate is not None and chosen["subtotal"].candidate.value == Decimal(
        "100.00"
    )


def _value(choice: Choice) -> object:
    return None if choice.candidate is None else choice.candidate.value


def test_values_centred_under_a_row_of_labels(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Northwind Trading Ltd"),
            (40, 120, "Invoice Number"),
            (170, 120, "Date"),
            (280, 120, "Terms"),
            (400, 120, "Due"),
            (30, 135, "INV-2044"),
            (150, 135, "14 Mar 2026"),
            (280, 135, "30 days"),
            (385, 135, "13 Apr 2026"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_number == "INV-2044"
    assert (fields.invoice_date, fields.due_date) == (date(2026, 3, 14), date(2026, 4, 13))


def test_without_a_subtotal_the_lines_plus_tax_make_the_total(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Harbour Supplies Ltd"),
            (40, 120, "Invoice No."),
            (160, 120, "Invoice Date"),
            (48, 135, "INV-2044"),
            (165, 135, "14/Mar/2026"),
            (40, 300, "Description"),
            (300, 300, "Qty"),
            (380, 300, "Unit price"),
            (480, 300, "Amount"),
            (40, 315, "Widget large"),
            (300, 315, "2"),
            (380, 315, "50.00"),
            (480, 315, "100.00"),
            (40, 330, "Widget small"),
            (300, 330, "4"),
            (380, 330, "25.00"),
            (480, 330, "100.00"),
            (380, 375, "VAT @ 20%"),
            (480, 375, "40.00"),
            (380, 390, "Total GBP"),
            (480, 390, "240.00"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_date == date(2026, 3, 14)
    assert (fields.tax_amount, fields.total) == (Decimal("40.00"), Decimal("240.00"))
    assert fields.subtotal is None  # not printed, so not invented


def test_german_letter_vendor_from_the_sender_line_not_the_address_window(
    extractor: GenericExtractor,
) -> None:
    document = _document(
        [
            (40, 30, "Schmidt & Partner Elektrotechnik GmbH · Hauptstr. 5 · 10115 Berlin"),
            (40, 100, "Firma"),
            (40, 112, "Müller Bau AG"),
            (40, 124, "Ringstraße 9"),
            (350, 100, "Rechnungs-Nr.:"),
            (450, 100, "2026-0815"),
            (350, 112, "Rechnungsdatum:"),
            (450, 112, "3. Februar 2026"),
            (350, 124, "Leistungszeitraum:"),
            (450, 124, "01.01.2026 - 31.01.2026"),
            (350, 136, "Ihre Bestell-Nr.:"),
            (450, 136, "B-4711"),
            (300, 400, "Summe Netto"),
            (480, 400, "1.000,00 €"),
            (300, 412, "zzgl. 19 % MwSt."),
            (480, 412, "190,00 €"),
            (300, 424, "Rechnungsbetrag"),
            (480, 424, "1.190,00 €"),
            (40, 460, "Zahlbar bis zum 17.02.2026 ohne Abzug."),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.vendor_name == "Schmidt & Partner Elektrotechnik GmbH"
    assert (fields.invoice_number, fields.po_number) == ("2026-0815", "B-4711")
    assert (fields.invoice_date, fields.due_date) == (date(2026, 2, 3), date(2026, 2, 17))
    assert fields.total == Decimal("1190.00")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Date:14/03/2026", ["Date:", "14/03/2026"]),
        ("USt-IdNr.:DE123456789", ["USt-IdNr.:", "DE123456789"]),
        ("Invoice#INV-1", ["Invoice#", "INV-1"]),
        ("http://example.com", ["http://example.com"]),
        ("10:30", ["10:30"]),
        ("21/07/201915:41", ["21/07/2019", "15:41"]),  # OCR lost the space before the time
        ("21/07/20199:41:15AM", ["21/07/2019", "9:41:15AM"]),
        (":25/25-52561", [":", "25/25-52561"]),  # OCR set the label's colon on the value
        (":-)", [":-)"]),
    ],
)
def test_a_label_glued_to_its_value_is_split(text: str, parts: list[str]) -> None:
    words = split_glued(Word(text, (0.0, 0.0, 100.0, 10.0)))
    assert [w.text for w in words] == parts
    assert words[0].x0 == 0.0 and words[-1].x1 == 100.0


def test_glued_labels_and_net_gross_totals_with_a_currency_column(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 40, "Northwind Trading Ltd"),
            (300, 100, "Invoice#INV-2044"),
            (300, 115, "Date:14/03/2026"),
            (40, 300, "Net"),
            (420, 300, "GBP"),
            (480, 300, "1,000.00"),
            (40, 312, "VAT"),
            (420, 312, "GBP"),
            (480, 312, "200.00"),
            (40, 324, "Gross"),
            (420, 324, "GBP"),
            (480, 324, "1,200.00"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert (fields.invoice_number, fields.invoice_date) == ("INV-2044", date(2026, 3, 14))
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
    )
    assert fields.currency == "GBP"


def test_no_amount_is_derived_from_a_misread_one() -> None:
    # "20" is what OCR left of "5,065.20": a tax of 6,058.24 on it is no VAT rate.
    chosen = choose_totals(
        [_amount("subtotal", "20", 0.8)],
        [],
        [_amount("total", "6078,24", 0.8)],
        None,
        labelled={"subtotal", "tax_amount", "total"},
    )
    assert chosen["tax_amount"].candidate is None


def test_a_label_that_is_a_whole_parenthesised_group_after_other_words_names_the_value() -> None:
    assert _kinds("Konto (IBAN) DE89 3704 0044 0532 0130 00") >= {"vendor_iban"}
    # ... but one that qualifies the label before it, or is part of a longer aside, does not.
    assert "tax_amount" not in _kinds("Summe Netto (excl. USt.) 100,00")
    assert "invoice_number" not in _kinds("(Bei Zahlung bitte Rechnung angeben)")


def test_a_letterhead_name_cut_short_takes_the_whole_name_printed_elsewhere() -> None:
    from extractors.generic.extractor import _fuller_name

    def name(value: str, score: float) -> Candidate:
        return Candidate("vendor_name", value, value, 1, (0.0, 0.0, 1.0, 1.0), "layout", score=score)

    short = name("Fontaine", 0.6)
    whole = name("Fontaine Distribution SARL", 0.2)
    assert _fuller_name(short, [short, name("Fontaine Distribution", 0.3), whole]) is whole
    ug = name("Müller Verpackung UG", 0.9)
    full_ug = name("Müller Verpackung UG (haftungsbeschränkt)", 0.1)
    assert _fuller_name(ug, [ug, full_ug]) is full_ug
    # More words that end in no legal form (a street, a slogan) are no part of the name.
    assert _fuller_name(short, [short, name("Fontaine Distribution 44 avenue Hugo", 0.5)]) is None
    # A legal form that ends in its dot ("a.G.", "& Co.") ends the name too.
    mutual = name("Nordhafen Versicherungsverein", 0.7)
    full_mutual = name("Nordhafen Versicherungsverein Elbstadt a.G.", 0.2)
    assert _fuller_name(mutual, [mutual, full_mutual]) is full_mutual
    # A name wrapped over two lines and printed whole in the footer too is whole without a form.
    wrapped = name("Nordlicht Werkzeughandel", 0.3)
    wrapped.features["wrapped"] = 1.0
    head = name("Nordlicht", 0.8)
    footer = name("Nordlicht Werkzeughandel", 0.2)
    assert _fuller_name(head, [head, wrapped, footer]) in (wrapped, footer)
    assert _fuller_name(head, [head, wrapped]) is None
    partners = name("Lindholm Bau", 0.7)
    full_partners = name("Lindholm Bau GmbH & Co.", 0.2)
    assert _fuller_name(partners, [partners, full_partners]) is full_partners


def test_a_name_printed_twice_outside_the_address_window_beats_the_windows_first_line() -> None:
    """The ranker's choice, scored a little higher, is the recipient in the address window; the
    name printed in the letterhead and the footer is the sender's."""
    from extractors.generic.candidates import HEADER_OUTPUT
    from extractors.generic.extractor import Reading
    from extractors.generic.tables import Table

    def name(value: str, top: float, score: float, **features: float) -> Candidate:
        return Candidate("vendor_name", value, value, 1, (40.0, top, 200.0, top + 10), "layout",
                         features=dict(features), score=score)  # fmt: skip

    recipient = name("Fjordhavn Kunde GmbH", 150, 0.30, window=1.0)
    letterhead = name("Nordlicht Vermietung", 40, 0.25)
    footer = name("Nordlicht Vermietung", 780, 0.24, footer=1.0)
    cands: dict[str, list[Candidate]] = {field: [] for field in HEADER_OUTPUT}
    cands["vendor_name"] = [recipient, letterhead, footer]
    reading = Reading(cands, Table([], set(), []), frozenset())
    document = _document([(40, 40, "Nordlicht Vermietung")])
    result = GenericExtractor(shipped_scorer()).decide(reading, document, DocType.INVOICE)
    assert result.fields.vendor_name == "Nordlicht Vermietung"
    assert "address window" in result.lineage["vendor_name"]
    # Printed once only, the other name does not overrule the ranker.
    cands["vendor_name"] = [recipient, letterhead]
    result = GenericExtractor(shipped_scorer()).decide(reading, document, DocType.INVOICE)
    assert result.fields.vendor_name == "Fjordhavn Kunde GmbH"


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Nordic Supplier Company", "Nordic Supplier Company"),
        ("Fjord Vendor Services Ltd", "Fjord Vendor Services Ltd"),
        # A label that starts its line, or closes with a colon, heads the name after it.
        ("Supplier: Fjord Services Ltd", "Fjord Services Ltd"),
        ("From Fjord Services Ltd", "Fjord Services Ltd"),
    ],
)
def test_a_vendor_word_inside_a_capitalised_name_is_a_word_of_it(line: str, name: str) -> None:
    document = _document([(40, 30, line), (40, 44, "Kaiserstraße 12"), (40, 56, "60311 Frankfurt")])
    names = {c.value for c in GenericExtractor(shipped_scorer()).read(document).candidates["vendor_name"]}
    assert name in names
    assert line == name or line not in names


def test_a_wordmark_repeating_the_names_first_word_is_no_part_of_the_name() -> None:
    document = _document(
        [
            (40, 30, "HALVORSEN HALVORSEN & DAHL AG"),
            (40, 44, "Kaiserstraße 12"),
            (40, 56, "60311 Frankfurt"),
            (300, 120, "Rechnung Nr. 2026-118"),
            (300, 132, "Datum 05.03.2026"),
            *_GERMAN_TOTALS,
            (40, 780, "Halvorsen & Dahl AG · Kaiserstraße 12 · 60311 Frankfurt"),
        ]
    )
    reading = GenericExtractor(shipped_scorer()).read(document)
    names = {c.value for c in reading.candidates["vendor_name"]}
    assert "HALVORSEN & DAHL AG" in names
    assert not any(str(n).startswith("HALVORSEN HALVORSEN") for n in names)
    result = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE)
    assert result.fields.vendor_name == "Halvorsen & Dahl AG"
    # A name that doubles its first word, printed nowhere without it, keeps it.
    doubled = _document([(40, 30, "MAU MAU HANDEL GMBH"), (40, 44, "Kaiserstraße 12"), *_GERMAN_TOTALS])
    names = {c.value for c in GenericExtractor(shipped_scorer()).read(doubled).candidates["vendor_name"]}
    assert "MAU MAU HANDEL GMBH" in names and "MAU HANDEL GMBH" not in names


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Lindholm Bau GmbH & Co. · Hafenweg 3", "GmbH & Co."),
        ("Lindholm Bau GmbH & Co. KG", "GmbH & Co. KG"),
        ("Parkes & Co. Ltd", "& Co."),
        ("Nordhafen Versicherungsverein a.G.", "a.G."),
    ],
)
def test_a_legal_form_with_its_partners_is_one_form(text: str, form: str) -> None:
    from extractors.generic.candidates import LEGAL_FORM

    first = LEGAL_FORM.search(text)
    assert first is not None and first.group(0) == form


def test_a_name_ending_in_gmbh_and_co_is_not_cut_at_its_gmbh() -> None:
    from extractors.generic.candidates import _name_spans

    text = "Lindholm Bau GmbH & Co. · Hafenweg 3 · 20457 Hamburg"
    names = {name for name, _, _ in _name_spans(text, text.split())}
    assert "Lindholm Bau GmbH & Co." in names
    assert "Lindholm Bau GmbH" not in names


@pytest.mark.parametrize(
    "title",
    [
        "NOTA DI CREDITO", "Nota di accredito", "Credit memo", "Credit Note", "Credit memorandum",
        "Gutschrift", "Rechnungskorrektur", "Korrekturrechnung", "Stornorechnung", "Gutschriftsanzeige",
        "Avoir", "Note de crédit", "Facture rectificative", "Creditnota", "Creditfactuur",
        "Nota de crédito", "FACTURA RECTIFICATIVA",
    ],
)  # fmt: skip
def test_without_a_classifier_a_credit_note_title_of_any_language_makes_the_amounts_negative(
    extractor: GenericExtractor, title: str
) -> None:
    document = _document(
        [
            (40, 30, "Ferrari Servizi S.p.A."),
            (300, 80, title),
            (300, 400, "Summe Netto"),
            (480, 400, "100,00 €"),
            (300, 412, "zzgl. 19 % MwSt."),
            (480, 412, "19,00 €"),
            (300, 424, "Rechnungsbetrag"),
            (480, 424, "119,00 €"),
        ]
    )
    fields = extractor.extract(document, None).fields
    assert (fields.subtotal, fields.total) == (Decimal("-100.00"), Decimal("-119.00"))


@pytest.mark.parametrize("title", ["Rechnung", "Factura", "Facture", "Invoice"])
def test_without_a_classifier_an_invoice_title_keeps_the_amounts_positive(
    extractor: GenericExtractor, title: str
) -> None:
    document = _document([(40, 30, "Muster Handel GmbH"), (300, 80, title), *_GERMAN_TOTALS])
    fields = extractor.extract(document, None).fields
    assert (fields.subtotal, fields.total) == (Decimal("1000.00"), Decimal("1190.00"))


# Net 1.000,00, tax 190,00 and total 1.190,00 under German labels.
_GERMAN_TOTALS = [
    (300.0, 400.0, "Summe Netto"),
    (480.0, 400.0, "1.000,00 €"),
    (300.0, 412.0, "zzgl. 19 % MwSt."),
    (480.0, 412.0, "190,00 €"),
    (300.0, 424.0, "Rechnungsbetrag"),
    (480.0, 424.0, "1.190,00 €"),
]


def test_a_short_number_heading_the_invoice_number_is_part_of_it(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Muster Handel GmbH"),
            (300, 100, "Documento No.: 23 2023000885"),
            (300, 112, "Fecha: 14/03/2026"),
            *_GERMAN_TOTALS,
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_number == "23 2023000885"
    assert fields.invoice_date == date(2026, 3, 14)


@pytest.mark.parametrize(
    ("terms", "due", "sure"),
    [
        # The net date is the invoice date + 30 days: the terms confirm it over the discount date.
        ("Zahlbar innerhalb 30 Tagen netto bis 04.04.2026, 2 % Skonto innerhalb 10 Tagen bis 15.03.2026",
         date(2026, 4, 4), True),
        ("Payable within 30 days net by 04.04.2026 or within 10 days by 15.03.2026 less 2 %",
         date(2026, 4, 4), True),
        # A date the terms do not give (14 days would be 19.03.2026): no rule vouches for it.
        ("Zahlbar innerhalb 14 Tagen, spätestens am 04.04.2026", None, False),
    ],
)  # fmt: skip
def test_a_due_date_in_the_payment_terms_sentence_that_the_terms_confirm(
    terms: str, due: date | None, sure: bool
) -> None:
    document = _document(
        [
            (40, 40, "Nordlicht Werkzeuge GmbH"),
            (350, 120, "Rechnungsdatum 05.03.2026"),
            (350, 135, "Rechnung Nr. 2026-118"),
            (40, 500, terms),
        ]
    )
    result = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE)
    if sure:
        assert result.fields.due_date == due
        assert result.field_confidence["due_date"] >= 0.9
    else:
        assert result.field_confidence.get("due_date", 0.0) < 0.9


def test_a_due_date_under_a_column_heading_that_starts_with_a_word_of_no_label() -> None:
    """ "Bitte zahlen bis" heads its column from "Bitte": the date under "Bitte" is the due date."""
    document = _document(
        [
            (40, 40, "Nordlicht Werkzeuge GmbH"),
            (40, 120, "Rechnungsnummer"), (160, 120, "Rechnungsdatum"), (280, 120, "Kunden-Nr."),
            (380, 120, "Bitte zahlen bis"),
            (40, 132, "2026-118"), (160, 132, "05.03.2026"), (280, 132, "40321"), (380, 132, "19.04.2026"),
            *_GERMAN_TOTALS,
        ]
    )  # fmt: skip
    reading = GenericExtractor(shipped_scorer()).read(document)
    below = [c.value for c in reading.candidates["due_date"] if c.relation == "below"]
    assert below == [date(2026, 4, 19)]
    result = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE)
    assert (result.fields.invoice_date, result.fields.due_date) == (date(2026, 3, 5), date(2026, 4, 19))


@pytest.mark.parametrize("title", ["Rechnung (Original)", "Invoice (copy)", "Facture (duplicata)"])
def test_an_aside_in_parentheses_between_the_title_and_its_number(title: str) -> None:
    document = _document(
        [(40, 40, "Nordlicht Werkzeuge GmbH"), (300, 100, f"{title} RE-2026-0042"), *_GERMAN_TOTALS]
    )
    reading = GenericExtractor(shipped_scorer()).read(document)
    assert "RE-2026-0042" in [c.value for c in reading.candidates["invoice_number"] if c.relation == "right"]
    # ... but a word of prose is no aside: "Rechnung vom Lager 4711" names no number.
    prose = _document([(40, 40, "Nordlicht Werkzeuge GmbH"), (300, 100, "Rechnung Lager RE-2026-0042")])
    reading = GenericExtractor(shipped_scorer()).read(prose)
    assert not [c for c in reading.candidates["invoice_number"] if c.label is not None]


def test_a_range_of_house_numbers_is_no_invoice_number() -> None:
    document = _document(
        [
            (40, 40, "Nordlicht Werkzeuge GmbH"),
            (40, 52, "Hafenweg 86-90 · 20457 Hamburg"),
            (300, 100, "Rechnungsdatum 05.03.2026"),
            *_GERMAN_TOTALS,
        ]
    )
    reading = GenericExtractor(shipped_scorer()).read(document)
    assert "86-90" not in [c.value for c in reading.candidates["invoice_number"]]


@pytest.mark.parametrize(
    ("sentence", "due"),
    [
        ("Bitte überweisen Sie € 1.190,00 bis 19.04.2026 auf das Konto DE02 1203 0000 0000 2020 51.",
         date(2026, 4, 19)),
        ("Please transfer EUR 1,190.00 by 19/04/2026 to our account.", date(2026, 4, 19)),
        # A period's end is no deadline, nor is a date in a sentence that asks for no payment.
        ("Bitte überweisen Sie den Beitrag für 01.03.2026 bis 31.03.2026.", None),
        ("Lieferung erfolgt bis 19.04.2026.", None),
    ],
)  # fmt: skip
def test_a_date_after_bis_or_by_in_a_sentence_asking_for_payment_is_the_due_date(
    sentence: str, due: date | None
) -> None:
    document = _document(
        [
            (40, 40, "Nordlicht Werkzeuge GmbH"),
            (350, 120, "Rechnungsdatum 05.03.2026"),
            (350, 135, "Rechnung Nr. 2026-118"),
            *_GERMAN_TOTALS,
            (40, 500, sentence),
        ]
    )
    reading = GenericExtractor(shipped_scorer()).read(document)
    hinted = [c.value for c in reading.candidates["due_date"] if c.label is not None]
    assert hinted == ([due] if due else [])
    if due is not None:
        result = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE)
        assert result.fields.due_date == due


@pytest.mark.parametrize(
    ("issued", "due", "terms", "expected"),
    [
        # No date gives the order away; read day-first, the due date would precede the invoice.
        ("03/05/2026", "04/04/2026", "Net 30", (date(2026, 3, 5), date(2026, 4, 4))),
        ("02/11/2026", "03/01/2026", "", (date(2026, 2, 11), date(2026, 3, 1))),
        # Day-first fits (and the terms confirm it): it stays.
        ("05/03/2026", "04/04/2026", "Net 30", (date(2026, 3, 5), date(2026, 4, 4))),
        ("03/04/2026", "03/05/2026", "", (date(2026, 4, 3), date(2026, 5, 3))),
    ],
)
def test_the_day_month_order_the_invoice_and_due_dates_make_sense_in(
    issued: str, due: str, terms: str, expected: tuple[date, date]
) -> None:
    document = _document(
        [
            (40, 40, "Cedar Lane Woodworks LLC"),
            (350, 120, "INVOICE #"),
            (450, 120, "1047"),
            (350, 135, "DATE"),
            (450, 135, issued),
            (350, 150, "DUE DATE"),
            (450, 150, due),
            (350, 165, "TERMS"),
            (450, 165, terms or "-"),
        ]
    )
    fields = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE).fields
    assert (fields.invoice_date, fields.due_date) == expected


class _NameScores:
    """A ranker that scores vendor names as told and every other candidate alike."""

    name = "name-scores"
    version = "1"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def score(self, candidates: list[Candidate]) -> list[float]:
        return [self.scores.get(str(c.value), 0.0) if c.field == "vendor_name" else 0.5 for c in candidates]


_ID_BLOCK_PAGE = [
    (40, 40, "Harrowgate Office Supplies"),
    (40, 55, "Unit 4, Mill Park, Leeds LS1 2AB"),
    (40, 70, "VAT Reg No. GB 123 4567 82"),
    (330, 110, "Corbel Architects LLP"),
    (330, 125, "9 Park Row"),
    (330, 140, "York YO1 6HT"),
    (40, 180, "Invoice No. SI-104467"),
]


@pytest.mark.parametrize(
    ("scores", "vendor"),
    [
        # The buyer's block set right, no window or label marking it: the name over the VAT id wins.
        ({"Corbel Architects LLP": 0.95, "Harrowgate Office Supplies": 0.85}, "Harrowgate Office Supplies"),
        # ... not when the ranker put it far lower, nor when it is barely a candidate at all.
        ({"Corbel Architects LLP": 0.95, "Harrowgate Office Supplies": 0.6}, "Corbel Architects LLP"),
        ({"Corbel Architects LLP": 0.3, "Harrowgate Office Supplies": 0.2}, "Corbel Architects LLP"),
    ],
)
def test_the_name_heading_the_block_with_the_vat_id_is_the_vendor(
    scores: dict[str, float], vendor: str
) -> None:
    extractor = GenericExtractor(_NameScores(scores))
    result = extractor.extract(_document(_ID_BLOCK_PAGE), DocType.INVOICE)
    assert result.fields.vendor_name == vendor
    # Where the rule overrode the ranker, the lineage says so; where the ranker's name stands, not.
    overridden = vendor != max(scores, key=lambda name: scores[name])
    assert ("VAT id or IBAN" in result.lineage.get("vendor_name", "")) == overridden


def _party_block_invoice(role: str, title: str) -> Document:
    """The vendor once, in body type under its role heading; a qualified title at the top right."""
    return _document(
        [
            (300, 40, title),
            (40, 60, role),
            (300, 60, "Date: 14/03/2026"),
            (40, 72, "Keller Maschinenbau GmbH"),
            (300, 72, "Due date: 13/04/2026"),
            (40, 84, "Hauptstr. 5"),
            (40, 96, "10115 Berlin"),
            (300, 140, "Customer"),
            (300, 152, "Nordlicht Handels AG"),
            (300, 164, "Ringstraße 9"),
            (300, 400, "Subtotal"),
            (480, 400, "1,000.00"),
            (300, 412, "VAT 19%"),
            (480, 412, "190.00"),
            (300, 424, "Total with tax"),
            (480, 424, "1,190.00"),
            (300, 480, "Created by: J. Smith"),
        ]
    )


@pytest.mark.parametrize("title", ["Taxable invoice num.: R-2026-0815", "Commercial Invoice No. R-2026-0815"])
def test_a_word_that_qualifies_the_title_is_no_vendor_name(title: str) -> None:
    cands = GenericExtractor().candidates(_party_block_invoice("Provider", title))[0]["vendor_name"]
    values = {c.value for c in cands}
    assert "Keller Maschinenbau GmbH" in values
    assert not values & {"Taxable", "Commercial"}


@pytest.mark.parametrize(
    "role", ["Provider", "Supplier", "Lieferant", "Fournisseur", "Proveedor", "Fornitore"]
)
def test_the_vendor_printed_once_under_its_role_heading(extractor: GenericExtractor, role: str) -> None:
    fields = extractor.extract(_party_block_invoice(role, "Invoice No. R-2026-0815"), DocType.INVOICE).fields
    assert fields.vendor_name == "Keller Maschinenbau GmbH"
    assert fields.invoice_number == "R-2026-0815"
    assert fields.total == Decimal("1190.00")


def _payments_table(headings: tuple[str, str, str]) -> Document:
    """An invoice dated 03/02/2026 whose table of instalments lists one dated amount under ``headings``."""
    return _document(
        [
            (40, 40, "Nordwind Handel GmbH"),
            (40, 120, "Invoice INV-2041"),
            (40, 150, "Invoice Date"),
            (200, 150, "03/02/2026"),
            (40, 220, "Description"),
            (300, 220, "Quantity"),
            (500, 220, "Amount"),
            (40, 240, "Consulting"),
            (300, 240, "2"),
            (500, 240, "100.00"),
            (400, 310, "Total"),
            (500, 310, "120.00"),
            (40, 340, headings[0]),
            (200, 340, headings[1]),
            (300, 340, headings[2]),
            (40, 355, "Deposit"),
            (200, 355, "03/17/2026"),
            (300, 355, "50.00"),
            (400, 355, "Still open"),
            (500, 355, "70.00"),
        ]
    )


def test_a_date_in_a_table_of_dated_amounts_is_no_candidate_for_the_invoice_date(
    extractor: GenericExtractor,
) -> None:
    reading = extractor.read_unscored(_payments_table(("Instalment", "Date", "Amount")))
    dates = {c.value for c in reading.candidates["invoice_date"]}
    assert date(2026, 3, 17) not in dates
    assert date(2026, 3, 2) in dates


def test_a_date_in_a_table_of_dated_amounts_is_the_documents_when_it_prints_no_other(
    extractor: GenericExtractor,
) -> None:
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 120, "Invoice INV-2041"),
        (40, 340, "Customer"),
        (200, 340, "Date"),
        (300, 340, "Amount"),
        (40, 355, "Deposit"),
        (200, 355, "03/17/2026"),
        (300, 355, "50.00"),
    ]
    reading = extractor.read_unscored(_document(cells))
    assert date(2026, 3, 17) in {c.value for c in reading.candidates["invoice_date"]}


def test_a_date_beside_the_documents_own_fields_stays_a_candidate(extractor: GenericExtractor) -> None:
    # "Invoice No. | Date | Amount Due" over their values: a grid of the document's own fields.
    reading = extractor.read_unscored(_payments_table(("Invoice No.", "Date", "Amount Due")))
    assert date(2026, 3, 17) in {c.value for c in reading.candidates["invoice_date"]}


def test_the_currency_is_the_sign_printed_with_the_total_where_it_is_printed_again(
    extractor: GenericExtractor,
) -> None:
    # The totals block prints its amounts bare; only the amount due repeats the total with its sign.
    document = _document(
        [
            (40, 40, "Nordwind Handel Inc."),
            (420, 130, "Invoice #"),
            (500, 130, "5297"),
            (40, 220, "Description"),
            (300, 220, "Qty"),
            (380, 220, "Rate"),
            (480, 220, "Amount"),
            (40, 240, "Garden service"),
            (300, 240, "4"),
            (380, 240, "45.00"),
            (480, 240, "180.00"),
            (300, 300, "Subtotal"),
            (480, 300, "180.00"),
            (300, 315, "Tax"),
            (480, 315, "11.25"),
            (300, 330, "Total"),
            (480, 330, "191.25"),
            (300, 345, "Balance due"),
            (480, 345, "$191.25"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.total == Decimal("191.25")
    assert fields.currency == "USD"


def test_a_preposition_names_the_buyer_only_as_a_heading_alone_in_its_cell() -> None:
    finder = label_finder()
    assert [m.kind for m in finder.find(["Please", "pay", "to", "the", "account", "below"])] == []
    assert [m.kind for m in finder.find(["Period", "01.03.2026", "to", "31.03.2026"])] == []
    parties = [
        (m.kind, m.start) for m in finder.find(["From", "To"], breaks={1}) if m.kind in ("vendor", "buyer")
    ]
    assert parties == [("vendor", 0), ("buyer", 1)]


def test_the_vendor_is_the_party_under_from_not_the_one_under_to(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 60, "INVOICE"),
            (40, 100, "From"),
            (300, 100, "To"),
            (40, 115, "Quillfeather Studio"),
            (300, 115, "Brackwater Trading Ltd"),
            (40, 130, "5 Weaver Lane"),
            (300, 130, "100 Castle Row"),
            (40, 180, "Invoice No"),
            (40, 195, "INV-118"),
            (200, 180, "Issue Date"),
            (200, 195, "14/03/2026"),
            (420, 500, "Total"),
            (500, 500, "120.00"),
        ]
    )
    fields = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE).fields
    assert fields.vendor_name == "Quillfeather Studio"


@pytest.mark.parametrize(
    "address",
    [
        ("Kerkstraat 12", "9712 AB Groningen"),
        ("Via Dante 21", "20121 MILANO, IT"),
        ("12 Harbour Street", "Leeds LS1 4AB"),
        ("450 Oak Avenue", "Springfield, IL 62704"),
    ],
)
def test_the_name_over_an_address_in_the_letters_window_is_the_recipient(address: tuple[str, str]) -> None:
    document = _document(
        [
            (40, 30, "Lieferant:"),
            (40, 45, "Quellbach Haustechnik OHG"),
            (40, 60, "Gartenstraße 18"),
            (40, 75, "04109 Halle"),
            (40, 140, "Brackwater Handel B.V."),
            (40, 155, address[0]),
            (40, 170, address[1]),
            (380, 130, "Rechnung"),
            (380, 145, "Beleg #:"),
            (470, 145, "QH-2025-881"),
            (380, 160, "Rechnungsdatum:"),
            (470, 160, "11.12.2025"),
            (380, 320, "Gesamt netto"),
            (480, 320, "200,00 €"),
            (380, 335, "19% MwSt."),
            (480, 335, "38,00 €"),
            (380, 350, "Gesamtbetrag"),
            (480, 350, "238,00 €"),
            (40, 780, "Mail rechnung@quellbach-haustechnik.example"),
        ]
    )
    fields = GenericExtractor(shipped_scorer()).extract(document, DocType.INVOICE).fields
    assert fields.vendor_name == "Quellbach Haustechnik OHG"


def test_a_due_date_on_the_invoice_day_keeps_the_invoice_date_printed_elsewhere() -> None:
    # "Rechnungsdatum: 5. August 2026" above, "Bitte zahlen Sie bis 5. August 2026" below: the
    # sentence's date is the due date, the labelled one the invoice date.
    day = date(2026, 8, 5)
    sentence, label = (220.0, 403.0, 285.0, 413.0), (153.0, 157.0, 222.0, 167.0)
    issued = [
        Candidate("invoice_date", day, "5. August 2026", 1, sentence, "layout", score=0.998),
        Candidate("invoice_date", day, "5. August 2026", 1, label, "right_gap", score=0.998),
    ]
    due = [Candidate("due_date", day, "5. August 2026", 1, sentence, "right", score=0.993)]
    chosen = choose_dates(issued, due)
    assert chosen["due_date"].candidate is not None
    assert chosen["due_date"].candidate.value == day
    assert chosen["invoice_date"].candidate is not None
    assert chosen["invoice_date"].candidate.bbox == label
