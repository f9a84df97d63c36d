"""Which column is which, from the numbers under it: the roles a header's words may not name.

A header names its columns in words a vocabulary may not know ("Importo", "Cant.", a synonym
no list holds). The numbers under it say the same in every language: in an item row quantity x
unit price = amount, less the row's discount percentage. ``settle_roles`` gives the quantity,
price and amount roles to the three columns that make the most body rows multiply out (the
header's own words break ties, and stand when they explain as many rows); the other columns
are told apart by what they hold (percentages, running positions, codes, units, prose).
``table_by_numbers`` finds a table whose header no vocabulary knows, from its first row that
multiplies out and the row of words over it, or from that row alone when nothing is over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise, permutations

from extractors.generic.geometry import Row
from extractors.generic.table_header import (
    Column,
    cell_segments,
    distance,
    is_money,
    match_words,
    stacked_words,
)
from extractors.generic.table_numbers import (
    NumberSpan,
    is_currency,
    number_spans,
    percent_at,
    signs_fit,
    tokenize,
)
from textlayer.model import Word, union

ROLES = ("col_quantity", "col_unit_price", "col_amount")
# Text columns a vocabulary named; "col_text" is a cell whose words it did not know.
_NAMED_TEXT = frozenset({"col_description", "col_sku", "col_unit"})
_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9./_-]*$")


@dataclass(slots=True)
class _Cells:
    """One body row's numbers by the column they line up with, and the row's percentages."""

    values: dict[int, float]
    percents: list[float]
    ints: dict[int, bool]  # the number has no decimal part (a count, a position)
    rated: set[int]  # columns whose number is printed as a percentage


def column_of(x0: float, x1: float, columns: list[Column], height: float) -> int | None:
    """The column a box lines up with (under it, or aligned with one of its edges), or None."""
    if not columns:
        return None
    best = min(range(len(columns)), key=lambda i: distance(x0, x1, columns[i]))
    col = columns[best]
    inside = col.x0 - height <= x0 and x1 <= col.x1 + height
    if inside or distance(x0, x1, col) <= max(2 * height, 0.6 * (col.x1 - col.x0) + height):
        return best
    return None


def _cells(words: list[Word], columns: list[Column], height: float, ocr: bool) -> _Cells:
    values: dict[int, float] = {}
    ints: dict[int, bool] = {}
    held: dict[int, float] = {}
    percents: list[float] = []
    rated: set[int] = set()
    for span in tokenize(number_spans(words, ocr)):
        rate = percent_at(words, span)
        if rate is not None:
            percents.append(float(rate))
        i = column_of(span.x0, span.x1, columns, height)
        if i is None:
            continue
        off = distance(span.x0, span.x1, columns[i])
        if i in held and held[i] <= off:
            continue
        held[i] = off
        values[i] = float(span.value)
        ints[i] = rate is None and not span.has_cents
        if rate is not None:
            rated.add(i)
        else:
            rated.discard(i)
    return _Cells(values, percents, ints, rated)


def _multiplies(q: float, p: float, a: float, percents: list[float]) -> bool:
    """qty x price = amount within a cent (either sign), or so after one of the row's discounts;
    the signs as ``signs_fit`` allows them."""
    if not signs_fit(q, p, a):
        return False
    product = abs(q * p)
    if abs(product - abs(a)) <= 0.011 + product * 1e-5:
        return True
    return any(0 < d < 100 and abs(product * (1 - d / 100) - abs(a)) <= 0.011 for d in percents)


def _score_roles(
    rows: list[_Cells], columns: list[Column], candidates: list[int]
) -> tuple[int, int, int] | None:
    """The (quantity, price, amount) column indexes that make the most rows multiply out."""
    best: tuple[tuple[float, ...], tuple[int, int, int]] | None = None
    for triple in permutations(candidates, 3):
        iq, ip, ia = triple
        explained = sum(
            1
            for cells in rows
            if iq in cells.values
            and ip in cells.values
            and ia in cells.values
            and _multiplies(cells.values[iq], cells.values[ip], cells.values[ia], cells.percents)
        )
        if explained == 0:
            continue
        named = sum(columns[i].kind == role for i, role in zip(triple, ROLES, strict=True))
        x = [columns[i].x1 for i in triple]
        # quantity x price = price x quantity: counts (whole numbers) are the quantities, and
        # the amount stands right of both; a quantity left of its price decides what is left.
        whole = sum(cells.ints.get(iq, False) - cells.ints.get(ip, False) for cells in rows)
        key = (
            float(explained),
            float(named),
            float(x[2] > max(x[0], x[1])),
            float(whole),
            float(x[0] < x[1]),
        )
        if best is None or key > best[0]:
            best = (key, triple)
    return best[1] if best else None


def settle_roles(
    rows: list[Row],
    first: int,
    columns: list[Column],
    stops: set[int],
    ocr: bool,
    height: float,
    reach: int = 40,
) -> list[Column]:
    """The columns with quantity, price and amount where the body's arithmetic puts them.

    Only numeric columns and columns no vocabulary named take part; the header's words stand
    when they make as many rows multiply out as the best choice; ``reach`` body rows are read.
    Returns new Column objects.
    """
    body = _body(rows, first, stops, reach)
    if not body:
        return columns
    cells = [_cells(row.words, columns, height, ocr) for row in body]
    # A column named for text (a unit, a code) takes part when it holds numbers in most rows:
    # the vocabulary may have read "Unit" of "Unit / cost" for the unit of measure.
    filled = [cell for cell in cells if cell.values]
    candidates = [
        i
        for i, c in enumerate(columns)
        if (c.kind not in _NAMED_TEXT and any(i in cell.values for cell in cells))
        or (c.kind != "col_description" and sum(i in cell.values for cell in filled) > len(filled) / 2)
    ]
    if len(candidates) < 3:
        return columns
    best = _score_roles(cells, columns, candidates)
    if best is None:
        return columns
    iq, ip, ia = (next((i for i, c in enumerate(columns) if c.kind == role), -1) for role in ROLES)
    named = (iq, ip, ia)
    if named != best and min(named) >= 0 and _explained(cells, named) >= _explained(cells, best):
        return _text_roles(rows, body, columns, cells, height)
    out = [replace(c) for c in columns]
    for i, c in enumerate(out):
        if c.kind in ROLES and i not in best:
            c.kind = "col_number"
    for i, role in zip(best, ROLES, strict=True):
        out[i].kind = role
    _rate_roles(out, cells, best)
    return _text_roles(rows, body, out, cells, height)


def _rate_roles(columns: list[Column], cells: list[_Cells], roles: tuple[int, int, int]) -> None:
    """Unnamed columns of percentages: the discount when a row needs it to multiply out, else a
    VAT rate."""
    iq, ip, ia = roles
    for i, col in enumerate(columns):
        if i in roles or col.kind not in ("col_text", "col_number"):
            continue
        rows = [c for c in cells if i in c.values and all(j in c.values for j in roles)]
        if not rows or not any(i in c.rated or 0 <= c.values[i] < 100 for c in rows):
            continue
        needed = any(
            not _multiplies(c.values[iq], c.values[ip], c.values[ia], [])
            and _multiplies(c.values[iq], c.values[ip], c.values[ia], [c.values[i]])
            for c in rows
        )
        if needed:
            col.kind = "col_discount"
        elif all(i in c.rated for c in rows):
            col.kind = "col_tax"


def _explained(cells: list[_Cells], roles: tuple[int, int, int]) -> int:
    """Rows that multiply out with quantity, price and amount in these columns."""
    iq, ip, ia = roles
    return sum(
        1
        for cell in cells
        if iq in cell.values
        and ip in cell.values
        and ia in cell.values
        and _multiplies(cell.values[iq], cell.values[ip], cell.values[ia], cell.percents)
    )


def _body(rows: list[Row], first: int, stops: set[int], reach: int) -> list[Row]:
    body: list[Row] = []
    for row in rows[first : first + reach]:
        if row.index in stops and body:
            break
        body.append(row)
    return body


def _text_roles(
    rows: list[Row], body: list[Row], columns: list[Column], cells: list[_Cells], height: float
) -> list[Column]:
    """Columns no vocabulary named, told apart by what they hold."""
    out = [replace(c) for c in columns]
    for i, col in enumerate(out):
        if (
            col.kind == "col_sku"
            and _number_role([cell.values[i] for cell in cells if i in cell.values]) == "col_pos"
        ):
            col.kind = "col_pos"  # "Item" over 1, 2, 3: positions, not article codes
    unknown = [i for i, c in enumerate(columns) if c.kind in ("col_text", "col_number")]
    if not unknown:
        return out
    texts: dict[int, list[list[str]]] = {i: [] for i in unknown}
    for row in body:
        per: dict[int, list[str]] = {}
        for word in row.words:
            at = _starts_in(word, out)
            if at is not None and at in texts:
                per.setdefault(at, []).append(word.text)
        for at, words in per.items():
            texts[at].append(words)
    for i in unknown:
        numbers = [cell.values[i] for cell in cells if i in cell.values]
        lettered = sum(any(any(ch.isalpha() for ch in t) for t in words) for words in texts[i])
        if out[i].kind == "col_number" or (numbers and lettered <= len(numbers) // 2):
            out[i].kind = _number_role(numbers)
        else:
            out[i].kind = _word_role(texts[i])
    if "col_description" not in {c.kind for c in out}:
        prose = [i for i in unknown if out[i].kind == "col_text"]
        if prose:
            widest = max(prose, key=lambda i: sum(len(" ".join(t)) for t in texts[i]))
            out[widest].kind = "col_description"
    return out


def _starts_in(word: Word, columns: list[Column]) -> int | None:
    """The column a word starts in: the last one whose left edge is at or before it."""
    starts = [i for i, c in enumerate(columns) if c.x0 <= word.x0 + 3]
    if starts:
        return max(starts, key=lambda i: columns[i].x0)
    return None


def _number_role(values: list[float]) -> str:
    """Whole numbers counting up by one (1, 2, 3, or 10, 20, 30) are positions."""
    if len(values) < 2 or not all(v == int(v) and v > 0 for v in values):
        return "col_number"
    step = values[1] - values[0]
    if step in (1, 10) and all(b - a == step for a, b in pairwise(values)):
        return "col_pos"
    return "col_number"


def _word_role(cells: list[list[str]]) -> str:
    """Codes in every row ("X50067", "10-5767") are SKUs; one short word a unit; prose text."""
    if not cells:
        return "col_text"
    single = [c[0] for c in cells if len(c) == 1]
    if len(single) >= 0.6 * len(cells):
        if sum(bool(_CODE.match(t)) for t in single) >= 0.6 * len(cells):
            return "col_sku"
        if all(t.rstrip(".").isalpha() and len(t) <= 5 for t in single):
            return "col_unit"
    return "col_text"


# --- a table whose header words no vocabulary knows -------------------------------------------


def header_over(
    rows: list[Row], r: int, spans: list[NumberSpan], height: float
) -> tuple[tuple[int, ...], list[Column]] | None:
    """The row of words (or two stacked rows) just over a table's first item whose cells line
    up with its numbers: the header, as (its rows, its cells); None when there is none."""
    top = rows[r].top
    for h in range(r - 1, max(-1, r - 4), -1):
        row = rows[h]
        if top - row.bottom > 4 * height:
            return None
        if not _names_columns(row.words) or len(row.words) < 2:
            top = row.top
            continue
        stacked = h > 0 and row.top - rows[h - 1].bottom < 0.8 * height and _names_columns(rows[h - 1].words)
        words = stacked_words(rows[h - 1], row) if stacked else row.words
        cells = _header_cells(words, height)
        aligned = sum(column_of(s.x0, s.x1, cells, height) is not None for s in spans)
        if len(cells) >= 3 and aligned >= 2:
            return ((h - 1, h) if stacked else (h,)), cells
        top = row.top
    return None


def with_unnamed_cells(words: list[Word], columns: list[Column], height: float) -> list[Column]:
    """The header's columns and its words no vocabulary named ("Artikelbeschreibung", a word
    OCR misread), as "col_text" columns whose role the body will tell."""
    free = [w for w in words if not any(w.x0 <= c.x1 and c.x0 <= w.x1 for c in columns)]
    if not free:
        return columns
    extra = [c for c in _header_cells(free, height) if c.kind == "col_text"]
    return sorted([*columns, *extra], key=lambda c: c.x0) if extra else columns


def _names_columns(words: list[Word]) -> bool:
    """Words, not values: no amount, date, time or number of two digits or more."""
    return not any(is_money(w.text) or sum(c.isdigit() for c in w.text) >= 2 for w in words)


def _header_cells(words: list[Word], height: float) -> list[Column]:
    """A header row's cells (split at column gaps), named where the vocabulary knows the words."""
    columns: list[Column] = []
    for segment in cell_segments(words, height, 0.8):
        cell = [words[i] for i in segment]
        texts = [w.text for w in cell]
        matches = match_words(texts)
        whole = len(matches) == 1 and matches[0].start == 0 and matches[0].end == len(texts)
        kind = matches[0].kinds[0] if whole and len(matches[0].kinds) == 1 else "col_text"
        box = union([w.bbox for w in cell])
        columns.append(Column(kind, box[0], box[2], " ".join(texts)))
    return columns


def columns_of_row(row: Row, spans: tuple[NumberSpan, NumberSpan, NumberSpan]) -> list[Column]:
    """Columns from one item row alone: its quantity, price and amount, and its text as the
    description (a table printed without any header)."""
    used = {i for s in spans for i in range(s.start, s.end)}
    columns = [Column(role, s.x0, s.x1) for s, role in zip(spans, ROLES, strict=True)]
    # The description: the first run of words with letters that no number interrupts.
    run: list[Word] = []
    for i, word in enumerate(row.words):
        if i in used:
            if run:
                break
            continue
        if run or (any(c.isalpha() for c in word.text) and not is_currency(word.text)):
            run.append(word)
    if run:
        columns.append(Column("col_description", run[0].x0, run[-1].x1))
    return sorted(columns, key=lambda c: c.x0)
