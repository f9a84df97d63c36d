"""The generic line-table reader on synthetic pages: column orders, languages, number formats,
wrapped descriptions, stacked headers, sidebars, multi-page tables, no header, and OCR'd rows.

Pages are built word by word (text, x, y), the way a text layer hands them over, so each test
states exactly the geometry it checks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractors.generic.geometry import build_rows
from extractors.generic.labels import label_finder
from extractors.generic.table_header import find_header_at, header_columns, match_words
from extractors.generic.table_numbers import number_spans, parse_cell, percent, repair_ocr_number
from extractors.generic.tables import Table, extract_tables, skip_rows, stop_rows
from textlayer.model import Line, Page, Word

CHAR = 5.0  # width of one character at 10 pt
HEIGHT = 10.0


def word(text: str, x: float, y: float, conf: float = 1.0, right: bool = False) -> Word:
    """A word starting at x (or ending at x when ``right``: numbers are right-aligned)."""
    width = CHAR * len(text)
    x0 = x - width if right else x
    return Word(text, (x0, y, x0 + width, y + HEIGHT), confidence=conf, size=HEIGHT)


def phrase(text: str, x: float, y: float, conf: float = 1.0, right: bool = False) -> list[Word]:
    """Words of a phrase separated by one space (one character width)."""
    words: list[Word] = []
    total = CHAR * (len(text))
    cursor = x - total if right else x
    for part in text.split(" "):
        words.append(word(part, cursor, y, conf))
        cursor += CHAR * (len(part) + 1)
    return words


Cell = tuple[str, float] | tuple[str, float, str]  # (text, x) or (text, x, "r") right-aligned


def page(rows: list[list[Cell]], number: int = 1, conf: float = 1.0, y0: float = 100.0) -> Page:
    lines = []
    for i, cells in enumerate(rows):
        y = y0 + i * 16.0
        words: list[Word] = []
        for cell in cells:
            text, x = cell[0], cell[1]
            words.extend(phrase(text, x, y, conf, right=len(cell) == 3))
        lines.append(Line(words))
    return Page(number=number, width=600, height=800, lines=lines, source="ocr" if conf < 1 else "digital")


def read(pages: list[Page]) -> Table:
    pages_rows = [build_rows(p) for p in pages]
    finder = label_finder()
    stops: dict[int, set[int]] = {}
    skips: dict[int, set[int]] = {}
    for rows in pages_rows:
        labels = {row.index: finder.find([w.text for w in row.words]) for row in rows}
        stops[rows[0].page] = stop_rows(rows, labels)
        skips[rows[0].page] = skip_rows(rows, labels)
    return extract_tables(pages_rows, stops, skips)


def triples(table: Table) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (
            None if i.quantity is None else format(i.quantity, "f"),
            None if i.unit_price is None else format(i.unit_price, "f"),
            None if i.amount is None else format(i.amount, "f"),
        )
        for i in table.items
    ]


# --- column orders and languages ----------------------------------------------------------------

QTY_FIRST_EN: list[list[Cell]] = [
    [("Qty", 40), ("Description", 80), ("Code", 300), ("Unit Price", 420, "r"), ("Amount", 540, "r")],
    [("2", 50, "r"), ("Hex bolt M8x40, box of 200", 80), ("HX-10020", 300), ("12.50", 420, "r"),
     ("25.00", 540, "r")],
    [("10", 50, "r"), ("Safety shoes S3 size 43", 80), ("SF-10448", 300), ("84.15", 420, "r"),
     ("841.50", 540, "r")],
    [("Subtotal", 400), ("866.50", 540, "r")],
]  # fmt: skip

SKU_QTY_DE: list[list[Cell]] = [
    [("Art.-Nr.", 40), ("Menge", 140, "r"), ("Bezeichnung", 160), ("Einzelpreis", 440, "r"),
     ("Betrag", 540, "r")],
    [("WD-10999", 40), ("4", 140, "r"), ("Schweißdraht 0,8mm", 160), ("1.048,45", 440, "r"),
     ("4.193,80", 540, "r")],
    [("GL-10187", 40), ("100", 140, "r"), ("Nitrilhandschuhe Gr. L", 160), ("7,65", 440, "r"),
     ("765,00", 540, "r")],
    [("Zwischensumme", 380), ("4.958,80", 540, "r")],
]  # fmt: skip

NO_SKU_FR: list[list[Cell]] = [
    [("Qté", 40), ("Désignation", 80), ("P.U. HT", 440, "r"), ("Montant HT", 540, "r")],
    [("3", 50, "r"), ("Disque à meuler 125 mm", 80), ("1 234,50 €", 440, "r"), ("3 703,50 €", 540, "r")],
    [("12", 50, "r"), ("Ruban adhésif", 80), ("2,05 €", 440, "r"), ("24,60 €", 540, "r")],
    [("Total HT", 400), ("3 728,10 €", 540, "r")],
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (QTY_FIRST_EN, [("2", "12.50", "25.00"), ("10", "84.15", "841.50")]),
        (SKU_QTY_DE, [("4", "1048.45", "4193.80"), ("100", "7.65", "765.00")]),
        (NO_SKU_FR, [("3", "1234.50", "3703.50"), ("12", "2.05", "24.60")]),
    ],
    ids=["qty-first-en", "sku-qty-de", "no-sku-fr-grouped-spaces"],
)
def test_column_orders_languages_and_number_formats(
    rows: list[list[Cell]], expected: list[tuple[str, str, str]]
) -> None:
    table = read([page(rows)])
    assert triples(table) == expected
    assert all(item.consistent for item in table.items)


def test_descriptions_and_skus_land_in_their_columns() -> None:
    table = read([page(QTY_FIRST_EN)])
    assert [i.description for i in table.items] == ["Hex bolt M8x40, box of 200", "Safety shoes S3 size 43"]
    assert [i.sku for i in table.items] == ["HX-10020", "SF-10448"]
    de = read([page(SKU_QTY_DE)])
    assert [i.sku for i in de.items] == ["WD-10999", "GL-10187"]
    assert de.items[0].description == "Schweißdraht 0,8mm"


def test_description_wrapped_onto_a_second_line_joins_its_item() -> None:
    rows: list[list[Cell]] = [
        [("Description", 40), ("Qty", 330, "r"), ("Price", 440, "r"), ("Amount", 540, "r")],
        [("Consulting day, senior engineer", 40), ("2", 330, "r"), ("1,021.00", 440, "r"),
         ("2,042.00", 540, "r")],
        [("on site in Rotterdam", 40)],
        [("Travel costs", 40), ("1", 330, "r"), ("80.00", 440, "r"), ("80.00", 540, "r")],
        [("Total due", 400), ("2,122.00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("2", "1021.00", "2042.00"), ("1", "80.00", "80.00")]
    assert table.items[0].description == "Consulting day, senior engineer on site in Rotterdam"


def test_units_tax_rate_and_discount_columns_do_not_shift_the_numbers() -> None:
    rows: list[list[Cell]] = [
        [("Pos", 30), ("Description", 60), ("Qty", 250, "r"), ("Unit", 260), ("Price", 360, "r"),
         ("Disc. %", 410, "r"), ("VAT %", 460, "r"), ("Amount", 540, "r")],
        [("1", 35, "r"), ("Copy paper A4", 60), ("5", 250, "r"), ("pcs", 260), ("4.00", 360, "r"),
         ("10", 410, "r"), ("19%", 460, "r"), ("18.00", 540, "r")],
        [("2", 35, "r"), ("Toner black", 60), ("2", 250, "r"), ("pcs", 260), ("60.00", 360, "r"),
         ("0", 410, "r"), ("19%", 460, "r"), ("120.00", 540, "r")],
        [("Net total", 400), ("138.00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    # The discounted line does not multiply out and is read as printed, by its columns.
    assert triples(table) == [("5", "4.00", "18.00"), ("2", "60.00", "120.00")]
    assert [i.consistent for i in table.items] == [False, True]


def test_header_beside_a_sidebar_and_stacked_over_two_rows() -> None:
    rows: list[list[Cell]] = [
        [("Vektor Supplies", 10), ("Item", 200), ("Qty", 400, "r"), ("Unit", 470, "r"), ("Line", 560, "r")],
        [("BS1 4DJ", 10), ("Price", 470, "r"), ("Total", 560, "r")],
        [("GB866485394", 10), ("Hard hat EN 397 white", 200), ("100", 400, "r"), ("23.15", 470, "r"),
         ("2,315.00", 560, "r")],
        [("USB keyboard", 200), ("1", 400, "r"), ("26.35", 470, "r"), ("26.35", 560, "r")],
        [("Sub Total", 430), ("2,341.35", 560, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("100", "23.15", "2315.00"), ("1", "26.35", "26.35")]
    assert table.items[0].description == "Hard hat EN 397 white"


def test_multi_page_table_with_repeated_header_and_carried_subtotals() -> None:
    header: list[Cell] = [("Description", 40), ("Qty", 330, "r"), ("Rate", 440, "r"), ("Amount", 540, "r")]
    first = page(
        [
            header,
            [("Wireless mouse", 40), ("25", 330, "r"), ("26.25", 440, "r"), ("656.25", 540, "r")],
            [("Docking station", 40), ("20", 330, "r"), ("135.00", 440, "r"), ("2,700.00", 540, "r")],
            [("Carried forward", 380), ("3,356.25", 540, "r")],
        ]
    )
    second = page(
        [
            header,
            [("Brought forward", 380), ("3,356.25", 540, "r")],
            [("Monitor 27in", 40), ("2", 330, "r"), ("201.50", 440, "r"), ("403.00", 540, "r")],
            [("Balance Due", 380), ("3,759.25", 540, "r")],
        ],
        number=2,
    )
    table = read([first, second])
    assert triples(table) == [
        ("25", "26.25", "656.25"),
        ("20", "135.00", "2700.00"),
        ("2", "201.50", "403.00"),
    ]
    assert [i.page for i in table.items] == [1, 1, 2]


def test_continuation_page_without_a_header_uses_the_previous_columns() -> None:
    first = page(
        [
            [("Description", 40), ("Qty", 330, "r"), ("Rate", 440, "r"), ("Amount", 540, "r")],
            [("Wireless mouse", 40), ("25", 330, "r"), ("26.25", 440, "r"), ("656.25", 540, "r")],
        ]
    )
    second = page(
        [
            [("Vektor Supplies Limited", 40), ("Invoice 02267", 450)],
            [("Monitor 27in", 40), ("2", 330, "r"), ("201.50", 440, "r"), ("403.00", 540, "r")],
            [("Balance Due", 380), ("1,059.25", 540, "r")],
        ],
        number=2,
    )
    assert triples(read([first, second])) == [("25", "26.25", "656.25"), ("2", "201.50", "403.00")]


def test_without_a_header_rows_that_multiply_out_are_items() -> None:
    rows: list[list[Cell]] = [
        [("Invoice 4711", 40), ("14.03.2026", 540, "r")],
        [("2", 50, "r"), ("Wood screw 4x50, box of 200", 80), ("10.50", 440, "r"), ("21.00", 540, "r")],
        [("1", 50, "r"), ("Drill bit set", 80), ("1 046,28", 440, "r"), ("1 046,28", 540, "r")],
        [("Subtotal", 400), ("1 067,28", 540, "r")],
        [("VAT 19 %", 400), ("202,78", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("2", "10.50", "21.00"), ("1", "1046.28", "1046.28")]
    assert table.items[0].description == "Wood screw 4x50, box of 200"


def test_a_page_of_prose_and_totals_has_no_items() -> None:
    rows: list[list[Cell]] = [
        [("Payment terms: 30 days net, 2 % discount within 10 days", 40)],
        [("Subtotal", 400), ("100.00", 540, "r")],
        [("VAT 19 %", 400), ("19.00", 540, "r")],
        [("Total", 400), ("119.00", 540, "r")],
    ]
    assert read([page(rows)]).items == []


# --- OCR'd rows -----------------------------------------------------------------------------------


def test_ocr_confusions_debris_rows_and_a_lost_quantity() -> None:
    rows: list[list[Cell]] = [
        [("Article", 40), ("Description", 130), ("Quantity", 360, "r"), ("Price", 450, "r"),
         ("Net value", 540, "r")],
        [("CN-10816", 40), ("Consulting day", 130), ("6", 360, "r"), ("1:021,00", 450, "r"),
         ("6.126,00", 540, "r")],
        [(".", 300)],
        [("HX-10039", 40), ("Hex nut M10", 130), ("|12", 360, "r"), ("11,0O", 450, "r"),
         ("132,00", 540, "r")],
        [("KB-10631", 40), ("USB keyboard", 130), ("È", 360, "r"), ("25,40", 450, "r"), ("101,60", 540, "r")],
        [("MS-10670", 40), ("Mouse", 130), ("25", 360, "r"), ("26,25", 450, "r"), ("656 25", 540, "r")],
        [("FL-10596", 40), ("LED panel", 130), ("IS", 360, "r"), ("4050", 450, "r"), ("607,50", 540, "r")],
        [("HX-10040", 40), ("Hex nut", 130), ("12", 360, "r"), ("21,06", 450, "r"), ("252,00", 540, "r")],
        [("Net total", 400), ("7.875,35", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows, conf=0.9)])
    assert triples(table) == [
        ("6", "1021.00", "6126.00"),
        ("12", "11.00", "132.00"),
        ("4", "25.40", "101.60"),
        ("25", "26.25", "656.25"),  # the decimal mark OCR lost
        ("15", "40.50", "607.50"),  # "IS" for 15, and a price without its decimal mark
        ("12", "21.00", "252.00"),  # one digit misread: only the price can be fixed by one digit
    ]
    # The quantity OCR lost is worked out from amount / price, and says so by its confidence.
    assert table.items[2].confidence < 0.5 < table.items[0].confidence
    assert not table.items[2].consistent


def test_a_born_digital_row_is_never_repaired_or_completed() -> None:
    rows: list[list[Cell]] = [
        [("Description", 40), ("Qty", 330, "r"), ("Price", 440, "r"), ("Amount", 540, "r")],
        [("Service flat fee", 40), ("1O.00", 440, "r"), ("100.00", 540, "r")],
        [("Total", 400), ("100.00", 540, "r")],
    ]
    table = read([page(rows)])
    assert triples(table) == [(None, None, "100.00")]


def test_goods_returned_with_a_negative_quantity_keep_their_columns() -> None:
    """ "-5,0000 Stk." at 1,0000 for -5,00: a quantity printed negative is still the quantity,
    not the price, and the table keeps its minus (a credit note's contract, positive
    quantities, is the extractor's to apply once it knows the document's type)."""
    rows: list[list[Cell]] = [
        [("Art.-Nr.", 40), ("Menge", 270, "r"), ("VKE", 320, "r"), ("Nettopreis", 400, "r"),
         ("Nettowert", 540, "r")],
        [("QZ-114", 40), ("-5,0000", 270, "r"), ("1", 320, "r"), ("1,0000", 400, "r"), ("-5,00", 540, "r")],
        [("QZ-207", 40), ("-2,0000", 270, "r"), ("1", 320, "r"), ("1,4500", 400, "r"), ("-2,90", 540, "r")],
        [("Summe", 380), ("-7,90", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("-5.0000", "1.0000", "-5.00"), ("-2.0000", "1.4500", "-2.90")]


def test_crates_taken_back_on_an_invoice_keep_the_minus_of_their_count() -> None:
    rows: list[list[Cell]] = [
        [("Description", 40), ("Qty", 300, "r"), ("Price", 400, "r"), ("Amount", 540, "r")],
        [("Mineral water, crate", 40), ("3", 300, "r"), ("7,00", 400, "r"), ("21,00", 540, "r")],
        [("Deposit crate returned", 40), ("-4", 300, "r"), ("1,50", 400, "r"), ("-6,00", 540, "r")],
        [("Apple juice, crate", 40), ("2", 300, "r"), ("9,00", 400, "r"), ("18,00", 540, "r")],
        [("Total", 380), ("33,00", 540, "r")],
    ]  # fmt: skip
    assert triples(read([page(rows)])) == [
        ("3", "7.00", "21.00"),
        ("-4", "1.50", "-6.00"),
        ("2", "9.00", "18.00"),
    ]


def test_count_and_price_headers_set_close_together_are_two_columns() -> None:
    """ "Anzahl Einzelpreis EUR" with a single space between the two: two cells, the count's
    numbers flush right under "Anzahl", the price's under "EUR". Read as one price cell, the
    count and the price traded places (the arithmetic cannot tell 20 x 1,49 from 1,49 x 20)."""
    rows: list[list[Cell]] = [
        [("Pos.", 40), ("Bezeichnung", 80), ("Anzahl Einzelpreis EUR", 420, "r"),
         ("Steuer Gesamtpreis EUR", 540, "r")],
        [("1", 40), ("Kabelbinder", 80), ("20", 334, "r"), ("1,49", 420, "r"), ("19 %", 450, "r"),
         ("29,80", 540, "r")],
        [("2", 40), ("Schraubendreher", 80), ("3", 334, "r"), ("12,00", 420, "r"), ("19 %", 450, "r"),
         ("36,00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("20", "1.49", "29.80"), ("3", "12.00", "36.00")]


# --- the parts ------------------------------------------------------------------------------------


def test_header_vocabulary_and_what_is_not_a_header() -> None:
    assert header_columns(phrase("Pos. Art.-Nr. Bezeichnung Menge E-Preis Gesamt", 40, 100), HEIGHT) is None
    spaced = [w for text, x in (("Pos.", 20), ("Art.-Nr.", 60), ("Bezeichnung", 140), ("Menge", 330),
                                ("E-Preis", 420), ("Gesamt", 520)) for w in phrase(text, x, 100)]  # fmt: skip
    columns = header_columns(spaced, HEIGHT)
    assert columns is not None
    assert [c.kind for c in columns] == [
        "col_pos", "col_sku", "col_description", "col_quantity", "col_unit_price", "col_amount"
    ]  # fmt: skip
    # A totals line and a sentence name no columns; a row holding amounts is never a header.
    assert header_columns(phrase("Total amount due 119.00 EUR", 40, 100), HEIGHT) is None
    assert (
        header_columns([*phrase("Description", 40, 100), *phrase("Qty 2 Price 4.00", 300, 100)], HEIGHT)
        is None
    )
    assert [m.kinds[0] for m in match_words(["Qté", "Désignation", "P.U.", "HT", "Montant", "HT"])] == [
        "col_quantity", "col_description", "col_unit_price", "col_amount"
    ]  # fmt: skip


def test_ocr_misspelt_header_words_still_name_their_columns() -> None:
    words = [w for text, x in (("Designation", 20), ("Ouantite", 330), ("Prix", 420), ("unitaire", 445),
                               ("Totai", 520)) for w in phrase(text, x, 100, conf=0.9)]  # fmt: skip
    columns = header_columns(words, HEIGHT)
    assert columns is not None
    assert [c.kind for c in columns] == ["col_description", "col_quantity", "col_unit_price", "col_amount"]
    # Born-digital words are taken as printed: with "Ouantite" and "Totai" no header is left.
    assert header_columns([Word(w.text, w.bbox) for w in words], HEIGHT) is None


def test_item_next_to_description_is_the_sku_column() -> None:
    words = [w for text, x in (("Item", 20), ("Description", 120), ("Qty", 330), ("Amount", 520))
             for w in phrase(text, x, 100)]  # fmt: skip
    columns = header_columns(words, HEIGHT)
    assert columns is not None
    assert [c.kind for c in columns] == ["col_sku", "col_description", "col_quantity", "col_amount"]
    together = header_columns([*phrase("Item / Description", 20, 100), *phrase("Qty", 330, 100),
                               *phrase("Amount", 520, 100)], HEIGHT)  # fmt: skip
    assert together is not None and together[0].kind == "col_description"


def test_stacked_header_rows_read_top_to_bottom_per_column() -> None:
    rows = build_rows(
        page(
            [
                [("Description", 40), ("Qty", 330, "r"), ("Unit", 440, "r"), ("Line", 540, "r")],
                [("Price", 440, "r"), ("Total", 540, "r")],
            ]
        )
    )
    header = find_header_at(rows, 0)
    assert header is not None and header.rows == (0, 1)
    assert [c.kind for c in header.columns] == [
        "col_description",
        "col_quantity",
        "col_unit_price",
        "col_amount",
    ]


def test_a_label_stacked_over_two_rows_is_read_whole_beside_words_of_two_meanings() -> None:
    # Read alone, the upper row names "Unit" of measure and two "Amount"s, one of which must be
    # a price; read with "Price" under "Unit", it names the price, and the count is the other.
    rows: list[list[Cell]] = [
        [("Description", 40), ("Amount", 330, "r"), ("Unit", 420, "r"), ("Amount", 520, "r")],
        [("Price", 420, "r")],
        [("Consulting hours", 40), ("16", 330, "r"), ("64.49", 420, "r"), ("1,031.84", 520, "r")],
        [("Desk lamp", 40), ("10", 330, "r"), ("84.00", 420, "r"), ("840.00", 520, "r")],
        [("Net total", 380), ("1,871.84", 520, "r")],
    ]  # fmt: skip
    header = find_header_at(build_rows(page(rows)), 0)
    assert header is not None and header.rows == (0, 1)
    kinds = [c.kind for c in header.columns]
    assert kinds == ["col_description", "col_amount", "col_unit_price", "col_amount"]
    assert triples(read([page(rows)])) == [("16", "64.49", "1031.84"), ("10", "84.00", "840.00")]


@pytest.mark.parametrize(
    ("text", "ocr", "expected"),
    [
        ("1.234,56", False, "1234.56"),
        ("1,234.56", False, "1234.56"),
        ("33:00", True, "33.00"),
        ("1:021,00", True, "1021.00"),
        ("1O5.00", True, "105.00"),
        ("l2,50", True, "12.50"),
        ("20]", True, "20"),
        ("3:", True, "3"),
        ("33:00", False, None),
        ("IS", True, "15"),
        ("lO", True, "10"),
        ("S3", True, None),
        ("M10", True, None),
        ("È", True, None),
    ],
)
def test_cell_parsing_with_and_without_ocr_repairs(text: str, ocr: bool, expected: str | None) -> None:
    value, _repaired = parse_cell(text, ocr)
    assert (None if value is None else format(value, "f")) == expected


def test_repair_leaves_words_alone() -> None:
    assert repair_ocr_number("Box") is None
    assert repair_ocr_number("USB-C") is None


def test_number_spans_merge_grouped_digits_and_currency_but_not_columns() -> None:
    words = [*phrase("1 234,56 €", 100, 0), word("7", 300, 0), *phrase("EUR 12.00", 400, 0)]
    values = {(s.start, s.end): s.value for s in number_spans(words)}
    assert values[(0, 3)] == Decimal("1234.56")
    assert values[(0, 1)] == Decimal("1") and values[(1, 2)] == Decimal("234.56")
    assert values[(4, 6)] == Decimal("12.00")
    # "€ 7" would cross a column gap: the 7 stands alone.
    assert not any(s.start <= 3 < s.end for s in number_spans(words) if s.end - s.start > 1)


def test_item_rows_starting_with_totals_words_and_sidebar_labels_do_not_end_the_table() -> None:
    rows: list[list[Cell]] = [
        [("Qty", 200), ("Description", 240), ("Price", 470, "r"), ("Amount", 560, "r")],
        [("Tax ID", 10), ("2", 210, "r"), ("Tax advice, hours", 240), ("150.00", 470, "r"),
         ("300.00", 560, "r")],
        [("Total due", 10), ("1", 210, "r"), ("Total station rental", 240), ("80.00", 470, "r"),
         ("80.00", 560, "r")],
        [("Phone 0123 456", 10)],
        [("3", 210, "r"), ("Hex nut M10", 240), ("1.10", 470, "r"), ("3.30", 560, "r")],
        [("Subtotal", 420), ("383.30", 560, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("2", "150.00", "300.00"), ("1", "80.00", "80.00"), ("3", "1.10", "3.30")]


def test_a_totals_block_with_unknown_labels_ends_the_table() -> None:
    rows: list[list[Cell]] = [
        [("Qty", 40), ("Description", 80), ("Unit Price", 420, "r"), ("Amount", 540, "r")],
        [("2", 50, "r"), ("Hex bolt M8x40", 80), ("12.50", 420, "r"), ("25.00", 540, "r")],
        [("1", 50, "r"), ("Freight flat rate", 80), ("10.00", 540, "r")],
        [("Goods value", 330), ("35.00", 540, "r")],
        [("Sales levy 20 %", 330), ("7.00", 540, "r")],
        [("Please remit", 330), ("42.00", 540, "r")],
    ]
    table = read([page(rows)])
    # The freight line starts under the descriptions and is an item (without a price);
    # the labels right of the descriptions are totals, whatever their words.
    assert triples(table) == [("2", "12.50", "25.00"), ("1", None, "10.00")]


def test_a_discount_percentage_multiplies_out_with_the_printed_unit_price() -> None:
    rows: list[list[Cell]] = [
        [("Description", 60), ("Quantité", 250, "r"), ("Prix unitaire", 360, "r"), ("Rem.", 410, "r"),
         ("Prix HT", 540, "r")],
        [("Nougat 250g", 60), ("20", 250, "r"), ("4,55 €", 360, "r"), ("10%", 410, "r"),
         ("81,90 €", 540, "r")],
        [("Biscuits", 60), ("15", 250, "r"), ("3,20 €", 360, "r"), ("48,00 €", 540, "r")],
        [("Hot air", 60), ("800.00", 250, "r"), ("0.025 €", 360, "r"), ("20,00 €", 540, "r")],
        # 19 % off would not give the amount: a VAT rate is not taken for a discount.
        [("Toner", 60), ("2", 250, "r"), ("60,00 €", 360, "r"), ("19%", 410, "r"), ("100,00 €", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    # 20 x 4,55 less 10 % = 81,90; the unit price stays as printed.
    assert triples(table)[:3] == [
        ("20", "4.55", "81.90"),
        ("15", "3.20", "48.00"),
        ("800.00", "0.025", "20.00"),
    ]
    assert [i.consistent for i in table.items] == [True, True, True, False]


def test_german_erp_table_with_positions_units_and_a_running_subtotal() -> None:
    rows: list[list[Cell]] = [
        [("Pos.", 30), ("Art.-Nr.", 60), ("Bezeichnung", 120), ("Menge", 290, "r"), ("Einh.", 300),
         ("Einzelpreis", 400, "r"), ("Rabatt", 440, "r"), ("Nettowert", 510, "r"), ("USt", 560, "r")],
        [("1", 35, "r"), ("TB100A4", 60), ("Trennblätter A4", 120), ("20,0000", 290, "r"), ("Stück", 300),
         ("9,9000", 400, "r"), ("198,00", 510, "r"), ("19 %", 560, "r")],
        [("Farbe: blau", 120)],
        [("2", 35, "r"), ("K1", 60), ("Kiste", 120), ("1,0000", 290, "r"), ("pauschal", 300),
         ("12,5000", 400, "r"), ("10 %", 440, "r"), ("11,25", 510, "r"), ("19 %", 560, "r")],
        [("Zwischensumme", 120), ("209,25", 510, "r")],
        [("3", 35, "r"), ("H1", 60), ("Montage", 120), ("2,5", 290, "r"), ("h", 300), ("60,00", 400, "r"),
         ("150,00", 510, "r"), ("19 %", 560, "r")],
        [("Summe netto", 300), ("359,25", 510, "r")],
        [("zzgl. 19 % MwSt.", 300), ("68,26", 510, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    # The running subtotal between items is neither an item nor the end of the table; the
    # totals block after the last item is.
    assert triples(table) == [
        ("20.0000", "9.9000", "198.00"),
        ("1.0000", "12.5000", "11.25"),
        ("2.5", "60.00", "150.00"),
    ]
    assert [i.description for i in table.items] == ["Trennblätter A4 Farbe: blau", "Kiste", "Montage"]
    assert all(i.consistent for i in table.items)


def test_item_detail_rows_and_descriptions_without_a_description_header() -> None:
    # The header names only the numeric columns; each item carries discount and gross-price
    # rows whose numbers are no item of their own.
    rows: list[list[Cell]] = [
        [("GTIN / Artikel", 30), ("Menge", 290, "r"), ("Nettopreis", 380, "r"), ("MwSt-%", 440, "r"),
         ("Nettowert", 540, "r")],
        [("Zitronensäure 100ml", 30), ("100,0000", 290, "r"), ("1,0000", 380, "r"), ("19 %", 440, "r"),
         ("100,00", 540, "r")],
        [("Gelierzucker Extra 250g", 30), ("50,0000", 290, "r"), ("1,4500", 380, "r"), ("7 %", 440, "r"),
         ("72,50", 540, "r")],
        [("Artikelrabatt 1: 2,00 % Basis:", 60), ("75,00 €", 290, "r"), ("Rabatt:", 300),
         ("-0,03", 380, "r")],
        [("Bruttopreis:", 60), ("1,5000", 380, "r")],
        [("Kiste", 30), ("2,0000", 290, "r"), ("29,1000", 380, "r"), ("19 %", 440, "r"), ("58,20", 540, "r")],
        [("Lieferung frei Haus", 30)],
        [("Rückfragen: Tel. 0123 / 4567", 30), ("15", 290, "r")],
        [("Bankverbindung 1,00 € Gebühr", 30), ("1,00", 380, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [
        ("100.0000", "1.0000", "100.00"),
        ("50.0000", "1.4500", "72.50"),
        ("2.0000", "29.1000", "58.20"),
    ]
    assert all(i.consistent for i in table.items)


def test_a_header_wrapped_over_two_lines_is_no_table_row() -> None:
    # "Total" over "line", "Rate" over "VAT": the second line names no new column, and its
    # "VAT" is no totals row that ends the table before its first item.
    rows: list[list[Cell]] = [
        [("Pos", 30), ("Description", 60), ("Qty", 300, "r"), ("Price", 380, "r"), ("Total", 460, "r"),
         ("Rate", 540, "r")],
        [("line", 460, "r"), ("VAT", 540, "r")],
        [("1", 35, "r"), ("Hex bolts", 60), ("3", 300, "r"), ("2.50", 380, "r"), ("7.50", 460, "r"),
         ("20%", 540, "r")],
        [("2", 35, "r"), ("Wall plugs", 60), ("10", 300, "r"), ("0.40", 380, "r"), ("4.00", 460, "r"),
         ("20%", 540, "r")],
        [("Total net", 380), ("11.50", 460, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("3", "2.50", "7.50"), ("10", "0.40", "4.00")]


def test_rows_without_a_header_are_read_past_labels_printed_above_them() -> None:
    # A till slip: no column header, and a due-date and a number label above the items; only
    # the totals after the items end them.
    rows: list[list[Cell]] = [
        [("Receipt No. 0099", 10), ("10:47", 160, "r")],
        [("Due date 11/03/2023", 10)],
        [("4", 10), ("Croissant", 20), ("7.34", 125, "r"), ("29.36", 160, "r")],
        [("2", 10), ("Screws 4x40", 20), ("10.53", 125, "r"), ("21.06", 160, "r")],
        [("AMOUNT DUE", 10), ("50.42", 160, "r")],
        [("Mastercard", 10), ("50.42", 160, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("4", "7.34", "29.36"), ("2", "10.53", "21.06")]


def test_column_roles_come_from_the_numbers_when_no_vocabulary_knows_the_header() -> None:
    # Header words no vocabulary holds, columns in an unusual order: the numbers say which
    # column is which (quantity x price = amount, less the row's discount), the rest is told
    # apart by what it holds (running positions, codes, prose, percentages).
    rows: list[list[Cell]] = [
        [("Lorem", 30), ("Ipsum", 70), ("Dolor", 140), ("Sitam", 330, "r"), ("Conse", 380, "r"),
         ("Adip", 430, "r"), ("Elit", 540, "r")],
        [("1", 35, "r"), ("XK-1021", 70), ("Hex bolts M8", 140), ("2.50", 330, "r"), ("4", 380, "r"),
         ("10 %", 430, "r"), ("9.00", 540, "r")],
        [("2", 35, "r"), ("PL-77", 70), ("Wall plugs, box of 100", 140), ("0.40", 330, "r"),
         ("25", 380, "r"), ("10.00", 540, "r")],
        [("3", 35, "r"), ("ZZ-9", 70), ("Drill 6 mm", 140), ("7.00", 330, "r"), ("3", 380, "r"),
         ("21.00", 540, "r")],
        [("Summa", 380), ("40.00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("4", "2.50", "9.00"), ("25", "0.40", "10.00"), ("3", "7.00", "21.00")]
    assert [i.description for i in table.items] == ["Hex bolts M8", "Wall plugs, box of 100", "Drill 6 mm"]
    assert [i.sku for i in table.items] == ["XK-1021", "PL-77", "ZZ-9"]
    kinds = {c.text: c.kind for c in table.columns}
    assert kinds == {
        "Lorem": "col_pos",
        "Ipsum": "col_sku",
        "Dolor": "col_description",
        "Sitam": "col_unit_price",
        "Conse": "col_quantity",
        "Adip": "col_discount",
        "Elit": "col_amount",
    }


def test_a_table_without_a_header_reads_discounted_rows_by_their_own_numbers() -> None:
    rows: list[list[Cell]] = [
        [("Invoice 2211", 40)],
        [("Steel bracket", 40), ("4", 300, "r"), ("82.20", 360, "r"), ("3 %", 420, "r"),
         ("318.94", 540, "r")],
        [("Cable ties", 40), ("10", 300, "r"), ("2.00", 360, "r"), ("20.00", 540, "r")],
        [("Net", 420), ("338.94", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("4", "82.20", "318.94"), ("10", "2.00", "20.00")]
    assert [i.description for i in table.items] == ["Steel bracket", "Cable ties"]


def slip(rows: list[list[Cell]], conf: float = 1.0) -> Page:
    """A till slip: 40 characters wide, rows 12 points apart."""
    lines = []
    for i, cells in enumerate(rows):
        words: list[Word] = []
        for cell in cells:
            words.extend(phrase(cell[0], cell[1], 40.0 + i * 12.0, conf, right=len(cell) == 3))
        lines.append(Line(words))
    return Page(number=1, width=220, height=400, lines=lines, source="ocr" if conf < 1 else "digital")


def test_a_till_slip_lists_its_items_as_amounts_with_their_counts_under_them() -> None:
    # No header and no count for an item bought once: one croissant at 2,21. A count row under
    # an item ("6 x 6,69") gives its quantity and price; the row whose amount is the sum of the
    # items is the total, whatever its label.
    rows: list[list[Cell]] = [
        [("Bakery Nord", 60)],
        [("Date 16.03.23", 10), ("15:51", 210, "r")],
        [("------------------------------------", 10)],
        [("Croissant", 10), ("2,21", 200, "r"), ("A", 210, "r")],
        [("Sandwich", 10), ("40,14", 200, "r"), ("A", 210, "r")],
        [("6", 20), ("x", 30), ("6,69", 60)],
        [("Water 0,5l", 10), ("7,02", 200, "r"), ("B", 210, "r")],
        [("2", 20), ("x", 30), ("3,51", 60)],
        [("====================================", 10)],
        [("ZUSAMMEN", 10), ("49,37", 210, "r")],
        [("Bar", 10), ("50,00", 210, "r")],
        [("VAT 10%", 10), ("4,49", 210, "r")],
    ]  # fmt: skip
    table = read([slip(rows)])
    assert triples(table) == [("1", "2.21", "2.21"), ("6", "6.69", "40.14"), ("2", "3.51", "7.02")]
    assert [i.description for i in table.items] == ["Croissant", "Sandwich", "Water 0,5l"]


def test_a_till_slip_amount_misread_is_worked_out_from_its_count_when_the_total_agrees() -> None:
    rows: list[list[Cell]] = [
        [("Caisse 1", 10)],
        [("Soupe du jour", 10), ("11,87", 200, "r")],
        [("Sandwich", 10), ("49,14", 200, "r")],
        [("6", 20), ("x", 30), ("6,69", 60)],
        [("Gazole", 10), ("7,02", 200, "r")],
        [("2", 20), ("x", 30), ("3,51", 60)],
        [("TOTAL", 10), ("59,03", 210, "r")],
    ]  # fmt: skip
    table = read([slip(rows, conf=0.8)])
    assert triples(table) == [("1", "11.87", "11.87"), ("6", "6.69", "40.14"), ("2", "3.51", "7.02")]
    assert table.items[1].confidence <= 0.5


def test_a_scanned_slips_blurred_count_rows_and_tax_codes_glued_to_amounts_are_read() -> None:
    # OCR lost the decimal mark of a count row's price ("4 x. 1140"), read its marks as specks
    # ("2. x.11 15"), and glued the tax code to an amount ("53,59A").
    rows: list[list[Cell]] = [
        [("Kasse 3", 10)],
        [("Cappuccino", 10), ("45,60", 200, "r"), ("A", 210, "r")],
        [("4", 20), ("x.", 30), ("1140", 60)],
        [("Laugenbrezel", 10), ("22,30", 200, "r")],
        [("2.", 20), ("x.11", 30), ("15", 60)],
        [("Kaffee", 10), ("53,59A", 210, "r")],
        [("Wasser", 10), ("9,00", 200, "r")],
        [("3", 20), ("x", 30), ("2 99", 60)],
        [("Zu zahlen", 10), ("130,49", 210, "r")],
    ]  # fmt: skip
    table = read([slip(rows, conf=0.8)])
    assert triples(table) == [
        ("4", "11.40", "45.60"),
        ("2", "11.15", "22.30"),
        ("1", "53.59", "53.59"),
        ("1", "9.00", "9.00"),  # "2 99" are not the digits of 9,00 / 3: the count stays unread
    ]
    assert all(i.confidence <= 0.5 for i in table.items[:2])
    # On a born-digital slip nothing is guessed: the glued amount is no amount.
    assert read([slip(rows)]).items == []


def test_an_amount_that_sums_the_items_above_it_ends_the_table() -> None:
    # The total's label is in no vocabulary and starts where descriptions start.
    rows: list[list[Cell]] = [
        [("Description", 40), ("Qty", 300, "r"), ("Price", 400, "r"), ("Amount", 540, "r")],
        [("Hex bolts", 40), ("3", 300, "r"), ("2.50", 400, "r"), ("7.50", 540, "r")],
        [("Wall plugs", 40), ("10", 300, "r"), ("0.40", 400, "r"), ("4.00", 540, "r")],
        [("Zusammen", 40), ("11.50", 540, "r")],
        [("Kartenzahlung", 40), ("11.50", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("3", "2.50", "7.50"), ("10", "0.40", "4.00")]


def test_a_tilted_photo_is_read_along_the_slope_of_its_rows() -> None:
    # Five degrees of tilt: the amounts at the right end of a row stand more than a row lower
    # than its description, so rows grouped by height alone mix neighbouring items.
    rows: list[list[Cell]] = [
        [("Koffiebar Noord", 40)],
        [("Bon 0067", 10), ("21-07-2025", 200, "r")],
        [("1", 10), ("Broodje", 20), ("12,85", 160, "r"), ("12,85", 200, "r")],
        [("2", 10), ("Tape", 20), ("7,20", 160, "r"), ("14,40", 200, "r")],
        [("6", 10), ("Tosti", 20), ("11,52", 160, "r"), ("69,12", 200, "r")],
        [("3", 10), ("Broodje", 20), ("1,19", 160, "r"), ("3,57", 200, "r")],
        [("TOTAAL", 10), ("99,94", 200, "r")],
    ]  # fmt: skip
    level = slip(rows, conf=0.9)
    slope = 0.09
    tilted = [
        Line([Word(w.text, (w.x0, w.top + slope * w.x0, w.x1, w.bottom + slope * w.x0), w.confidence, w.size)
              for w in line.words])
        for line in level.lines
    ]  # fmt: skip
    table = read([Page(number=1, width=220, height=400, lines=tilted, source="ocr")])
    assert triples(table) == [
        ("1", "12.85", "12.85"),
        ("2", "7.20", "14.40"),
        ("6", "11.52", "69.12"),
        ("3", "1.19", "3.57"),
    ]
    assert [i.description for i in table.items] == ["Broodje", "Tape", "Tosti", "Broodje"]


def test_a_header_cell_no_vocabulary_names_takes_its_role_from_the_body() -> None:
    # The header is found by its known words; the cell between them that no vocabulary names
    # holds prose in every row: the descriptions.
    rows: list[list[Cell]] = [
        [("Pos", 30), ("Loremipsum", 60), ("Qty", 300, "r"), ("Price", 400, "r"), ("Amount", 540, "r")],
        [("1", 35, "r"), ("Hex bolts", 60), ("3", 300, "r"), ("2.50", 400, "r"), ("7.50", 540, "r")],
        [("2", 35, "r"), ("Wall plugs", 60), ("10", 300, "r"), ("0.40", 400, "r"), ("4.00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("3", "2.50", "7.50"), ("10", "0.40", "4.00")]
    assert [i.description for i in table.items] == ["Hex bolts", "Wall plugs"]


def test_descriptions_left_of_a_centred_header_belong_to_the_table() -> None:
    rows: list[list[Cell]] = [
        [("Description", 150), ("Qty", 360, "r"), ("Price", 440, "r"), ("Amount", 540, "r")],
        [("Toffee box 250g", 40), ("20", 360, "r"), ("4.55", 440, "r"), ("91.00", 540, "r")],
        [("Oat biscuits 300g", 40), ("15", 360, "r"), ("3.20", 440, "r"), ("48.00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("20", "4.55", "91.00"), ("15", "3.20", "48.00")]
    assert [i.description for i in table.items] == ["Toffee box 250g", "Oat biscuits 300g"]


def test_rows_over_the_first_that_multiplies_out_are_items_when_ocr_lost_their_count() -> None:
    # No header; OCR lost the counts of the first two rows. Their price and amount stand in the
    # columns the first whole row shows, so they are items, their count worked out.
    rows: list[list[Cell]] = [
        [("Ref 000497", 40), ("18/02/2024", 540, "r")],
        [("Newspaper", 60), ("10.86", 440, "r"), ("10.86", 540, "r")],
        [("Sandwich", 60), ("4.21", 440, "r"), ("8.42", 540, "r")],
        [("6", 45, "r"), ("Water 0.5l", 60), ("1.04", 440, "r"), ("6.24", 540, "r")],
        [("2", 45, "r"), ("Copy paper", 60), ("9.06", 440, "r"), ("18.12", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows, conf=0.85)])
    assert triples(table) == [
        ("1", "10.86", "10.86"),
        ("2", "4.21", "8.42"),
        ("6", "1.04", "6.24"),
        ("2", "9.06", "18.12"),
    ]
    assert [i.confidence <= 0.5 for i in table.items] == [True, True, False, False]


def test_a_till_count_row_with_the_times_sign_glued_to_the_price() -> None:
    rows: list[list[Cell]] = [
        [("Kassa 1", 10)],
        [("Pen", 10), ("6,99", 200, "r")],
        [("3", 20), ("×2,33", 30)],
        [("Krant", 10), ("12,07", 200, "r")],
        [("Totaal EUR", 10), ("19,06", 210, "r")],
    ]  # fmt: skip
    table = read([slip(rows, conf=0.9)])
    assert triples(table) == [("3", "2.33", "6.99"), ("1", "12.07", "12.07")]


def test_scanned_rows_split_by_a_small_box_and_numbers_without_decimal_marks() -> None:
    # OCR's box of a dash is a few pixels high: the row is split in two around it, the
    # quantity of the item left on the second part. The last row lost the decimal marks of
    # quantity and price (72,59 x 1,21 read "7259" and "121").
    rows: list[list[Cell]] = [
        [("Description", 40), ("Qty", 300, "r"), ("Price", 400, "r"), ("Amount", 540, "r")],
        [("Gloves", 40), ("0,99", 400, "r"), ("99,00", 540, "r")],
        [("Cable ties", 40), ("10", 300, "r"), ("0,05", 400, "r"), ("0,50", 540, "r")],
        [("LED panel XL", 40), ("7259", 300, "r"), ("121", 400, "r"), ("87,83", 540, "r")],
        [("Total HT", 300), ("187,33", 540, "r")],
    ]  # fmt: skip
    scan = page(rows, conf=0.9)
    gloves = scan.lines[1]
    gloves.words[1:1] = [
        Word("-", (100, 120.5, 104, 122.5), 0.9, 2.0),
        Word("size", (110, 118, 130, 128), 0.9, 10.0),
        Word("100", (285, 118, 300, 128), 0.9, 10.0),
    ]
    table = read([scan])
    assert triples(table) == [("100", "0.99", "99.00"), ("10", "0.05", "0.50"), ("72.59", "1.21", "87.83")]


def test_amounts_carried_over_a_page_break_under_labels_no_vocabulary_knows() -> None:
    header: list[Cell] = [("Description", 40), ("Qty", 300, "r"), ("Price", 400, "r"), ("Amount", 540, "r")]
    first: list[list[Cell]] = [
        header,
        [("Hex bolts", 40), ("3", 300, "r"), ("2.50", 400, "r"), ("7.50", 540, "r")],
        [("Wall plugs", 40), ("10", 300, "r"), ("0.40", 400, "r"), ("4.00", 540, "r")],
        [("Lorem ipsum", 40), ("11.50", 540, "r")],
    ]  # fmt: skip
    second: list[list[Cell]] = [
        header,
        [("Dolor sit", 40), ("11.50", 540, "r")],
        [("Drill 6 mm", 40), ("1", 300, "r"), ("7.00", 400, "r"), ("7.00", 540, "r")],
        [("Net total", 300), ("18.50", 540, "r")],
    ]  # fmt: skip
    table = read([page(first), page(second, number=2)])
    assert triples(table) == [("3", "2.50", "7.50"), ("10", "0.40", "4.00"), ("1", "7.00", "7.00")]


def test_items_go_on_past_a_reference_line_and_an_unreadable_row_under_it() -> None:
    rows: list[list[Cell]] = [
        [("Produit", 40), ("Qté", 330, "r"), ("P.U. HT", 440, "r"), ("Montant", 540, "r")],
        [("Cartouche de toner", 40), ("3", 330, "r"), ("149,59", 440, "r"), ("448,77", 540, "r")],
        [("Bon de livraison 571420 du 25-06-2024", 60)],
        [("Collier de serrage", 40), ("1boîte", 330, "r"), ("1221,66", 440, "r"), ("1221,66", 540, "r")],
        [("Frais de port", 40), ("6", 330, "r"), ("4,00", 440, "r"), ("24,00", 540, "r")],
        [("Total HT", 400), ("1694,43", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows, conf=0.9)])
    assert ("3", "149.59", "448.77") in triples(table)
    assert ("6", "4.00", "24.00") in triples(table)


@pytest.mark.parametrize(
    ("text", "rate"), [("5%", "5"), ("5°%", "5"), ("12,5 %", "12.5"), ("2,5%", "2.5"), ("5°", None)]
)
def test_a_percentage_is_read_past_an_ocr_speck_before_its_sign(text: str, rate: str | None) -> None:
    words = [Word(t, (0, 0, 10, 10)) for t in text.split()]
    assert percent(words, 0) == (Decimal(rate) if rate is not None else None)


_HOSE = [("Garden hose 20 m", 30), ("3", 300, "r"), ("5,00", 380, "r"), ("15,00", 480, "r")]
_REEL = [("Hose reel", 30), ("2", 300, "r"), ("12,00", 380, "r"), ("24,00", 480, "r")]
_HOSE_HEADER = [("Description", 30), ("Qty", 300, "r"), ("Price", 380, "r"), ("Amount", 480, "r")]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # "less 10 % discount -1,50" stands right of the descriptions like a totals line, but
        # more items follow it: it belongs to the item over it, whose unit price stays as printed.
        (
            [_HOSE_HEADER, _HOSE, [("less 10 % discount", 250), ("-1,50", 480, "r")], _REEL,
             [("Subtotal", 250), ("37,50", 480, "r")]],
            [("3", "5.00", "13.50"), ("2", "12.00", "24.00")],
        ),
        # The same line with no item after it is the totals block's: it ends the table.
        (
            [_HOSE_HEADER, _HOSE, _REEL, [("Carriage paid less", 250), ("-1,50", 480, "r")],
             [("Thank you for your order", 30)]],
            [("3", "5.00", "15.00"), ("2", "12.00", "24.00")],
        ),
    ],
)  # fmt: skip
def test_a_discount_printed_under_an_item_is_taken_off_it_when_items_follow(
    rows: list[list[Cell]], expected: list[tuple[str, str, str]]
) -> None:
    assert triples(read([page(rows)])) == expected


def test_a_count_to_three_decimals_is_read_as_a_count_where_the_row_multiplies_out() -> None:
    # "5,000 kg" at 5,50 is 27,50: with comma decimals, 5,000 is five, not five thousand.
    rows: list[list[Cell]] = [
        [("Artikel", 30), ("Menge", 300, "r"), ("Preis", 380, "r"), ("Betrag", 480, "r")],
        [("Kartoffeln", 30), ("5,000 kg", 300, "r"), ("5,50", 380, "r"), ("27,50", 480, "r")],
        [("Zwiebeln", 30), ("1,250 kg", 300, "r"), ("2,00", 380, "r"), ("2,50", 480, "r")],
        [("Kisten", 30), ("1,000", 300, "r"), ("0,50", 380, "r"), ("500,00", 480, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [
        ("5.000", "5.50", "27.50"),
        ("1.250", "2.00", "2.50"),
        ("1000", "0.50", "500.00"),
    ]
    spans = number_spans([word("1.250", 0, 0)])
    assert sorted(s.value for s in spans) == [Decimal("1.250"), Decimal(1250)]


def test_services_priced_whole_under_a_description_and_amount_header_are_one_each() -> None:
    rows: list[list[Cell]] = [
        [("Description", 30), ("Amount", 480, "r")],
        [("Logo redesign, fixed fee", 30), ("1,800.00", 480, "r")],
        [("two rounds of changes", 30)],
        [("Business cards layout", 30), ("200.00", 480, "r")],
        [("Subtotal", 300), ("2,000.00", 480, "r")],
        [("VAT 21%", 300), ("420.00", 480, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("1", "1800.00", "1800.00"), ("1", "200.00", "200.00")]
    assert [i.description for i in table.items] == ["Logo redesign, fixed fee two rounds of changes",
                                                    "Business cards layout"]  # fmt: skip


def test_a_description_and_amount_box_gives_way_to_a_table_that_names_counts_and_prices() -> None:
    rows: list[list[Cell]] = [
        [("Description", 30), ("Amount", 480, "r")],
        [("Deposit received", 30), ("-50,00", 480, "r")],
        [],
        [("Description", 30), ("Qty", 300, "r"), ("Price", 380, "r"), ("Amount", 480, "r")],
        [("Garden hose 20 m", 30), ("3", 300, "r"), ("5,00", 380, "r"), ("15,00", 480, "r")],
        [("Hose reel", 30), ("2", 300, "r"), ("12,00", 380, "r"), ("24,00", 480, "r")],
    ]  # fmt: skip
    assert triples(read([page([r for r in rows if r])])) == [("3", "5.00", "15.00"), ("2", "12.00", "24.00")]


# --- a list of priced rows without a header -------------------------------------------------------

PREMIUM_LIST: list[list[Cell]] = [
    [("Dear customer, your cover for the coming year:", 40)],
    [],
    [("Covered risks:", 40)],
    [("Home contents cover", 40), ("412,80 €", 480, "r")],
    [("- fire, storm and burglary", 50)],
    [("Bicycle theft, 2 bicycles", 40), ("36,00 €", 480, "r")],
    [("Glass breakage", 40), ("0,00 €", 480, "r")],
    [("Total premium", 40), ("448,80 €", 480, "r")],
    [("Insurance tax 19 %", 40), ("85,27 €", 480, "r")],
    [("Amount payable", 40), ("534,07 €", 480, "r")],
]  # fmt: skip


def test_rows_each_ending_in_an_amount_that_add_up_to_the_total_under_them_are_items() -> None:
    rows = PREMIUM_LIST
    table = read([page(rows)])
    assert triples(table) == [("1", "412.80", "412.80"), ("1", "36.00", "36.00"), ("1", "0.00", "0.00")]
    # A row without an amount under an item continues its description; the text over the
    # first priced row is no item.
    assert [i.description for i in table.items] == [
        "Home contents cover - fire, storm and burglary",
        "Bicycle theft, 2 bicycles",
        "Glass breakage",
    ]


def test_priced_rows_that_do_not_add_up_to_the_total_under_them_are_no_items() -> None:
    rows = [list(r) for r in PREMIUM_LIST]
    rows[6] = [("Glass breakage", 40), ("10,00 €", 480, "r")]  # 458,80 over a total of 448,80
    assert triples(read([page(rows)])) == []


def test_a_priced_row_whose_amount_ends_off_the_totals_column_breaks_the_list() -> None:
    rows = [list(r) for r in PREMIUM_LIST]
    # The same amounts, but the bicycle row's amount stands in another column: no plain list.
    rows[5] = [("Bicycle theft, 2 bicycles", 40), ("36,00 €", 380, "r")]
    assert triples(read([page(rows)])) == []


def test_a_row_naming_the_tax_is_no_item_of_a_list_even_where_the_amounts_add_up() -> None:
    rows: list[list[Cell]] = [
        [("Service fee, March", 40), ("100,00 €", 480, "r")],
        [("plus 19 % VAT", 40), ("19,00 €", 480, "r")],
        [("Total", 40), ("119,00 €", 480, "r")],
    ]  # fmt: skip
    assert triples(read([page(rows)])) == []


# --- Spanish, Italian and Dutch headers -----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        [("Descripción", 40), ("Cantidad", 300, "r"), ("Importe", 540, "r")],
        [("Descrizione", 40), ("Quantità", 300, "r"), ("Importo", 540, "r")],
        [("Omschrijving", 40), ("Aantal", 300, "r"), ("Bedrag", 540, "r")],
    ],
    ids=["es", "it", "nl"],
)  # fmt: skip
def test_spanish_italian_and_dutch_column_words_name_their_columns(header: list[Cell]) -> None:
    # Counts and amounts without unit prices: no row multiplies out, only the header tells
    # that these rows are items.
    rows: list[list[Cell]] = [
        header,
        [("Office cleaning, March", 40), ("1", 300, "r"), ("250,00", 540, "r")],
        [("Window cleaning", 40), ("2", 300, "r"), ("180,00", 540, "r")],
        [("Total", 380), ("430,00", 540, "r")],
    ]  # fmt: skip
    table = read([page(rows)])
    assert triples(table) == [("1", None, "250.00"), ("2", None, "180.00")]
    assert [i.description for i in table.items] == ["Office cleaning, March", "Window cleaning"]


def test_a_credit_notes_negative_amount_less_a_discount_is_an_item() -> None:
    rows: list[list[Cell]] = [
        [("Beschreibung", 40), ("Menge", 300, "r"), ("Netto-EP", 380, "r"), ("Rabatt", 440, "r"),
         ("Gesamtpreis", 540, "r")],
        [("Schrauben M8", 40), ("1", 300, "r"), ("6.75", 380, "r"), ("3 %", 440, "r"), ("-6.55", 540, "r")],
        [("Lieferschein 4711 vom 31.08.2024", 50)],
        [("Folie", 40), ("10", 300, "r"), ("90.00", 380, "r"), ("20 %", 440, "r"), ("-720.00", 540, "r")],
        [("Warenwert", 380), ("-726.55", 540, "r")],
    ]  # fmt: skip
    # The delivery note under the first item heads the items after it; they multiply out less
    # their discount, with the amount negative.
    assert triples(read([page(rows)])) == [("1", "6.75", "-6.55"), ("10", "90.00", "-720.00")]


def test_rows_set_right_of_the_margin_over_a_total_are_a_totals_block_not_a_list() -> None:
    rows: list[list[Cell]] = [
        [("Thank you for your order.", 40)],
        [],
        [("Articles", 300), ("100,00 €", 480, "r")],
        [("Levy 19", 300), ("19,00 €", 480, "r")],
        [("Total", 300), ("119,00 €", 480, "r")],
    ]  # fmt: skip
    assert triples(read([page(rows)])) == []


def test_of_two_amount_columns_the_one_count_times_price_makes_is_the_amount() -> None:
    # "Total price" and "Total price with tax": on a scan the first lost its decimal mark and
    # stands out right of its header, so the nearest number to an amount column was the gross.
    rows: list[list[Cell]] = [
        [("Description", 40), ("Units", 300, "r"), ("Price", 380, "r"), ("Total price", 470, "r"),
         ("Tax", 520, "r"), ("Total price with tax", 640, "r")],
        [("Window cleaning", 40), ("11", 300, "r"), ("13,35", 380, "r"), ("14685", 490, "r"),
         ("20%", 520, "r"), ("176,22", 640, "r")],
    ]  # fmt: skip
    table = read([page(rows, conf=0.9)])
    assert triples(table) == [("11", "13.35", "146.85")]


def test_a_discount_percentage_is_never_the_count_even_where_it_multiplies_out() -> None:
    # 25 x 3,85 less 20 % = 77,00, and 20 x 3,85 = 77,00 as well: "20 %" is the discount.
    rows: list[list[Cell]] = [
        [("Pos", 30), ("Qty", 90, "r"), ("Description", 120), ("Price", 400, "r"), ("Discount", 480, "r"),
         ("Amount", 560, "r")],
        [("1", 35, "r"), ("25", 90, "r"), ("Coffee beans", 120), ("3,85", 400, "r"), ("20 %", 480, "r"),
         ("77,00", 560, "r")],
        [("2", 35, "r"), ("2", 90, "r"), ("Filters", 120), ("4,00", 400, "r"), ("8,00", 560, "r")],
    ]  # fmt: skip
    assert triples(read([page(rows)])) == [("25", "3.85", "77.00"), ("2", "4.00", "8.00")]
