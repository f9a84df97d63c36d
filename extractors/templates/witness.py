"""What a receipt's other amounts say its total is, to catch a digit OCR misread in the total.

A till prints the total together with amounts that add up to it: the net and the tax (and a
rounding adjustment) before it, the amount tendered and the change after it. When both sums
agree on one figure and the total as read is that figure but for one digit, the total was
misread ("112.46" for "112.45") and the figure both sums give was printed.
"""

from __future__ import annotations

from decimal import Decimal

from extractors.generic.labels import tokens
from extractors.templates.anchors import label_weight
from extractors.templates.locate import DocumentView

# Words of a label of the change given back (their payment labels name the amount tendered).
CHANGE_WORDS = frozenset(
    {"change", "ruckgeld", "wechselgeld", "rendu", "monnaie", "wisselgeld", "cambio", "resto"}
)
# Words of a label of the rounding adjustment to the nearest coin.
ROUNDING_WORDS = frozenset(
    {"rounding", "rounded", "rundung", "arrondi", "redondeo", "arrotondamento", "afronding"}
)
# Words of a label of the amount tendered.
PAID_WORDS = frozenset(
    {
        "cash",
        "tendered",
        "paid",
        "payment",
        "bargeld",
        "gegeben",
        "especes",
        "contant",
        "efectivo",
        "contanti",
    }
)


def _labelled_amounts(view: DocumentView, decimal_sep: str | None) -> list[tuple[str, Decimal]]:
    """(label as printed, amount) of each OCR'd row that prints one amount after words."""
    by_row: dict[tuple[int, int], list[tuple[int, Decimal]]] = {}
    for hit in view.hits("amount", decimal_sep=decimal_sep):
        by_row.setdefault((hit.page, hit.row), []).append((hit.start, hit.value))
    out = []
    for page in view.pages:
        if not page.ocr:
            continue
        for r, row in enumerate(page.rows):
            found = by_row.get((page.number, r))
            if not found or len(found) > 1:
                continue
            start, value = found[0]
            label = row.text_of(0, start)
            if tokens(label) and not any(ch.isdigit() for ch in label):
                out.append((label, value))
    return out


def witnessed_total(view: DocumentView, decimal_sep: str | None) -> Decimal | None:
    """The total that tendered - change and net + tax (+ rounding) both give, or None."""
    paid = change = net = tax = None
    rounding = Decimal(0)
    for label, value in _labelled_amounts(view, decimal_sep):
        words = set(tokens(label))
        if words & CHANGE_WORDS:
            change = abs(value) if change is None else change
        elif words & PAID_WORDS and label_weight("total", label) < 0:
            paid = abs(value) if paid is None else paid
        elif words & ROUNDING_WORDS and label_weight("total", label) <= 0:
            rounding = value
        elif net is None and label_weight("subtotal", label) > 0:
            net = abs(value)
        elif tax is None and label_weight("tax_amount", label) > 0:
            tax = abs(value)
    if paid is None or change is None or net is None or tax is None:
        return None
    given = paid - change
    summed = net + tax + rounding
    return given if given == summed and given > 0 else None


def one_digit_apart(a: Decimal, b: Decimal) -> bool:
    """Whether two amounts printed with cents differ in exactly one digit ("112.46"/"112.45")."""
    x, y = f"{abs(a):.2f}", f"{abs(b):.2f}"
    return len(x) == len(y) and sum(p != q for p, q in zip(x, y, strict=True)) == 1
