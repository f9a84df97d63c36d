"""Template-free extraction on letter-style invoices and on what OCR does to ids and names.

Premium invoices of insurers, correction invoices, credit notes that cite the invoice they
correct, direct-debit notices, IBANs printed with wrong check digits or read with look-alike
characters, and legal forms misread at the end of a company name.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.candidates import (
    accents_from_document,
    document_spellings,
    find_misread_ibans,
    find_misread_vat_ids,
    repair_legal_form,
)
from extractors.generic.labels import is_title, label_finder, parenthesised
from extractors.generic.ranking import shipped_scorer
from extractors.values import find_ibans, find_unchecked_ibans, iban_structure, parse_iban, repair_iban
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Page


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.phrase) for m in label_finder().find(text.split(), [])]


# --- labels ---------------------------------------------------------------------------------


def test_a_label_in_parentheses_neither_names_a_value_nor_ends_one() -> None:
    assert parenthesised(["Summe", "Netto", "(excl.", "USt.)", "473,00"]) == [False, False, True, True, False]
    assert _kinds("Rechnungssumme Netto (excl. USt.) 473,00") == [("subtotal", "rechnungssumme netto")]
    # An opening parenthesis that never closes hides nothing.
    assert [k for k, _ in _kinds("( Gesamtbetrag 119,00")] == ["total"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Beitrag inklusive 19 % Versicherungsteuer", "total"),  # an amount that includes the tax
        ("Gesamtbetrag inkl. 19% MwSt.", "total"),
        ("Total including VAT", "total"),
        ("zzgl. 19 % MwSt.", "tax_amount"),  # added on top: the tax itself
        ("darin enthaltene Versicherungsteuer", "tax_amount"),
        # A row that starts with "including" names nothing that includes the tax: its amount is
        # the tax included in the total above it.
        ("inkl. 19 % MwSt.", "tax_amount"),
        ("Including VAT 20%", "tax_amount"),
    ],
)
def test_a_tax_label_after_including_names_a_gross_amount(text: str, kind: str) -> None:
    kinds = {k for k, _ in _kinds(text)}
    assert kind in kinds
    assert ("tax_amount" in kinds) == (kind == "tax_amount")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Credit No:", "invoice_number"),
        ("Credit for invoice", "other_id"),  # the credited invoice, not the note's own number
        ("Ursprungsbeleg-Nr", "other_id"),
        ("Goods", "subtotal"),
        ("Gesamtbeitrag", "subtotal"),  # an insurance premium before insurance tax
        ("Rechnungsbeitrag", "total"),
        ("Fälligkeitstag:", "due_date"),
        ("netto bis", "due_hint"),
        ("von Ihrem Konto", "buyer_account"),
    ],
)
def test_credit_note_insurance_and_direct_debit_labels(text: str, kind: str) -> None:
    assert kind in {k for k, _ in _kinds(text)}


def test_amount_due_labels_weigh_less_than_the_gross_total() -> None:
    (due,) = label_finder().find(["Amount", "due"], [])
    (gross,) = label_finder().find(["Gross", "total"], [])
    assert (due.kind, gross.kind) == ("total", "total")
    assert due.weight < gross.weight


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("RECHNUNGS-KORREKTUR", True),
        ("K O S T E N R E C H N U N G", True),
        ("Warenrechnung", True),
        ("Stornogutschrift", True),
        ("Tax Invoice", True),
        ("Rechnungsempfänger", False),
        ("Rechnung Nr", False),
        ("MUSTERLIEFERANT GMBH", False),
        ("A B C D", False),
    ],
)
def test_document_titles_compounds_and_letter_spacing(text: str, title: bool) -> None:
    assert is_title(text) is title


# --- IBANs ----------------------------------------------------------------------------------


def test_iban_structure_comes_from_the_registry() -> None:
    assert iban_structure("NL") == "aaaannnnnnnnnn"
    assert iban_structure("DE") == "n" * 18
    assert iban_structure("XX") is None
    # Right length and check digits, wrong structure (a letter where Germany has digits).
    assert parse_iban("DE89 3704 0044 0532 0130 0A") is None


@pytest.mark.parametrize(
    ("printed", "iban"),
    [
        ("IBAN NLO7 ABNA 7986 6587 82 BIC WKBGNLEZ", "NL07ABNA7986658782"),
        ("IBAN FRO4 3000 4928 5509 2702 2449 289 BIC CCMHFRYA", "FR0430004928550927022449289"),
        ("IBAN GB29 NW8K 6016 1331 9268 19", "GB29NWBK60161331926819"),
        ("IBAN DE89 37O4 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_ocr_look_alikes_in_an_iban_are_put_back_when_the_check_digits_confirm(
    printed: str, iban: str
) -> None:
    assert [value for _, value in find_ibans(printed)] == [iban]


def test_a_look_alike_repair_that_the_check_digits_refuse_gives_nothing() -> None:
    assert repair_iban("NLO8 ABNA 7986 6587 82") is None
    assert list(find_ibans("IBAN NLO8 ABNA 7986 6587 82")) == []


def test_an_iban_printed_with_wrong_check_digits_is_found_only_as_unchecked() -> None:
    text = "Bankverbindung: DE75123456780000001234, BIC WELADED1MST"
    assert list(find_ibans(text)) == []
    assert [value for _, value in find_unchecked_ibans(text)] == ["DE75123456780000001234"]
    # Never the first 22 characters of a longer number (a metering point id).
    assert list(find_unchecked_ibans("Zählpunkt DE0001346484600000000000000100038")) == []
    # Nor an article code shaped like one, from a country that has no IBAN structure.
    assert iban_structure("QX") is None
    assert list(find_unchecked_ibans("Pfand QX487BOTTLEDEPOSIT 0,25")) == []


@pytest.mark.parametrize("learned", [False, True])
def test_an_unchecked_iban_is_reported_as_printed_with_low_confidence(
    extractor: GenericExtractor, learned: bool
) -> None:
    # The learned ranker's calibration does not leave it out as unsure: a clerk is to see it.
    reader = GenericExtractor(shipped_scorer()) if learned else extractor
    document = _document(
        [
            (40, 30, "Muster Versicherung AG"),
            (40, 400, "Bitte überweisen Sie auf folgende Bankverbindung:"),
            (40, 412, "DE75123456780000001234, BIC WELADED1MST, Sparkasse Musterstadt"),
        ]
    )
    result = reader.extract(document, DocType.INVOICE)
    assert result.fields.vendor_iban == "DE75123456780000001234"
    assert result.field_confidence["vendor_iban"] <= 0.3
    assert "check digits" in result.lineage["vendor_iban"]


def test_a_valid_iban_beats_an_unchecked_one(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Muster Versicherung AG"),
            (40, 400, "Konto DE75123456780000001234, BIC WELADED1MST"),
            (40, 760, "IBAN DE89 3704 0044 0532 0130 00"),
        ]
    )
    result = extractor.extract(document, DocType.INVOICE)
    assert result.fields.vendor_iban == "DE89370400440532013000"
    assert "vendor_iban" not in result.lineage


def test_the_buyers_account_on_a_direct_debit_notice_is_not_the_vendors(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Lieferant GmbH"),
            (40, 400, "Der Betrag wird am 20.03.2014 von Ihrem Konto mit IBAN DE21860000000086001055"),
            (40, 412, "per SEPA-Lastschrift eingezogen."),
            (40, 760, "IBAN-Nr.:"),
            (120, 760, "DE08 7009 0100 1234 5678 90"),
        ]
    )
    assert extractor.extract(document, DocType.INVOICE).fields.vendor_iban == "DE08700901001234567890"


# --- dates and amounts in letters ---------------------------------------------------------------


_PREMIUM_LETTER = [
    (40, 30, "KVA Beispielhafter Versicherungsverein a.G."),
    (40, 120, "Herrn"),
    (40, 132, "Max Mustermann"),
    (40, 144, "Musterstr. 11"),
    (40, 156, "12346 Bad Musterhausen"),
    (40, 290, "Beitragsrechnung"),
    (420, 290, "24. Januar 2014"),
    (
        40,
        380,
        "der Beitrag für den Zeitraum vom 06.12.2013 bis zum 06.12.2014",
    ),
    (40, 392, "am 06.12.2013 fällig."),
    (40, 450, "Gesamtbeitrag"),
    (300, 450, "50,00 €"),
    (40, 462, "Versicherungsteuer 19 %"),
    (300, 462, "9,50 €"),
    (40, 474, "Rechnungsbeitrag"),
    (300, 474, "59,50 €"),
    (40, 520, "Fälligkeit 06.12.2013"),
]


def test_a_premium_letter_date_premium_tax_and_period(extractor: GenericExtractor) -> None:
    result = extractor.extract(_document(_PREMIUM_LETTER), DocType.INVOICE)
    fields = result.fields
    # The letter's date line, not the start of the insured period ("vom ... bis zum ...").
    assert fields.invoice_date == date(2014, 1, 24)
    # A premium may fall due before the letter that bills it.
    assert fields.due_date == date(2013, 12, 6)
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("50.00"),
        Decimal("9.50"),
        Decimal("59.50"),
    )
    # The day of the date beside the title is no invoice number.
    assert fields.invoice_number is None


def test_a_date_under_a_label_is_not_a_letter_date(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Lieferant GmbH"),
            (420, 120, "Lieferdatum"),
            (420, 132, "03.03.2026"),
            (40, 300, "Gesamtbetrag 119,00 €"),
        ]
    )
    assert extractor.extract(document, DocType.INVOICE).fields.invoice_date is None


def test_gross_premium_with_included_tax_and_arrears(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "KVA Versicherungsverein a.G."),
            (40, 290, "Beitragsrechnung zur Kraftfahrtversicherung"),
            (420, 290, "11. März 2014"),
            (40, 300, "Fälligkeitstag: 01.04.2014"),
            (40, 450, "vierteljährlicher Beitrag inklusive 19 % Versicherungsteuer"),
            (420, 450, "220,00 €"),
            (40, 462, "in diesem Beitrag enthaltene Versicherungsteuer"),
            (420, 462, "(35,13 €)"),
            (40, 474, "Ausstehende Forderung am Ausstellungstag"),
            (420, 474, "220,00 €"),
            (40, 486, "zu zahlender Beitrag"),
            (420, 486, "440,00 €"),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert fields.invoice_date == date(2014, 3, 11)
    assert fields.due_date == date(2014, 4, 1)
    # The invoice's gross amount, not what is due with the arrears; the included tax positive.
    assert (fields.tax_amount, fields.total) == (Decimal("35.13"), Decimal("220.00"))


def test_an_amount_past_a_date_in_a_sentence_is_not_the_labels(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Lieferant GmbH"),
            (300, 100, "Rechnungsdatum: 05.06.2013"),
            (40, 300, "Rechnungssumme Netto (exkl. USt.)"),
            (480, 300, "193,83"),
            (40, 312, "Summe Umsatzsteuer"),
            (480, 312, "21,31"),
            (40, 324, "Rechnungssumme Brutto (inkl. USt.)"),
            (480, 324, "215,14"),
            (
                40,
                400,
                "Zahlbar innerhalb 30 Tagen netto bis 04.07.2013, 3% Skonto 10 Tage bis 15.06.2013",
            ),
        ]
    )
    fields = extractor.extract(document, DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("193.83"),
        Decimal("21.31"),
        Decimal("215.14"),
    )
    # The printed net date, not the terms worked out (05.06. + 30 days) nor the discount date.
    assert fields.due_date == date(2013, 7, 4)


def test_a_credit_note_number_and_the_invoice_it_credits(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Pellerin IT Services plc"),
            (350, 100, "Credit No:"),
            (450, 100, "CR/2605052"),
            (350, 112, "Tax point"),
            (450, 112, "25 Jul 2026"),
            (40, 160, "CREDIT NOTE"),
            (40, 175, "Credit for invoice BL/05044/26 dated 03 Jul 2026"),
            (350, 400, "Goods"),
            (450, 400, "GBP -527.50"),
            (350, 412, "VAT 20%"),
            (450, 412, "GBP -105.50"),
            (350, 424, "Amount Due"),
            (450, 424, "GBP -633.00"),
        ]
    )
    fields = extractor.extract(document, DocType.CREDIT_NOTE).fields
    assert fields.invoice_number == "CR/2605052"
    assert fields.invoice_date == date(2026, 7, 25)
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("-527.50"),
        Decimal("-105.50"),
        Decimal("-633.00"),
    )


def test_a_correction_invoices_title_is_not_the_vendor(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Lieferant"),
            (40, 42, "GLN 4333741000005"),
            (40, 54, "MUSTERLIEFERANT GMBH"),
            (400, 30, "RECHNUNGS-KORREKTUR"),
            (400, 54, "Beleg-Nr : RK21012345"),
        ]
    )
    assert extractor.extract(document, DocType.INVOICE).fields.vendor_name == "MUSTERLIEFERANT GMBH"


def test_a_currency_sign_glued_to_column_words_names_the_currency(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Acme GmbH"),
            (40, 200, "Bezeichnung"),
            (300, 200, "Einzel/€"),
            (400, 200, "Gesamt/€"),
            (300, 300, "Rechnungsbetrag 119,00"),
        ]
    )
    assert extractor.extract(document, DocType.INVOICE).fields.currency == "EUR"


# --- legal forms read by OCR ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("Castell Office ple", "Castell Office plc"),
        ("Acme GmbB", "Acme GmbH"),
        ("Foo SARI", "Foo SARL"),
        ("Castell Office plc", "Castell Office plc"),
        ("Delta Supplies AG", "Delta Supplies AG"),
        ("Foo one", "Foo one"),  # a word of its own, not a slip
        ("Servizi Gallo S.r.I.", "Servizi Gallo S.r.l."),
        ("SERVIZI GALLO S.R.I.", "SERVIZI GALLO S.R.L."),
        ("Servizi Gallo S.r.l.", "Servizi Gallo S.r.l."),
        ("Acme S.A.", "Acme S.A."),
        ("Vogel & Seidel UG (haftungsbeschrankt)", "Vogel & Seidel UG (haftungsbeschränkt)"),
        ("Fontaine Distribution SÁRL", "Fontaine Distribution SARL"),
    ],
)
def test_a_legal_form_misread_at_the_end_of_a_name_is_spelled_right(read: str, name: str) -> None:
    assert repair_legal_form(read) == name


def test_legal_forms_are_repaired_on_ocr_pages_only(extractor: GenericExtractor) -> None:
    digital = _document([(300, 30, "Castell Office ple"), (300, 300, "Amount Due GBP 12.00")], size=16.0)
    page = digital.pages[0]
    scanned = Document(source="scan.png", pages=[Page(1, page.width, page.height, page.lines, source="ocr")])
    assert extractor.extract(digital, DocType.INVOICE).fields.vendor_name == "Castell Office ple"
    assert extractor.extract(scanned, DocType.INVOICE).fields.vendor_name == "Castell Office plc"


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        # Each line ends in its own legal form: the vendor over the recipient, two names.
        ("Carlisle Trading Ltd", "Marlowe Conseil SRL", None),
        # A name set large over two lines is one name.
        ("Carlisle Trading", "Services Limited", "Carlisle Trading Services Limited"),
    ],
)
def test_two_stacked_lines_that_each_end_in_a_legal_form_are_two_names(
    extractor: GenericExtractor, first: str, second: str, joined: str | None
) -> None:
    cells = [(40, 30, first), (40, 47, second), (40, 64, "rue Neuve 102"), (300, 300, "Total EUR 12.00")]
    names = [c.value for c in extractor.read(_document(cells, size=14.0)).candidates["vendor_name"]]
    assert (f"{first} {second}" in names) == (joined is not None)


# --- accents OCR lost in a name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "elsewhere", "name"),
    [
        # Read without the umlaut in the letterhead, with it in the footer.
        ("Mäder & Kohl GmbH", ["Mader & Kohl GmbH"], "Mäder & Kohl GmbH"),
        ("Mader & Kohl GmbH", ["Mäder", "&", "Kohl", "GmbH,"], "Mäder & Kohl GmbH"),
        # Case as read, punctuation kept: "(haftungsbeschrankt)" beside "(haftungsbeschränkt".
        (
            "TÖPFER UG (haftungsbeschrankt)",
            ["Töpfer", "(haftungsbeschränkt"],
            "TÖPFER UG (haftungsbeschränkt)",
        ),
        # The accent read more often wins over a mistaken one; a tie keeps the name as read.
        ("Ducrét Frères", ["Ducrèt", "Ducrèt", "Frères"], "Ducrèt Frères"),
        ("Ducrét Frères", ["Ducrèt"], "Ducrét Frères"),
        # A short word is a word of its own ("a" / "à"); a domain keeps its spelling.
        ("Moda a Roma", ["à"], "Moda a Roma"),
        ("Mader Kohl", ["mäder.example", "mäder@kohl"], "Mader Kohl"),
        # A legal form takes no accent OCR put on it elsewhere.
        ("Fontaine Frères SARL", ["SÁRL"], "Fontaine Frères SARL"),
        # No accented reading anywhere: nothing to put back.
        ("Mader & Kohl GmbH", ["Kohl", "Mader"], "Mader & Kohl GmbH"),
    ],
)
def test_a_name_takes_the_accents_ocr_read_in_the_same_word_elsewhere(
    read: str, elsewhere: list[str], name: str
) -> None:
    words = [*read.split(), *elsewhere]
    assert accents_from_document(read, document_spellings(words), min_letters=4) == name


def test_accents_from_elsewhere_are_put_back_on_ocr_pages_only(extractor: GenericExtractor) -> None:
    cells = [(40, 30, "Mader Kohl GmbH"), (300, 300, "Amount Due EUR 12.00"), (40, 700, "Mäder Kohl GmbH")]
    digital = _document(cells, size=16.0)
    page = digital.pages[0]
    scanned = Document(source="scan.png", pages=[Page(1, page.width, page.height, page.lines, source="ocr")])
    assert extractor.extract(digital, DocType.INVOICE).fields.vendor_name == "Mader Kohl GmbH"
    assert extractor.extract(scanned, DocType.INVOICE).fields.vendor_name == "Mäder Kohl GmbH"


def test_the_day_a_direct_debit_is_collected_is_the_due_date(extractor: GenericExtractor) -> None:
    cells = [
        (40, 30, "Lieferant GmbH"),
        (350, 100, "Rechnungsdatum: 05.03.2014"),
        (40, 400, "Der Betrag in Höhe von EUR 529,87 wird am 20.03.2014 von Ihrem Konto"),
        (40, 412, "per SEPA-Lastschrift eingezogen."),
    ]
    assert extractor.extract(_document(cells), DocType.INVOICE).fields.due_date == date(2014, 3, 20)
    # Without a direct debit the same sentence names no due date.
    plain = [*cells[:2], (40, 400, "Die Lieferung erfolgte am 20.03.2014 an Ihr Lager.")]
    assert extractor.extract(_document(plain), DocType.INVOICE).fields.due_date is None


def test_the_buyers_vat_id_beside_a_reference_is_not_the_vendors(extractor: GenericExtractor) -> None:
    document = _document(
        [
            (40, 30, "Lieferant GmbH"),
            (40, 200, "Ihr Zeichen: AB-312"),
            (200, 200, "Ihre USt.-IdentNr.: DE234567890"),
            (40, 760, "USt.-Identnr.: DE123456789"),
        ]
    )
    assert extractor.extract(document, DocType.INVOICE).fields.vendor_tax_id == "DE123456789"


@pytest.mark.parametrize(
    ("read", "vat_id"),
    [
        ("P.IVA 1787927990017", "IT87927990017"),  # the country's letters read as digits
        ("TVA BEO374349328.", "BE0374349328"),  # a zero read as the letter O
        ("BTW NL909268903809", "NL909268903B09"),  # the Dutch B read as an 8
        ("Tel 1787927990018", None),  # the check digit refuses the reading
        ("Ref X1787927990017", None),  # part of a longer word
        ("P.IVA 1121364350229", "IT21364350229"),  # both letters of the country read as ones
        ("N°TVAIT21364350229", "IT21364350229"),  # glued to its label, its country in capitals
        ("USt-IdNr. DE327606228", None),  # read right: found by the VAT id pattern itself
        ("VAT Reg No 1€9700726F", "IE9700726F"),  # the E read as a euro sign
        ("Tax ID 1E7501548F", "IE7501548F"),  # after a two-letter label
        ("Tax ID 1E7501548G", None),
        ("VAT Reg. No. IE 921 508 OC", "IE9215080C"),  # printed in groups, a zero read as O
        ("VAT Reg. No. IE 921 508 OD", None),
        ("Tel. 12 34 56 78 90", None),
    ],
)
def test_a_vat_id_ocr_misread_is_read_back_when_its_check_digits_confirm(
    read: str, vat_id: str | None
) -> None:
    assert [value for _, value in find_misread_vat_ids(read)] == ([vat_id] if vat_id else [])


def test_misread_vat_ids_are_read_back_on_ocr_pages_only(extractor: GenericExtractor) -> None:
    digital = _document([(40, 30, "Rossi Forniture S.r.l."), (40, 760, "P.IVA: 1787927990017")])
    page = digital.pages[0]
    scanned = Document(source="scan.png", pages=[Page(1, page.width, page.height, page.lines, source="ocr")])
    assert extractor.extract(digital, DocType.INVOICE).fields.vendor_tax_id is None
    assert extractor.extract(scanned, DocType.INVOICE).fields.vendor_tax_id == "IT87927990017"


@pytest.mark.parametrize(
    ("read", "iban"),
    [
        ("IBAN 1E35 NLQC 2951 8590 3043 22 BIC QKQQIESXXXX", "IE35NLQC29518590304322"),
        ("IBAN 0E89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("IBAN 0E89 3704 0044 0532 0130 01", None),  # mod-97 refuses it
        ("IBAN DE89 3704 0044 0532 0130 00", None),  # read right: found by find_ibans itself
        # "4" read back as "A" would pass mod-97, but no country "KA" has IBANs: an article code.
        ("Pfand K4977BOTTLEDEPOSIT 0,25", None),
        # A postcode and town read as "TO117BERLINWWW" pass mod-97 by chance; Tonga has no IBANs.
        ("10117 Berlin www.fuchs-seidel.example", None),
    ],
)
def test_an_iban_whose_country_ocr_read_as_digits_is_read_back(read: str, iban: str | None) -> None:
    assert [value for _, value in find_misread_ibans(read)] == ([iban] if iban else [])


def test_an_unchecked_iban_never_spans_the_gap_between_table_cells(extractor: GenericExtractor) -> None:
    cells = [(40, 30, "Acme Tools Ltd"), (40, 300, "PO6402"), (200, 300, "339 set 0.55 186.45")]
    assert extractor.extract(_document(cells), DocType.INVOICE).fields.vendor_iban is None


_RETURNS = [
    (40, 30, "Getränkehandel Beispiel GmbH"),
    (40, 120, "Rechnung Nr. 2026-118"),
    (40, 200, "Beschreibung"),
    (300, 200, "Menge"),
    (380, 200, "Preis"),
    (460, 200, "Betrag"),
    (40, 214, "Mineralwasser Kiste"),
    (300, 214, "3"),
    (380, 214, "7,00"),
    (460, 214, "21,00"),
    (40, 228, "Pfandkiste zurück"),
    (300, 228, "-4"),
    (380, 228, "1,50"),
    (460, 228, "-6,00"),
    (40, 260, "Summe netto"),
    (460, 260, "15,00"),
]


def test_a_count_printed_negative_stays_so_on_an_invoice_and_turns_positive_on_a_credit_note(
    extractor: GenericExtractor,
) -> None:
    invoice = extractor.extract(_document(_RETURNS), DocType.INVOICE)
    assert [(line.quantity, line.amount) for line in invoice.lines] == [
        (Decimal(3), Decimal("21.00")),
        (Decimal(-4), Decimal("-6.00")),
    ]
    # The contract for credit notes: quantities positive, amounts negative.
    credit = extractor.extract(_document(_RETURNS), DocType.CREDIT_NOTE)
    assert [(line.quantity, line.amount) for line in credit.lines] == [
        (Decimal(3), Decimal("-21.00")),
        (Decimal(4), Decimal("-6.00")),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Base imponible", "subtotal"),
        ("Importe neto", "subtotal"),
        ("21% IVA", "tax_amount"),
        ("Cuota IVA", "tax_amount"),
        ("Total a pagar", "total"),
        ("Totale imponibile", "subtotal"),
        ("Subtotale", "subtotal"),
        ("Totale IVA", "tax_amount"),
        ("Totale da pagare", "total"),
        ("Totaal excl. BTW", "subtotal"),
        ("BTW 21%", "tax_amount"),
        ("Te betalen", "total"),
        # The tax id labels that carry the same words stay tax id labels.
        ("Partita IVA", "vendor_tax_id"),
        ("NIF IVA", "vendor_tax_id"),
        ("BTW-nummer", "vendor_tax_id"),
    ],
)
def test_spanish_italian_and_dutch_totals_labels(text: str, kind: str) -> None:
    kinds = {k for k, _ in _kinds(text)}
    assert kind in kinds
    assert not ({"subtotal", "tax_amount", "total"} - {kind}) & kinds
