"""Line-item tables: find the column header row, derive columns from it, read item rows below.

Numbers are assigned to numeric columns by their right edge (amounts are right-aligned under
their header) and text to the text column that starts at or before it. A row without numbers
continues the previous item's description; carried-forward rows and the totals block end the
table. When no header is found, rows whose last three numbers multiply out (qty x price =
amount) are read as items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from extractors.generic.geometry import Row
from extractors.generic.labels import LabelMatch, label_finder
from extractors.textlayer.model import BBox, Word, union
from extractors.values import parse_amount

NUMERIC = ("col_quantity", "col_unit_price", "col_amount", "col_tax", "col_pos")
TEXT = ("col_description", "col_sku", "col_unit")
_STOP_KINDS = {"subtotal", "total", "tax_amount", "other_id", "vendor_iban", "due_date"}
_SKIP_KINDS = {"carry"}


@dataclass(slots=True)
class Column:
    kind: str
    x0: float
    x1: float
    text: str = ""  # the header as printed


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

    @property
    def bbox(self) -> BBox:
        return union(self.boxes)


@dataclass(slots=True)
class Table:
    items: list[Item]
    row_indexes: set[tuple[int, int]]  # (page, row index) covered by the table incl. header
    columns: list[Column]


def find_header(row: Row) -> list[Column] | None:
    """Columns from a header row, or None when the row does not look like a table header."""
    matches: list[LabelMatch] = label_finder(table_mode=True).find([w.text for w in row.words])
    kinds = {m.kind for m in matches}
    if not ({"col_amount", "col_unit_price"} & kinds and {"col_description", "col_quantity"} & kinds):
        return None
    if len(kinds) < 3:
        return None
    covered = sum(m.end - m.start for m in matches)
    if covered < 0.7 * len(row.words):
        return None
    columns: list[Column] = []
    seen: set[tuple[int, int]] = set()
    for m in matches:
        if (m.start, m.end) in seen:
            # Ambiguous header word ("Artikel"): the kind not yet used wins.
            continue
        same = [x for x in matches if (x.start, x.end) == (m.start, m.end)]
        used = {c.kind for c in columns}
        pick = next((x for x in same if x.kind not in used), same[0])
        seen.add((m.start, m.end))
        box = row.box_of(m.start, m.end)
        columns.append(Column(pick.kind, box[0], box[2], row.text_of(m.start, m.end)))
    return columns


def _assign(word: Word, columns: list[Column], numeric: bool) -> Column | None:
    if numeric:
        pool = [c for c in columns if c.kind in NUMERIC]
        if not pool:
            return None
        best = min(pool, key=lambda c: _distance(word, c))
        # A number far from every numeric column is part of the text ("case of 12").
        if _distance(word, best) <= max(25.0, 0.6 * (best.x1 - best.x0) + 15.0):
            return best
        numeric = False
    text_cols = [c for c in columns if c.kind in TEXT]
    starts = [c for c in text_cols if c.x0 <= word.x0 + 3]
    if starts:
        return max(starts, key=lambda c: c.x0)
    return min(text_cols, key=lambda c: c.x0) if text_cols else None


def _distance(word: Word, col: Column) -> float:
    return min(abs(word.x1 - col.x1), abs(word.x0 - col.x0), abs((word.x0 + word.x1 - col.x0 - col.x1) / 2))


def _is_number(text: str) -> bool:
    return parse_amount(text) is not None


def read_table(
    rows: list[Row],
    start: int,
    columns: list[Column],
    stop_rows: set[int],
    skip_rows: frozenset[int] = frozenset(),
) -> tuple[list[Item], int]:
    """Items from the rows after the header at ``rows[start]``; returns items and the last row used."""
    items: list[Item] = []
    last = start
    height = rows[start].height
    previous_bottom = rows[start].bottom
    table_left = min(c.x0 for c in columns) - 3 * height
    for r in range(start + 1, len(rows)):
        row = rows[r]
        if row.index in stop_rows:
            break
        if row.index in skip_rows:  # carried / brought forward: a running total, not an item
            previous_bottom = row.bottom
            last = r
            continue
        if row.top - previous_bottom > 4 * height and items:
            break
        words = [w for w in row.words if w.x1 >= table_left]
        cells: dict[str, list[Word]] = {}
        for word in words:
            col = _assign(word, columns, _is_number(word.text))
            if col is not None:
                cells.setdefault(col.kind, []).append(word)
        values = {kind: " ".join(w.text for w in ws) for kind, ws in cells.items()}
        amount = parse_amount(values["col_amount"]) if "col_amount" in values else None
        qty = parse_amount(values["col_quantity"]) if "col_quantity" in values else None
        price = parse_amount(values["col_unit_price"]) if "col_unit_price" in values else None
        if amount is None and qty is None and price is None:
            text = values.get("col_description")
            if text and items and row.top - previous_bottom < 1.5 * height and not _numbers_only(words):
                items[-1].description = f"{items[-1].description or ''} {text}".strip()
                items[-1].boxes.append(union([w.bbox for w in cells["col_description"]]))
                previous_bottom = row.bottom
                last = r
                continue
            if items:
                break
            continue
        item = Item(
            description=values.get("col_description"),
            sku=values.get("col_sku"),
            quantity=abs(qty) if qty is not None else None,
            unit_price=abs(price) if price is not None else None,
            amount=amount,
            page=row.page,
            boxes=[union([w.bbox for w in words])],
        )
        item.consistent = arithmetic_ok(item.quantity, item.unit_price, item.amount)
        items.append(item)
        previous_bottom = row.bottom
        last = r
    return items, last


def _numbers_only(words: list[Word]) -> bool:
    return all(_is_number(w.text) for w in words)


def arithmetic_ok(qty: Decimal | None, price: Decimal | None, amount: Decimal | None) -> bool:
    """qty x unit price = amount, to the cent (either sign: credit notes print negatives)."""
    if qty is None or price is None or amount is None:
        return False
    product = qty * price
    return abs(abs(product) - abs(amount)) <= Decimal("0.011") + abs(product) * Decimal("0.00001")


def headerless_items(rows: list[Row]) -> list[Item]:
    """Fallback: rows ending in three numbers where quantity x price = amount."""
    items: list[Item] = []
    for row in rows:
        numbers = [(i, parse_amount(w.text)) for i, w in enumerate(row.words)]
        nums = [(i, v) for i, v in numbers if v is not None]
        if len(nums) < 3:
            continue
        (iq, q), (_ip, p), (_ia, a) = nums[-3:]
        if not arithmetic_ok(q, p, a):
            continue
        assert q is not None and p is not None and a is not None
        text_words = [w for i, w in enumerate(row.words) if i < iq and parse_amount(w.text) is None]
        items.append(
            Item(
                description=" ".join(w.text for w in text_words) or None,
                quantity=abs(q),
                unit_price=abs(p),
                amount=a,
                page=row.page,
                boxes=[row.bbox],
                consistent=True,
            )
        )
    return items


def extract_tables(
    pages_rows: list[list[Row]], stop: dict[int, set[int]], skip: dict[int, set[int]] | None = None
) -> Table:
    """All items of the document: one header per page (repeated headers on continuation pages)."""
    items: list[Item] = []
    covered: set[tuple[int, int]] = set()
    columns: list[Column] = []
    for rows in pages_rows:
        if not rows:
            continue
        page = rows[0].page
        for r, row in enumerate(rows):
            header = find_header(row)
            if header is None:
                continue
            columns = header
            skipped = frozenset((skip or {}).get(page, set()))
            found, last = read_table(rows, r, header, stop.get(page, set()), skipped)
            items.extend(found)
            covered.update((page, rows[i].index) for i in range(r, last + 1))
            break
    if not items:
        for rows in pages_rows:
            found = headerless_items(rows)
            items.extend(found)
    return Table(items, covered, columns)


def skip_rows(rows: list[Row], labels: dict[int, list[Any]]) -> set[int]:
    """Carried-forward / brought-forward rows inside a table that breaks over pages."""
    # A carry row holds one running total; an item called "Report binder" has qty, price, amount.
    return {
        row.index
        for row in rows
        if any(m.kind in _SKIP_KINDS and m.start <= 1 for m in labels.get(row.index, []))
        and sum(_is_number(w.text) for w in row.words) <= 1
    }


def stop_rows(rows: list[Row], labels: dict[int, list[Any]]) -> set[int]:
    """Rows that end a table: totals, carried-forward and payment lines."""
    # Only a label that starts the row counts: an item called "Consulting (VAT exempt)" is an item.
    return {
        row.index
        for row in rows
        if any(m.kind in _STOP_KINDS and m.start <= 1 for m in labels.get(row.index, []))
    }
