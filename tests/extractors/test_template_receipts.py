"""One-shot learning on photographed shop receipts (invented shops, OCR'd pages built by hand).

A shop's next receipt has other items (its totals move down the page), OCR slips in the shop's
name and in labels, another scale, and may print its date as eight bare digits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

from extractors.templates.anchors import label_weight
from extractors.templates.engine import TemplateExtractor
from extractors.templates.learn import learn_template, parse_truth
from extractors.templates.locate import DocumentView, compact_date_orders, find_compact_dates, ocr_digits
from extractors.templates.witness import one_digit_apart
from ledgerbot.core.domain import DocType, ExtractionResult
from textlayer.model import Document, Line, Page, Word

SHOP = "Quillon Harbour Hardware Ltd"


def _receipt(rows: list[str], scale: float = 1.0, name: str = "r.jpg", source: str = "ocr") -> Document:
    """An OCR'd receipt (or a born-digital one): one line per row, words left to right, 12 px
    per character."""
    lines = []
    for r, text in enumerate(rows):
        x, top = 40.0 * scale, (60.0 + 34.0 * r) * scale
        words = []
        for word in text.split():
            if word == "|":  # a wide gap: the next word stands in the right-hand column
                x = 420.0 * scale
                continue
            width = 12.0 * len(word) * scale
            words.append(Word(word, (x, top, x + width, top + 22.0 * scale), 0.9))
            x += width + 10.0 * scale
        lines.append(Line(words))
    height = (60.0 + 34.0 * len(rows) + 80.0) * scale
    page = Page(1, 620.0 * scale, height, lines, unit="px", source=source)  # type: ignore[arg-type]
    return Document([page], source=name)


def _rows(
    shop: str, day: str, items: list[tuple[str, str]], total: str, cash: str, slip: bool = False
) -> list[str]:
    rows = [shop, "No 12 Jalan Contoh 4", "Tel 03-5550 1234", f"Date : {day} | Time 10:15"]
    rows.append("Item | Amount")
    for description, amount in items:
        rows += [f"{description} | SR {amount}"]
    rows += [
        f"{'Tota1' if slip else 'Total'} Sum Payable : | {total}",
        f"Tendered : | {cash}",
        f"Change : | {Decimal(cash) - Decimal(total)}",
        "Goods sold are not returnable",
        "Thank you",
    ]
    return rows


def _learn(tmp_path: Path, document: Document, truth: dict[str, str]) -> Path:
    sample = tmp_path / document.source
    sample.write_bytes(document.source.encode())
    folder = tmp_path / "templates"
    outcome = learn_template(sample, parse_truth({"fields": truth}, sample.name), folder, document=document)
    assert outcome.sample_reads_back, outcome.mismatches
    return folder


def _read(folder: Path, document: Document) -> ExtractionResult | None:
    return TemplateExtractor.load(folder / "none", [folder]).extract(document, DocType.INVOICE)


def test_second_receipt_with_more_items_slips_and_another_scale_is_read_by_the_template(
    tmp_path: Path,
) -> None:
    first = _receipt(_rows(SHOP, "03/04/2019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    items = [("Wood screws", "4.20"), ("Hinge pair", "9.90"), ("Sandpaper", "3.10"), ("Bolt cutter", "21.00")]
    second = _receipt(
        _rows("Quillon Harbour Hardwarc Ltd", "17/05/2019", items, "38.20", "50.00", slip=True),
        scale=1.3,
        name="r2.jpg",
    )
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.vendor_name == SHOP  # the name as the clerk gave it, not the OCR slip
    assert result.fields.invoice_date == date(2019, 5, 17)
    assert result.fields.total == Decimal("38.20")  # not the cash paid, not an item's amount


def test_receipt_of_another_shop_on_the_same_till_layout_is_not_read_by_the_template(tmp_path: Path) -> None:
    first = _receipt(_rows(SHOP, "03/04/2019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    other = _receipt(
        _rows("Meridian Paint Supplies Ltd", "17/05/2019", [("Brush", "5.00")], "5.00", "5.00"),
        name="r3.jpg",
    )
    assert _read(folder, other) is None


def test_a_date_printed_as_eight_digits_is_learned_in_its_order_and_read_again(tmp_path: Path) -> None:
    first = _receipt(_rows(SHOP, "03042019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    second = _receipt(_rows(SHOP, "17052019", [("Hinge pair", "9.90")], "9.90", "10.00"), name="r2.jpg")
    result = _read(folder, second)
    assert result is not None
    assert result.fields.invoice_date == date(2019, 5, 17)


def test_eight_digits_read_as_a_date_only_in_a_plausible_year() -> None:
    assert compact_date_orders("03042019", date(2019, 4, 3)) == ["DMY"]
    assert compact_date_orders("20190403", date(2019, 4, 3)) == ["YMD"]
    assert compact_date_orders("03042019", date(2019, 3, 4)) == ["MDY"]
    assert find_compact_dates("Order 12345678 on 03042019", "DMY") == [((18, 26), date(2019, 4, 3))]
    assert find_compact_dates("Ref 1.03042019", "DMY") == []


def test_a_shop_name_printed_over_two_rows_is_learned_whole_and_found_again(tmp_path: Path) -> None:
    def two_rows(day: str, items: list[tuple[str, str]], total: str, head: str) -> list[str]:
        rows = _rows(SHOP, day, items, total, total)
        return [head, "Trading Ltd", *rows[1:]]

    first = _receipt(two_rows("03/04/2019", [("Hex key set", "12.50")], "12.50", "Quillon Harbour Hardware"))
    shop = "Quillon Harbour Hardware Trading Ltd"
    folder = _learn(tmp_path, first, {"vendor_name": shop, "invoice_date": "2019-04-03", "total": "12.50"})
    template = next(folder.glob("*.yml")).read_text()
    assert "- Quillon Harbour Hardware\n" not in template  # the upper row alone is no name
    second = _receipt(
        two_rows(
            "17/05/2019", [("Hinge pair", "9.90"), ("Sandpaper", "3.10")], "13.00", "Quilion Harbour Hardware"
        ),
        name="r2.jpg",
    )
    result = _read(folder, second)
    assert result is not None and result.fields.vendor_name == shop
    assert result.fields.total == Decimal("13.00")


def test_a_total_is_learned_where_it_is_printed_as_money_not_where_the_same_number_is_bare(
    tmp_path: Path,
) -> None:
    def rows(total: str) -> list[str]:
        # The shop's address has a house number equal to the first receipt's total, and the
        # total's label is a word no label list knows: neither place is named.
        return [SHOP, "No 7 Example Street", "Date : 03/04/2019", f"Widget | {total}", f"Bill Sum | {total}"]

    first = _receipt(rows("7.00"), name="r1.pdf", source="digital")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "7.00"})
    rules = yaml.safe_load(next(folder.glob("*.yml")).read_text())["fields"]
    total = next(rule for rule in rules if rule["name"] == "total")
    assert all(anchor.get("label") != "No" for anchor in total["anchors"])
    second = _receipt(rows("12.40"), name="r2.pdf", source="digital")
    result = _read(folder, second)
    assert result is not None and result.fields.total == Decimal("12.40")


def test_label_weight_reads_ocr_slips_asides_glued_words_and_included_tax() -> None:
    assert label_weight("total", "Total Amt Payabie") == 1.0  # "Payabie": an OCR slip
    assert label_weight("total", "Total (EUR)") == 1.0  # an aside after the label
    assert label_weight("total", "TotalDue") == 1.0  # a lost space
    assert label_weight("total", "Total Amt lncl. GST") == 1.0  # the tax is included: the gross
    assert label_weight("tax_amount", "Total incl. VAT") == -1.0
    assert label_weight("total", "Sub Total (EUR)") == -1.0  # the longer label names the subtotal
    assert label_weight("subtotal", "Sub Total") == 1.0
    assert label_weight("total", "Cash") == -1.0  # the amount tendered, no field
    assert label_weight("invoice_date", "Date") == 1.0
    assert label_weight("total", "Bill Sum") == 0.0


def test_a_label_ocr_glued_on_one_receipt_and_split_on_the_next_is_found_whole() -> None:
    document = _receipt(["Total EUR Including VAT 10% | 38.20", "Rounding | 0.00"])
    view = DocumentView(document)
    found = view.find_phrase("TotalEUR Including VAT")
    assert [(p.row, p.start, p.end) for p in found] == [(0, 0, 4)]


def test_a_receipt_read_with_a_total_label_ocr_glued_when_learned(tmp_path: Path) -> None:
    def rows(total: str, label: str) -> list[str]:
        return [SHOP, "Date : 03/04/2019", "Widget | " + total, f"{label} 10% | {total}", "Rounding | 0.00"]

    first = _receipt(rows("12.50", "TotalEUR Including VAT"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    second = _receipt(rows("38.20", "Total EUR Including VAT"), name="r2.jpg")
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.total == Decimal("38.20")
    assert "total" not in str(result.lineage.get("template_fallback"))


def test_a_shop_name_whose_words_ocr_glued_on_the_next_receipt_still_finds_its_template(
    tmp_path: Path,
) -> None:
    first = _receipt(_rows(SHOP, "03/04/2019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    second = _receipt(
        _rows("QuillonHarbour HardwareLtd", "17/05/2019", [("Hinge pair", "9.90")], "9.90", "10.00"),
        name="r2.jpg",
    )
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.vendor_name == SHOP


def test_a_receipt_whose_printed_words_ocr_glued_still_shows_its_layout(tmp_path: Path) -> None:
    first = _receipt(_rows(SHOP, "03/04/2019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})

    def glue(row: str) -> str:
        # A blurred photo: OCR loses the spaces between the words of each printed phrase.
        return " | ".join("".join(part.split()) if SHOP not in part else part for part in row.split(" | "))

    rows = _rows(SHOP, "17/05/2019", [("Hinge pair", "9.90")], "9.90", "10.00")
    second = _receipt([rows[0], *(glue(row) for row in rows[1:])], name="r2.jpg")
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.vendor_name == SHOP


def _letterhead(shop: str, day: str, total: str) -> list[str]:
    rows = _rows(shop, day, [("Hinge pair", total)], total, total)
    return [rows[0], "(734519-K)", *rows[1:]]


def test_a_shop_whose_name_ocr_cannot_read_is_known_by_its_letterhead_numbers(tmp_path: Path) -> None:
    first = _receipt(_letterhead(SHOP, "03/04/2019", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    match = yaml.safe_load(next(folder.glob("*.yml")).read_text())["match"]
    assert match["numbers"] == ["734519", "0355501234"]  # the registration and the telephone
    # Every longer word of the name slipped: the name alone no longer finds the template.
    second = _receipt(_letterhead("Qui11on Hcrbour Hardwcre", "17/05/2019", "9.90"), name="r2.jpg")
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.lineage["template_match"] == "numbers"
    assert result.fields.vendor_name == SHOP
    assert result.fields.total == Decimal("9.90")


def test_another_vendor_quoting_a_shops_letterhead_numbers_is_not_read_by_its_template(
    tmp_path: Path,
) -> None:
    first = _receipt(_letterhead(SHOP, "03/04/2019", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    # A supplier's statement quoting the shop's numbers prints a name of its own.
    other = _receipt(
        ["Meridian Paint Supplies", "Customer (734519-K)", "Phone 03-5550 1234", "Balance | 80.00"]
    )
    assert _read(folder, other) is None


def test_a_date_and_a_total_with_letters_ocr_read_for_digits_are_learned_and_read(tmp_path: Path) -> None:
    # The sample's date comes out "O3/04/2019" (a letter O), the next receipt's total "9.9O".
    first = _receipt(_rows(SHOP, "O3/04/2019", [("Hex key set", "12.50")], "12.50", "12.50"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "12.50"})
    rules = yaml.safe_load(next(folder.glob("*.yml")).read_text())["fields"]
    date_rule = next(rule for rule in rules if rule["name"] == "invoice_date")
    assert "anchors" in date_rule  # found on the sample and learned, not left to the generic reading
    rows = _rows(SHOP, "17/05/2019", [("Hinge pair", "9.90")], "9.90", "10.00")
    second = _receipt([row.replace("| 9.90", "| 9.9O") if row.startswith("Total") else row for row in rows])
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.total == Decimal("9.90")
    assert result.fields.invoice_date == date(2019, 5, 17)


def test_ocr_digits_repairs_letters_only_inside_numbers() -> None:
    assert ocr_digits("Date: 12/O2/2018 Total 7.0O") == "Date: 12/02/2018 Total 7.00"
    assert ocr_digits("l2.50 S.50") == "12.50 5.50"
    assert ocr_digits("12FEB2018 BOSS 12 SOLD 100") == "12FEB2018 BOSS 12 SOLD 100"


def _till(day: str, net: str, tax: str, rounding: str, total: str, cash: str, change: str) -> list[str]:
    return [
        SHOP,
        f"Date : {day}",
        f"Widget | {net}",
        f"Sub Total (EUR) : | {net}",
        f"Total Tax (EUR) : | {tax}",
        f"Rounding (EUR) : | {rounding}",
        f"Total (EUR) : | {total}",
        f"Cash : | {cash}",
        f"Change (EUR) : | {change}",
    ]


def test_a_total_with_one_digit_misread_is_what_tendered_change_net_and_tax_agree_on(tmp_path: Path) -> None:
    first = _receipt(_till("03/04/2019", "10.00", "0.60", "0.00", "10.60", "20.00", "9.40"), name="r1.jpg")
    folder = _learn(tmp_path, first, {"vendor_name": SHOP, "invoice_date": "2019-04-03", "total": "10.60"})
    # Printed 112.45 (106.10 + 6.37 - 0.02, paid 120.00, change 7.55); read "112.46".
    second = _receipt(
        _till("17/05/2019", "106.10", "6.37", "-0.02", "112.46", "120.00", "7.55"), name="r2.jpg"
    )
    result = _read(folder, second)
    assert result is not None and result.method is not None and result.method.startswith("template:")
    assert result.fields.total == Decimal("112.45")
    assert "112.46 -> 112.45" in result.lineage["total_repaired"]
    # Sums that do not agree leave the total as read.
    third = _receipt(
        _till("18/05/2019", "106.10", "6.37", "-0.02", "112.46", "120.00", "7.50"), name="r3.jpg"
    )
    result = _read(folder, third)
    assert result is not None and result.fields.total == Decimal("112.46")
    assert "total_repaired" not in result.lineage


def test_amounts_one_digit_apart() -> None:
    assert one_digit_apart(Decimal("112.46"), Decimal("112.45"))
    assert not one_digit_apart(Decimal("112.46"), Decimal("112.54"))
    assert not one_digit_apart(Decimal("12.45"), Decimal("112.45"))
