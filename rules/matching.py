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

import numpy as np
from rapidfuzz import fuzz, process, utils
from scipy.optimize import linear_sum_assignment

from ledgerbot.domain import InvoiceLine, POLine

# Weights of the score parts; a matching SKU is the strongest evidence, the quantity the weakest
# (partial invoicing makes quantities differ legitimately).
W_SKU, W_DESCRIPTION, W_PRICE, W_QUANTITY = 0.45, 0.30, 0.15, 0.10
NEUTRAL = 50.0  # a part that cannot be compared (missing on one side) neither helps nor hurts
# Above this many cells one dense solve gets slow (cubic); the lines are split by SKU first.
MAX_DENSE_CELLS = 250_000

_NON_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise_sku(sku: str | None) -> str | None:
    if not sku:
        return None
    key = _NON_ALNUM.sub("", sku.upper())
    return key or None


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


def _closeness(a: np.ndarray, b: np.ndarray, *, relative_to: str) -> np.ndarray:
    """100 when equal, falling linearly to 0 at a 100% difference; NEUTRAL when either is missing."""
    left, right = a[:, None], b[None, :]
    diff = np.abs(left - right)
    base = np.abs(right) if relative_to == "po" else np.maximum(np.abs(left), np.abs(right))
    with np.errstate(divide="ignore", invalid="ignore"):
        closeness = np.where(
            base > 0, 100.0 * np.clip(1.0 - diff / base, 0.0, 1.0), np.where(diff == 0, 100.0, 0.0)
        )
    return np.where(np.isnan(diff), NEUTRAL, closeness)


def score_matrix(invoice_lines: Sequence[InvoiceLine], po_lines: Sequence[POLine]) -> np.ndarray:
    """Similarity 0-100 of every invoice line (rows) with every PO line (columns)."""
    n, m = len(invoice_lines), len(po_lines)
    if n == 0 or m == 0:
        return np.zeros((n, m))
    inv_sku = np.array([normalise_sku(line.sku) for line in invoice_lines], dtype=object)
    po_sku = np.array([normalise_sku(line.sku) for line in po_lines], dtype=object)
    sku_known = (inv_sku != None)[:, None] & (po_sku != None)[None, :]  # noqa: E711 - elementwise
    sku = np.where(sku_known, np.where(inv_sku[:, None] == po_sku[None, :], 100.0, 0.0), NEUTRAL)

    inv_desc = [line.description or "" for line in invoice_lines]
    po_desc = [line.description or "" for line in po_lines]
    description = process.cdist(
        inv_desc, po_desc, scorer=fuzz.token_set_ratio, processor=utils.default_process, dtype=np.float64
    )
    desc_known = (
        np.array([bool(d.strip()) for d in inv_desc])[:, None]
        & np.array([bool(d.strip()) for d in po_desc])[None, :]
    )
    description = np.where(desc_known, description, NEUTRAL)

    price = _closeness(
        _numbers([_unit_price(line) for line in invoice_lines]),
        _numbers([line.unit_price for line in po_lines]),
        relative_to="po",
    )
    quantity = _closeness(
        _numbers([line.quantity for line in invoice_lines]),
        _numbers([line.quantity for line in po_lines]),
        relative_to="max",
    )
    return W_SKU * sku + W_DESCRIPTION * description + W_PRICE * price + W_QUANTITY * quantity


def _unit_price(line: InvoiceLine) -> object | None:
    if line.unit_price is not None:
        return line.unit_price
    if line.amount is not None and line.quantity:
        return abs(line.amount / line.quantity)
    return None


def _solve(
    invoice_lines: Sequence[InvoiceLine],
    po_lines: Sequence[POLine],
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
    block = score_matrix([invoice_lines[r] for r in rows], [po_lines[c] for c in cols])
    for r, best in zip(rows, block.max(axis=1), strict=True):
        out.best_score[r] = max(out.best_score.get(r, 0.0), round(float(best), 2))
    # Pairs under the minimum are worth nothing, so the solver never pays for a forced bad pair.
    useful = np.where(block >= min_score, block, 0.0)
    r_idx, c_idx = linear_sum_assignment(useful, maximize=True)
    used_rows, used_cols = set(), set()
    for r, c in zip(r_idx, c_idx, strict=True):
        if block[r, c] >= min_score:
            out.pairs.append(LinePair(rows[r], cols[c], round(float(block[r, c]), 2)))
            used_rows.add(rows[r])
            used_cols.add(cols[c])
    return used_rows, used_cols


def match_lines(
    invoice_lines: Sequence[InvoiceLine], po_lines: Sequence[POLine], *, min_score: float = 50.0
) -> Assignment:
    """The best one-to-one pairing of invoice lines with PO lines; unpaired lines on both sides."""
    out = Assignment()
    n, m = len(invoice_lines), len(po_lines)
    if n * m <= MAX_DENSE_CELLS:
        _solve(invoice_lines, po_lines, list(range(n)), list(range(m)), min_score, out)
    else:
        _solve_blocked(invoice_lines, po_lines, min_score, out)
    paired_rows = {p.invoice_line for p in out.pairs}
    paired_cols = {p.po_line_index for p in out.pairs}
    out.pairs.sort(key=lambda p: p.invoice_line)
    out.unmatched_invoice = [i for i in range(n) if i not in paired_rows]
    out.unmatched_po = [j for j in range(m) if j not in paired_cols]
    out.best_score = {i: out.best_score.get(i, 0.0) for i in out.unmatched_invoice}
    return out


def _solve_blocked(
    invoice_lines: Sequence[InvoiceLine], po_lines: Sequence[POLine], min_score: float, out: Assignment
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
            r, c = _solve(invoice_lines, po_lines, rows, cols, min_score, out)
            used_rows |= r
            used_cols |= c
    rest_rows = [i for i in range(len(invoice_lines)) if i not in used_rows]
    rest_cols = [j for j in range(len(po_lines)) if j not in used_cols]
    if len(rest_rows) * len(rest_cols) <= MAX_DENSE_CELLS:
        _solve(invoice_lines, po_lines, rest_rows, rest_cols, min_score, out)
    # Otherwise the leftovers stay unmatched and are reported: a clerk looks at them.
