"""Assigns invoice lines to purchase-order lines as one optimal assignment, not first-fit.

Each (invoice line, PO line) pair gets a similarity score from 0 to 100 built from the SKU, the
description (rapidfuzz), the unit price and the quantity; scipy's ``linear_sum_assignment``
then picks the one-to-one pairing with the highest total score. Pairs scoring below the
policy's minimum are worth nothing to the solver, so it never trades a good pair for a
forced bad one, and they are reported as unmatched.

The score is a ranking heuristic, so it is computed in float; every money decision downstream
uses the ``Decimal`` values of the matched lines.

Cost: one solve is O(n^3) in the lines of one invoice and its PO. Callers match one invoice
against its own PO (a few dozen lines), which keeps a batch linear in the number of invoices;
an oversized pair of documents is first split into SKU blocks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process, utils
from scipy.optimize import linear_sum_assignment

from ledgerbot.core.domain import InvoiceLine, POLine

# Weights of the score parts; a matching SKU is the strongest evidence, the quantity the weakest
# (partial invoicing makes quantities differ legitimately). The last, small part only breaks ties
# between otherwise equal PO lines, so the pairing never depends on the order of the lines.
W_SKU, W_DESCRIPTION, W_PRICE, W_QUANTITY, W_TIGHTEST = 0.45, 0.30, 0.15, 0.08, 0.02
PRICE_SLOPE = 4.0  # price closeness reaches 0 at 1 / PRICE_SLOPE = 25% off
NEUTRAL = 50.0  # a part that cannot be compared (missing on one side) neither helps nor hurts
# Above this many cells one dense solve gets slow (cubic); the lines are split by SKU first.
MAX_DENSE_CELLS = 250_000

_NON_ALNUM = re.compile(r"[^0-9A-Z]")


# SKUs and descriptions repeat across orders: normalise each distinct string once.
@lru_cache(maxsize=65536)
def normalise_sku(sku: str | None) -> str | None:
    if not sku:
        return None
    key = _NON_ALNUM.sub("", sku.upper())
    return key or None


@dataclass(frozen=True)
class OpenLine:
    """Where a PO line stands before this document: what may still be billed, and what each
    delivery brought (an invoice usually bills one delivery, so its quantities echo them)."""

    open_quantity: Decimal
    deliveries: frozenset[Decimal] = frozenset()


@dataclass(frozen=True)
class LinePair:
    invoice_line: int  # index into the invoice's lines
    po_line_index: int  # index into the PO's lines
    score: float


@dataclass
class Assignment:
    pairs: list[LinePair] = field(default_factory=list)
    unmatched_invoice: list[int] = field(default_factory=list)
    unmatched_po: list[int] = field(default_factory=list)
    # For an unmatched invoice line: its best score against any PO line (evidence for the clerk).
    best_score: dict[int, float] = field(default_factory=dict)


def _numbers(values: Sequence[object | None]) -> np.ndarray:
    return np.array([float(v) if v is not None else np.nan for v in values], dtype=float)  # type: ignore[arg-type]


def _price_closeness(invoice: np.ndarray, po: np.ndarray) -> np.ndarray:
    """100 when equal, falling to 0 at 25% off the PO price; NEUTRAL when either is missing.

    Steep on purpose: an order often holds the same article twice at slightly different prices,
    and the price is what tells those lines apart.
    """
    left, right = invoice[:, None], po[None, :]
    diff = np.abs(left - right)
    base = np.abs(right)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(base > 0, diff / base, np.where(diff == 0, 0.0, 1.0))
    return np.where(np.isnan(diff), NEUTRAL, 100.0 * np.clip(1.0 - PRICE_SLOPE * relative, 0.0, 1.0))


def _quantity_fit(
    invoice: np.ndarray, open_qty: np.ndarray, delivered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How well the billed quantity fits what is still open on each PO line, and a tie-breaker.

    Fit: 100 when the quantity is within the open quantity, less the more it overruns. Partial
    deliveries are billed in parts, so "close to the ordered quantity" would be the wrong test.
    Tie-breaker, for an order holding the same article on several lines: 100 for the line one of
    whose deliveries had exactly this quantity, else up to 50 for the line it fills most tightly.
    It differs between any two lines that differ in what is open or delivered, so equal scores
    only remain between truly identical lines and the pairing never depends on line order.
    """
    left, right = invoice[:, None], np.maximum(open_qty[None, :], 0.0)
    missing = np.isnan(left) | np.isnan(right)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.where(left <= right, 100.0, np.where(left > 0, 100.0 * right / left, 100.0))
        tightest = np.where(left <= right, 50.0 / (1.0 + (right - left)), 0.0)
    tightest = np.where(delivered, 100.0, tightest)
    return np.where(missing, NEUTRAL, fit), np.where(missing, NEUTRAL, tightest)


def score_matrix(
    invoice_lines: Sequence[InvoiceLine],
    po_lines: Sequence[POLine],
    status: Sequence[OpenLine] | None = None,
) -> np.ndarray:
    """Similarity 0-100 of every invoice line (rows) with every PO line (columns).

    ``status`` (aligned with ``po_lines``) says what each PO line still has open and what its
    deliveries were; without it, the ordered quantity is open and no delivery is known.
    """
    n, m = len(invoice_lines), len(po_lines)
    if n == 0 or m == 0:
        return np.zeros((n, m))
    inv_sku = np.array([normalise_sku(line.sku) for line in invoice_lines], dtype=object)
    po_sku = np.array([normalise_sku(line.sku) for line in po_lines], dtype=object)
    sku_known = (inv_sku != None)[:, None] & (po_sku != None)[None, :]  # noqa: E711 - elementwise
    sku = np.where(sku_known, np.where(inv_sku[:, None] == po_sku[None, :], 100.0, 0.0), NEUTRAL)
    description = _description_scores(
        [line.description or "" for line in invoice_lines], [line.description or "" for line in po_lines]
    )
    price = _price_closeness(
        _numbers([_unit_price(line) for line in invoice_lines]),
        _numbers([line.unit_price for line in po_lines]),
    )
    billed = [line.quantity for line in invoice_lines]
    if status is None:
        open_qty = [line.quantity for line in po_lines]
        delivered = np.zeros((n, m), dtype=bool)
    else:
        open_qty = [st.open_quantity for st in status]
        delivered = np.array(
            [[q is not None and q in st.deliveries for st in status] for q in billed], dtype=bool
        ).reshape(n, m)
    quantity, tightest = _quantity_fit(_numbers(billed), _numbers(open_qty), delivered)
    return (
        W_SKU * sku
        + W_DESCRIPTION * description
        + W_PRICE * price
        + W_QUANTITY * quantity
        + W_TIGHTEST * tightest
    )


@lru_cache(maxsize=65536)
def _processed(description: str) -> str:
    return str(utils.default_process(description))


def _description_scores(left: list[str], right: list[str]) -> np.ndarray:
    """Token-sort similarity (word order and case ignored) of every description pair.

    Token-sort rather than token-set: it is several times faster and scores OCR damage the same;
    token-set would also forgive a shortened description, which price and SKU already cover.
    Descriptions repeat within an order, so each distinct string is scored once.
    """
    left_keys = [_processed(d) for d in left]
    right_keys = [_processed(d) for d in right]
    left_unique = sorted(set(left_keys))
    right_unique = sorted(set(right_keys))
    unique = process.cdist(left_unique, right_unique, scorer=fuzz.token_sort_ratio, dtype=np.float64)
    left_at = {k: i for i, k in enumerate(left_unique)}
    right_at = {k: i for i, k in enumerate(right_unique)}
    scores = unique[np.ix_([left_at[k] for k in left_keys], [right_at[k] for k in right_keys])]
    known = np.array([bool(k) for k in left_keys])[:, None] & np.array([bool(k) for k in right_keys])[None, :]
    return np.where(known, scores, NEUTRAL)


def _unit_price(line: InvoiceLine) -> object | None:
    if line.unit_price is not None:
        return line.unit_price
    if line.amount is not None and line.quantity:
        return abs(line.amount / line.quantity)
    return None


def _solve(
    invoice_lines: Sequence[InvoiceLine],
    po_lines: Sequence[POLine],
    status: Sequence[OpenLine] | None,
    rows: list[int],
    cols: list[int],
    min_score: float,
    out: Assignment,
) -> tuple[set[int], set[int]]:
    """One dense solve over a block of rows and columns; returns the rows and columns it paired."""
    if not rows:
        return set(), set()
    if not cols:
        for r in rows:
            out.best_score.setdefault(r, 0.0)
        return set(), set()
    block = score_matrix(
        [invoice_lines[r] for r in rows],
        [po_lines[c] for c in cols],
        [status[c] for c in cols] if status is not None else None,
    )
    # Pairs under the minimum are worth nothing, so the solver never pays for a forced bad pair.
    useful = np.where(block >= min_score, block, 0.0)
    r_idx, c_idx = linear_sum_assignment(useful, maximize=True)
    used_rows, used_cols = set(), set()
    for r, c in zip(r_idx.tolist(), c_idx.tolist(), strict=True):
        if block[r, c] >= min_score:
            out.pairs.append(LinePair(rows[r], cols[c], round(float(block[r, c]), 2)))
            used_rows.add(rows[r])
            used_cols.add(cols[c])
    if len(used_rows) < len(rows):
        # Evidence for the clerk: how close each unpaired line came to any PO line.
        best = block.max(axis=1)
        for i, r in enumerate(rows):
            if r not in used_rows:
                out.best_score[r] = max(out.best_score.get(r, 0.0), round(float(best[i]), 2))
    return used_rows, used_cols


def match_lines(
    invoice_lines: Sequence[InvoiceLine],
    po_lines: Sequence[POLine],
    *,
    min_score: float = 50.0,
    status: Sequence[OpenLine] | None = None,
) -> Assignment:
    """The best one-to-one pairing of invoice lines with PO lines; unpaired lines on both sides.

    ``status`` (aligned with ``po_lines``): what is open and what was delivered per PO line.
    """
    out = Assignment()
    n, m = len(invoice_lines), len(po_lines)
    if n * m <= MAX_DENSE_CELLS:
        _solve(invoice_lines, po_lines, status, list(range(n)), list(range(m)), min_score, out)
    else:
        _solve_blocked(invoice_lines, po_lines, status, min_score, out)
    paired_rows = {p.invoice_line for p in out.pairs}
    paired_cols = {p.po_line_index for p in out.pairs}
    out.pairs.sort(key=lambda p: p.invoice_line)
    out.unmatched_invoice = [i for i in range(n) if i not in paired_rows]
    out.unmatched_po = [j for j in range(m) if j not in paired_cols]
    out.best_score = {i: out.best_score.get(i, 0.0) for i in out.unmatched_invoice}
    return out


def _solve_blocked(
    invoice_lines: Sequence[InvoiceLine],
    po_lines: Sequence[POLine],
    status: Sequence[OpenLine] | None,
    min_score: float,
    out: Assignment,
) -> None:
    """Very long documents: solve within each SKU first, then the leftovers if they fit one solve."""
    by_sku_inv: dict[str, list[int]] = defaultdict(list)
    by_sku_po: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(invoice_lines):
        key = normalise_sku(line.sku)
        if key:
            by_sku_inv[key].append(i)
    for j, po_line in enumerate(po_lines):
        key = normalise_sku(po_line.sku)
        if key:
            by_sku_po[key].append(j)
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    for key, rows in by_sku_inv.items():
        cols = by_sku_po.get(key, [])
        if cols and len(rows) * len(cols) <= MAX_DENSE_CELLS:
            r, c = _solve(invoice_lines, po_lines, status, rows, cols, min_score, out)
            used_rows |= r
            used_cols |= c
    rest_rows = [i for i in range(len(invoice_lines)) if i not in used_rows]
    rest_cols = [j for j in range(len(po_lines)) if j not in used_cols]
    if len(rest_rows) * len(rest_cols) <= MAX_DENSE_CELLS:
        _solve(invoice_lines, po_lines, status, rest_rows, rest_cols, min_score, out)
    # Otherwise the leftovers stay unmatched and are reported: a clerk looks at them.
