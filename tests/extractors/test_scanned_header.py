"""What OCR does to a page's header: logo debris beside a vendor name, legal forms, names set
over two lines, and the dates of the documents an invoice cites."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_generic_header import _document

from extractors.generic import GenericExtractor
from extractors.generic.candidates import (
    LEGAL_FORM,
    Candidate,
    _dates_another_document,
    _value_spans,
    _without_debris,
    accents_from_document,
    document_spellings,
    find_misread_ibans,
    find_misread_vat_ids,
    page_context,
    spanish_acutes,
)
from extractors.generic.extractor import _clearer_reading
from extractors.generic.geometry import (
    build_rows,
    clip_overruns,
    mend_doubled_mark,
    mend_letter_o,
    mend_split_dates,
)
from extractors.generic.labels import label_finder
from extractors.generic.ranking import shipped_scorer
from extractors.generic.settings import DEFAULT
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word, union


def _words(*read: tuple[str, float]) -> list[Word]:
    """Words left to right with the confidence OCR gave each."""
    out, x = [], 40.0
    for text, confidence in read:
        out.append(Word(text, (x, 30.0, x + 8 * len(text), 50.0), confidence, 20.0))
        x += 8 * len(text) + 8
    return out


@pytest.mark.parametrize(
    ("read", "kept"),
    [
        # A logo read as fragments, or read with little confidence, is no name.
        ((("Fe", 0.9), ("R", 0.9), ("D", 0.9), ("sm", 0.35)), ""),
        ((("FeRD", 0.92), ("|", 0.92), ("ce", 0.47)), ""),
        # Debris at the edge of a name goes, the name stays.
        ((("Nordwind", 0.95), ("Telecom", 0.93), ("u", 0.34)), "Nordwind Telecom"),
        ((("|", 0.9), ("Nordwind", 0.95), ("Telecom", 0.93)), "Nordwind Telecom"),
        # Short words of a real name are no fragments: "&", legal forms, letter-spaced capitals.
        ((("Smith", 0.9), ("&", 0.9), ("Co", 0.9), ("KG", 0.9)), "Smith & Co KG"),
        ((("A", 0.9), ("C", 0.9), ("M", 0.9), ("E", 0.9)), "A C M E"),
        ((("Au", 0.9), ("bon", 0.9), ("moulin", 0.9)), "Au bon moulin"),
        # A word spelled out is a word however unsure OCR was; a speck before it is no quote.
        ((("‘Nordwind", 0.41), ("Telecom", 0.93)), "Nordwind Telecom"),
        ((("“Nordwind", 0.95), ("Telecom”", 0.93)), "“Nordwind Telecom”"),
        ((("'t", 0.95), ("Hoekje", 0.93)), "'t Hoekje"),
        ((("nordwind", 0.41), ("Telecom", 0.93)), ""),  # not capitalised: debris, half the words
    ],
)
def test_ocr_debris_is_taken_off_a_name(read: tuple[tuple[str, float], ...], kept: str) -> None:
    assert " ".join(w.text for w in _without_debris(_words(*read))) == kept


def test_a_logo_read_as_fragments_beside_the_vendor_label_names_nobody(extractor: GenericExtractor) -> None:
    label = _words(("Rechnungsersteller", 0.95), ("Fe", 0.9), ("R", 0.9), ("D", 0.9), ("sm", 0.35))
    rows = [
        Line(label),
        Line(
            [Word("Lieferant", (40, 70, 112, 90), 0.95, 20.0), Word("GmbH", (120, 70, 152, 90), 0.95, 20.0)]
        ),
        Line([Word("Rechnungsnummer", (600, 200, 720, 220), 0.95, 20.0), Word("4711", (730, 200, 762, 220))]),
        Line([Word("Gesamtbetrag", (600, 900, 696, 920), 0.95, 20.0), Word("119,00", (730, 900, 778, 920))]),
    ]
    scanned = Document(source="scan.png", pages=[Page(1, 1653.0, 2339.0, rows, unit="px", source="ocr")])
    names = {c.value for c in extractor.read(scanned).candidates["vendor_name"]}
    assert "Lieferant GmbH" in names
    assert not any("Fe" in name.split() for name in names)
    assert extractor.extract(scanned, DocType.INVOICE).fields.vendor_name == "Lieferant GmbH"


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Menuiserie Martin SCOP", "SCOP"),
        ("Fontaine Services SC", "SC"),
        ("Instalaciones del Sur S.Coop.", "S.Coop."),
        ("Beteiligungs GmbH & Co. KGaA", "KGaA"),
    ],
)
def test_cooperatives_and_partnerships_are_legal_forms(name: str, form: str) -> None:
    assert [m.group(0) for m in LEGAL_FORM.finditer(name)][-1] == form


def test_a_lowercase_sc_is_no_legal_form() -> None:
    assert LEGAL_FORM.search("the sc of it") is None


def test_a_name_over_two_lines_joins_on_a_scan_whatever_the_descenders() -> None:
    # OCR boxes "Versicherungsverein" taller than "KVA Beispielhafter" (its "g"), and pixels are
    # finer than points: the lines still start together and are set alike.
    first = [Word("KVA", (199, 297, 260, 317), 0.93), Word("Beispielhafter", (272, 297, 426, 317), 0.9)]
    second = [
        Word("Versicherungsverein", (197, 329, 447, 355), 0.92),
        Word("Beispielstadt", (458, 329, 601, 349), 0.92),
        Word("a.G.", (610, 329, 659, 349), 0.91),
    ]
    total = [Word("Gesamtbetrag", (900, 1500, 1060, 1520), 0.95), Word("119,00", (1100, 1500, 1180, 1520))]
    page = Page(1, 1653.0, 2339.0, [Line(first), Line(second), Line(total)], unit="px", source="ocr")
    names = {c.value for c in GenericExtractor().read(Document(pages=[page])).candidates["vendor_name"]}
    assert "KVA Beispielhafter Versicherungsverein Beispielstadt a.G." in names


@pytest.mark.parametrize(
    ("text", "ocr", "cited"),
    [
        ("Lieferschein 422602 vom 25.01.2026", False, True),
        ("Lieferschein Nr. 422602 vom 25.01.2026", False, True),
        ("Order 4711 of 12/03/2026", False, True),
        ("Delivery note 204071 of 05.06.2026", False, True),
        ("Albarán 483499 de 23/03/2026", False, True),
        # The Italian delivery note's abbreviation.
        ("DDT 7305 del 05/10/2026", False, True),
        # A number a label names as another document's: the invoice a credit note corrects.
        ("Credit for invoice 553 dated 05/06/2025", False, True),
        ("Korrektur zu Rechnung 4711 vom 05.02.2026", False, True),
        # One OCR slip in the noun, on a scan only.
        ("Albarn 483499 de 23/03/2026", True, True),
        ("Albarn 483499 de 23/03/2026", False, False),
        # The invoice's own number and date.
        ("Rechnung 4711 vom 05.02.2026", False, False),
        ("Rechnungsdatum: 05.02.2026", False, False),
    ],
)
def test_a_date_after_a_delivery_note_or_order_and_its_number_dates_that(
    text: str, ocr: bool, cited: bool
) -> None:
    assert _dates_cited(text, ocr) is cited


def test_the_delivery_notes_an_invoice_lists_do_not_date_it(extractor: GenericExtractor) -> None:
    cells = [(40, 30, "Acme GmbH"), (300, 80, "Rechnungsdatum: 05.02.2026")]
    cells += [(40, 200 + 40 * n, f"Lieferschein 42260{n} vom 25.01.2026") for n in range(5)]
    cells.append((300, 600, "Gesamtbetrag 119,00"))
    document = _document(cells)
    dates = {c.value for c in extractor.read(document).candidates["invoice_date"]}
    assert dates == {date(2026, 2, 5)}


def test_an_umlaut_read_as_two_strokes_takes_the_spelling_printed_elsewhere() -> None:
    spellings = document_spellings(["Bürobedarf", "AG", "Vorstand:", "Kiihn"])
    assert accents_from_document("Kiel Biirobedarf AG", spellings, 4) == "Kiel Bürobedarf AG"
    # Without the word printed with its umlaut, "ii" stays as read.
    assert accents_from_document("Kiihn Technik", spellings, 4) == "Kiihn Technik"


def test_a_credit_notes_own_date_is_not_taken_for_a_cited_one() -> None:
    assert not _dates_cited("Credit note NC-007698-25 of 26/06/2025", False)


def _dates_cited(text: str, ocr: bool) -> bool:
    """Whether the date that ends the one-row page ``text`` dates another document."""
    rows = build_rows(_document([(40, 30, text)]).pages[0])
    return _dates_another_document(
        rows[0], len(rows[0].words) - 1, page_context(rows, 595.0, 842.0, set(), ocr=ocr)
    )


def test_separator_dashes_ocr_boxed_flat_stay_in_the_row_of_the_name_they_separate() -> None:
    # OCR boxes a dash as flat as its ink, a little below the middle of the letters around it.
    line = [
        Word("Acme", (309, 91, 349, 107), 0.95),
        Word("SARL", (358, 91, 414, 107), 0.95),
        Word("-", (421, 100, 427, 102), 0.9),
        Word("12", (436, 91, 460, 107), 0.95),
        Word("rue", (468, 91, 500, 107), 0.95),
        Word("Neuve", (508, 91, 570, 107), 0.95),
        Word("-", (578, 100, 584, 102), 0.9),
        Word("75001", (592, 91, 652, 107), 0.95),
        Word("Paris", (660, 91, 720, 107), 0.95),
    ]
    total = [Word("Total", (900, 1500, 980, 1530), 0.95), Word("119,00", (1000, 1500, 1100, 1530), 0.95)]
    page = Page(1, 1653.0, 2339.0, [Line(line), Line(total)], unit="px", source="ocr")
    assert [len(row.words) for row in build_rows(page)] == [9, 2]
    cands = GenericExtractor().read(Document(pages=[page])).candidates["vendor_name"]
    acme = next(c for c in cands if c.value == "Acme SARL")
    assert acme.features["sender_line"] == 1.0
    assert acme.features["row_legal_form"] == 1.0


def test_a_dotted_legal_form_read_with_a_digit_is_no_invoice_number() -> None:
    cells = [
        (40, 30, "ATHW Utensileria S.r.1."),
        (40, 60, "Invoice / Bill FAC_000246"),
        (300, 400, "Totale 12,00"),
    ]
    # Numbers no label claims are candidates for the learned ranker only.
    reading = GenericExtractor(shipped_scorer()).read(_document(cells))
    numbers = {c.value for c in reading.candidates["invoice_number"]}
    assert "FAC_000246" in numbers
    assert "S.r.1" not in numbers and "S.r.1." not in numbers


def test_a_date_ocr_split_at_a_gap_inside_it_is_one_word() -> None:
    words = [
        Word("Namur,", (100, 300, 190, 330), 0.95),
        Word("le", (200, 300, 225, 330), 0.95),
        Word("26/1", (240, 300, 300, 330), 0.9),
        Word("1/2023", (308, 300, 400, 330), 0.9),
    ]
    assert [w.text for w in mend_split_dates(words)] == ["Namur,", "le", "26/11/2023"]
    # Two dates side by side stay two; so do parts a column gap apart.
    pair = [Word("01/02/2024", (100, 300, 240, 330)), Word("03/04/2024", (250, 300, 390, 330))]
    assert len(mend_split_dates(pair)) == 2
    apart = [Word("26/1", (240, 300, 300, 330)), Word("1/2023", (600, 300, 690, 330))]
    assert len(mend_split_dates(apart)) == 2


def test_an_iso_date_ocr_split_after_its_month_is_one_word() -> None:
    words = [Word("Datum:", (92, 496, 169, 515), 0.96), Word("2024-01-", (204, 496, 302, 515), 0.4),
             Word("31", (304, 496, 325, 514), 0.9)]  # fmt: skip
    assert [w.text for w in mend_split_dates(words)] == ["Datum:", "2024-01-31"]


@pytest.mark.parametrize(("read", "date_read"), [("22,6.2025", "22.6.2025"), ("22.6,2025", "22.6.2025")])
def test_a_dotted_date_with_a_dot_ocr_read_as_a_comma_is_read_with_dots(read: str, date_read: str) -> None:
    assert mend_doubled_mark(Word(read, (0.0, 0.0, 1.0, 1.0))).text == date_read
    # An amount, or what is no date with dots either, stays as read.
    for text in ("1,234.2025", "22,6,2025", "45,13.2025"):
        assert mend_doubled_mark(Word(text, (0.0, 0.0, 1.0, 1.0))).text == text


def test_an_invoice_number_ocr_read_with_a_field_boxs_line_before_it(extractor: GenericExtractor) -> None:
    rows = [
        [("Polnix", 135, 70), ("Handel", 260, 70), ("GmbH", 390, 70)],
        [("Re,", 92, 447), ("#:", 132, 447), ("_RE-03192387", 200, 447)],
    ]
    lines = [Line([Word(t, (x, y, x + 18 * len(t), y + 20), 0.92) for t, x, y in row]) for row in rows]
    scanned = Document(source="scan.png", pages=[Page(1, 1654.0, 2339.0, lines, unit="px", source="ocr")])
    reading = extractor.read_unscored(scanned)
    assert [c.value for c in reading.candidates["invoice_number"] if c.label is not None] == ["RE-03192387"]


@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("Suministros Sänchez S.L.", "Suministros Sánchez S.L."),
        ("Instalaciones Väzquez S.Coop.", "Instalaciones Vázquez S.Coop."),
        ("Talleres Përéz SLU", "Talleres Péréz SLU"),
        # Not Spanish by its legal form: a diaeresis is the name's own.
        ("Jörg Müller GmbH", "Jörg Müller GmbH"),
        ("Café Noël SA", "Café Noël SA"),
        # Spanish has its "ü".
        ("Pingüino Güell S.A.U.", "Pingüino Güell S.A.U."),
    ],
)
def test_a_spanish_companys_acute_accents_ocr_read_as_diaereses_are_put_back(read: str, name: str) -> None:
    assert spanish_acutes(read) == name


def test_a_scanned_spanish_vendor_name_keeps_its_acute_accents(extractor: GenericExtractor) -> None:
    rows = [[("Suministros", 160, 140), ("Sänchez", 420, 140), ("S.L.", 600, 140)],
            [("Factura", 160, 400), ("N°", 330, 400), ("F-2026-0815", 400, 400)]]  # fmt: skip
    lines = [Line([Word(t, (x, y, x + 22 * len(t), y + 34), 0.92) for t, x, y in row]) for row in rows]
    scanned = Document(source="scan.png", pages=[Page(1, 1654.0, 2339.0, lines, unit="px", source="ocr")])
    assert extractor.extract(scanned, DocType.INVOICE).fields.vendor_name == "Suministros Sánchez S.L."


def test_an_accented_letter_read_as_another_takes_the_spelling_printed_elsewhere() -> None:
    lines = [["Hartmann", "Bürobedarf", "GmbH", "Bankverbindung:"], ["Ansprechpartner:", "Jens", "Müller"]]
    spellings = document_spellings(w for line in lines for w in line)
    fixed = accents_from_document("Hartmann Birobedarf GmbH", spellings, 4, lines)
    assert fixed == "Hartmann Bürobedarf GmbH"
    # Only from a line that prints the name: a person of the page is another word.
    assert accents_from_document("Miller Druck GmbH", spellings, 4, lines) == "Miller Druck GmbH"
    # Letters that differ where the other spelling has none of its accents are another word.
    assert (
        accents_from_document("Hartmann Birobedorf GmbH", spellings, 4, lines) == "Hartmann Birobedorf GmbH"
    )


def test_a_letterhead_in_capitals_counts_as_printed_twice_with_its_footer(
    extractor: GenericExtractor,
) -> None:
    cells = [
        (40, 40, "NORDWIND HANDEL GMBH"),
        (40, 120, "Bonnet Dupuis SARL"),
        (40, 135, "12 rue des Lilas"),
        (40, 150, "31000 Toulouse"),
        (40, 780, "Nordwind Handel GmbH · Hafenweg 3 · 20457 Hamburg"),
    ]
    names = extractor.read_unscored(_document(cells)).candidates["vendor_name"]
    counts = {c.value: c.features["value_count"] for c in names}
    assert counts["NORDWIND HANDEL GMBH"] == counts["Nordwind Handel GmbH"] >= 2.0
    assert counts["NORDWIND HANDEL GMBH"] > counts["Bonnet Dupuis SARL"]


def test_a_legal_form_ocr_glued_to_the_name_ends_it_on_scans_only(extractor: GenericExtractor) -> None:
    # RapidOCR read "Carlisle& LockwoodLtd" over the buyer's "Lambert Conseil SRL": glued, the
    # legal form did not end the first name, and the two lines were read as one name.
    rows = [
        [("Nordwind&", 47.0, 55.0, 92.0, 65.0), ("HafenLtd", 101.0, 55.0, 160.0, 65.0)],
        [
            ("Bonnet", 47.0, 82.0, 80.0, 89.0),
            ("Dupuis", 84.0, 82.0, 115.0, 89.0),
            ("SRL", 119.0, 82.0, 135.0, 89.0),
        ],
        [("Credit", 330.0, 95.0, 380.0, 110.0), ("Memo", 385.0, 95.0, 430.0, 110.0)],
    ]
    lines = [Line([Word(t, (x0, y0, x1, y1), 0.95) for t, x0, y0, x1, y1 in row]) for row in rows]
    scanned = Document(source="scan.pdf", pages=[Page(1, 595.8, 842.0, lines, source="ocr")])
    assert [w.text for w in build_rows(scanned.pages[0])[0].words] == ["Nordwind", "&", "Hafen", "Ltd"]
    assert extractor.extract(scanned, DocType.CREDIT_NOTE).fields.vendor_name == "Nordwind & Hafen Ltd"
    digital = Page(1, 595.8, 842.0, lines)
    assert [w.text for w in build_rows(digital)[0].words] == ["Nordwind&", "HafenLtd"]


def test_an_iban_the_check_digits_chose_among_readings_is_reported_for_a_clerk_to_confirm(
    extractor: GenericExtractor,
) -> None:
    number = int("".join(str(int(c, 36)) for c in "KQYA0417164300NL00"))
    iban = f"NL{98 - number % 97:02d}KQYA0417164300"
    misread = iban.replace("Q", "O")  # OCR read the bank code's Q as O
    grouped = " ".join(misread[i : i + 4] for i in range(0, len(misread), 4))
    groups = [(g, 300 + 140 * n, 2100) for n, g in enumerate(grouped.split())]
    rows = [
        [("Nordwind", 160, 140), ("Handel", 400, 140), ("B.V.", 580, 140)],
        [("IBAN", 160, 2100), *groups],
    ]
    lines = [Line([Word(t, (x, y, x + 22 * len(t), y + 34), 0.92) for t, x, y in row]) for row in rows]
    scanned = Document(source="scan.png", pages=[Page(1, 1654.0, 2339.0, lines, unit="px", source="ocr")])
    result = extractor.extract(scanned, DocType.INVOICE)
    assert result.fields.vendor_iban == iban
    assert result.field_confidence["vendor_iban"] <= 0.5
    assert "to confirm" in result.lineage["vendor_iban"]


def test_a_word_ocr_boxed_over_the_words_read_after_it_keeps_its_place(extractor: GenericExtractor) -> None:
    # OCR boxed the first group (label glued) to the end of the line, over the groups after it.
    iban = "DE89370400440532013000"
    read = [
        ("Bank:", 194.0, 2020.0, 260.0, 2036.0),
        (f"IBAN:{iban[:6]}", 888.0, 2020.0, 1300.0, 2039.0),
        (iban[6], 1019.0, 2016.0, 1029.0, 2045.0),
        (iban[7:], 1038.0, 2020.0, 1300.0, 2039.0),
    ]
    line = Line([Word(t, (x0, y0, x1, y1), 0.8) for t, x0, y0, x1, y1 in read])
    scanned = Page(1, 1653.0, 2339.0, [line], unit="px", source="ocr")
    assert [w.text for w in build_rows(scanned)[0].words] == ["Bank:", "IBAN:", iban[:6], iban[6], iban[7:]]
    document = Document(source="scan.png", pages=[scanned])
    assert extractor.extract(document, DocType.INVOICE).fields.vendor_iban == iban
    # Words OCR stacked in one line (a column read downwards) are not beside each other: kept.
    stacked = [
        Word("Menge", (300.0, 100.0, 360.0, 120.0), 0.9),
        Word("12", (305.0, 140.0, 325.0, 160.0), 0.9),
    ]
    assert [w.bbox for w in clip_overruns(stacked)] == [w.bbox for w in stacked]


@pytest.mark.parametrize(
    ("read", "confidence", "meant"),
    [
        ("RE0O213", 0.95, "RE00213"),  # amid digits, always a zero
        ("1O5,20", 0.95, "105,20"),
        ("KLO0004711", 0.74, "KL00004711"),  # before zeros, where OCR was unsure
        ("KLO0004711", 0.96, "KLO0004711"),  # ... not where it was sure
        ("PO40694", 0.7, "PO40694"),  # an order number's prefix before another digit stays
        ("ODOO", 0.7, "ODOO"),
        ("P0-4711", 0.99, "PO-4711"),  # a zero among a prefix's capitals is the letter
        ("K0/2024", 0.99, "KO/2024"),
        ("F01652-1", 0.99, "F01652-1"),  # a prefix of letters and digits stays
        ("10-4711", 0.99, "10-4711"),
        ("CHF0.00", 0.85, "CHF0.00"),  # an amount, its code before it
        ("V.0.F.", 0.99, "V.O.F."),  # a legal form's capitals with full stops
        ("S.0.C.", 0.99, "S.O.C."),
        ("1.0.", 0.99, "1.0."),  # digits with full stops stay
    ],
)
def test_the_letter_o_and_a_zero_read_for_one_another_in_a_number_are_put_back(
    read: str, confidence: float, meant: str
) -> None:
    word = Word(read, (10.0, 10.0, 90.0, 30.0), confidence)
    assert mend_letter_o(word, 0.9).text == meant


@pytest.mark.parametrize(
    ("read", "parts"),
    [
        ("Bäckerei Hofmanne.K.", ["Bäckerei", "Hofmann", "e.K."]),
        ("Suministros CostaS.L.U.", ["Suministros", "Costa", "S.L.U."]),
        ("Forniture RossiS.r.l.", ["Forniture", "Rossi", "S.r.l."]),
        ("U.S.A.", ["U.S.A."]),  # capitals before the stops: no name glued to a form
        ("z.B.", ["z.B."]),
    ],
)
def test_a_dotted_legal_form_ocr_glued_to_the_name_is_a_word_of_its_own(read: str, parts: list[str]) -> None:
    words, x = [], 40.0
    for text in read.split():
        words.append(Word(text, (x, 30.0, x + 8 * len(text), 50.0), 0.9))
        x += 8 * len(text) + 8
    page = Page(1, 1653.0, 2339.0, [Line(words)], unit="px", source="ocr")
    assert [w.text for w in build_rows(page)[0].words] == parts


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        (["P.0.", "Number:", "X-4711"], "po_number"),  # the O of "P.O." read as a zero
        (["P.O.", "Number:", "X-4711"], "po_number"),
        (["Total", "1.5.", "X-4711"], "total"),  # stopped digits alone stay digits
    ],
)
def test_a_stopped_abbreviation_read_with_a_digit_for_a_letter_is_a_label(
    words: list[str], kind: str
) -> None:
    found = label_finder().find(words)
    assert [m.kind for m in found] == [kind]
    assert found[0].end == (2 if kind == "po_number" else 1)


def _ocr_line(x: float, top: float, height: float, text: str, confidence: float = 0.97) -> Line:
    words, out = text.split(), []
    for token in words:
        width = 0.6 * height * len(token)
        out.append(Word(token, (x, top, x + width, top + height), confidence))
        x += width + 0.6 * height
    return Line(out)


def _name(value: str, line: Line, **features: float) -> Candidate:
    return Candidate(
        "vendor_name", value, value, 1, union([w.bbox for w in line.words]), "layout", None, features
    )


def test_the_vendor_name_read_twice_is_taken_from_the_clearer_reading() -> None:
    letterhead = _ocr_line(100, 100, 40, "Nordwind Informatik GmbH")
    footer = _ocr_line(100, 2200, 18, "Nordwind Informnatik GmbH")
    domain = _ocr_line(100, 2240, 18, "www.nordwindinformatik.example")
    page = Page(1, 1653.0, 2339.0, [letterhead, footer, domain], unit="px", source="ocr")
    document = Document(source="scan.png", pages=[page])
    big = _name("Nordwind Informatik GmbH", letterhead)
    small = _name("Nordwind Informnatik GmbH", footer)
    # The footer's reading (a slip apart) gives way to the letterhead's: larger type, and the
    # domain spells it.
    assert _clearer_reading(small, [big, small], document, DEFAULT) is big
    assert _clearer_reading(big, [big, small], document, DEFAULT) is None
    # Marks OCR added ("‘Nordwind") and a word more or less are no slips of a letter.
    marked = _name("‘Nordwind Informatik GmbH", letterhead)
    assert _clearer_reading(big, [marked, big], document, DEFAULT) is None
    shorter = _name("Nordwind Informatik", letterhead)
    assert _clearer_reading(small, [shorter, small], document, DEFAULT) is None
    # Another name is no other reading, nor is the buyer's.
    other = _name("Nordlicht Handel GmbH", letterhead)
    assert _clearer_reading(small, [other, small], document, DEFAULT) is None
    buyer = _name("Nordwind Informatik GmbH", letterhead, in_buyer=1.0)
    assert _clearer_reading(small, [buyer, small], document, DEFAULT) is None
    # A slip in large type does not replace the name where it is printed as large elsewhere,
    # nor where OCR read the large type less surely.
    slipped = _ocr_line(100, 160, 40, "Nordwind Informatk GmbH")
    two = Document(
        source="scan.png",
        pages=[Page(1, 1653.0, 2339.0, [letterhead, slipped, footer], unit="px", source="ocr")],
    )
    large_slip = _name("Nordwind Informatk GmbH", slipped)
    footer_right = _name("Nordwind Informatik GmbH", footer)
    assert _clearer_reading(footer_right, [footer_right, big, large_slip], two, DEFAULT) is None
    unsure = _ocr_line(100, 100, 40, "Nordwind Informatk GmbH", confidence=0.6)
    sure_footer = _ocr_line(100, 2200, 18, "Nordwind Informatik GmbH")
    faint = Document(
        source="scan.png", pages=[Page(1, 1653.0, 2339.0, [unsure, sure_footer], unit="px", source="ocr")]
    )
    faint_big, plain_small = (
        _name("Nordwind Informatk GmbH", unsure),
        _name("Nordwind Informatik GmbH", sure_footer),
    )
    assert _clearer_reading(plain_small, [faint_big, plain_small], faint, DEFAULT) is None
    # Without the domain, type alone decides: the small reading never replaces the large one.
    bare = Document(
        source="scan.png", pages=[Page(1, 1653.0, 2339.0, [letterhead, footer], unit="px", source="ocr")]
    )
    assert _clearer_reading(small, [big, small], bare, DEFAULT) is big
    assert _clearer_reading(big, [big, small], bare, DEFAULT) is None
    # Readings apart only in an accent: large type is where OCR mistakes accents most, so the
    # one read more surely is the clearer, whatever its size.
    accented = _ocr_line(100, 100, 40, "Lemaire Hygiéne SA", confidence=0.95)
    plain = _ocr_line(100, 2200, 18, "Lemaire Hygiène SA")
    accents = Document(
        source="scan.png", pages=[Page(1, 1653.0, 2339.0, [accented, plain], unit="px", source="ocr")]
    )
    large_accent, footer_name = _name("Lemaire Hygiéne SA", accented), _name("Lemaire Hygiène SA", plain)
    assert _clearer_reading(footer_name, [large_accent, footer_name], accents, DEFAULT) is None
    assert _clearer_reading(large_accent, [large_accent, footer_name], accents, DEFAULT) is footer_name


def test_an_accent_ocr_was_unsure_of_is_not_given_to_the_vendor_name(extractor: GenericExtractor) -> None:
    lines = [
        _ocr_line(100, 100, 40, "Montajes Lorca S.Coop."),
        _ocr_line(100, 300, 20, "Factura FA-4711"),
        _ocr_line(900, 900, 20, "Total 119,00"),
        _ocr_line(100, 2200, 16, "Montajés Lorca S.Coop. Calle Mayor 5", confidence=0.8),
    ]
    page = Page(1, 1653.0, 2339.0, lines, unit="px", source="ocr")
    result = extractor.extract(Document(source="scan.png", pages=[page]), DocType.INVOICE)
    assert result.fields.vendor_name == "Montajes Lorca S.Coop."


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["Summe", "312,40", "€,"], [(1, 3, Decimal("312.40"))]),  # a speck after the sign
        (["Summe", "'312,40"], [(1, 2, Decimal("312.40"))]),
        (["Summe", "312,40."], [(1, 2, Decimal("312.40"))]),
        (["Kapitel", "19."], []),  # no cents: a number ending a sentence, no amount
        (["Summe", "312,40x"], []),  # a letter is no speck
    ],
)
def test_an_amount_with_specks_ocr_read_as_marks_beside_it_is_read(
    words: list[str], found: list[tuple[int, int, Decimal]]
) -> None:
    assert _value_spans("amount", words) == found


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("E3982597V", "IE3982597V"),  # the thin "I" of "IE" lost
        ("T58969350493", "IT58969350493"),
        ("TT58969350493", "IT58969350493"),  # ... or read as a "T"
    ],
)
def test_a_vat_id_whose_first_letter_ocr_lost_or_misread_is_read_back(read: str, meant: str) -> None:
    assert [v for _, v in find_misread_vat_ids(f"VAT Reg. No.: {read}")] == [meant]


def test_a_vat_id_lost_letter_needs_its_check_digits() -> None:
    assert not list(find_misread_vat_ids("Art. E3982597X"))  # the check letter fails


def test_an_iban_whose_thin_first_letter_ocr_lost_is_read_back() -> None:
    number = int("".join(str(int(c, 36)) for c in "KLMN12345678901234IE00"))
    iban = f"IE{98 - number % 97:02d}KLMN12345678901234"
    groups = " ".join(iban[i : i + 4] for i in range(4, len(iban), 4))
    text = f"IBAN E {iban[2:4]} {groups}"
    found = list(find_misread_ibans(text))
    assert [v for _, v in found] == [iban]
    (a, b), _ = found[0]
    assert text[a:b] == text[5:]


def test_a_number_ocr_split_at_its_underscore_is_joined_by_it(extractor: GenericExtractor) -> None:
    lines = [
        _ocr_line(100, 100, 40, "Nordwind Handel GmbH"),
        _ocr_line(100, 300, 20, "Rechnung Nr. RE _4711"),
        _ocr_line(900, 900, 20, "Gesamtbetrag 119,00"),
    ]
    page = Page(1, 1653.0, 2339.0, lines, unit="px", source="ocr")
    result = extractor.extract(Document(source="scan.png", pages=[page]), DocType.INVOICE)
    assert result.fields.invoice_number == "RE_4711"
    # The underscore kept by the code before the gap ("FV_ 23/4229") joins them as well.
    lines[1] = _ocr_line(100, 300, 20, "Rechnung Nr. FV_ 23/4229")
    page = Page(1, 1653.0, 2339.0, lines, unit="px", source="ocr")
    result = extractor.extract(Document(source="scan.png", pages=[page]), DocType.INVOICE)
    assert result.fields.invoice_number == "FV_23/4229"


def test_an_ordinal_mark_ocr_read_as_a_digit_is_no_number() -> None:
    # "Documento n.º:" read "n.2:": the label, not the number 2.
    found = label_finder().find(["Documento", "n.2:", "FA-4711"])
    assert [(m.kind, m.end, m.partial_tail) for m in found] == [("invoice_number", 2, False)]
    glued = label_finder().find(["Rechnung", "Nr.4711"])
    assert [(m.kind, m.partial_tail) for m in glued] == [("invoice_number", True)]


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("19:04°2025", "19.04.2025"),
        ("12-03:2025", "12-03-2025"),
        ("31:02°2026", "31:02°2026"),  # no date either way
        ("12:30", "12:30"),
        ("14103/2025", "14/03/2025"),  # a slash read as the "1" it looks like
        ("14/0312025", "14/03/2025"),
        ("31113/2025", "31113/2025"),  # no date either way
    ],
)
def test_a_date_with_marks_no_date_prints_is_read_with_a_dates_mark(read: str, meant: str) -> None:
    assert mend_doubled_mark(Word(read, (10.0, 10.0, 90.0, 30.0), 0.6)).text == meant


@pytest.mark.parametrize(("letter", "meant"), [("", "Nordwind Handel GmbH"), ("ş", "Nordwınd Handel GmbH")])
def test_an_i_ocr_lost_the_dot_of_is_an_i_where_no_turkish_is_printed(
    extractor: GenericExtractor, letter: str, meant: str
) -> None:
    lines = [
        _ocr_line(100, 100, 40, "Nordwınd Handel GmbH"),
        _ocr_line(100, 300, 20, f"Facture FA-4711 {letter}".strip()),
        _ocr_line(900, 900, 20, "Total 119,00"),
    ]
    page = Page(1, 1653.0, 2339.0, lines, unit="px", source="ocr")
    result = extractor.extract(Document(source="scan.png", pages=[page]), DocType.INVOICE)
    assert result.fields.vendor_name == meant
