"""Line-item tables: find the column header, derive columns from it, read item rows below it.

Each body row is read twice over. First by the columns: a number belongs to the numeric column
whose edge it lines up with, text to the text column it starts in. Then, when that reading does
not multiply out, by arithmetic: among every reading of the row's numbers (see
``table_numbers``), the quantity, unit price and amount with quantity x price = amount that
agree best with the columns. The second pass repairs what the first cannot see: a grouped
amount printed as two words, a header word that sits off its column, an OCR'd row slightly out
of line. On OCR'd pages a number OCR lost, or read without its decimal mark, is worked out from
the other two when the arithmetic allows exactly one value (the item then says so by its
confidence); born-digital rows are always taken as printed.

A row without numbers continues the previous item's description; carried-forward rows are
skipped; the totals block ends the table, known by its labels or, when they are unknown, by text
that starts right of the description column in a row that does not multiply out. Rows beside
the table (a sidebar) are ignored. A continuation page without a header is read with the
previous page's columns, and a document without any header falls back to rows whose numbers
multiply out on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import permutations
from typing import Any

from extractors.generic.geometry import Row
from extractors.generic.labels import label_finder
from extractors.generic.settings import DEFAULT, GenericSettings
from extractors.generic.table_columns import columns_of_row, header_over, settle_roles, with_unnamed_cells
from extractors.generic.table_header import (
    NUMERIC_KINDS,
    TEXT_KINDS,
    Column,
    distance,
    find_header_at,
    header_columns,
    stacked_words,
)
from extractors.generic.table_numbers import (
    NumberSpan,
    is_currency,
    number_spans,
    percent,
    percent_at,
    signs_fit,
    tokenize,
)
from extractors.generic.table_till import TillItem, is_slip, till_items
from extractors.generic.table_tilt import joined_rows, level_rows
from textlayer.model import BBox, Word, union

__all__ = [
    "Column",
    "Item",
    "Table",
    "arithmetic_ok",
    "extract_tables",
    "find_header",
    "headerless_items",
    "read_table",
    "skip_rows",
    "stop_rows",
    "summed_list",
]

NUMERIC = NUMERIC_KINDS
TEXT = TEXT_KINDS
_STOP_KINDS = {"subtotal", "total", "tax_amount", "other_id", "vendor_iban", "due_date"}
_TOTAL_KINDS = frozenset({"subtotal", "total", "tax_amount"})
_SKIP_KINDS = {"carry"}
_ROLES = ("col_quantity", "col_unit_price", "col_amount")
# quantity x price = amount holds within a cent (and a rounding of a 100 000th of the product).
_CENT_SLACK = Decimal("0.011")
_RELATIVE_SLACK = Decimal("0.00001")
# Detail rows (discounts, gross price, packing) an item may carry before the next item.
_DETAIL_REACH = 6
# Rows after a labelled reference line inside the table within which an item must follow.
_REFERENCE_REACH = 3


@dataclass(slots=True)
class Item:
    description: str | None = None
    sku: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    page: int = 1
    boxes: list[BBox] = field(default_factory=list)
    consistent: bool = False
    # How sure the reading is: the lowest word confidence of its numbers, halved when the
    # numbers do not multiply out (an OCR misread or a printed error a clerk should see).
    confidence: float = 1.0
    # The amount as read (its text, the reader's confidence in it): tells an OCR misread from
    # an amount printed wrong.
    amount_text: str = ""
    amount_confidence: float = 1.0

    @property
    def bbox(self) -> BBox:
        return union(self.boxes)


@dataclass(slots=True)
class Table:
    items: list[Item]
    row_indexes: set[tuple[int, int]]  # (page, row index) covered by the table incl. header
    columns: list[Column]


@dataclass(slots=True)
class _Reading:
    """Quantity, price and amount read from one row, with the spans they came from."""

    quantity: NumberSpan | None
    unit_price: NumberSpan | None
    amount: NumberSpan | None
    consistent: bool

    @property
    def spans(self) -> list[NumberSpan]:
        return [s for s in (self.quantity, self.unit_price, self.amount) if s is not None]


def _printed_quantity(qty: Decimal | None, price: Decimal | None, amount: Decimal | None) -> Decimal | None:
    """The quantity as the row prints it: a count is positive, but goods taken back print their
    quantity with a minus beside a negative amount at a positive price ("-5 x 1,00 = -5,00"),
    and then the minus is part of what the row says; any other sign is a stray mark."""
    if qty is None:
        return None
    if qty < 0 and amount is not None and price is not None and signs_fit(qty, price, amount):
        return qty
    return abs(qty)


def find_header(row: Row) -> list[Column] | None:
    """Columns from one header row, or None when the row does not look like a table header."""
    return header_columns(row.words, row.height)


def arithmetic_ok(qty: Decimal | None, price: Decimal | None, amount: Decimal | None) -> bool:
    """qty x unit price = amount, to the cent (either sign: credit notes print negatives)."""
    if qty is None or price is None or amount is None:
        return False
    product = qty * price
    return abs(abs(product) - abs(amount)) <= _CENT_SLACK + abs(product) * _RELATIVE_SLACK


def is_ocr(rows: Iterable[Row]) -> bool:
    """OCR'd words carry tesseract's confidence; born-digital words are always exactly 1.0."""
    return any(w.confidence < 1.0 for row in rows for w in row.words)


# --- assigning words to columns -------------------------------------------------------------


def _numeric_column(span: NumberSpan, columns: list[Column]) -> Column | None:
    """The numeric column a number lines up with, or None (a number inside the description)."""
    pool = [c for c in columns if c.kind in NUMERIC]
    if not pool:
        return None
    best = min(pool, key=lambda c: distance(span.x0, span.x1, c))
    inside = best.x0 - 2 <= span.x0 and span.x1 <= best.x1 + 2
    if inside or distance(span.x0, span.x1, best) <= max(25.0, 0.6 * (best.x1 - best.x0) + 15.0):
        # A number under a text column's header ("box of 200" under "Description") is text.
        text_under = [c for c in columns if c.kind in TEXT and c.x0 - 2 <= span.x0 and span.x1 <= c.x1 + 2]
        if text_under and not inside:
            return None
        return best
    return None


def _text_column(word: Word, columns: list[Column]) -> Column | None:
    text_cols = [c for c in columns if c.kind in TEXT]
    starts = [c for c in text_cols if c.x0 <= word.x0 + 3]
    if starts:
        return max(starts, key=lambda c: c.x0)
    return min(text_cols, key=lambda c: c.x0) if text_cols else None


def _by_columns(spans: list[NumberSpan], columns: list[Column]) -> dict[str, NumberSpan]:
    """The column reading: each numeric column's best-aligned number."""
    cells: dict[str, NumberSpan] = {}
    for span in tokenize(spans):
        col = _numeric_column(span, columns)
        if col is None:
            continue
        held = cells.get(col.kind)
        if held is None or distance(span.x0, span.x1, col) < distance(held.x0, held.x1, col):
            cells[col.kind] = span
    return cells


def _amount_that_fits(
    spans: list[NumberSpan], columns: list[Column], qty: Decimal, price: Decimal
) -> NumberSpan | None:
    """With two amount columns ("Total price", "Total price with tax"), the number of the one
    that quantity x price makes, as printed or with its decimal mark lost on a scan; the
    nearest number to a column decides nothing between them."""
    amounts = [c for c in columns if c.kind == "col_amount"]
    if len(amounts) < 2:
        return None
    cells = [
        span for column in amounts for span in tokenize(spans) if _numeric_column(span, columns) is column
    ]
    fits = [s for s in cells if arithmetic_ok(qty, price, s.value)]
    fits = fits or [s for s in cells if not s.has_cents and _same_digits(s, qty * price)]
    return fits[0] if fits else None


def _agreement(span: NumberSpan, kind: str, columns: list[Column]) -> bool:
    col = _numeric_column(span, columns)
    return col is not None and col.kind == kind


def _solve(spans: list[NumberSpan], columns: list[Column] | None) -> _Reading | None:
    """The quantity, price and amount among the row's numbers with qty x price = amount.

    With columns, at least two of the three must line up with their own column; without, the
    price and amount must be printed with cents and the amount must be the rightmost of them.
    """
    best: tuple[float, _Reading] | None = None
    kinds = {c.kind for c in columns} if columns else set()
    # Words of numbers that line up with a money or quantity column: a reading should use them.
    in_columns = {
        i
        for s in spans
        if columns and (col := _numeric_column(s, columns)) is not None and col.kind in _ROLES
        for i in range(s.start, s.end)
    }
    last_two = sorted({s.x1 for s in spans})[-2:] if spans else []
    # What one number alone decides is told once per number, not once per triple: without
    # columns a price has cents, and an amount has cents and stands among the two rightmost.
    priced = [bool(columns) or s.has_cents for s in spans]
    amounts = [bool(columns) or (s.has_cents and s.x1 in last_two) for s in spans]
    # Every triple in the order ``permutations`` gives, so that ties go the same way.
    for qi, q in enumerate(spans):
        for pi, p in enumerate(spans):
            if pi == qi or not priced[pi] or q.overlaps(p):
                continue
            product = abs(q.value * p.value)  # ``arithmetic_ok``, its product worked out once
            slack = _CENT_SLACK + product * _RELATIVE_SLACK
            for ai, a in enumerate(spans):
                if ai in (qi, pi) or not amounts[ai] or q.overlaps(a) or p.overlaps(a):
                    continue
                if not signs_fit(q.value, p.value, a.value) or abs(product - abs(a.value)) > slack:
                    continue
                if columns:
                    roles = list(zip((q, p, a), _ROLES, strict=True))
                    agree = sum(_agreement(s, k, columns) for s, k in roles)
                    missing = sum(k not in kinds for _s, k in roles)
                    if agree + missing < 2 or (
                        "col_amount" in kinds and not _agreement(a, "col_amount", columns)
                    ):
                        continue
                    score = 10.0 * agree
                else:
                    if a.x1 < max(p.x1, q.x1):
                        continue
                    score = 0.0
                score += (q.x1 < p.x1) + (p.x1 < a.x1) + 0.5 * (q.value == q.value.to_integral_value())
                score -= 2.0 * (q.repaired + p.repaired + a.repaired)
                score -= 5.0 * len(in_columns - {i for s in (q, p, a) for i in range(s.start, s.end)})
                # A merged reading ("1 234,56") is worth more than its pieces when both multiply out.
                score += 0.1 * sum(s.end - s.start for s in (q, p, a))
                if best is None or score > best[0]:
                    best = (score, _Reading(q, p, a, True))
    return best[1] if best else None


def _read_row(words: list[Word], columns: list[Column], ocr: bool) -> _Reading | None:
    """Quantity, price and amount of one body row, or None when no numeric column holds a number."""
    spans = number_spans(words, ocr)
    cells = _by_columns(spans, columns)
    q, p, a = (cells.get(k) for k in _ROLES)
    if q is None and p is None and a is None:
        return None
    if q is not None and p is not None:
        a = _amount_that_fits(spans, columns, q.value, p.value) or a
    if arithmetic_ok(*(s.value if s else None for s in (q, p, a))):
        return _Reading(q, p, a, True)
    # A percentage ("20 %": a discount, a VAT rate) is no count, price or amount, even where it
    # happens to multiply out ("20 x 4,19 = 83,80" beside "25 x 4,19 less 20 % = 83,80").
    counted = [s for s in spans if percent_at(words, s) is None]
    solved = _solve(counted, columns) or _discounted(words, spans, columns)
    if solved is not None:
        return solved
    if ocr:
        return _derive_missing(_Reading(q, p, a, False), columns)
    return _Reading(q, p, a, False)


def _discounted(words: list[Word], spans: list[NumberSpan], columns: list[Column] | None) -> _Reading | None:
    """A row with a discount percentage: quantity x price less the discount = amount (negative
    on a credit note).

    The unit price reported is the one printed (before the discount), as the page states it;
    the row counts as multiplying out. A VAT-rate column never fits this arithmetic by chance,
    since the amount is then smaller than quantity x price by exactly the rate. Without
    columns, price and amount must be printed with cents and the amount must stand rightmost.
    """
    rates = [percent(words, i) for i in range(len(words))]
    discounts = {r for r in rates if r is not None and Decimal(0) < r < Decimal(100)}
    if not discounts:
        return None
    best: tuple[int, _Reading] | None = None
    for q, p, a in permutations(tokenize(spans), 3):
        # A credit note prints the amount negative ("-6,55" for 1 x 6,75 less 3 %).
        if q.value <= 0 or p.value <= 0 or a.value == 0 or a.x1 < max(q.x1, p.x1):
            continue
        for rate in discounts:
            if abs(q.value * p.value * (1 - rate / 100) - abs(a.value)) > Decimal("0.011"):
                continue
            if columns is None:
                rightmost = a.x1 >= max(s.x1 for s in spans)
                agree = 3 if p.has_cents and a.has_cents and rightmost else 0
            else:
                agree = sum(_agreement(sp, k, columns) for sp, k in zip((q, p, a), _ROLES, strict=True))
            reading = _Reading(q, p, a, True)
            if best is None or agree > best[0]:
                best = (agree, reading)
    return best[1] if best and best[0] >= 2 else None


def _derive_missing(reading: _Reading, columns: list[Column]) -> _Reading:
    """A scan's number that OCR lost or misread, worked out from the other two.

    A quantity or price the header has a column for but OCR left empty comes from amount /
    price or amount / quantity when that divides evenly. A number whose decimal mark OCR lost
    ("4050" for 40,50) is replaced by the value that makes the row multiply out when it has
    exactly the same digits. The item stays marked inconsistent, so its confidence says it was
    not read but worked out.
    """
    kinds = {c.kind for c in columns}
    q, p, a = reading.quantity, reading.unit_price, reading.amount
    if q is not None and p is not None and a is not None:
        product = q.value * p.value
        if (not a.has_cents and _same_digits(a, product)) or _code_glued(a, product):
            a = _derived(product.quantize(Decimal("0.01")), "col_amount", columns)
    if a is None or a.value == 0 or not a.has_cents:
        return _Reading(q, p, a, False)
    if p is not None and p.value != 0 and p.has_cents and "col_quantity" in kinds:
        value = abs(a.value / p.value)
        if value > 0 and value == value.quantize(Decimal("0.001")) and (q is None or _same_digits(q, value)):
            whole = value == value.to_integral_value()
            plain = value.quantize(Decimal(1)) if whole else value.quantize(Decimal("0.001")).normalize()
            return _Reading(_derived(plain, "col_quantity", columns), p, a, False)
    if q is not None and q.value > 0 and "col_unit_price" in kinds:
        value = abs(a.value / q.value)
        if value == value.quantize(Decimal("0.01")) and (p is None or _same_digits(p, value)):
            p = _derived(value.quantize(Decimal("0.01")), "col_unit_price", columns)
    if q is not None and p is not None and not arithmetic_ok(q.value, p.value, a.value):
        return _lost_marks(_Reading(q, p, a, False), columns) or _one_digit_slip(
            _Reading(q, p, a, False), columns
        )
    return _Reading(q, p, a, False)


def _lost_marks(reading: _Reading, columns: list[Column]) -> _Reading | None:
    """Quantity and price both read without their decimal marks ("7259 121" for 72,59 x 1,21):
    the one placement of the marks, in either or both, that makes them multiply to the amount."""
    q, p, a = reading.quantity, reading.unit_price, reading.amount
    assert q is not None and p is not None and a is not None
    found = [
        (qv, pv)
        for qv in _mark_placements(q)
        for pv in _mark_placements(p)
        if (qv, pv) != (q.value, p.value) and qv > 0 and arithmetic_ok(qv, pv, a.value)
    ]

    def likely(pair: tuple[Decimal, Decimal]) -> tuple[bool, int]:
        # Prices are printed to the cent, counts with as few decimals as they need.
        places = lambda v: max(0, -v.normalize().as_tuple().exponent)  # noqa: E731
        return places(pair[1]) == 2, -places(pair[0])

    found.sort(key=likely, reverse=True)
    if not found or (len(found) > 1 and likely(found[0]) == likely(found[1])):
        return None
    qv, pv = found[0]
    quantity = q if qv == q.value else _derived(qv, "col_quantity", columns)
    price = p if pv == p.value else _derived(pv, "col_unit_price", columns)
    return _Reading(quantity, price, a, False)


def _mark_placements(span: NumberSpan) -> set[Decimal]:
    """The value as read, and, when it was read as a whole number, with a decimal mark put
    before each of its last four digits."""
    values = {abs(span.value)}
    digits = span.text.strip()
    if span.value == span.value.to_integral_value() and digits.isdigit():
        for places in range(1, min(4, len(digits) - 1) + 1):
            values.add(Decimal(f"{digits[:-places]}.{digits[-places:]}"))
    return values


def _one_digit_slip(reading: _Reading, columns: list[Column]) -> _Reading:
    """One digit of one number misread ("21.06" for 21.00): when exactly one of quantity,
    price and amount can be corrected by changing a single digit so that the row multiplies
    out, take that correction; when none or several can, keep the row as read."""
    q, p, a = reading.quantity, reading.unit_price, reading.amount
    assert q is not None and p is not None and a is not None
    kinds = {c.kind for c in columns}
    options: list[_Reading] = []
    if p.value != 0 and "col_quantity" in kinds:
        value = abs(a.value / p.value)
        if value > 0 and value == value.to_integral_value() and _one_substitution(q.text, value, 0):
            options.append(
                _Reading(_derived(value.quantize(Decimal(1)), "col_quantity", columns), p, a, False)
            )
    if q.value != 0 and "col_unit_price" in kinds:
        value = abs(a.value / q.value)
        if value == value.quantize(Decimal("0.01")) and _one_substitution(p.text, value, 2):
            options.append(
                _Reading(q, _derived(value.quantize(Decimal("0.01")), "col_unit_price", columns), a, False)
            )
    product = abs(q.value * p.value)
    if "col_amount" in kinds and _one_substitution(a.text, product, 2):
        signed = -product if a.value < 0 else product
        options.append(
            _Reading(q, p, _derived(signed.quantize(Decimal("0.01")), "col_amount", columns), False)
        )
    return options[0] if len(options) == 1 else reading


def _one_substitution(text: str, value: Decimal, places: int) -> bool:
    """The digits read and the value's digits differ in exactly one position."""
    read = [c for c in text if c.isdigit()]
    exact = [c for c in format(value.quantize(Decimal(1).scaleb(-places)), "f") if c.isdigit()]
    return len(read) == len(exact) and sum(x != y for x, y in zip(read, exact, strict=True)) == 1


def _code_glued(span: NumberSpan, value: Decimal) -> bool:
    """ "8,788" for 8,78 with the tax code "B" after it read as a digit: one digit too many."""
    read = "".join(c for c in span.text if c.isdigit())
    exact = "".join(c for c in format(abs(value.quantize(Decimal("0.01"))), "f") if c.isdigit())
    return len(read) == len(exact) + 1 and read.startswith(exact) and exact.lstrip("0") != ""


def _same_digits(span: NumberSpan, value: Decimal) -> bool:
    """The read text and the value differ only in where (or whether) the decimal mark is."""
    if not span.text:
        return False
    read = "".join(c for c in span.text if c.isdigit()).lstrip("0")
    exact = "".join(c for c in format(abs(value.quantize(Decimal("0.01"))), "f") if c.isdigit()).lstrip("0")
    return bool(read) and (read == exact or read == exact.rstrip("0") or read + "0" == exact)


def _derived(value: Decimal, kind: str, columns: list[Column]) -> NumberSpan:
    col = next(c for c in columns if c.kind == kind)
    return NumberSpan(-1, -1, value, col.x0, col.x1, 0.5, "", repaired=True)


def _is_noise(words: list[Word]) -> bool:
    """OCR debris between rows: specks and rule fragments read as '.', '|', '-' or a lone letter."""
    return all(sum(c.isalnum() for c in w.text) <= 1 or w.confidence < 0.45 for w in words)


# --- reading a table body --------------------------------------------------------------------


def read_table(
    rows: list[Row],
    start: int,
    columns: list[Column],
    stop_rows: set[int],
    skip_rows: frozenset[int] = frozenset(),
) -> tuple[list[Item], int]:
    """Items from the rows after the header at ``rows[start]``; returns items and the last row used."""
    ocr = is_ocr(rows[start : start + 1]) or is_ocr(rows[start + 1 : start + 4])
    return _read_body(
        rows, start + 1, columns, stop_rows, skip_rows, ocr, rows[start].height, rows[start].bottom
    )


def _read_body(
    rows: list[Row],
    first: int,
    columns: list[Column],
    stop_rows: set[int],
    skip_rows: frozenset[int],
    ocr: bool,
    height: float,
    previous_bottom: float,
    carried: Decimal | None = None,
) -> tuple[list[Item], int]:
    """Items of a table's body from ``rows[first]`` on; ``carried`` is the sum of the table's
    items on earlier pages (a row bringing it forward is no item)."""
    items: list[Item] = []
    last = first - 1
    table_left = min(c.x0 for c in columns) - 3 * height
    if not any(c.kind in TEXT for c in columns):
        # No description header was recognised ("GTIN / Artikel"): descriptions stand left of
        # the numeric columns, and their rows are the table's, not a sidebar.
        table_left = 0.0
    # Generous on the right: a column whose header OCR lost ("Totai") still holds numbers there.
    width = max(c.x1 for c in columns) - min(c.x0 for c in columns)
    table_right = max(c.x1 for c in columns) + max(3 * height, 0.35 * width)
    text_row_pending: list[Word] = []
    for r in range(first, len(rows)):
        row = rows[r]
        words = _within(row, table_left - 3 * height, table_right)
        if not words:
            continue  # beside the table (a sidebar): neither an item nor the table's end
        reading = _read_row(words, columns, ocr)
        if (row.index in stop_rows and not _is_item(reading)) or _running_total(reading, items):
            # A labelled line without an amount ("Delivery note 571420 of 25-06-2024") heads the
            # items after it: they may begin a few rows on, past a wrapped or unreadable one.
            reach = _REFERENCE_REACH if reading is None else 1
            if not (items and _items_follow(rows, r, columns, ocr, (table_left, table_right), reach)):
                break
            # A running subtotal between items ("Zwischensumme" after a group): not an item.
            previous_bottom = row.bottom
            continue
        if not items and carried is not None and _running_total(reading, [], carried):
            # The sum of the earlier pages brought forward, whatever its label says.
            previous_bottom = row.bottom
            last = r
            continue
        if row.index in skip_rows and not _is_item(reading):
            # Carried / brought forward: a running total, not an item.
            previous_bottom = row.bottom
            last = r
            continue
        if ocr and _is_noise(words):
            continue
        if items and reading is not None and not ocr and _detail_row(reading, columns):
            if not _items_follow(rows, r, columns, ocr, (table_left, table_right), _DETAIL_REACH, stop_rows):
                break  # born-digital numbers that are not an item, and no item after them
            # Discount, gross price or packing details printed under an item: its description.
            _append_text(items[-1], words, columns)
            previous_bottom = row.bottom
            last = r
            continue
        if row.top - previous_bottom > 4 * height and items:
            break
        if (
            reading is not None
            and not reading.consistent
            and _beside_descriptions(words, reading, columns, height)
        ):
            # A totals line whose label we do not know ("Goods value", "Net 20 %"): its text
            # stands right of where descriptions start. It ends the table, unless it takes an
            # amount off the item over it and more items follow ("less 10 % discount -2,00").
            if (
                items
                and _item_discount(reading, items[-1], words)
                and _items_follow(rows, r, columns, ocr, (table_left, table_right), _DETAIL_REACH, stop_rows)
            ):
                _take_off(items[-1], reading, words)
                previous_bottom = row.bottom
                last = r
                continue
            if items:
                break
            continue
        if reading is None and _states_the_sum(words, items, ocr):
            break  # "Imponibile 2.692,91 EUR" in no column of the table: the items' total
        if reading is None:
            if _continues(items, row, previous_bottom, height, words) or (
                items
                and row.top - previous_bottom <= 2.5 * height
                and _items_follow(rows, r, columns, ocr, (table_left, table_right), _DETAIL_REACH, stop_rows)
            ):
                _append_text(items[-1], words, columns)
                previous_bottom = row.bottom
                last = r
                continue
            if items:
                break
            # Text above the first item: the start of a description wrapped over the numbers,
            # or a section title; kept only if the next row is an item that lacks a description.
            text_row_pending = words
            continue
        item = _item(words, reading, columns, row.page)
        if item.description is None and text_row_pending:
            item.description = _text_of(text_row_pending, columns).get("col_description")
        text_row_pending = []
        items.append(item)
        previous_bottom = row.bottom
        last = r
    return items, last


def _within(row: Row, left: float, right: float) -> list[Word]:
    """The row's words inside the table: those of each run of words (a segment) that reaches
    ``left``, a description set left of a centred header included, a sidebar left out."""
    inside: list[Word] = []
    for segment in row.segments or [list(range(len(row.words)))]:
        words = [row.words[i] for i in segment]
        if max(w.x1 for w in words) >= left:
            inside.extend(w for w in words if w.x0 <= right)
    return inside


def _running_total(reading: _Reading | None, items: list[Item], carried: Decimal | None = None) -> bool:
    """An amount alone that is the sum of the items above it (and of those ``carried`` from
    earlier pages): a total, whatever its label says."""
    if reading is None or reading.consistent or reading.amount is None or not (items or carried):
        return False
    if reading.quantity is not None or reading.unit_price is not None:
        return False
    if any(i.amount is None for i in items):
        return False
    total = sum((i.amount for i in items if i.amount is not None), carried or Decimal(0))
    return abs(abs(total) - abs(reading.amount.value)) <= Decimal("0.011")


def _states_the_sum(words: list[Word], items: list[Item], ocr: bool) -> bool:
    """A row whose amount stands in none of the table's columns and is the sum of the items
    above it: their total under a label no vocabulary knows, not more of a description."""
    if not items or any(i.amount is None for i in items):
        return False
    total = abs(sum((i.amount for i in items if i.amount is not None), Decimal(0)))
    return any(
        s.has_cents and abs(abs(s.value) - total) <= Decimal("0.011") for s in number_spans(words, ocr)
    )


def _items_follow(
    rows: list[Row],
    r: int,
    columns: list[Column],
    ocr: bool,
    bounds: tuple[float, float],
    reach: int = 1,
    stops: frozenset[int] | set[int] = frozenset(),
) -> bool:
    """An item that multiplies out follows row ``r`` within ``reach`` rows, each close under the last."""
    bottom, height = rows[r].bottom, rows[r].height
    seen = 0
    for below in rows[r + 1 : r + 1 + 4 * reach]:
        if below.top - bottom > 2.5 * height or below.index in stops:
            return False
        words = [w for w in below.words if w.x1 >= bounds[0] and w.x0 <= bounds[1]]
        if not words or below.height < 0.6 * height:
            continue  # nothing in the table's width, or a rule or mark, not a row of text
        reading = _read_row(words, columns, ocr)
        if reading is not None and reading.consistent and len(reading.spans) == 3:
            return True
        seen += 1
        if seen >= reach:
            return False
        bottom = below.bottom
    return False


def _detail_row(reading: _Reading, columns: list[Column]) -> bool:
    """Numbers that do not multiply out and leave the amount column empty: an item's detail.

    ("Artikelrabatt 2,00 % Basis 1,50 Rabatt 0,03 €/Stk.", "Bruttopreis 1,50" under an item.)
    """
    if not any(c.kind == "col_amount" for c in columns):
        return False
    amount = reading.amount
    return not reading.consistent and (amount is None or not _agreement(amount, "col_amount", columns))


def _beside_descriptions(words: list[Word], reading: _Reading, columns: list[Column], height: float) -> bool:
    """The row's text starts well right of the description column: a label, not an item."""
    description = next((c for c in columns if c.kind == "col_description"), None)
    if description is None:
        return False
    used = {i for s in reading.spans for i in range(s.start, s.end)}
    text = [
        w
        for i, w in enumerate(words)
        if i not in used and any(ch.isalpha() for ch in w.text) and not is_currency(w.text)
    ]
    if not text:
        return False
    return min(w.x0 for w in text) > description.x0 + 3 * height


def _priced_whole(reading: _Reading, columns: list[Column]) -> bool:
    """An amount alone in a table whose header names no count or unit price."""
    return (
        reading.amount is not None
        and reading.quantity is None
        and reading.unit_price is None
        and not any(c.kind in ("col_quantity", "col_unit_price") for c in columns)
    )


def _item_discount(reading: _Reading, item: Item, words: list[Word]) -> bool:
    """An amount alone (beside its rate, "10 %"), negative and smaller than the item's own:
    taken off that item."""
    amount, count = reading.amount, reading.quantity
    if amount is None or reading.unit_price is not None:
        return False
    if count is not None and percent_at(words, count) is None:
        return False
    return item.amount is not None and amount.value < 0 and -amount.value < item.amount


def _take_off(item: Item, reading: _Reading, words: list[Word]) -> None:
    """The item's amount less the discount printed under it; its unit price stays as printed
    (as for a discount column: 3 x 4,00 less 2,00 is 10,00 at 4,00)."""
    assert item.amount is not None and reading.amount is not None
    item.amount += reading.amount.value
    item.amount_text = ""
    item.boxes.append(union([w.bbox for w in words]))


def _is_item(reading: _Reading | None) -> bool:
    """A row whose quantity, price and amount multiply out is an item, whatever its first
    words are ("Total station rental", "Tax advice, 2 hours" are items, not totals)."""
    return reading is not None and reading.consistent and len(reading.spans) == 3


def _continues(items: list[Item], row: Row, previous_bottom: float, height: float, words: list[Word]) -> bool:
    if not items or row.top - previous_bottom >= 1.5 * height:
        return False
    return not all(is_currency(w.text) for w in words)


def _text_of(words: list[Word], columns: list[Column], used: set[int] | None = None) -> dict[str, str]:
    cells: dict[str, list[str]] = {}
    for i, word in enumerate(words):
        if used and i in used:
            continue
        col = _text_column(word, columns)
        if col is not None:
            cells.setdefault(col.kind, []).append(word.text)
    return {kind: " ".join(texts) for kind, texts in cells.items()}


def _append_text(item: Item, words: list[Word], columns: list[Column]) -> None:
    text = _text_of(words, columns).get("col_description")
    if not text:
        return
    item.description = f"{item.description or ''} {text}".strip()
    item.boxes.append(union([w.bbox for w in words]))


def _in_numeric_cell(word: Word, columns: list[Column]) -> bool:
    """A word printed inside a numeric column's cell ("%" of "10 %", the unit after a count):
    part of that cell, not of the description."""
    slack = word.height / 2
    inside = any(c.kind in NUMERIC and c.x0 - slack <= word.x0 and word.x1 <= c.x1 + slack for c in columns)
    return inside or (not any(ch.isalnum() for ch in word.text) and word.text != "-")


def _item(words: list[Word], reading: _Reading, columns: list[Column], page: int) -> Item:
    used: set[int] = set()
    for span in number_spans(words):
        if _numeric_column(span, columns) is not None:
            used.update(range(span.start, span.end))
    for span in reading.spans:
        used.update(range(span.start, span.end))
    used.update(i for i, w in enumerate(words) if is_currency(w.text) or _in_numeric_cell(w, columns))
    used.update(i for i in range(len(words)) if percent(words, i) is not None)
    text = _text_of(words, columns, used)
    qty = reading.quantity.value if reading.quantity else None
    price = reading.unit_price.value if reading.unit_price else None
    confidence = min((s.confidence for s in reading.spans), default=0.0)
    if _priced_whole(reading, columns):
        # "Description | Amount": a service priced whole is one of it at its amount.
        assert reading.amount is not None
        qty, price = Decimal(1), reading.amount.value
        reading = _Reading(None, None, reading.amount, True)
    return Item(
        description=text.get("col_description"),
        sku=text.get("col_sku"),
        quantity=_printed_quantity(qty, price, reading.amount.value if reading.amount else None),
        unit_price=abs(price) if price is not None else None,
        amount=reading.amount.value if reading.amount else None,
        page=page,
        boxes=[union([w.bbox for w in words])],
        consistent=reading.consistent,
        confidence=round(confidence if reading.consistent else confidence / 2, 4),
        amount_text=reading.amount.text if reading.amount else "",
        amount_confidence=reading.amount.confidence if reading.amount else 0.0,
    )


# --- without a header ------------------------------------------------------------------------


def headerless_items(rows: list[Row], stop: set[int] | None = None) -> list[Item]:
    """Fallback: rows whose numbers multiply out (qty x price = amount), above the totals block."""
    items: list[Item] = []
    ocr = is_ocr(rows)
    for row in rows:
        if stop and row.index in stop and items:
            break  # the totals after the items; labels above them (a due date) end nothing
        spans = number_spans(row.words, ocr)
        if len(spans) < 3:
            continue
        reading = _solve(spans, None)
        if reading is None:
            continue
        used = {i for s in reading.spans for i in range(s.start, s.end)}
        text = [w.text for i, w in enumerate(row.words) if i not in used and not is_currency(w.text)]
        assert reading.quantity and reading.unit_price and reading.amount
        items.append(
            Item(
                description=" ".join(text) or None,
                quantity=_printed_quantity(
                    reading.quantity.value, reading.unit_price.value, reading.amount.value
                ),
                unit_price=abs(reading.unit_price.value),
                amount=reading.amount.value,
                page=row.page,
                boxes=[row.bbox],
                consistent=True,
                confidence=min(s.confidence for s in reading.spans),
            )
        )
    return items


# --- the document ----------------------------------------------------------------------------


def extract_tables(
    pages_rows: list[list[Row]],
    stop: dict[int, set[int]],
    skip: dict[int, set[int]] | None = None,
    settings: GenericSettings = DEFAULT,
) -> Table:
    """All items of the document: one header per page (repeated headers on continuation pages)."""
    items: list[Item] = []
    covered: set[tuple[int, int]] = set()
    columns: list[Column] = []
    open_table = False  # the previous page's table ran to the page's end, not to its totals
    headed: set[int] = set()  # pages that print a table header, whether its body was read or not
    for page_rows in pages_rows:
        if not page_rows:
            continue
        page = page_rows[0].page
        stops = stop.get(page, set())
        skipped = frozenset((skip or {}).get(page, set()))
        ocr = is_ocr(page_rows)
        rows, origin = page_rows, None
        level = (level_rows(page_rows, settings.min_tilt) or joined_rows(page_rows)) if ocr else None
        if level is not None:
            # A tilted photo: its table is read from rows regrouped along the text's slope.
            rows, origin = level.rows, level.origin
            finder = label_finder()
            labels = {row.index: finder.find([w.text for w in row.words], row.breaks) for row in rows}
            stops, skipped = stop_rows(rows, labels), frozenset(skip_rows(rows, labels))
        used: list[int] = []  # positions in ``rows`` the table covers
        found_here = False
        # A header that names counts or prices first; one of descriptions and amounts alone
        # ("Description | Amount") only where the page has none.
        tries = [(r, whole) for whole in (False, True) for r in range(len(rows))]
        for r, whole in tries:
            header = find_header_at(rows, r, whole)
            if header is None or (whole and len({c.kind for c in header.columns}) > 2):
                continue
            headed.add(page)
            body = header.rows[-1] + 1
            top = rows[header.rows[-1]]
            height = max(rows[i].height for i in header.rows)
            words = rows[r].words if len(header.rows) == 1 else stacked_words(rows[r], rows[r + 1])
            named = with_unnamed_cells(words, header.columns, height)
            settled = settle_roles(rows, body, named, stops, ocr, height, settings.role_rows)
            carried = _sum(items) if open_table else None
            found, last = _read_body(rows, body, settled, stops, skipped, ocr, height, top.bottom, carried)
            if not found:
                continue
            columns = settled
            items.extend(found)
            used.extend(range(r, last + 1))
            open_table = _runs_off(rows, last, stops)
            found_here = True
            break
        if not found_here and open_table and columns:
            found, first, last = _continuation(rows, columns, stops, skipped, ocr)
            items.extend(found)
            used.extend(range(first, last + 1))
            open_table = bool(found) and _runs_off(rows, last, stops)
            found_here = bool(found)
        if not found_here:
            numeric = _table_by_numbers(rows, stops, skipped, ocr, settings.role_rows)
            if numeric is not None:
                found, first, last, columns = numeric
                if is_slip(rows, settings.slip_characters):
                    # A till slip's items end where rows without a count begin: the total,
                    # the payment and the VAT summary under them are no items.
                    while found and found[-1].quantity is None and not found[-1].consistent:
                        found.pop()
                items.extend(found)
                used.extend(range(first, last + 1))
                open_table = _runs_off(rows, last, stops)
                found_here = True
        if not found_here and is_slip(rows, settings.slip_characters):
            for till in till_items(rows, stops, ocr, settings.reconciled_confidence):
                items.append(_till_item(till, page))
                used.extend(till.rows)
        if origin is None:
            covered.update((page, rows[i].index) for i in used)
        else:
            covered.update((page, origin[id(w)]) for i in used for w in rows[i].words if id(w) in origin)
    if not items:
        for rows in pages_rows:
            if rows:
                items.extend(headerless_items(rows, stop.get(rows[0].page)))
    if not items:
        for rows in pages_rows:
            if not rows:
                continue
            page = rows[0].page
            if page in headed:
                continue  # a table whose body was not read is no list without a header
            listed = summed_list(rows, stop.get(page, set()), (skip or {}).get(page, set()), settings)
            if listed is not None:
                found, indexes = listed
                items.extend(found)
                covered.update((page, index) for index in indexes)
    return Table(items, covered, columns)


def summed_list(
    rows: list[Row], stops: set[int], skipped: set[int], settings: GenericSettings = DEFAULT
) -> tuple[list[Item], list[int]] | None:
    """Items listed without a header or counts: rows of text, each ending in one amount, right
    over a totals row whose amount they add up to ("Liability 50,00" / "Partner cover 0,00" /
    "Total premium 50,00"). Each is one of it at its amount, as a service priced whole; rows
    without an amount under an item continue its description. The sum must hold to the cent,
    so prose or an address over a total never passes. Returns the items and their row indexes."""
    ocr = is_ocr(rows)
    for s, row in enumerate(rows):
        if row.index not in stops:
            continue
        closing = _closing_amount(row.words, ocr)
        if closing is None:
            continue
        stated, right = closing
        found = _list_over(rows, s, right, stops, skipped, ocr, settings)
        if found is None:
            continue
        items, indexes = found
        listed = _sum(items)
        if listed is not None and abs(listed - stated.value) <= settings.cent:
            return items, indexes
    return None


def _closing_amount(words: list[Word], ocr: bool) -> tuple[NumberSpan, float] | None:
    """The money amount that ends a row after text (only a currency may follow it), and the
    row's right edge; None when the row ends otherwise."""
    spans = tokenize(number_spans(words, ocr))
    if not spans:
        return None
    last = spans[-1]
    if not last.has_cents or not all(is_currency(w.text) for w in words[last.end :]):
        return None
    if not any(c.isalpha() for w in words[: last.start] for c in w.text):
        return None
    return last, words[-1].x1


def _list_over(
    rows: list[Row],
    s: int,
    right: float,
    stops: set[int],
    skipped: set[int],
    ocr: bool,
    settings: GenericSettings,
) -> tuple[list[Item], list[int]] | None:
    """The priced rows of the block right over row ``s`` whose amounts end where its does."""
    finder = label_finder()
    # Items are the letter's own lines: they start at its left margin. A totals block set to
    # the right whose labels no vocabulary knows ("Importe neto", "21% IVA") is no list.
    margin = min(row.words[0].x0 for row in rows if row.words)
    block: list[int] = []
    top = rows[s].top
    for r in range(s - 1, -1, -1):
        row = rows[r]
        if row.index in stops or row.index in skipped or top - row.bottom > settings.list_gap * row.height:
            break
        block.append(r)
        top = row.top
    items: list[Item] = []
    indexes: list[int] = []
    for r in reversed(block):
        row = rows[r]
        closing = _closing_amount(row.words, ocr)
        aligned = abs(row.words[-1].x1 - right) <= settings.list_align * row.height
        if closing is not None and aligned:
            named = {m.kind for m in finder.find([w.text for w in row.words], row.breaks)}
            if named & _TOTAL_KINDS or row.words[0].x0 - margin > settings.list_indent * row.height:
                return None  # a totals block (net, tax, total), not a list of items
            span = closing[0]
            text = [w.text for w in row.words[: span.start] if not is_currency(w.text)]
            items.append(
                Item(
                    description=" ".join(text) or None,
                    quantity=Decimal(1),
                    unit_price=abs(span.value),
                    amount=span.value,
                    page=row.page,
                    boxes=[row.bbox],
                    consistent=True,
                    confidence=span.confidence,
                    amount_text=span.text,
                    amount_confidence=span.confidence,
                )
            )
            indexes.append(row.index)
        elif aligned and items:
            return None  # something else printed in the amounts' column: no plain list
        elif items:
            items[-1].description = f"{items[-1].description or ''} {row.text}".strip()
            items[-1].boxes.append(row.bbox)
            indexes.append(row.index)
    return (items, indexes) if items else None


def _sum(items: list[Item]) -> Decimal | None:
    """The items' amounts added up, or None when one has no amount."""
    if any(i.amount is None for i in items):
        return None
    return sum((i.amount for i in items if i.amount is not None), Decimal(0))


def _till_item(till: TillItem, page: int) -> Item:
    return Item(
        description=till.description,
        quantity=abs(till.quantity),
        unit_price=abs(till.unit_price),
        amount=till.amount,
        page=page,
        boxes=[union([w.bbox for w in till.words])],
        consistent=till.consistent,
        confidence=round(till.confidence if till.consistent else till.confidence / 2, 4),
        amount_text=till.amount_text,
        amount_confidence=till.amount_confidence,
    )


def _alone(words: list[Word], ocr: bool) -> _Reading | None:
    """A row whose numbers multiply out on their own, without any columns to go by."""
    spans = number_spans(words, ocr)
    if len(spans) < 3:
        return None
    return _solve(spans, None) or _discounted(words, spans, None)


def _table_by_numbers(
    rows: list[Row], stops: set[int], skipped: frozenset[int], ocr: bool, reach: int
) -> tuple[list[Item], int, int, list[Column]] | None:
    """A table no header vocabulary found: from its first row that multiplies out, read with the
    cells of the header over it (roles settled by the body's numbers) or, when no header is
    printed, with that row's own numbers as the columns. Returns items, first and last row."""
    for r, row in enumerate(rows):
        if row.index in skipped:
            continue
        reading = _alone(row.words, ocr)
        # A row that multiplies out is an item whatever its first words ("20 caja ...": a unit,
        # not the till a receipt names), as in the body of a table.
        if reading is None or (row.index in stops and not _is_item(reading)):
            continue
        assert reading.quantity and reading.unit_price and reading.amount
        spans = (reading.quantity, reading.unit_price, reading.amount)
        height = row.height
        over = header_over(rows, r, list(spans), height)
        if over is not None:
            head, cells = over
            first, body = head[0], head[-1] + 1
            columns = settle_roles(rows, body, cells, stops, ocr, height, reach)
            if set(_ROLES) <= {c.kind for c in columns}:
                found, last = _read_body(
                    rows, body, columns, stops, skipped, ocr, height, rows[body - 1].bottom
                )
                if found:
                    return found, first, last, columns
        columns = columns_of_row(row, spans)
        first = _first_item(rows, r, columns, stops, ocr, height)
        found, last = _read_body(rows, first, columns, stops, skipped, ocr, height, rows[first].top)
        if found:
            return found, first, last, columns
    return None


def _first_item(
    rows: list[Row], r: int, columns: list[Column], stops: set[int], ocr: bool, height: float
) -> int:
    """Where a table without a header starts: rows right over its first row that multiplies out
    whose price and amount stand in that row's columns are items too (a count OCR lost)."""
    first = r
    while first > 0:
        above = rows[first - 1]
        if above.index in stops or rows[first].top - above.bottom > 2.5 * height:
            break
        reading = _read_row(above.words, columns, ocr)
        if reading is None or reading.amount is None or reading.unit_price is None:
            break
        if not (_agreement(reading.amount, "col_amount", columns) and reading.amount.has_cents):
            break
        first -= 1
    return first


def _runs_off(rows: list[Row], last: int, stops: set[int]) -> bool:
    """True when no totals row follows the table on its page: it continues overleaf."""
    return not any(row.index in stops for row in rows[last + 1 :])


def _continuation(
    rows: list[Row], columns: list[Column], stops: set[int], skipped: frozenset[int], ocr: bool
) -> tuple[list[Item], int, int]:
    """A page that continues the table without repeating its header: start at the first item
    whose numbers line up with the columns and multiply out."""
    height = rows[0].height
    for r, row in enumerate(rows):
        if row.index in stops:
            break
        reading = _read_row(row.words, columns, ocr)
        if reading is None or not reading.consistent:
            continue
        found, last = _read_body(rows, r, columns, stops, skipped, ocr, height, row.top)
        return found, r, last
    return [], 0, -1


# --- row classes from the header side's labels -------------------------------------------


def skip_rows(rows: list[Row], labels: dict[int, list[Any]]) -> set[int]:
    """Carried-forward / brought-forward rows inside a table that breaks over pages."""
    # A carry row holds one running total; an item called "Report binder" has qty, price, amount.
    return {
        row.index
        for row in rows
        if any(m.kind in _SKIP_KINDS and m.start <= 1 for m in labels.get(row.index, []))
        and len(tokenize(number_spans(row.words))) <= 1
    }


def stop_rows(rows: list[Row], labels: dict[int, list[Any]]) -> set[int]:
    """Rows that end a table: totals, carried-forward and payment lines."""
    # Only a label that starts the row counts: an item called "Consulting (VAT exempt)" is an item.
    return {
        row.index
        for row in rows
        if any(m.kind in _STOP_KINDS and m.start <= 1 for m in labels.get(row.index, []))
    }
