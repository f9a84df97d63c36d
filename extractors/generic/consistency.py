"""Consistency checks that choose between candidates: lines sum, subtotal + tax = total, due >= issued.

A document's numbers must agree with each other; when the best-scored candidates disagree and
a slightly lower-scored combination agrees, the agreeing combination is almost always right.
The checks also set confidence: a field confirmed by arithmetic is more certain than one that
merely scored highest.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from extractors.generic.candidates import Candidate
from extractors.generic.settings import DEFAULT, GenericSettings

CENT = DEFAULT.cent
SUMMED = "rate_sum"
# A document with several VAT rates prints its amounts per rate; the amount over all rates is
# the one asked for, so it edges out any single rate's row.
SUM_EDGE = 0.05


@dataclass(slots=True)
class Choice:
    candidate: Candidate | None
    confidence: float


def _top(cands: Sequence[Candidate], top: int) -> list[Candidate | None]:
    ranked = sorted(cands, key=lambda c: -c.score)
    unique: list[Candidate | None] = []
    seen: set[object] = set()
    for c in ranked:
        if c.value in seen:
            continue
        seen.add(c.value)
        unique.append(c)
        if len(unique) == top:
            break
    return [*unique, None]


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(abs(a) - abs(b)) <= CENT


def choose_totals(
    subtotals: Sequence[Candidate],
    taxes: Sequence[Candidate],
    totals: Sequence[Candidate],
    lines_sum: Decimal | None,
    labelled: Collection[str] = (),
    settings: GenericSettings = DEFAULT,
) -> dict[str, Choice]:
    """The best (subtotal, tax, total) combination by score plus agreement bonuses.

    ``labelled`` names the label kinds printed on the document. When OCR left a labelled amount
    unreadable, the lines sum stands in for the subtotal, and the one amount still missing is
    derived from the other two (with low confidence and no box): the label shows it is printed.
    """
    subtotals = [*subtotals, *rate_sums(subtotals)]
    taxes = [*taxes, *rate_sums(taxes)]
    totals = [*totals, *rate_sums(totals)]
    if (
        lines_sum is not None
        and lines_sum > 0
        and "subtotal" in labelled
        and all(not _close(c.value, lines_sum) for c in subtotals)
    ):
        # Only the printed tax and total can confirm it: its agreement with the lines is circular.
        subtotals = [*subtotals, _derived("subtotal", lines_sum, totals or subtotals, 0.3)]
    best: tuple[float, tuple[Candidate | None, ...], dict[str, bool]] | None = None
    top, bonus = settings.combination_top, settings.agreement_bonus
    for s, t, g in itertools.product(_top(subtotals, top), _top(taxes, top), _top(totals, top)):
        s, t, g = _repair_separator(s, t, g)
        summed = [c for c in (s, t, g) if c is not None and c.relation == SUMMED]
        if summed and not (
            s is not None and t is not None and g is not None and _close(s.value + t.value, g.value)
        ):
            continue  # a sum of rate rows stands only when the totals add up with it
        score = sum(c.score for c in (s, t, g) if c is not None)
        checks: dict[str, bool] = {}
        if s is not None and t is not None and g is not None:
            checks["sum"] = _close(s.value + t.value, g.value)
        if lines_sum is not None and s is not None:
            if s.relation != "derived":
                checks["lines"] = _close(lines_sum, s.value)
        elif lines_sum is not None and g is not None and t is None:
            checks["lines"] = _close(lines_sum, g.value)
        elif lines_sum is not None and g is not None and t is not None:
            # No subtotal printed: the lines plus the tax must make the total.
            checks["lines"] = _close(lines_sum + t.value, g.value)
        failed = len(checks) - sum(checks.values())
        score += bonus * sum(checks.values()) - settings.failed_check_share * bonus * failed
        if best is None or score > best[0]:
            best = (score, (s, t, g), checks)
    if best is None:
        return {}
    _, (s, t, g), checks = best
    agreed = all(checks.values()) and bool(checks)
    out = {}
    for name, cand in (("subtotal", s), ("tax_amount", t), ("total", g)):
        out[name] = Choice(cand, _confidence(cand, agreed))
    present = [c for c in (s, t, g) if c is not None]
    if len(present) == 2 and not any(c.relation == "derived" for c in present):
        missing = next(n for n, c in (("subtotal", s), ("tax_amount", t), ("total", g)) if c is None)
        value = {
            "subtotal": g.value - t.value if g is not None and t is not None else None,
            "tax_amount": g.value - s.value if g is not None and s is not None else None,
            "total": s.value + t.value if s is not None and t is not None else None,
        }[missing]
        if missing in labelled and value is not None and value > 0 and _plausible_rate(s, t, value, missing):
            out[missing] = Choice(_derived(missing, value, present, 0.0), 0.4)
    return out


def rate_sums(cands: Sequence[Candidate]) -> list[Candidate]:
    """The sum of an amount printed once per VAT rate: the document's amount over all rates.

    Two shapes: a breakdown table whose column label ("Nettobetrag", "MwSt.-Betrag") stands over
    one row per rate, and a totals block with one labelled tax row per rate ("zzgl. 7 % MwSt.",
    "zzgl. 19 % MwSt.") whose amounts stand in one column. A sum row the column already prints
    is the same value and simply agrees with it; otherwise the sum is a candidate of its own,
    which the caller keeps only when subtotal + tax = total holds with it.
    """
    out: list[Candidate] = []
    columns: dict[tuple[object, ...], list[Candidate]] = {}
    for c in cands:
        if c.relation == "below" and c.label is not None:
            key: tuple[object, ...] = ("below", c.page, id(c.label))
        elif c.field == "tax_amount" and c.relation in ("right", "right_gap"):
            key = ("right", c.page, round(c.bbox[2] / 4))
        else:
            continue
        columns.setdefault(key, []).append(c)
    for group in columns.values():
        rows = sorted({c.bbox[1]: c for c in group}.values(), key=lambda c: c.bbox[1])
        if len(rows) < 2 or not _stacked(rows):
            continue
        if len(rows) >= 3 and _close(sum((c.value for c in rows[:-1]), Decimal(0)), rows[-1].value):
            # The column prints its sum row: that row is the amount over all rates.
            rows[-1].score = max(c.score for c in rows) + SUM_EDGE
            continue
        parts = rows
        value = sum((c.value for c in parts), Decimal(0))
        if any(_close(value, c.value) for c in cands):
            continue
        bbox = (
            min(c.bbox[0] for c in parts),
            parts[0].bbox[1],
            max(c.bbox[2] for c in parts),
            parts[-1].bbox[3],
        )
        top = max(parts, key=lambda c: c.score)
        summed = Candidate(
            top.field, value, " + ".join(c.text for c in parts), top.page, bbox, SUMMED, top.label,
            {**top.features, "rate_rows": float(len(parts))}, score=top.score + SUM_EDGE,
        )  # fmt: skip
        out.append(summed)
    return out


def _stacked(rows: Sequence[Candidate]) -> bool:
    """Rows directly under each other: no more than about two row heights apart."""
    for upper, lower in itertools.pairwise(rows):
        height = max(upper.bbox[3] - upper.bbox[1], 1.0)
        if lower.bbox[1] - upper.bbox[3] > 2.5 * height:
            return False
    return True


def _plausible_rate(s: Candidate | None, t: Candidate | None, value: Decimal, missing: str) -> bool:
    """The tax the derivation implies is a VAT rate some country charges (above 0, at most 35 %).

    A misread amount ("20" for "5,065.20") would otherwise derive a tax larger than the goods.
    """
    net = value if missing == "subtotal" else (s.value if s is not None else None)
    tax = value if missing == "tax_amount" else (t.value if t is not None else None)
    if net is None or tax is None or net <= 0:
        return False
    return Decimal(0) < tax <= Decimal("0.35") * net


def _derived(name: str, value: Decimal, near: Sequence[Candidate], score: float) -> Candidate:
    """An amount the document prints but OCR could not read, computed from amounts it could."""
    anchor = near[0] if near else None
    page, bbox = (anchor.page, anchor.bbox) if anchor is not None else (1, (0.0, 0.0, 0.0, 0.0))
    return Candidate(name, value, format(value, "f"), page, bbox, "derived", score=score)


def _repair_separator(
    s: Candidate | None, t: Candidate | None, g: Candidate | None
) -> tuple[Candidate | None, Candidate | None, Candidate | None]:
    """Restore a decimal mark OCR lost ("551525" for "5515,25") when the other two amounts imply it.

    Only an amount whose digits are exactly the digits of the implied value is repaired, so a
    wrong amount is never replaced by arithmetic alone.
    """
    if s is None or t is None or g is None or _close(s.value + t.value, g.value):
        return s, t, g
    implied = (("s", g.value - t.value, s), ("t", g.value - s.value, t), ("g", s.value + t.value, g))
    for which, value, cand in implied:
        if (
            value > 0
            and "." not in cand.text
            and "," not in cand.text
            and _digits(cand.value) == _digits(value)
        ):
            fixed = dataclasses.replace(cand, value=value, features={**cand.features, "repaired": 1.0})
            return (fixed if which == "s" else s, fixed if which == "t" else t, fixed if which == "g" else g)
    return s, t, g


def _digits(value: Decimal) -> str:
    return "".join(c for c in format(abs(value), "f") if c.isdigit()).lstrip("0")


def choose_dates(
    issued: Sequence[Candidate], due: Sequence[Candidate], settings: GenericSettings = DEFAULT
) -> dict[str, Choice]:
    """Best (invoice date, due date) pair where the due date is not before the invoice date."""
    best: tuple[float, Candidate | None, Candidate | None] | None = None
    top = settings.combination_top
    for i, d in itertools.product(_top(issued, top), _top(due, top)):
        score = sum(c.score for c in (i, d) if c is not None)
        if i is not None and d is not None:
            # Due before issued happens (premiums billed after their due day), so a reversed pair
            # only loses to an ordered one; it does not drop a date that has no rival.
            score += settings.ordered_dates_bonus if d.value >= i.value else -settings.reversed_dates_penalty
            if i.bbox == d.bbox:
                score -= 2.0
        if best is None or score > best[0]:
            best = (score, i, d)
    if best is None:
        return {}
    _, i, d = best
    ordered = i is not None and d is not None and d.value >= i.value
    return {
        "invoice_date": Choice(i, _confidence(i, ordered)),
        "due_date": Choice(d, _confidence(d, ordered)),
    }


def choose(cands: Sequence[Candidate]) -> Choice:
    if not cands:
        return Choice(None, 0.0)
    ranked = sorted(cands, key=lambda c: -c.score)
    top = ranked[0]
    runner = next((c for c in ranked[1:] if c.value != top.value), None)
    margin = top.score - runner.score if runner is not None else 1.0
    return Choice(top, _squash(top.score, margin))


def _confidence(cand: Candidate | None, agreed: bool) -> float:
    if cand is None:
        return 0.0
    base = _squash(cand.score, 0.5)
    return round(min(0.99, base + 0.25) if agreed else base * 0.9, 3)


def _squash(score: float, margin: float) -> float:
    """Map a score and its margin over the runner-up to 0..1 (more margin, more confidence)."""
    value = 0.5 * min(max(score, 0.0), 1.0) + 0.5 * min(max(margin, 0.0), 1.0)
    return round(max(0.01, min(0.99, value)), 3)
