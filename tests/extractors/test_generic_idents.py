"""Invoice number, dates, order number and parties on layouts in six languages (EN/DE/FR/NL/ES/IT).

The label phrases are composed from classes of words (``label_words``), so these tests use
wordings that no list spells out as a whole; the documents are hand-built text layers.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.candidates import LEGAL_FORM
from extractors.generic.geometry import build_rows, split_glued
from extractors.generic.label_words import composed
from extractors.generic.labels import label_finder, tokens
from extractors.generic.ranking import shipped_scorer
from extractors.generic.tables import headerless_items, stop_rows
from extractors.values import VALUE_TYPES, parse_date
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Word


def _kinds(text: str) -> set[str]:
    return {m.kind for m in label_finder().find(text.split())}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Documento N. 5597416/2023", "invoice_number"),
        ("Núm. factura: 24-20956", "invoice_number"),
        ("Fattura nr. 12", "invoice_number"),
        ("Factuurnr.: 2024-2705", "invoice_number"),
        ("Nummer factuur 2024-2705", "invoice_number"),
        ("N.º de la factura 77", "invoice_number"),
        ("Data della fattura 06/01/2026", "invoice_date"),
        ("Fecha de la factura 04-07-2024", "invoice_date"),
        ("Factuurdatum 03.01.2024", "invoice_date"),
        ("Fecha de emisión 28/10/2025", "invoice_date"),
        ("Emessa il 01/10/2023", "invoice_date"),
        ("Data di scadenza 15/10/2023", "due_date"),
        ("Fecha vto.: 03-08-2024", "due_date"),
        ("Vence: 28/11/2025", "due_date"),
        ("Reste à payer 2401,65", "total"),
        ("Resteàpayer 2401,65", "total"),  # three words OCR glued together
        ("Datedefacture 12/03/2026", "invoice_date"),
        ("Vervaldatum 19/02/2025", "due_date"),
        ("Zahlung bis: 07.12.2023", "due_date"),
        ("Bitte zahlen bis 20. April 2023", "due_date"),
        ("Payable le 31.10.2024", "due_date"),
        ("Invoice 4711 of 2024-04-21", "date_hint"),
        ("Fattura 12 del 04/05/2024", "date_hint"),
        ("Nota de abono", "doc_title"),
        ("Nota di credito", "doc_title"),
        ("N. ordine PO56867", "po_number"),
        ("Nº de pedido PO85924", "po_number"),
        ("Bestelnr. 4585517952", "po_number"),
        ("Rif. ordine ORD-2020-5737", "po_number"),
        ("Uw bestelling 4585517952", "po_number"),
        ("Partita I.V.A. IT 300 819 80341", "vendor_tax_id"),
        ("NIF-IVA: ESC79564621", "vendor_tax_id"),
        ("BTW-nr. NL540732400B08", "vendor_tax_id"),
        ("NIF cliente: ATU58899080", "buyer_tax_id"),
        ("Vostra P.IVA: DE513401494", "buyer_tax_id"),
        ("Klantnr. 3206936", "other_id"),
        ("Nº de cliente 442723", "other_id"),
        ("Codice cliente K11450", "other_id"),
        ("Data consegna 08/02/2026", "other_date"),
        ("Fecha de pedido 01/02/2026", "other_date"),
        ("Ordine d'acquisto: ORD-2020-5737", "po_number"),
        ("Pedido: 4711", "po_number"),
        ("Re.-Datum 20.10.2026", "invoice_date"),
        ("Shipped 17/06/2024", "other_date"),
        ("N° de facture associée : F20260003", "other_id"),
        ("Date de facture associée : 01/01/2026", "other_date"),
        ("Previous invoice no. 4711", "other_id"),
        ("Ursprüngliche Rechnung Nr. 4711", "other_id"),
        ("Facturar a:", "buyer"),
        ("Valuta: CHF", "currency"),
    ],
)
def test_label_vocabulary_nl_es_it(text: str, kind: str) -> None:
    assert kind in _kinds(text)


def test_a_customer_number_label_is_not_the_invoice_numbers() -> None:
    assert "invoice_number" not in _kinds("Nº de cliente 442723")
    assert "po_number" not in _kinds("Klantnummer 3206936")
    # Nor is a delivery or sales slip's ("bon" names several documents in French).
    assert "invoice_number" not in _kinds("N° bon de vente : 2547")
    # A document label followed by "associée" names another invoice, not this one.
    assert "invoice_number" not in _kinds("N° de facture associée : F20260003")
    assert "invoice_date" not in _kinds("Date de facture associée : 01/01/2026")


def test_composed_phrases_are_written_as_the_finder_reads_them() -> None:
    # The finder takes composed phrases as they are (no folding): an accent or a capital in a
    # class word would make a phrase no row can ever match.
    for kind, phrases in composed().items():
        for phrase in phrases:
            assert " ".join(tokens(phrase)) == phrase, (kind, phrase)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("28 de octubre de 2025", "2025-10-28"),
        ("14 de febrero del 2025", "2025-02-14"),
        ("6 gennaio 2026", "2026-01-06"),
        ("25 febbraio 2026", "2026-02-25"),
        ("14 maart 2026", "2026-03-14"),
        ("1º de mayo de 2025", "2025-05-01"),
        ("3 okt. 2024", "2024-10-03"),
    ],
)
def test_long_dates_in_dutch_spanish_and_italian(text: str, iso: str) -> None:
    assert parse_date(text) == date.fromisoformat(iso)
    assert [value for _, value in VALUE_TYPES["date"].find(f"Sevilla, {text}")] == [date.fromisoformat(iso)]


def test_a_word_inside_a_date_is_no_label(extractor: GenericExtractor) -> None:
    # "de" may introduce a date ("Factura 12 de 4 de mayo"), but inside "28 de octubre de 2025"
    # it is part of the date and must not cut the date off its label.
    doc = _document(
        [
            (50, 60, "Sánchez Instalaciones S.A."),
            (50, 120, "Factura número: 24-20956"),
            (50, 140, "Fecha de emisión: 28 de octubre de 2025"),
            (50, 160, "Fecha de vencimiento: 4 de noviembre de 2025"),
        ]
    )
    fields = extractor.extract(doc).fields
    assert fields.invoice_number == "24-20956"
    assert fields.invoice_date == date(2025, 10, 28)
    assert fields.due_date == date(2025, 11, 4)


def test_an_italian_key_value_grid(extractor: GenericExtractor) -> None:
    # Labels in boxes over their values, none of them in the English/German/French lists.
    doc = _document(
        [
            (50, 40, "Verden Consulenze S.p.A."),
            (50, 200, "Emessa il"),
            (150, 200, "Documento N."),
            (260, 200, "Scadenza"),
            (360, 200, "N. ordine"),
            (50, 212, "01/10/2023"),
            (150, 212, "5597416/2023"),
            (260, 212, "15/10/2023"),
            (360, 212, "TE/6826"),
        ]
    )
    fields = extractor.extract(doc).fields
    assert fields.invoice_number == "5597416/2023"
    assert fields.invoice_date == date(2023, 10, 1)
    assert fields.due_date == date(2023, 10, 15)
    assert fields.po_number == "TE/6826"


def test_a_due_date_row_above_headerless_items_does_not_end_them() -> None:
    # A label that ends a table ("Vervaldatum", "Klantnr.") in the header block above the items
    # is no totals row: the items under it are still read.
    doc = _document(
        [
            (50, 100, "Vervaldatum: 19/02/2025"),
            (50, 115, "Klantnr.: 5707671"),
            (50, 160, "Koffiebonen 2 3,00 6,00"),
            (50, 175, "Kabelbinders 10 0,50 5,00"),
            (50, 220, "Totaal 11,00"),
        ]
    )
    rows = build_rows(doc.pages[0])
    finder = label_finder()
    labels = {row.index: finder.find([w.text for w in row.words], row.breaks) for row in rows}
    stops = stop_rows(rows, labels)
    assert stops, "the due date and customer number rows are stop rows"
    items = headerless_items(rows, stops)
    assert [(i.description, i.amount) for i in items] == [("Koffiebonen", 6), ("Kabelbinders", 5)]


def _unlabelled_numbers(doc: Document) -> set[str]:
    reading = GenericExtractor().read_unscored(doc)
    return {c.text for c in reading.candidates["invoice_number"] if c.features.get("unlabelled")}


def test_numbers_explained_as_something_else_are_no_invoice_number_candidates() -> None:
    doc = _document(
        [
            (50, 40, "SHXH Handel KG · Schillerstraße 74b · 80331 München"),
            (50, 55, "80b boulevard Gambetta · 75002 Paris · Tel. +39 451 1009808"),
            (50, 70, "Harbour Road 19 · D02 X285 Dublin · Partita I.V.A. IT 300 819 80341"),
            (50, 120, "Klantnr.: 3206936"),
            (50, 200, "Documento N."),
            (200, 200, "N. ordine"),
            (50, 212, "5597416/2023"),
            (200, 212, "TE/6826"),
            (50, 300, "Screws M8x40 and 4x40"),
        ]
    )
    numbers = _unlabelled_numbers(doc)
    assert "5597416/2023" in numbers
    for explained in ("74b", "80331", "80b", "75002", "451", "1009808", "19", "D02", "X285", "80341"):
        assert explained not in numbers, explained
    assert not {"3206936", "TE/6826", "M8x40", "4x40"} & numbers


@pytest.mark.parametrize(
    ("cells", "number"),
    [
        ([(50, 100, "FACTURE N°: FV 2023-01422")], "FV 2023-01422"),
        ([(50, 100, "RG #:......... F 008890")], "F 008890"),
        ([(50, 100, "Rechnungsnummer"), (50, 112, "RE 00000469/2023")], "RE 00000469/2023"),
        ([(50, 100, "Invoice No. 12345")], "12345"),  # a number mark is no series code
        ([(50, 100, "Invoice No. EUR 12345")], "12345"),  # nor is a currency
        ([(50, 100, "Invoice no.: 4711"), (300, 100, "X")], "4711"),
        ([(50, 100, "Rechnungsnummer: .......... FV 00000413-2026")], "FV 00000413-2026"),
        ([(50, 100, "Credit note Num. ........... NC 2024/730")], "NC 2024/730"),
        ([(50, 100, "Rechnungsnummer :25/25-52561")], "25/25-52561"),  # OCR: the colon on the value
    ],
)
def test_a_series_code_printed_apart_is_part_of_the_number(
    extractor: GenericExtractor, cells: list[tuple[float, float, str]], number: str
) -> None:
    assert extractor.extract(_document(cells)).fields.invoice_number == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Vorgangsnummer: F 2019146", "F 2019146"),  # a wording no label list knows
        ("RECHNUNG / INVOICE RE 4569758", "RE 4569758"),  # the document's own name announces it
        ("Rectificativa núm. NC 213-2023", "NC 213-2023"),
        ("Filiale AB 4711", "4711"),  # a word that announces nothing: no series code
        ("Invoice INV 4711", "4711"),  # the document's name is never a series code
    ],
)
def test_an_unlabelled_number_keeps_its_series_code(text: str, number: str) -> None:
    assert number in _unlabelled_numbers(_document([(300, 60, text)]))


def test_a_series_code_far_from_the_number_is_not_taken_in(extractor: GenericExtractor) -> None:
    doc = _document([(50, 100, "Invoice No. AB"), (300, 100, "4711")])
    assert extractor.extract(doc).fields.invoice_number == "4711"


@pytest.mark.parametrize(
    ("words", "kind", "value"),
    [
        (["Rechnung", "Nr.12345"], "invoice_number", "12345"),
        (["Invoice", "No:4711"], "invoice_number", "4711"),
        (["Invoice", "No4711"], "invoice_number", "4711"),
        (["Facture", "N°FA-2026-17"], "invoice_number", "FA-2026-17"),
        (["Bill", "No.BL/00123/26"], "invoice_number", "BL/00123/26"),
        (["Factuurnr.2024-2705"], "invoice_number", "2024-2705"),
        (["Belegnummer2387"], "invoice_number", "2387"),
        (["N°", "ticket8632"], "invoice_number", "8632"),
        (["Ticketn007025"], "invoice_number", "007025"),
        (["Factura", "F", "952071", "de12-08-2026"], "date_hint", "12-08-2026"),
    ],
)
def test_a_label_glued_to_its_value_names_the_rest_of_the_word(
    words: list[str], kind: str, value: str
) -> None:
    match = next(m for m in label_finder().find(words) if m.kind == kind)
    assert match.partial_tail
    assert words[match.end - 1][match.tail_at :] == value


@pytest.mark.parametrize(
    "words",
    [
        ["PO4711"],
        ["PO-45125"],
        ["Invoice", "No.", "4711"],
        ["DE123456789"],
        ["Rechnungs-Nr.:"],
        ["Nolater", "than"],
    ],
)
def test_a_value_that_begins_with_label_letters_is_no_glued_label(words: list[str]) -> None:
    # "PO4711" and "PO-45125" are order numbers as printed; a label with its own word has no tail.
    assert not any(m.partial_tail for m in label_finder().find(words))


def test_the_value_glued_to_its_label_is_read(extractor: GenericExtractor) -> None:
    doc = _document(
        [(50, 100, "Rechnung Nr.12345"), (50, 120, "Datum 14.03.2026"), (50, 140, "Bestellung PO4711")]
    )
    fields = extractor.extract(doc).fields
    assert fields.invoice_number == "12345"
    assert fields.po_number == "PO4711"
    glued = _document([(50, 100, "Invoice No4711"), (300, 100, "Date: 14/03/2026")])
    assert extractor.extract(glued).fields.invoice_number == "4711"
    # The label stays found on its piece of the cut word, whatever it is glued from.
    glued = _document([(50, 100, "Ticketn007025 09/12/2024"), (50, 120, "Total 12,00")])
    assert extractor.extract(glued).fields.invoice_number == "007025"


def test_the_till_a_receipt_was_rung_up_on_is_not_its_number(extractor: GenericExtractor) -> None:
    assert "other_id" in _kinds("Kasse 3")
    for till in ("Caisse7", "Kasse:3", "Caja 5"):
        doc = _document([(10, 100, "Ticket n°"), (10, 115, till), (10, 140, "Total 12,00")])
        candidates = extractor.read_unscored(doc).candidates["invoice_number"]
        assert not candidates, till
    # A number whose letters are no label stays a candidate.
    doc = _document([(10, 100, "Ticket n°"), (10, 115, "BON7"), (10, 140, "Total 12,00")])
    assert "BON7" in {c.value for c in extractor.read_unscored(doc).candidates["invoice_number"]}


def test_a_number_glued_to_the_date_after_it_is_split() -> None:
    word = Word("00990811/03/2023", (10.0, 10.0, 90.0, 20.0), size=10.0)
    number, day = split_glued(word)
    assert (number.text, day.text) == ("009908", "11/03/2023")
    assert number.bbox[2] == day.bbox[0]
    assert [w.text for w in split_glued(Word("174613.04.2026", (0.0, 0.0, 70.0, 10.0)))] == [
        "1746",
        "13.04.2026",
    ]
    stamped = Word("05/11/202420:13", (0.0, 0.0, 75.0, 10.0))
    assert [w.text for w in split_glued(stamped)] == ["05/11/2024", "20:13"]
    # A date alone, or digits that end in no valid date, stay one word.
    for text in ("11/03/2023", "2023-03-11", "12345678", "99/99/2023"):
        assert [w.text for w in split_glued(Word(text, (0.0, 0.0, 50.0, 10.0)))] == [text]


def test_an_amount_glued_to_the_word_after_it_is_split(extractor: GenericExtractor) -> None:
    # OCR lost the space: "EUR 36,30antes del 28 de febrero de 2025".
    assert [w.text for w in split_glued(Word("36,30antes", (0.0, 0.0, 50.0, 10.0)))] == ["36,30", "antes"]
    assert [w.text for w in split_glued(Word("1,234.56only", (0.0, 0.0, 60.0, 10.0)))] == ["1,234.56", "only"]
    # A count glued to its unit, a code, a currency in capitals stay one word.
    for text in ("12,5kg", "2kg", "v1.20abc", "36,30EUR"):
        assert [w.text for w in split_glued(Word(text, (0.0, 0.0, 50.0, 10.0)))] == [text]
    cells = [
        (40, 40, "Nordwind Handel GmbH"),
        (40, 300, "Por favor, transfiera EUR 36,30antes del 28/02/2025."),
    ]
    dues = {c.value for c in extractor.read_unscored(_document(cells)).candidates["due_date"]}
    assert dues == {date(2025, 2, 28)}


@pytest.mark.parametrize(
    ("sentence", "due"),
    [
        (
            "Bitte überweisen Sie 581,36 € bis 14.11.2026 auf das Konto DE89 3704 0044 0532 0130 00.",
            date(2026, 11, 14),
        ),
        (
            "Please pay EUR 1,236.46 to account DE89 3704 0044 0532 0130 00 by 20 September 2026.",
            date(2026, 9, 20),
        ),
        # A period's end, or a date a word or more after the bare hint, is no due date.
        ("Leistungszeitraum vom 01.10.2026 bis 31.10.2026", None),
        ("Geliefert bis Lager am 14.11.2026", None),
        ("Reverse charge: VAT to be accounted for by the recipient on 20 September 2026.", None),
    ],
)
def test_the_date_right_after_a_bare_bis_or_by_in_a_payment_sentence_is_the_due_date(
    extractor: GenericExtractor, sentence: str, due: date | None
) -> None:
    cells = [(40, 40, "Nordwind Handel GmbH"), (40, 150, "Rechnung 4711 vom 08.08.2026"), (40, 400, sentence)]
    dues = {c.value for c in extractor.read_unscored(_document(cells)).candidates["due_date"]}
    assert dues == ({due} if due else set())


def test_a_year_no_document_dates_itself_in_is_no_date() -> None:
    assert parse_date("00990811") is None
    assert parse_date("20260314") == date(2026, 3, 14)


def test_a_title_word_inside_a_sentence_names_another_document(extractor: GenericExtractor) -> None:
    doc = _document(
        [
            (50, 40, "Dexorsta SRL"),
            (50, 100, "AVOIR"),
            (50, 200, "Avoir n° AV_0142 du 27 septembre 2023"),
            (50, 215, "Annule et remplace la facture RSZ_00092860 du 16 août 2023"),
        ]
    )
    labelled = {c.text for c in extractor.read_unscored(doc).candidates["invoice_number"] if c.label}
    assert labelled == {"AV_0142"}
    # ... while a title that starts its line, or follows "our" / "Rif.", names this document.
    for line in ("Facture FA-2017-0010", "Notre facture FA-2017-0010", "Rif. fattura: FA-2017-0010"):
        doc = _document([(50, 40, "Dexorsta SRL"), (50, 200, line)])
        labelled = {c.text for c in extractor.read_unscored(doc).candidates["invoice_number"] if c.label}
        assert labelled == {"FA-2017-0010"}, line


def test_a_vat_id_a_buyers_label_names_is_never_the_vendors(extractor: GenericExtractor) -> None:
    doc = _document(
        [
            (50, 40, "Nixqui Limpiezas S.L.U."),
            (300, 150, "NIF cliente NL271646445B03"),
            (50, 200, "Factura nº 25.571605"),
        ]
    )
    assert extractor.extract(doc).fields.vendor_tax_id is None
    doc = _document(
        [(50, 40, "Acme S.L."), (50, 60, "CIF ESB83741207"), (300, 150, "NIF cliente NL271646445B03")]
    )
    assert extractor.extract(doc).fields.vendor_tax_id == "ESB83741207"


def test_a_currency_code_glued_to_an_amount_names_the_currency(extractor: GenericExtractor) -> None:
    doc = _document([(50, 40, "Verden S.p.A."), (300, 300, "Importo"), (400, 300, "CHF11.732,53")])
    assert extractor.extract(doc).fields.currency == "CHF"


@pytest.mark.parametrize("printed", ["58231,", "58231.", "(58231)", "[58231]"])
def test_an_invoice_number_with_punctuation_around_it_is_read_without_it(
    extractor: GenericExtractor, printed: str
) -> None:
    # A sentence's comma, brackets, or what OCR made of a rule beside the number.
    cells = [
        (50, 40, "Hollin Tools Ltd"),
        (300, 60, f"Rechnungsnummer {printed}"),
        (300, 75, "Datum 03.02.2026"),
    ]
    assert extractor.extract(_document(cells)).fields.invoice_number == "58231"


def test_an_account_number_is_no_invoice_number(extractor: GenericExtractor) -> None:
    # No label names a number here; the IBAN in the payment sentence (check digits right or
    # wrong) is no candidate for the invoice number, the reference standing alone is.
    for iban in ("DE89370400440532013000,", "DE75370400440532013000,"):
        cells = [(50, 40, "Hollin Tools Ltd"), (300, 60, "RX-20417"), (50, 300, f"Bitte auf {iban} BIC X")]
        candidates = extractor.read_unscored(_document(cells)).candidates["invoice_number"]
        assert "RX-20417" in {c.value for c in candidates}
        assert not any(c.value.startswith("DE") for c in candidates)


@pytest.mark.parametrize("said", ["All amounts in CHF.", "All amounts in CHF!", "(CHF)"])
def test_a_currency_code_at_a_sentence_end_or_in_brackets_names_the_currency(
    extractor: GenericExtractor, said: str
) -> None:
    # The VAT id's country alone would say GBP: the code printed with its punctuation decides.
    cells = [(50, 40, "Hollin Tools Ltd"), (50, 60, "VAT Reg No GB401454642"), (50, 90, said)]
    cells.append((50, 200, "TOTAL 19,76"))
    assert extractor.extract(_document(cells)).fields.currency == "CHF"


def test_a_currency_printed_nowhere_is_the_vendors_countrys(extractor: GenericExtractor) -> None:
    # A till receipt prints "TOTAL 19,76" and no currency; its VAT id names the country.
    cells = [(50, 40, "Boulangerie Lmlni SRL"), (50, 60, "N°TVA BE0986032120"), (50, 200, "TOTAL 19,76")]
    result = extractor.extract(_document(cells))
    assert result.fields.currency == "EUR"
    assert result.field_confidence["currency"] <= 0.5
    assert "BE" in result.lineage["currency"]
    cells[1] = (50, 60, "VAT Reg No GB401454642")
    assert extractor.extract(_document(cells)).fields.currency == "GBP"
    # A printed currency wins; the buyer's VAT id names nothing about the vendor's currency.
    cells[2] = (50, 200, "TOTAL 19,76 EUR")
    assert extractor.extract(_document(cells)).fields.currency == "EUR"
    buyers = [(50, 40, "Acme"), (50, 60, "NIF cliente: GB401454642"), (50, 200, "TOTAL 19,76")]
    assert extractor.extract(_document(buyers)).fields.currency is None


def test_a_possessive_before_a_glued_order_label_is_part_of_it(extractor: GenericExtractor) -> None:
    # "Uw ordernr." over its value: the value starts under "Uw", left of "ordernr.".
    doc = _document([(50, 40, "Verpakkingen Peters B.V."), (100, 300, "Uw ordernr."), (102, 315, "ND/2754")])
    assert "po_number" in _kinds("Uw ordernr.") and (
        "uw ordernr" in {m.phrase for m in label_finder().find(["Uw", "ordernr."])}
    )
    assert extractor.extract(doc).fields.po_number == "ND/2754"


@pytest.mark.parametrize("label", ["USt.-IdNr.:", "Umsatzsteuer-ID:"])
def test_the_country_code_of_a_vat_id_printed_in_groups_is_no_date_hint(
    extractor: GenericExtractor, label: str
) -> None:
    # "DE" is also the Spanish and French "de" before a date ("14 de febrero").
    cells = [(40, 40, "Nordwind Handel GmbH"), (40, 60, f"{label} DE 135 792 460")]
    reading = extractor.read_unscored(_document(cells))
    labelled = [c.value for c in reading.candidates["vendor_tax_id"] if c.label is not None]
    assert labelled == ["DE135792460"]


def test_a_date_hint_word_inside_a_company_name_does_not_cut_it(extractor: GenericExtractor) -> None:
    doc = _document([(50, 40, "Visser & van Dijk N.V."), (50, 200, "Factuur 2024-2705")])
    assert extractor.extract(doc).fields.vendor_name == "Visser & van Dijk N.V."


def test_read_postcodes_phone_numbers_and_registers_are_no_invoice_numbers() -> None:
    doc = _document(
        [
            (50, 40, "Kerksiraat L37a S611 AZ Eindhoven"),  # OCR: "Kerkstraat 137a 5611 AZ"
            (50, 55, "B1 18B Birmingham"),
            (50, 70, "T +4110 1698099 · Reg. No. 191871 · APE 958963"),
            (50, 200, "Facture FV_00142"),
        ]
    )
    numbers = _unlabelled_numbers(doc)
    assert "FV_00142" in numbers
    assert not {"L37a", "S611", "B1", "18B", "1698099", "191871", "958963", "APE 958963"} & numbers


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Nixqui Limpiezas S.L.U.", "S.L.U."),
        ("Ternixal S.L.", "S.L."),
        ("Verden Consulenze S.p.A.", "S.p.A."),
        ("Servizi Rossi S.a.s.", "S.a.s."),
        ("Hendriks Drukkerij V.O.F.", "V.O.F."),
        ("Packaging Lockwood DAC", "DAC"),
        ("Dexorsta SPRL", "SPRL"),
    ],
)
def test_legal_forms_of_spain_italy_the_netherlands_belgium_and_ireland(name: str, form: str) -> None:
    match = LEGAL_FORM.search(name)
    assert match is not None and match.group(0) == form


def test_the_address_block_over_a_buyers_vat_id_is_the_buyers(extractor: GenericExtractor) -> None:
    # No "Bill to" over the buyer's block; its VAT id's label says whose block it is.
    doc = _document(
        [
            (50, 30, "Nixqui Limpiezas"),
            (50, 120, "Fecha de factura 27/09/2025"),
            (340, 120, "Smit & de Vries N.V."),
            (340, 132, "Kerkstraat 71"),
            (50, 138, "Documento No. 25.571605"),
            (340, 145, "1012 AB Amsterdam"),
            (340, 158, "NIF cliente NL271646445B03"),
        ]
    )
    names = {c.value for c in extractor.read_unscored(doc).candidates["vendor_name"]}
    assert "Nixqui Limpiezas" in names
    assert not any("Smit" in name for name in names)


def test_a_name_over_two_lines_beside_a_lower_sender_line(extractor: GenericExtractor) -> None:
    doc = _document(
        [
            (14, 35, "Packaging"),
            (400, 41, "Packaging Lockwood DAC · 10b Harbour Road · T12 K8AF Cork"),
            (14, 50, "Lockwood DAC"),
            (14, 76, "10b Harbour Road"),
        ]
    )
    names = {c.value for c in extractor.read_unscored(doc).candidates["vendor_name"]}
    assert "Packaging Lockwood DAC" in names
    # ... while a street line under a name is no second line of it.
    assert not any(
        "Harbour" in name and "DAC" in name and not name.startswith("Packaging L") for name in names
    )
    doc = _document([(56, 125, "Beispiel AG"), (56, 135, "Feldstraße 34"), (56, 145, "54321 Hithausen")])
    names = {c.value for c in extractor.read_unscored(doc).candidates["vendor_name"]}
    assert "Beispiel AG Feldstraße 34" not in names


def test_a_town_and_a_date_close_a_letters_heading(extractor: GenericExtractor) -> None:
    # "Wien, 24/06/2024" at the left, a shipping date under an unknown word at the right.
    doc = _document(
        [
            (60, 40, "Denver Verpackung KG"),
            (320, 150, "Dispatch"),
            (320, 160, "17/06/2024"),
            (60, 260, "Wien, 24/06/2024"),
        ]
    )
    dates = extractor.read_unscored(doc).candidates["invoice_date"]
    assert date(2024, 6, 24) in {c.value for c in dates if c.features.get("letter_date")}
    # ... and a date after a town with no comma is not.
    doc = _document([(60, 40, "Denver Verpackung KG"), (60, 260, "Wien 24/06/2024")])
    dates = extractor.read_unscored(doc).candidates["invoice_date"]
    assert not [c for c in dates if c.features.get("letter_date")]


@pytest.mark.parametrize(
    "heading", ["Bologna, li 30/01/2026", "Madrid, a 30/01/2026", "Berlin, den 30/01/2026"]
)
def test_a_town_and_a_word_before_the_date_close_a_letters_heading(
    extractor: GenericExtractor, heading: str
) -> None:
    doc = _document([(60, 40, "Ricci Ferrari S.p.A."), (60, 260, heading)])
    dates = extractor.read_unscored(doc).candidates["invoice_date"]
    assert date(2026, 1, 30) in {c.value for c in dates if c.features.get("letter_date")}


def test_a_date_is_no_order_or_invoice_number(extractor: GenericExtractor) -> None:
    # "Vostro ordine:" with its number far right and the letter's date under the label.
    doc = _document(
        [(60, 100, "Vostro ordine:"), (60, 115, "30.01.2026"), (60, 140, "Rechnung Nr. 20.01.2026")]
    )
    candidates = extractor.read_unscored(doc).candidates
    assert not candidates["po_number"]
    assert not candidates["invoice_number"]
    # A number with a date inside it is still a number.
    doc = _document([(60, 100, "Rechnung Nr. RE-20171118/506")])
    assert extractor.extract(doc).fields.invoice_number == "RE-20171118/506"


def test_a_vat_id_followed_by_more_capitals_is_still_found() -> None:
    # The pattern alone runs on into "IBAN", which fits no format; a shorter ending does.
    text = "München HRB 999999 DE123456789 IBAN DE28700100809999999999"
    assert [value for _, value in VALUE_TYPES["vat_id"].find(text)] == ["DE123456789"]
    assert [value for _, value in VALUE_TYPES["tax_id"].find("Tax ID 12-3456789 · " + text)] == [
        "12-3456789",
        "DE123456789",
    ]
    grouped = VALUE_TYPES["vat_id"].find("Partita IVA IT 300 819 80341")
    assert [value for _, value in grouped] == ["IT30081980341"]


def _sideways(text: str, x: float, start: float, *, upwards: bool = True, size: float = 6.0) -> Line:
    """A line printed sideways along a margin: each word in a box as wide as the type is high
    and as tall as the word is long, stacked upwards from ``start`` (turned counter-clockwise)
    or downwards (turned clockwise)."""
    words = []
    at = start
    for token in text.split():
        length = 3.0 * len(token)
        top = at - length if upwards else at
        words.append(Word(token, (x, top, x + size, top + length), size=size))
        at = top - 3.0 if upwards else top + length + 3.0
    return Line(words)


_MARGIN = "Muster Versand GmbH - Amtsgericht Musterstadt HRB 12345 - USt-IdNr. DE 123 456 788"


@pytest.mark.parametrize("upwards", [True, False])
def test_a_line_printed_sideways_along_the_margin_reads_as_one_row_in_order(upwards: bool) -> None:
    doc = _document([(50, 60, "Rechnung Nr. 4711"), (50, 80, "Datum 03.02.2026")])
    start = 700.0 if upwards else 200.0
    doc.pages[0].lines.append(_sideways(_MARGIN, 580, start, upwards=upwards))
    rows = build_rows(doc.pages[0])
    assert [r.text for r in rows] == ["Rechnung Nr. 4711", "Datum 03.02.2026", _MARGIN]
    reading = GenericExtractor().read_unscored(doc)
    assert "DE123456788" in {c.value for c in reading.candidates["vendor_tax_id"]}


def test_sideways_words_without_an_identifier_read_upwards_and_upright_rows_keep_theirs() -> None:
    doc = _document([(50, 60, "Rechnung Nr. 4711"), (560, 300, "A"), (50, 400, "Summe 12,00")])
    doc.pages[0].lines.append(_sideways("printed on recycled paper", 580, 600))
    rows = build_rows(doc.pages[0])
    assert [r.text for r in rows] == ["Rechnung Nr. 4711", "A", "Summe 12,00", "printed on recycled paper"]
    # An OCR'd page keeps its words as read: tall boxes there are no sign of turned print.
    doc.pages[0].source = "ocr"
    assert len(build_rows(doc.pages[0])) > 4


@pytest.mark.parametrize("number", ["20260112", "20251231"])
def test_an_invoice_number_of_year_and_sequence_is_no_date(number: str) -> None:
    # Eight digits read as a date only without separators; under a number label they number.
    doc = _document(
        [
            (40, 40, "Blauwe Reiger Installaties B.V."),
            (40, 120, f"Factuurnummer: {number}"),
            (40, 135, "Factuurdatum: 12-01-2026"),
            (40, 150, "Uw referentie: PO-7731"),
        ]
    )
    fields = GenericExtractor(shipped_scorer()).extract(doc, DocType.INVOICE).fields
    assert (fields.invoice_number, fields.po_number) == (number, "PO-7731")


@pytest.mark.parametrize("bank", ["BCNO", "PONR"])
def test_a_group_of_an_iban_that_reads_as_a_label_names_nothing(
    extractor: GenericExtractor, bank: str
) -> None:
    # The IBAN's bank code reads as an order label ("BC No.", "PO Nr."); inside the IBAN it is none.
    number = int("".join(str(int(c, 36)) for c in f"{bank}93115212345678IE00"))
    iban = f"IE{98 - number % 97:02d}{bank}93115212345678"
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    cells = [(40, 40, "Nordwind Handel GmbH"), (40, 150, "Order reference: ORD-2026-1211"),
             (40, 600, f"Please transfer EUR 1,340.27 to IBAN {grouped}.")]  # fmt: skip
    reading = extractor.read_unscored(_document(cells))
    assert {c.value for c in reading.candidates["po_number"] if c.label is not None} == {"ORD-2026-1211"}
    assert iban in {c.value for c in reading.candidates["vendor_iban"]}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Steuernr.: 181/815/08155", ["181/815/08155"]),
        ("St.-Nr. 21/815/08150", ["21/815/08150"]),
        ("Steuernummer 133/8150/8159", ["133/8150/8159"]),
        ("Steuer-Nr. 22/815/0815/4", ["22/815/0815/4"]),
        ("StNr 93815/08152", ["93815/08152"]),
        ("Rechnung 2024/0815/12345", []),  # four digits first: a number with its year
        ("vom 12/05/2024", []),  # a date
        ("Auftrag AB-12/345/67890", []),  # part of a longer reference
    ],
)
def test_german_tax_numbers_are_tax_id_candidates(text: str, found: list[str]) -> None:
    assert [value for _, value in VALUE_TYPES["tax_id"].find(text)] == found


def test_a_german_tax_number_is_the_vendors_tax_id_where_no_vat_id_is_printed(
    extractor: GenericExtractor,
) -> None:
    doc = _document(
        [
            (50, 40, "Lindner Malerbetrieb"),
            (50, 120, "Rechnung"),
            (300, 150, "Rechnungsnr.: 2024-118"),
            (300, 162, "Datum: 14.03.2024"),
            (50, 300, "Gesamtbetrag 1.190,00 EUR"),
            (50, 700, "Lindner Malerbetrieb · Kirchweg 4 · 79098 Freiburg"),
            (350, 700, "Steuernr.: 07/123/45678"),
        ]
    )
    assert extractor.extract(doc).fields.vendor_tax_id == "07/123/45678"


@pytest.mark.parametrize(
    "hours",
    [
        "Montag bis Freitag 9.00-17.30 Uhr",
        "Öffnungszeiten: 08:00–12:00",
        "Opening hours 9:30 - 17:45",
        "Printed 14:05",
    ],
)
def test_a_time_of_day_or_a_span_of_them_is_no_invoice_number(
    extractor: GenericExtractor, hours: str
) -> None:
    cells = [(40, 40, "Nordwind Handel GmbH"), (40, 60, hours), (40, 150, "Rechnung 4711 vom 08.08.2026")]
    numbers = {c.value for c in extractor.read_unscored(_document(cells)).candidates["invoice_number"]}
    assert "4711" in numbers
    assert not {n for n in numbers if ":" in n or "." in n}


def test_the_date_right_after_from_in_the_invoices_own_sentence_is_its_date(
    extractor: GenericExtractor,
) -> None:
    cells = [
        (40, 40, "Nordwind Handel Ltd"),
        (40, 150, "Our invoice QS-7781 from 12 February 2026"),
        (40, 400, "Payable no later than 14 March 2026."),
    ]
    reading = extractor.read_unscored(_document(cells))
    assert {c.value for c in reading.candidates["invoice_date"] if c.label is not None} == {date(2026, 2, 12)}
    fields = GenericExtractor(shipped_scorer()).extract(_document(cells), DocType.INVOICE).fields
    assert fields.invoice_date == date(2026, 2, 12)


def test_from_before_a_period_names_no_date(extractor: GenericExtractor) -> None:
    cells = [(40, 40, "Nordwind Handel Ltd"), (40, 150, "Service from 01/03/2026 to 31/03/2026")]
    reading = extractor.read_unscored(_document(cells))
    assert not [c for c in reading.candidates["invoice_date"] if c.label is not None]
