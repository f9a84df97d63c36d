"""Subtotal, tax and total from the totals block's arithmetic, whatever words stand beside the amounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from extractors.generic import GenericExtractor
from extractors.generic.candidates import Candidate
from extractors.generic.consistency import choose_totals, rate_sums
from extractors.generic.geometry import build_rows, mend_doubled_mark
from extractors.generic.labels import LabelMatch
from extractors.generic.ranking import shipped_scorer
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Line, Page, Word

CHAR = 5.0  # width of one character at the 10 pt the cells are set in
HEAD = [
    (40, 40, "Harbour Supplies Ltd"),
    (40, 120, "Invoice No."),
    (48, 135, "INV-2044"),
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
]


def _document(cells: Sequence[tuple[float, float, str]], size: float = 10.0) -> Document:
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


class KnowsOnlyLabels:
    """A ranker that knows label words and nothing else: every value a label names is likely,
    every other value unlikely. What a trained ranker gives a layout in words it never saw."""

    name = "labels-only"
    version = "1"

    def score(self, candidates: Sequence[Candidate]) -> list[float]:
        return [0.8 if c.label is not None else 0.05 for c in candidates]

    def score_all(self, cands: Mapping[str, Sequence[Candidate]]) -> None:
        for cs in cands.values():
            for c, s in zip(cs, self.score(cs), strict=True):
                c.score = s


# Label words no vocabulary of ours holds: only the arithmetic can say which amount is which.
UNKNOWN_WORDS = [(380, 375, "Grondslag"), (380, 390, "Heffing 20%"), (380, 405, "Eindsom")]


def test_every_amount_below_the_line_table_is_a_candidate_for_all_three_totals() -> None:
    document = _document(
        [
            *HEAD,
            *UNKNOWN_WORDS,
            (480, 375, "200.00"),
            (480, 390, "40.00"),
            (480, 405, "240.00"),
            (300, 420, "Cash 300.00"),
            (300, 435, "A 20% 200.00 40.00"),
        ]
    )
    cands = GenericExtractor().read_unscored(document).candidates

    def unlabelled(name: str, value: str) -> list[Candidate]:
        return [c for c in cands[name] if c.label is None and c.value == Decimal(value)]

    for name in ("subtotal", "tax_amount", "total"):
        for value in ("200.00", "40.00", "240.00"):
            assert any(c.features["totals_region"] == 1.0 for c in unlabelled(name, value)), (name, value)
        # A payment is a candidate too, marked by its label; a breakdown row's cells by their number.
        (cash,) = unlabelled(name, "300.00")
        assert cash.features["other_amount_label"] > 0.5
        assert {c.features["row_amounts"] for c in unlabelled(name, "40.00")} == {1.0, 2.0}
    # The line rows' own amounts stay the table's.
    assert not unlabelled("subtotal", "100.00")


def test_the_totals_are_read_from_their_arithmetic_when_no_label_word_is_known() -> None:
    document = _document(
        [*HEAD, *UNKNOWN_WORDS, (480, 375, "200.00"), (480, 390, "40.00"), (480, 405, "240.00")]
    )
    fields = GenericExtractor(KnowsOnlyLabels()).extract(document, DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("200.00"),
        Decimal("40.00"),
        Decimal("240.00"),
    )


def _amount(
    name: str,
    text: str,
    top: float,
    score: float = 0.05,
    label: str | None = None,
    x: float = 400.0,
    **features: float,
) -> Candidate:
    """A candidate at ``top`` on page 1; labelled by ``label`` (its kind = its field) when given."""
    value = Decimal(text)
    match = LabelMatch(name, label, 1.0, 0, 1) if label else None
    feats = {"totals_region": 1.0, **features} if match is None else dict(features)
    return Candidate(
        name, value, text, 1, (x, top, x + 40, top + 10), "right" if match else "layout", match, feats,
        score=score, label_text=label or "",
    )  # fmt: skip


Labelled = Mapping[str, tuple[str, float, str]]  # field -> (amount, top, label word)


def _block(
    amounts: Sequence[tuple[str, float]], labelled: Labelled | None = None, **features: float
) -> tuple[list[Candidate], list[Candidate], list[Candidate]]:
    """Every amount of a totals block as an unlabelled candidate of each field, plus labelled ones."""
    roles: tuple[list[Candidate], list[Candidate], list[Candidate]] = ([], [], [])
    for i, name in enumerate(("subtotal", "tax_amount", "total")):
        roles[i].extend(_amount(name, text, top, **features) for text, top in amounts)
        if labelled and name in labelled:
            text, top, label = labelled[name]
            roles[i].append(_amount(name, text, top, 0.8, label))
    return roles


def _values(chosen: Mapping[str, object]) -> tuple[object, ...]:
    out = []
    for name in ("subtotal", "tax_amount", "total"):
        cand = getattr(chosen[name], "candidate", None)
        out.append(None if cand is None else cand.value)
    return tuple(out)


def test_the_larger_part_of_the_sum_is_the_net_amount_and_the_smaller_the_tax() -> None:
    chosen = choose_totals(*_block([("66.98", 100), ("318.94", 115), ("385.92", 130)]), None)
    assert _values(chosen) == (Decimal("318.94"), Decimal("66.98"), Decimal("385.92"))
    # Three amounts that add up are far likelier the totals than any one amount alone.
    assert chosen["total"].confidence > 0.9


def test_the_agreeing_amounts_are_found_among_many() -> None:
    noise = [(f"{n}.{n:02d}", 20.0 + n) for n in range(11, 40)]
    amounts = [*noise, ("2420.84", 300), ("532.58", 315), ("2953.42", 330)]
    chosen = choose_totals(*_block(amounts), Decimal("2420.84"))
    assert _values(chosen) == (Decimal("2420.84"), Decimal("532.58"), Decimal("2953.42"))


def test_the_lines_make_the_first_of_the_net_rows_summed_with_the_tax_rows() -> None:
    # "Goods net 200.00 / Shipping net 5.00 / VAT on 200.00 38.00 / VAT on 5.00 0.95 / Total
    # 243.95" under lines that add up to 200.00, the shipping's rows surely labelled less: the
    # goods alone agree with the lines, but only the two sums add up to the total.
    s = [_amount("subtotal", "200.00", 400, 0.3, "net"), _amount("subtotal", "5.00", 412, 0.1, "net")]
    t = [_amount("tax_amount", "38.00", 424, 0.19, "tax"), _amount("tax_amount", "0.95", 436, 0.05, "tax")]
    g = [_amount("total", "243.95", 448, 0.5, "total")]
    assert _values(choose_totals(s, t, g, Decimal("200.00"))) == (
        Decimal("205.00"),
        Decimal("38.95"),
        Decimal("243.95"),
    )


def test_cash_tendered_and_change_given_are_no_subtotal_tax_and_total() -> None:
    # Total 92.80 paid with 100.00, 7.20 back: 92.80 + 7.20 = 100.00 adds up like net + tax = total.
    s, t, g = _block([("92.80", 100)], {"total": ("92.80", 100, "Total")})
    for role in (s, t, g):
        role.append(_amount(role[0].field, "100.00", 115, other_amount_label=0.9))
        role.append(_amount(role[0].field, "7.20", 130, other_amount_label=0.9))
    assert _values(choose_totals(s, t, g, None)) == (None, None, Decimal("92.80"))


def test_a_payment_whose_change_has_lost_its_label_is_no_total_either() -> None:
    # The change's label stood apart from it and was not read: the cash's label still tells.
    s, t, g = _block([("99.00", 100), ("1.00", 130)], {"total": ("99.00", 100, "Total")})
    for role in (s, t, g):
        role.append(_amount(role[0].field, "100.00", 115, other_amount_label=0.9))
    assert _values(choose_totals(s, t, g, None))[2] == Decimal("99.00")


def test_the_rounded_total_is_the_payable_one() -> None:
    amounts = [("60.31", 100), ("-0.01", 115), ("60.30", 130)]
    s, t, g = _block(amounts, {"total": ("60.31", 100, "Total")})
    assert _values(choose_totals(s, t, g, None))[2] == Decimal("60.30")
    # Without the adjustment printed, a nearby amount is no rounding of the total.
    s, t, g = _block([("60.31", 100), ("60.30", 130)], {"total": ("60.31", 100, "Total")})
    assert _values(choose_totals(s, t, g, None))[2] == Decimal("60.31")


def test_the_document_totals_win_over_one_row_of_the_rate_breakdown() -> None:
    # "A 21% 78,75 16,54 95,29" adds up too; the document's own amounts stand alone in their rows.
    breakdown = [
        _amount(name, text, 200, x=x, row_amounts=3.0)
        for name in ("subtotal", "tax_amount", "total")
        for text, x in (("78.75", 300), ("16.54", 350), ("95.29", 400))
    ]
    s, t, g = _block([("91.58", 240), ("17.82", 255), ("109.40", 100)], {"total": ("109.40", 100, "Total")})
    s += [c for c in breakdown if c.field == "subtotal"]
    t += [c for c in breakdown if c.field == "tax_amount"]
    g += [c for c in breakdown if c.field == "total"]
    assert _values(choose_totals(s, t, g, None)) == (Decimal("91.58"), Decimal("17.82"), Decimal("109.40"))


def test_a_printed_zero_tax_is_the_tax_when_net_and_total_are_equal() -> None:
    s, t, g = _block(
        [("0.00", 115)], {"subtotal": ("11732.53", 100, "Net"), "total": ("11732.53", 130, "Total")}
    )
    assert _values(choose_totals(s, t, g, None)) == (
        Decimal("11732.53"),
        Decimal("0.00"),
        Decimal("11732.53"),
    )


def test_a_credit_notes_negative_totals_add_up() -> None:
    chosen = choose_totals(*_block([("-1898.97", 100), ("-366.85", 115), ("-2265.82", 130)]), None)
    assert _values(chosen) == (Decimal("-1898.97"), Decimal("-366.85"), Decimal("-2265.82"))


@pytest.mark.parametrize("tax", ["138.81", "1388.10"])
def test_a_tax_as_large_as_the_total_is_no_tax(tax: str) -> None:
    s, t, g = _block([], {"tax_amount": (tax, 115, "Tax"), "total": ("138.81", 130, "Total")})
    assert _values(choose_totals(s, t, g, None))[1] is None


def test_a_line_rows_own_amount_does_not_confirm_itself_as_the_subtotal() -> None:
    # One line read, its amount 0.60; the totals block says 50.60 + 11.02 = 61.62.
    item = _amount("subtotal", "0.60", 50, score=0.3)
    s, t, g = _block([("50.60", 100), ("11.02", 115), ("61.62", 130)])
    chosen = choose_totals([*s, item], t, g, Decimal("0.60"), line_boxes=[(1, (40.0, 45.0, 500.0, 65.0))])
    assert _values(chosen) == (Decimal("50.60"), Decimal("11.02"), Decimal("61.62"))


def test_a_breakdown_column_of_one_rate_and_its_sum_row_is_not_added_up() -> None:
    # "SR 6% 78.30 4.70 83.00" over "TOTAL 78.30 4.70 83.00": two rows, the second the sum.
    label = LabelMatch("total", "total", 1.0, 0, 1)
    column = [
        Candidate("total", Decimal("83.00"), "83.00", 1, (400, top, 440, top + 10), "below", label, score=0.6)
        for top in (200.0, 215.0)
    ]
    assert rate_sums(column) == []


LABELLED_BLOCK = {
    "subtotal": ("1284.56", 100, "Subtotal"),
    "tax_amount": ("246.54", 115, "VAT"),
    "total": ("1481.10", 130, "Total"),
}


def test_a_subtotal_one_ocr_digit_slip_from_total_minus_tax_is_put_back_on_a_scan() -> None:
    # Printed 1234.56 + 246.54 = 1481.10; OCR read the 3 of the subtotal as an 8.
    s, t, g = _block([], LABELLED_BLOCK)
    chosen = choose_totals(s, t, g, None, scanned={1})
    assert _values(chosen) == (Decimal("1234.56"), Decimal("246.54"), Decimal("1481.10"))
    subtotal = chosen["subtotal"].candidate
    assert subtotal is not None and subtotal.features.get("digit_repaired") == 1.0
    assert subtotal.text == "1284.56"  # what was printed, for the lineage and the reviewer


def test_no_digit_is_put_back_on_a_born_digital_page_or_when_the_slip_is_no_look_alike() -> None:
    s, t, g = _block([], LABELLED_BLOCK)
    assert _values(choose_totals(s, t, g, None))[0] == Decimal("1284.56")
    s, t, g = _block([], {**LABELLED_BLOCK, "subtotal": ("1224.56", 100, "Subtotal")})  # 3 -> 2
    assert _values(choose_totals(s, t, g, None, scanned={1}))[0] == Decimal("1224.56")


def test_no_digit_is_put_back_when_two_amounts_could_have_slipped() -> None:
    # 1500.00 + 300.00 is not 1900.00: the subtotal may be a 1600.00 with its 6 read as a 5, or
    # the total an 1800.00 with its 8 read as a 9. The arithmetic does not pin which one.
    block = {
        "subtotal": ("1500.00", 100, "Subtotal"),
        "tax_amount": ("300.00", 115, "VAT"),
        "total": ("1900.00", 130, "Total"),
    }
    s, t, g = _block([], block)
    chosen = choose_totals(s, t, g, None, scanned={1})
    subtotal, _, total = _values(chosen)
    assert (subtotal, total) == (Decimal("1500.00"), Decimal("1900.00"))
    assert not any(c.candidate.features.get("digit_repaired") for c in chosen.values() if c.candidate)


def test_a_minus_a_scan_lost_on_a_credit_notes_labelled_amount_is_put_back() -> None:
    # Printed -200.00 + -40.00 = -240.00; the tax's thin minus did not survive the scan.
    block = {
        "subtotal": ("-200.00", 100, "Net"),
        "tax_amount": ("40.00", 115, "VAT"),
        "total": ("-240.00", 130, "Total"),
    }
    s, t, g = _block([], block)
    chosen = choose_totals(s, t, g, None, scanned={1})
    assert _values(chosen) == (Decimal("-200.00"), Decimal("-40.00"), Decimal("-240.00"))
    tax = chosen["tax_amount"].candidate
    assert tax is not None and tax.features.get("sign_repaired") == 1.0 and tax.text == "40.00"
    # On a born-digital page a sign is printed as it is meant: nothing is turned.
    s, t, g = _block([], block)
    assert _values(choose_totals(s, t, g, None))[1] != Decimal("-40.00")


def test_a_repaired_amount_is_named_in_the_lineage_and_routed_to_review() -> None:
    # No line table: only the totals block's own arithmetic can tell which amount slipped.
    cells = [*HEAD[:4], (380, 375, "Subtotal"), (480, 375, "280.00"), (380, 390, "VAT 20%"),
             (480, 390, "40.00"), (380, 405, "Total"), (480, 405, "240.00")]  # fmt: skip
    document = _document(cells)
    document.pages[0].source = "ocr"
    result = GenericExtractor(KnowsOnlyLabels()).extract(document, DocType.INVOICE)
    assert result.fields.subtotal == Decimal("200.00")
    assert "'280.00'" in result.lineage["subtotal"]
    assert result.field_confidence["subtotal"] <= 0.5
    document.pages[0].source = "digital"
    assert "subtotal" not in GenericExtractor(KnowsOnlyLabels()).extract(document, DocType.INVOICE).lineage


def test_the_total_is_what_was_tendered_less_the_change() -> None:
    # A till slip: the amount paid is 50.00 tendered less 3.75 back; a larger amount no label
    # names (a loyalty balance) would otherwise pass for the total, as the largest of the block.
    s, t, g = _block([("46.25", 100), ("120.00", 160)])
    paid = [
        _amount(name, text, top, other_amount_label=0.9)
        for name in ("subtotal", "tax_amount", "total")
        for text, top in (("50.00", 115), ("3.75", 130))
    ]
    assert _values(choose_totals(s, t, g, None))[2] == Decimal("120.00")
    with_payment = (
        [*s, *paid[:2]],
        [*t, *paid[2:4]],
        [*g, *paid[4:]],
    )
    assert _values(choose_totals(*with_payment, None))[2] == Decimal("46.25")


def _vendor_names(cells: Sequence[tuple[float, float, str]], ocr: bool) -> set[str]:
    document = _document(cells)
    document.pages[0].source = "ocr" if ocr else "digital"
    return {c.value for c in GenericExtractor().read_unscored(document).candidates["vendor_name"]}


TILL_HEAD = [
    (200, 20, "kim lee"),  # written on the slip by whoever kept it
    (180, 60, "BRIGHTWATER HARDWARE &"),
    (220, 74, "PAINTS"),
    (190, 100, "12 Quarry Road"),
]


def test_a_till_slips_written_note_and_a_name_cut_at_its_ampersand_are_no_vendor_names() -> None:
    scanned = _vendor_names(TILL_HEAD, ocr=True)
    assert "BRIGHTWATER HARDWARE & PAINTS" in scanned
    assert "kim lee" not in scanned
    assert "BRIGHTWATER HARDWARE &" not in scanned
    # Born-digital text has no handwriting: a lower-case name set in type stays a candidate.
    assert "kim lee" in _vendor_names(TILL_HEAD, ocr=False)


def test_the_amount_paid_is_tried_as_the_total_however_low_its_score() -> None:
    # More better-scored amounts than the search tries per field (a till's count row, items):
    # the one that tendered less change confirms is still weighed.
    s, t, g = _block([("46.25", 100)])
    g += [
        _amount("total", text, 20 + i, score=0.3)
        for i, text in enumerate(("12.00", "4.00", "9.99", "61.00", "7.50"))
    ]
    g += [
        _amount("total", text, top, other_amount_label=0.9) for text, top in (("50.00", 115), ("3.75", 130))
    ]
    assert _values(choose_totals(s, t, g, None))[2] == Decimal("46.25")
    assert _values(choose_totals(s, t, g[:-2], None))[2] != Decimal("46.25")


def test_a_decimal_mark_ocr_read_twice_is_read_once_on_scans_only() -> None:
    words = [Word("BALANCE", (10.0, 10.0, 60.0, 20.0)), Word("148..20", (150.0, 10.0, 190.0, 20.0))]
    scanned = Page(1, 220.0, 400.0, [Line(words)], source="ocr")
    digital = Page(1, 220.0, 400.0, [Line(words)])
    assert [w.text for w in build_rows(scanned)[0].words] == ["BALANCE", "148.20"]
    assert [w.text for w in build_rows(digital)[0].words] == ["BALANCE", "148..20"]
    assert mend_doubled_mark(Word("1..2", (0.0, 0.0, 1.0, 1.0))).text == "1..2"


@pytest.mark.parametrize(("read", "mended"), [("O,00", "0,00"), ("CHFO.00", "CHF0.00"), ("€-O,00", "€-0,00")])
def test_a_zero_amount_read_with_the_letter_o_is_a_zero_on_scans_only(read: str, mended: str) -> None:
    words = [Word("VAT", (10.0, 10.0, 60.0, 20.0)), Word(read, (150.0, 10.0, 190.0, 20.0))]
    scanned = Page(1, 220.0, 400.0, [Line(words)], source="ocr")
    digital = Page(1, 220.0, 400.0, [Line(words)])
    assert [w.text for w in build_rows(scanned)[0].words] == ["VAT", mended]
    assert [w.text for w in build_rows(digital)[0].words] == ["VAT", read]
    # A code or a word with an O in it stays as read.
    for text in ("PO.00", "O.5", "SO,00", "O,00€x"):
        assert mend_doubled_mark(Word(text, (0.0, 0.0, 1.0, 1.0))).text == text


def test_net_rows_that_do_not_add_up_with_the_tax_to_the_total_are_not_summed() -> None:
    cells = [*HEAD, (300, 375, "Subtotal net"), (480, 375, "200.00"), (300, 390, "Net after discount"),
             (480, 390, "180.00"), (300, 405, "VAT 20%"), (480, 405, "36.00"), (300, 420, "Total"),
             (480, 420, "216.00")]  # fmt: skip
    fields = GenericExtractor(KnowsOnlyLabels()).extract(_document(cells), DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("180.00"),
        Decimal("36.00"),
        Decimal("216.00"),
    )


def _right(x: float, top: float, text: str) -> tuple[float, float, str]:
    """A cell set flush right at ``x``, as a column of figures is."""
    return (x - CHAR * len(text), top, text)


_NET_ROWS = [
    # Goods 200.00 and shipping 5.00, each net and taxed on its own row: the net amount is their
    # sum, as the tax is the sum of the two tax rows (205.00 + 38.95 = 243.95).
    ("Goods net", "200.00"), ("Shipping net", "5.00"), ("VAT 19% on 200.00", "38.00"),
    ("VAT 19% on 5.00", "0.95"), ("Total", "243.95"),
]  # fmt: skip
_SHIPPING = [
    # 200.00 goods + 10.00 shipping = 210.00 net; 20 % of it is 42.00; 252.00 in all.
    ("Subtotal", "200.00"), ("Shipping", "10.00"), ("VAT 20%", "42.00"), ("Total", "252.00"),
]  # fmt: skip
_SHIPPING_TAX_ROW = [
    # "Versandkosten MwSt. 19 % 1,90" names the shipping's tax: added to the goods' tax, never
    # to the net amount (210,00 net; 38,00 + 1,90 = 39,90 tax; 249,90 in all).
    ("Zwischensumme", "200,00"), ("Versandkosten", "10,00"), ("MwSt. 19 %", "38,00"),
    ("Versandkosten MwSt. 19 %", "1,90"), ("Gesamtbetrag", "249,90"),
]  # fmt: skip


@pytest.mark.parametrize("scorer", [KnowsOnlyLabels(), None])
@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (_NET_ROWS, ("205.00", "38.95", "243.95")),
        (_SHIPPING, ("210.00", "42.00", "252.00")),
        (_SHIPPING_TAX_ROW, ("210.00", "39.90", "249.90")),
    ],
)
def test_the_net_amount_adds_the_charges_and_net_rows_printed_under_the_goods(
    block: list[tuple[str, str]], expected: tuple[str, str, str], scorer: KnowsOnlyLabels | None
) -> None:
    cells = [cell for i, (label, amount) in enumerate(block)
             for cell in ((300, 375 + 15 * i, label), _right(510, 375 + 15 * i, amount))]  # fmt: skip
    extractor = GenericExtractor(scorer if scorer is not None else shipped_scorer())
    fields = extractor.extract(_document([*HEAD, *cells]), DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == tuple(Decimal(v) for v in expected)


def test_a_charge_is_neither_the_tax_nor_what_total_less_subtotal_leaves() -> None:
    # Prices with tax included: 200.00 + 10.00 shipping = 210.00. The shipping adds up as a
    # "tax" would, and is none.
    cells = [*HEAD, (300, 375, "Subtotal"), _right(510, 375, "200.00"), (300, 390, "Shipping"),
             _right(510, 390, "10.00"), (300, 405, "Total"), _right(510, 405, "210.00")]  # fmt: skip
    for scorer in (KnowsOnlyLabels(), None):
        extractor = GenericExtractor(scorer if scorer is not None else shipped_scorer())
        fields = extractor.extract(_document(cells), DocType.INVOICE).fields
        assert fields.total == Decimal("210.00")
        assert fields.tax_amount != Decimal("10.00")


@pytest.mark.parametrize(
    "labels",
    [
        ("Zwischensumme (Netto):", "Gesamtrabatt:", "Gesamtbetrag (Netto):", "Umsatzsteuer 7 %:",
         "Umsatzsteuer 19 %:", "Umsatzsteuer gesamt:", "Gesamtbetrag (Brutto):", "Zahlbetrag:"),
        ("Subtotal (net):", "Total discount:", "Total (net):", "VAT 7 %:", "VAT 19 %:", "VAT total:",
         "Total (gross):", "Amount due:"),
    ],
)  # fmt: skip
def test_a_discount_on_the_whole_invoice_leaves_the_net_amount_it_reduces(labels: tuple[str, ...]) -> None:
    # The lines make 200.00 and the discount takes 10.00 off: 190.00 net (30.00 at 7 %, 160.00
    # at 19 %), 32.50 tax, 222.50 due. The lines add up to the goods' sum above the discount;
    # the net amount the tax is charged on is below it.
    amounts = ("200.00", "-10.00", "190.00", "2.10", "30.40", "32.50", "222.50", "222.50")
    cells = [cell for i, (label, amount) in enumerate(zip(labels, amounts, strict=True))
             for cell in ((300, 375 + 15 * i, label), _right(510, 375 + 15 * i, amount))]  # fmt: skip
    fields = GenericExtractor(shipped_scorer()).extract(_document([*HEAD, *cells]), DocType.INVOICE).fields
    assert (fields.subtotal, fields.tax_amount, fields.total) == (
        Decimal("190.00"),
        Decimal("32.50"),
        Decimal("222.50"),
    )


def test_no_tax_printed_and_the_net_amount_due_make_a_tax_of_zero() -> None:
    # A small business charges no VAT: "Zwischensumme 200,00 / Gesamtbetrag 200,00" and a note.
    note = (40, 430, "No VAT is charged under the small business scheme.")
    cells = [*HEAD, (300, 375, "Subtotal"), _right(510, 375, "200.00"), (300, 390, "Amount due"),
             _right(510, 390, "200.00"), note]  # fmt: skip
    result = GenericExtractor(shipped_scorer()).extract(_document(cells), DocType.INVOICE)
    assert (result.fields.subtotal, result.fields.tax_amount, result.fields.total) == (
        Decimal("200.00"),
        Decimal("0.00"),
        Decimal("200.00"),
    )
    assert "tax_amount" not in result.field_boxes  # worked out, printed nowhere
    # Where the total is larger, the missing tax is no zero.
    cells[-2] = _right(510, 390, "238.00")
    fields = GenericExtractor(shipped_scorer()).extract(_document(cells), DocType.INVOICE).fields
    assert fields.tax_amount != Decimal("0.00")
