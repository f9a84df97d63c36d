"""Consistency checks that choose between candidates: lines sum, subtotal + tax = total, due >= issued.

A document's numbers must agree with each other; when the best-scored candidates disagree and
a lower-scored combination agrees, the agreeing combination is almost always right. For the
totals the checks are log odds added to the log chances of a combination's amounts, so a
label the ranker knows and arithmetic that holds are weighed on one scale, and the confidence
of a field is the share of all combinations' weight that gives it its value.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from extractors.generic.candidates import Candidate
from extractors.generic.settings import DEFAULT, GenericSettings
from textlayer.model import BBox

CENT = DEFAULT.cent
TOTAL = 2  # the total's place in a (subtotal, tax, total) combination
SUMMED = "rate_sum"
# A document with several VAT rates prints its amounts per rate; the amount over all rates is
# the one asked for, so it edges out any single rate's row.
SUM_EDGE = 0.05


@dataclass(slots=True)
class Choice:
    candidate: Candidate | None
    confidence: float


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(abs(a) - abs(b)) <= CENT


def choose_totals(
    subtotals: Sequence[Candidate],
    taxes: Sequence[Candidate],
    totals: Sequence[Candidate],
    lines_sum: Decimal | None,
    labelled: Collection[str] = (),
    settings: GenericSettings = DEFAULT,
    line_boxes: Collection[tuple[int, BBox]] = (),
    scanned: Collection[int] = (),
) -> dict[str, Choice]:
    """The most likely (subtotal, tax, total) combination: its amounts' chances and its arithmetic.

    Every amount below the line table is a candidate for all three fields, its label (if any)
    one piece of evidence among others; a combination scores the log chances of its amounts
    plus log odds for each arithmetic check that holds (subtotal + tax = total, the lines add
    up) and minus some for each that fails. A field's confidence is the share of all
    combinations' weight that gives it the chosen value.

    ``line_boxes`` are the (page, box) of the line table's rows; ``scanned`` the numbers of the
    pages read by OCR, whose amounts may carry a digit slip. ``labelled`` names the label
    kinds printed on the document. When OCR left a labelled amount unreadable, the lines sum
    stands in for the subtotal, and the one amount still missing is derived from the other two
    (with low confidence and no box): the label shows it is printed.
    """
    # An amount no label names, printed beside a charge's label (shipping, packing), is none of
    # the three, however the block's arithmetic falls ("Subtotal 79,00 Shipping 5,90 Total 84,90"
    # with the tax included).
    charges = [c for c in subtotals if c.label is None and c.features.get("charge_label")]
    # Discounts on the whole invoice: the lines less one make the net amount.
    discounts = {abs(c.value) for c in subtotals if c.features.get("discount_label")}
    subtotals, taxes, totals = (
        [c for c in role if not (c.label is None and c.features.get("charge_label"))]
        for role in (subtotals, taxes, totals)
    )
    roles = [
        [*subtotals, *rate_sums(subtotals), *with_charges(subtotals, charges)],
        [*taxes, *rate_sums(taxes)],
        [*totals, *rate_sums(totals)],
    ]
    if (
        lines_sum is not None
        and lines_sum > 0
        and "subtotal" in labelled
        and all(not _close(c.value, lines_sum) for c in roles[0])
    ):
        # Only the printed tax and total can confirm it: its agreement with the lines is circular.
        roles[0].append(_derived("subtotal", lines_sum, roles[2] or roles[0], 0.3))
    prob = _role_probabilities(roles, settings)
    tendered = _tendered(roles)
    unprinted = (settings.unprinted_net, settings.unprinted_tax, settings.unprinted_total)
    absent = [_log(p, settings) for p in unprinted]
    top = settings.combination_top
    # The best-scored values of each field, and every triple that adds up (each tried once); the
    # amounts paid are tried as the total however low their score.
    tops = [_top(role, top, prob) for role in roles]
    tops[TOTAL] += _paid(roles[TOTAL], tendered, tops[TOTAL])
    combinations = {
        tuple(map(id, combination)): combination
        for combination in itertools.chain(itertools.product(*tops), _agreeing(roles, prob, settings))
    }
    scored: list[Scored] = []
    for combination in combinations.values():
        s, t, g = _repair_separator(combination[0], combination[1], combination[2], scanned)
        if not _possible(s, t, g, settings):
            continue
        summed = [c for c in (s, t, g) if c is not None and c.relation == SUMMED]
        if summed and not (
            s is not None and t is not None and g is not None and _close(s.value + t.value, g.value)
        ):
            continue  # a sum of rate rows stands only when the totals add up with it
        score = sum(
            absent[i] if c is None else _log(prob.get(id(c), c.score), settings)
            for i, c in enumerate((s, t, g))
        )
        checks = _checks(s, t, g, lines_sum, line_boxes, discounts)
        if (
            g is not None
            and _key(abs(g.value)) in tendered
            and g.features.get("other_amount_label", 0.0) == 0
        ):
            checks["tender"] = True
        score += _evidence(checks, settings)
        scored.append((score, (s, t, g)))
    if not scored:
        return {}
    best_score, (s, t, g) = max(scored, key=lambda x: x[0])
    out = {}
    for i, (name, cand) in enumerate((("subtotal", s), ("tax_amount", t), ("total", g))):
        out[name] = Choice(cand, _marginal(scored, best_score, i, cand) if cand is not None else 0.0)
    if g is not None:
        payable = _rounded(g, roles, settings)
        if payable is not None:
            out["total"] = Choice(payable, out["total"].confidence)
    present = [c for c in (s, t, g) if c is not None]
    if len(present) == 2 and not any(c.relation == "derived" for c in present):
        missing = next(n for n, c in (("subtotal", s), ("tax_amount", t), ("total", g)) if c is None)
        value = {
            "subtotal": g.value - t.value if g is not None and t is not None else None,
            "tax_amount": g.value - s.value if g is not None and s is not None else None,
            "total": s.value + t.value if s is not None and t is not None else None,
        }[missing]
        if (
            missing in labelled
            and value is not None
            and value > 0
            and _plausible_rate(s, t, value, missing, settings)
            # The difference is a charge the page prints (shipping on a gross-priced order).
            and not any(_close(value, c.value) for c in charges)
        ):
            out[missing] = Choice(_derived(missing, value, present, 0.0), settings.derived_amount_confidence)
        elif missing == "tax_amount" and s is not None and g is not None and _close(s.value, g.value):
            # Rule: the net amount is the amount due, and no tax is printed: none is charged (a
            # small business, an exempt supply, reverse charge), as the e-invoice states it: 0.00.
            zero = Decimal(0).quantize(Decimal("0.01"))
            out[missing] = Choice(_derived(missing, zero, present, 0.0), settings.untaxed_confidence)
    return out


Scored = tuple[float, tuple[Candidate | None, Candidate | None, Candidate | None]]


def _log(p: float, settings: GenericSettings) -> float:
    """The log of a chance, kept off 0 and 1 (no score is certain)."""
    floor = settings.probability_floor
    return math.log(min(max(p, floor), 1.0 - floor))


def _role_probabilities(roles: Sequence[Sequence[Candidate]], settings: GenericSettings) -> dict[int, float]:
    """Each candidate's chance of being its field's amount, with one printed amount in one role.

    A value no label claims for a field may be another field's labelled value ("Total 385,92"
    is no subtotal): its chance is what the other field's labelled candidates of that value
    leave over. A value beside the label of another kind of amount (cash tendered, change,
    a sum carried over) is none of the three. Keyed by ``id()`` of the candidate.
    """
    claims: dict[Decimal, list[tuple[int, float]]] = {}
    for role, cands in enumerate(roles):
        for c in cands:
            if c.label is not None and c.relation != "derived":
                claims.setdefault(c.value, []).append((role, c.score))
    largest = max((abs(c.value) for c in roles[TOTAL] if c.features.get("totals_region")), default=Decimal(0))
    out: dict[int, float] = {}
    for role, cands in enumerate(roles):
        for c in cands:
            p = min(max(c.score, 0.0), 1.0)
            if c.label is None:
                here = claims.get(c.value, ())
                claimed = [claim for other, claim in here if other != role]
                if role != TOTAL and c.features.get("totals_region"):
                    # Below the line table, an amount no label names is the subtotal or the tax
                    # about as often as any other amount of the block: arithmetic will tell. One
                    # of several amounts in its row is a cell of a breakdown, less often either.
                    p = max(p, settings.unlabelled_prior / max(c.features.get("row_amounts", 1.0), 1.0))
                elif role == TOTAL and c.features.get("totals_region") and abs(c.value) == largest:
                    # The total is the largest amount of the totals block more often than not.
                    p = max(p, settings.largest_total_prior)
                for claim in claimed:
                    p *= 1.0 - min(max(claim, 0.0), 1.0)
                p *= 1.0 - c.features.get("other_amount_label", 0.0)
            out[id(c)] = p
    return out


def _top(
    cands: Sequence[Candidate], top: int, prob: dict[int, float] | None = None
) -> list[Candidate | None]:
    """The ``top`` likeliest distinct values (the likeliest candidate of each), and None."""
    chance = prob or {}
    ranked = sorted(cands, key=lambda c: -chance.get(id(c), c.score))
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


def _checks(
    s: Candidate | None,
    t: Candidate | None,
    g: Candidate | None,
    lines_sum: Decimal | None,
    line_boxes: Collection[tuple[int, BBox]],
    discounts: Collection[Decimal] = (),
) -> dict[str, bool]:
    """The arithmetic a combination can be checked by, and whether it holds.

    subtotal + tax = total; the lines add up to the subtotal (less a discount on the whole
    invoice the page prints), or to the total when they are priced with tax (receipts).
    """
    checks: dict[str, bool] = {}
    if s is not None and t is not None and g is not None:
        checks["sum"] = _close(s.value + t.value, g.value)
    if lines_sum is None:
        return checks
    if any(_in_lines(c, line_boxes) for c in (s, g) if c is not None):
        return checks  # an amount printed in a line row: its agreement with the lines is circular
    if s is not None:
        if s.relation != "derived":
            # A net amount with charges added: the lines make its goods' part.
            goods = s.features.get("goods")
            checks["lines"] = (
                _close(lines_sum, s.value)
                or (g is not None and _close(lines_sum, g.value))
                or (goods is not None and _close(lines_sum, Decimal(str(goods))))
                or any(_close(lines_sum - discount, s.value) for discount in discounts)
            )
    elif g is not None and t is None:
        checks["lines"] = _close(lines_sum, g.value)
    elif g is not None and t is not None:
        # No subtotal printed: the lines plus the tax make the total, or the lines are gross.
        checks["lines"] = _close(lines_sum + t.value, g.value) or _close(lines_sum, g.value)
    return checks


def _evidence(checks: dict[str, bool], settings: GenericSettings) -> float:
    """Log odds the arithmetic checks add to a combination: for each that holds, against each that fails."""
    gain = {
        "sum": settings.agreement_log_odds,
        "lines": settings.lines_log_odds,
        "tender": settings.tender_log_odds,
    }
    loss = {
        "sum": settings.disagreement_log_odds,
        "lines": settings.lines_disagreement_log_odds,
        "tender": 0.0,
    }
    return sum(gain[name] if held else -loss[name] for name, held in checks.items())


def _tendered(roles: Sequence[Sequence[Candidate]]) -> set[int]:
    """Amounts (in cents) paid for the document: what was tendered less the change given back.

    Both are printed beside a payment label ("Cash 50.00" over "Change 3.75", the words of any
    language the vocabulary holds); which is which the arithmetic says: the larger less the
    smaller. One amount alone says nothing: it may be the change as well as the payment.
    """
    paid: dict[tuple[int, BBox], Decimal] = {}
    for role in roles:
        for c in role:
            if c.relation != "derived" and c.features.get("other_amount_label", 0.0) > 0 and c.value >= 0:
                paid[(c.page, c.bbox)] = c.value
    values = sorted(paid.values())
    return {_key(big - small) for i, small in enumerate(values) for big in values[i + 1 :] if big > small}


def _is_paid(c: Candidate, tendered: set[int]) -> bool:
    """The amount is what was paid, and is not itself printed beside a payment label."""
    return _key(abs(c.value)) in tendered and not c.features.get("other_amount_label", 0.0)


def _paid(
    totals: Sequence[Candidate], tendered: set[int], tried: Sequence[Candidate | None]
) -> list[Candidate | None]:
    """The likeliest candidate of each paid amount the best-scored ones do not hold already."""
    seen = {c.value for c in tried if c is not None}
    out: list[Candidate | None] = []
    for c in sorted(totals, key=lambda c: -c.score):
        if c.value not in seen and _is_paid(c, tendered):
            seen.add(c.value)
            out.append(c)
    return out


def _in_lines(c: Candidate, line_boxes: Collection[tuple[int, BBox]]) -> bool:
    """The candidate stands in a row of the line table (its middle inside a line's box)."""
    middle = (c.bbox[1] + c.bbox[3]) / 2
    return any(page == c.page and box[1] <= middle <= box[3] for page, box in line_boxes)


def _marginal(scored: Sequence[Scored], best: float, role: int, chosen: Candidate) -> float:
    """The share of all combinations' weight (exp of their score) that gives the field this value."""
    total = agree = 0.0
    for score, combination in scored:
        weight = math.exp(score - best)
        total += weight
        c = combination[role]
        if c is not None and _close(c.value, chosen.value):
            agree += weight
    return round(min(0.99, agree / total), 3) if total else 0.0


def _rounded(
    total: Candidate, roles: Sequence[Sequence[Candidate]], settings: GenericSettings
) -> Candidate | None:
    """The payable amount when the document rounds the total it worked out ("Rounding -0,02").

    Another amount within a rounding step of the total, a whole multiple of that step where
    the total is not, and the difference printed as an amount of its own: the rounded one is
    what is paid.
    """
    step = settings.rounding_step
    if total.value % step == 0:
        return None
    printed = {_key(abs(c.value)) for role in roles for c in role if c.relation != "derived"}
    for c in sorted(roles[TOTAL], key=lambda c: -c.score):
        gap = abs(c.value - total.value)
        if (
            c.relation != "derived"
            and 0 < gap < step
            and c.value % step == 0
            and (c.value > 0) == (total.value > 0)
            and _key(gap) in printed
        ):
            return c
    return None


def _key(value: Decimal) -> int:
    """An amount in whole cents, to look amounts up by value."""
    return int((value * 100).to_integral_value())


def _by_value(cands: Sequence[Candidate], prob: dict[int, float]) -> dict[int, list[Candidate]]:
    """Candidates by their value in cents, likeliest first (a value printed twice has two boxes)."""
    out: dict[int, list[Candidate]] = {}
    for c in sorted(cands, key=lambda c: -prob.get(id(c), c.score)):
        if c.relation != "derived":
            out.setdefault(_key(c.value), []).append(c)
    return out


def _agreeing(
    roles: Sequence[Sequence[Candidate]], prob: dict[int, float], settings: GenericSettings
) -> list[tuple[Candidate, Candidate, Candidate]]:
    """Every (subtotal, tax, total) whose amounts add up, each role's likeliest candidate of that value.

    Whatever words stand beside them, three printed amounts of which one is the sum of the
    other two and the smaller part a plausible tax on the larger are likely the totals; the
    search looks past the few likeliest candidates of each field for them, so a label no
    vocabulary knows costs its value only its score, not its place in the search.
    """
    nets, tax_values, by_total = (_by_value(role, prob) for role in roles)
    tax_keys = sorted(k for k in tax_values if k != 0)
    out: list[tuple[Candidate, Candidate, Candidate]] = []
    for s_key, s_cands in nets.items():
        s = s_cands[0]
        # Only taxes of the net amount's sign and at most the largest share of it can fit.
        reach = int(abs(s_key) * settings.max_tax_share)
        low, high = (0, reach) if s_key > 0 else (-reach, 0)
        for t_key in tax_keys[bisect.bisect_left(tax_keys, low) : bisect.bisect_right(tax_keys, high)]:
            t = next((c for c in tax_values[t_key] if not _same_print(c, s)), None)
            if t is None or not _plausible_tax(s.value, t.value, settings):
                continue
            want = s_key + t_key
            for key in (want, want - 1, want + 1):
                fits = (c for c in by_total.get(key, ()) if not _same_print(c, s) and not _same_print(c, t))
                g = next(fits, None)
                if g is not None:
                    out.append((s, t, g))
                    break
    return out


def _same_print(a: Candidate | None, b: Candidate | None) -> bool:
    """One printed amount (same box, same value) standing for two fields."""
    return a is not None and b is not None and a.page == b.page and a.bbox == b.bbox and a.value == b.value


def _plausible_tax(net: Decimal, tax: Decimal, settings: GenericSettings) -> bool:
    """Tax and net have one sign and the tax is at most the highest VAT rate of the net amount."""
    if net == 0:
        return tax == 0
    if (net < 0) != (tax < 0) and tax != 0:
        return False
    return abs(tax) <= settings.max_tax_share * abs(net)


def _possible(
    s: Candidate | None, t: Candidate | None, g: Candidate | None, settings: GenericSettings
) -> bool:
    """A combination the document can print: no amount in two roles, a tax that fits the net."""
    if _same_print(s, t) or _same_print(s, g) or _same_print(t, g):
        return False
    if s is None and t is not None and g is not None:
        # The tax is part of the total: at most the highest rate's share of the gross amount.
        share = settings.max_tax_share / (1 + settings.max_tax_share)
        return (t.value == 0 or (t.value > 0) == (g.value > 0)) and abs(t.value) <= share * abs(g.value)
    return s is None or t is None or _plausible_tax(s.value, t.value, settings)


def rate_sums(cands: Sequence[Candidate]) -> list[Candidate]:
    """The sum of an amount printed once per VAT rate: the document's amount over all rates.

    Two shapes: a breakdown table whose column label ("Nettobetrag", "MwSt.-Betrag") stands over
    one row per rate, and a totals block with one labelled tax row per rate ("zzgl. 7 % MwSt.",
    "zzgl. 19 % MwSt.") whose amounts stand in one column; net rows labelled one under the
    other ("Goods net", "Shipping net") are summed alike. A sum row the column already prints
    is the same value and simply agrees with it; otherwise the sum is a candidate of its own,
    which the caller keeps only when subtotal + tax = total holds with it.
    """
    out: list[Candidate] = []
    columns: dict[tuple[object, ...], list[Candidate]] = {}
    for c in cands:
        if c.relation == "below" and c.label is not None:
            key: tuple[object, ...] = ("below", c.page, id(c.label))
        elif c.field in ("tax_amount", "subtotal") and c.relation in ("right", "right_gap"):
            key = ("right", c.page, round(c.bbox[2] / 4))
        else:
            continue
        columns.setdefault(key, []).append(c)
    for group in columns.values():
        rows = sorted({c.bbox[1]: c for c in group}.values(), key=lambda c: c.bbox[1])
        if len(rows) < 2 or not _stacked(rows):
            continue
        if _close(sum((c.value for c in rows[:-1]), Decimal(0)), rows[-1].value):
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
        features = {**top.features, "rate_rows": float(len(parts))}
        if top.field == "subtotal":
            # Net rows one under the other ("Goods net", "Shipping net"): the lines make the first.
            features["goods"] = float(parts[0].value)
        summed = Candidate(
            top.field, value, " + ".join(c.text for c in parts), top.page, bbox, SUMMED, top.label,
            features, score=top.score + SUM_EDGE,
        )  # fmt: skip
        out.append(summed)
    return out


def with_charges(subtotals: Sequence[Candidate], charges: Sequence[Candidate]) -> list[Candidate]:
    """The goods' subtotal plus the charges printed under it in its column ("Subtotal 79,00",
    "Shipping 5,90"): the net amount the tax is worked out on. A candidate of its own, which the
    caller keeps only when subtotal + tax = total holds with it."""
    out: list[Candidate] = []
    for head in subtotals:
        if head.label is None or head.relation not in ("right", "right_gap", "below"):
            continue
        column = [
            c
            for c in charges
            if c.page == head.page and c.bbox[1] > head.bbox[1] and abs(c.bbox[2] - head.bbox[2]) < 4
        ]
        rows = [head, *sorted({c.bbox[1]: c for c in column}.values(), key=lambda c: c.bbox[1])]
        while len(rows) > 1 and not _stacked(rows):
            rows.pop()
        if len(rows) < 2:
            continue
        value = sum((c.value for c in rows), Decimal(0))
        bbox = (head.bbox[0], head.bbox[1], max(c.bbox[2] for c in rows), rows[-1].bbox[3])
        features = {**head.features, "rate_rows": float(len(rows)), "goods": float(head.value)}
        text = " + ".join(c.text for c in rows)
        summed = Candidate(head.field, value, text, head.page, bbox, SUMMED, head.label, features)
        summed.score = head.score + SUM_EDGE
        out.append(summed)
    return out


def _stacked(rows: Sequence[Candidate]) -> bool:
    """Rows directly under each other: no more than about two row heights apart."""
    for upper, lower in itertools.pairwise(rows):
        height = max(upper.bbox[3] - upper.bbox[1], 1.0)
        if lower.bbox[1] - upper.bbox[3] > 2.5 * height:
            return False
    return True


def _plausible_rate(
    s: Candidate | None, t: Candidate | None, value: Decimal, missing: str, settings: GenericSettings
) -> bool:
    """The tax the derivation implies is a VAT rate some country charges (above 0, at most 35 %).

    A misread amount ("20" for "5,065.20") would otherwise derive a tax larger than the goods.
    """
    net = value if missing == "subtotal" else (s.value if s is not None else None)
    tax = value if missing == "tax_amount" else (t.value if t is not None else None)
    if net is None or tax is None or net <= 0:
        return False
    return Decimal(0) < tax <= settings.max_tax_share * net


def _derived(name: str, value: Decimal, near: Sequence[Candidate], score: float) -> Candidate:
    """An amount the document prints but OCR could not read, computed from amounts it could."""
    anchor = near[0] if near else None
    page, bbox = (anchor.page, anchor.bbox) if anchor is not None else (1, (0.0, 0.0, 0.0, 0.0))
    return Candidate(name, value, format(value, "f"), page, bbox, "derived", score=score)


def _repair_separator(
    s: Candidate | None, t: Candidate | None, g: Candidate | None, scanned: Collection[int] = ()
) -> tuple[Candidate | None, Candidate | None, Candidate | None]:
    """Restore what OCR misread in one of three amounts when the other two imply it.

    A decimal mark lost ("551525" for "5515,25"): only an amount whose digits are exactly the
    digits of the implied value. A minus lost on a scanned credit note, among three labelled
    amounts: the implied value is the amount as read with its sign turned. One digit read as
    its look-alike ("1 284,56" for "1 234,56"),
    on an OCR'd page only, among three labelled amounts: the digits of the implied value but
    one, that one a look-alike pair, and only when no other of the three amounts could be
    repaired the same way, so that the arithmetic pins which one OCR slipped on. A wrong amount
    is never replaced by arithmetic alone.
    """
    if s is None or t is None or g is None or _close(s.value + t.value, g.value):
        return s, t, g
    # A digit is put back only among three amounts their labels name: on a till slip any two of
    # its many amounts may add up to a third but for a digit.
    printed = all(c.relation != "derived" and c.label is not None for c in (s, t, g))
    implied = (("s", g.value - t.value, s), ("t", g.value - s.value, t), ("g", s.value + t.value, g))
    fixes = []
    for which, value, cand in implied:
        credit = any(c.value < 0 for c in (s, t, g) if c is not cand)
        if printed and credit and cand.page in scanned and value < 0 and value == -cand.value:
            # A credit note's minus is a thin stroke a scan loses ("14,99" for "-14,99"); the
            # other amounts print theirs.
            fixes.append((which, value, cand, "sign_repaired"))
            continue
        if value <= 0:
            continue
        if "." not in cand.text and "," not in cand.text and _digits(cand.value) == _digits(value):
            fixes = [(which, value, cand, "repaired")]
            break
        if printed and cand.page in scanned and _digit_slip(cand.value, value):
            fixes.append((which, value, cand, "digit_repaired"))
    if len(fixes) != 1:
        return s, t, g
    which, value, cand, how = fixes[0]
    fixed = dataclasses.replace(cand, value=value, features={**cand.features, how: 1.0})
    return (fixed if which == "s" else s, fixed if which == "t" else t, fixed if which == "g" else g)


# Digits OCR takes for one another on receipts and scans (closed loops, a stroke lost or added).
_DIGIT_LOOKALIKES = frozenset(
    frozenset(pair) for pair in ("08", "06", "09", "38", "35", "56", "58", "68", "89", "17", "14", "27")
)


def _digit_slip(read: Decimal, implied: Decimal) -> bool:
    """``read`` is ``implied`` but for one digit OCR took for its look-alike, the point in place."""
    a, b = format(abs(read), "f"), format(abs(implied), "f")
    if len(a) != len(b) or (read < 0) != (implied < 0):
        return False
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diff) == 1 and frozenset(diff[0]) in _DIGIT_LOOKALIKES


def _digits(value: Decimal) -> str:
    return "".join(c for c in format(abs(value), "f") if c.isdigit()).lstrip("0")


def choose_dates(
    issued: Sequence[Candidate], due: Sequence[Candidate], settings: GenericSettings = DEFAULT
) -> dict[str, Choice]:
    """Best (invoice date, due date) pair where the due date is not before the invoice date."""
    best: tuple[float, Candidate | None, Candidate | None] | None = None
    top = settings.combination_top
    ranked = sorted(issued, key=lambda c: -c.score)
    for i, d in itertools.product(_top(issued, top), _top(due, top)):
        if i is not None and d is not None and i.bbox == d.bbox:
            # The date printed again elsewhere, as the invoice's ("Rechnungsdatum: 5. August" and
            # "zahlbar bis 5. August", due on the day): that printing is the invoice date's.
            i = next((c for c in ranked if c.value == i.value and c.bbox != d.bbox), i)
        score = sum(c.score for c in (i, d) if c is not None)
        if i is not None and d is not None:
            # Due before issued happens (premiums billed after their due day), so a reversed pair
            # only loses to an ordered one; it does not drop a date that has no rival. The order
            # weighs as much as the less likely date of the pair: it settles between dates the
            # ranker found alike, it does not lift one it all but ruled out.
            order = settings.ordered_dates_bonus if d.value >= i.value else -settings.reversed_dates_penalty
            score += order * min(i.score, d.score)
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
