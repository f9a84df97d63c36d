"""2-way (invoice vs order) and 3-way (invoice vs order vs goods receipt) checks on matched lines.

Quantities are cumulative: what earlier accepted invoices of the same order already billed
(less what credit notes took back) plus this document, against what was ordered and what was
received. So an order delivered in parts and billed by several invoices passes as long as
billing never runs ahead of delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from rapidfuzz import utils

from ledgerbot.core.domain import APException, DocType, GoodsReceipt, InvoiceLine, POLine, PurchaseOrder
from rules.case import CaseDocument, HistoricDocument
from rules.codes import ReasonCode as R
from rules.matching import Assignment, OpenLine, match_lines
from rules.policy import Checks
from rules.results import LineMatch, exception, num
from rules.validate import VendorMatch, normalise_id

ZERO = Decimal(0)


def normalise_po(number: str | None) -> str | None:
    return normalise_id(number)


def find_po(number: str | None, orders: Sequence[PurchaseOrder]) -> PurchaseOrder | None:
    key = normalise_po(number)
    if key is None:
        return None
    return next((po for po in orders if normalise_po(po.po_number) == key), None)


def line_quantity(line: InvoiceLine) -> Decimal | None:
    """The billed quantity, derived from amount / unit price when the quantity was not read."""
    if line.quantity is not None:
        return line.quantity
    if line.amount is not None and line.unit_price:
        return abs(line.amount / line.unit_price)
    return None


def bills_nothing(line: InvoiceLine) -> bool:
    """A line listed for information only (quantity 0, amount 0 or none: a backordered item).

    It charges nothing, so nothing has to have been received for it.
    """
    return line_quantity(line) == 0 and not line.amount


def line_price(line: InvoiceLine) -> Decimal | None:
    if line.unit_price is not None:
        return line.unit_price
    if line.amount is not None and line.quantity:
        return abs(line.amount / line.quantity)
    return None


def fungible_key(line: POLine) -> tuple[str, Decimal]:
    """PO lines with the same wording and price are the same article to an invoice without SKUs."""
    return utils.default_process(line.description or ""), line.unit_price


def _received(receipts: Sequence[GoodsReceipt], as_of: date | None = None) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    for receipt in receipts:
        if as_of is not None and receipt.date > as_of:
            continue
        for rl in receipt.lines:
            totals[rl.po_line_no] = totals.get(rl.po_line_no, ZERO) + rl.quantity
    return totals


@dataclass(frozen=True)
class OrderState:
    """What is known about one order before this document: received and already-invoiced per line."""

    po: PurchaseOrder
    receipts: tuple[GoodsReceipt, ...]
    # (document date, PO line_no, quantity; negative for credit notes), one per billed line.
    billings: tuple[tuple[date | None, int, Decimal], ...] = ()

    @property
    def has_receipts(self) -> bool:
        return bool(self.receipts)

    @cached_property
    def received(self) -> dict[int, Decimal]:
        return _received(self.receipts)

    @cached_property
    def invoiced_before(self) -> dict[int, Decimal]:
        return self._billed()

    def _billed(self, as_of: date | None = None) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = {}
        for day, line_no, qty in self.billings:
            if as_of is None or day is None or day <= as_of:
                totals[line_no] = totals.get(line_no, ZERO) + qty
        return totals

    def open_lines(self, credit: bool, as_of: date | None = None) -> list[OpenLine]:
        """Per PO line, what a document may still bill (for a credit note: credit), to pair lines by.

        An invoice can bill what was ordered and, once goods are in, what had arrived by its date
        less what documents of that date or earlier billed (invoices do arrive out of order);
        each delivery's quantity is passed along, since an invoice usually bills one delivery.
        With that, partial invoices over identical PO lines pair each unit with the line it was
        delivered on, not with whichever line comes first. This only steers the pairing: the
        checks compare with everything received and billed up to today.
        """
        before = self._billed(as_of)
        receipts = [r for r in self.receipts if as_of is None or r.date <= as_of]
        deliveries: dict[int, set[Decimal]] = {}
        for receipt in receipts:
            for rl in receipt.lines:
                deliveries.setdefault(rl.po_line_no, set()).add(rl.quantity)
        # Nothing received by the document's date (an invoice ahead of the goods): pair by the
        # ordered quantities alone.
        received = _received(receipts) if receipts else None
        out = []
        for line in self.po.lines:
            done = before.get(line.line_no, ZERO)
            if credit:
                out.append(OpenLine(done))
                continue
            still = line.quantity - done
            if received is not None:
                still = min(still, received.get(line.line_no, ZERO) - done)
            out.append(OpenLine(still, frozenset(deliveries.get(line.line_no, ()))))
        return out


def order_state(
    po: PurchaseOrder,
    receipts: Sequence[GoodsReceipt],
    history: Sequence[HistoricDocument],
    *,
    exclude_source: str,
    min_score: float,
) -> OrderState:
    key = normalise_po(po.po_number)
    own = tuple(r for r in receipts if normalise_po(r.po_number) == key)
    earlier = [
        doc
        for doc in history
        if doc.counts
        and normalise_po(doc.fields.po_number) == key
        and not (exclude_source and doc.source == exclude_source)
    ]
    # Oldest first, so each earlier document is paired against what was open when it came in.
    earlier.sort(key=lambda d: d.fields.invoice_date or date.min)
    billings: list[tuple[date | None, int, Decimal]] = []
    for doc in earlier:
        credit = doc.doc_type == DocType.CREDIT_NOTE
        sign = -1 if credit else 1
        state = OrderState(po, own, tuple(billings))
        open_then = state.open_lines(credit, as_of=doc.fields.invoice_date)
        assignment = match_lines(doc.lines, po.lines, min_score=min_score, status=open_then)
        for pair in assignment.pairs:
            qty = line_quantity(doc.lines[pair.invoice_line])
            if qty is not None:
                line_no = po.lines[pair.po_line_index].line_no
                billings.append((doc.fields.invoice_date, line_no, sign * qty))
    return OrderState(po=po, receipts=own, billings=tuple(billings))


def check_order_header(doc: CaseDocument, po: PurchaseOrder, vendor: VendorMatch | None) -> list[APException]:
    out = []
    currency = doc.fields.currency
    if currency and po.currency and currency.upper() != po.currency.upper():
        out.append(
            exception(
                R.CURRENCY_MISMATCH,
                f"Invoice is in {currency}, purchase order {po.po_number} in {po.currency}",
                invoice_currency=currency,
                po_currency=po.currency,
                po_number=po.po_number,
            )
        )
    if po.status.lower() != "open" and doc.doc_type != DocType.CREDIT_NOTE:
        out.append(
            exception(
                R.PO_CLOSED,
                f"Purchase order {po.po_number} is {po.status}",
                po_number=po.po_number,
                status=po.status,
            )
        )
    if vendor is not None and vendor.vendor.vendor_id != po.vendor_id:
        out.append(
            exception(
                R.PO_VENDOR_MISMATCH,
                f"Purchase order {po.po_number} belongs to vendor {po.vendor_id}, the invoice is from "
                f"{vendor.vendor.vendor_id} ({vendor.vendor.name})",
                vendor_id=vendor.vendor.vendor_id,
                po_vendor_id=po.vendor_id,
                po_number=po.po_number,
            )
        )
    return out


@dataclass
class _Group:
    """PO lines whose quantities are checked together: one line, or identical lines an invoice merged."""

    lines: list[POLine]
    first_invoice_line: int
    now: Decimal = ZERO
    invoice_lines: list[int] = field(default_factory=list)

    @property
    def line_nos(self) -> list[int]:
        return [line.line_no for line in self.lines]

    def total(self, per_line: dict[int, Decimal]) -> Decimal:
        return sum((per_line.get(no, ZERO) for no in self.line_nos), ZERO)

    def where(self) -> dict[str, object]:
        out: dict[str, object] = {
            "invoice_line": self.first_invoice_line,
            "po_line_no": self.lines[0].line_no,
        }
        if len(self.lines) > 1:
            out["po_line_nos"] = self.line_nos
        return out

    def label(self) -> str:
        if len(self.lines) == 1:
            return f"PO line {self.lines[0].line_no}"
        return f"PO lines {', '.join(map(str, self.line_nos))} (same article and price)"


def check_order_lines(
    doc: CaseDocument,
    state: OrderState,
    assignment: Assignment,
    checks: Checks,
    status: Sequence[OpenLine] | None = None,
) -> tuple[list[APException], list[LineMatch]]:
    """Price checks per matched line, cumulative quantity checks per article; unmatched lines raise.

    ``status``: the open quantities the pairing used (``OrderState.open_lines``), aligned with the
    PO's lines; it decides which identical lines a merged invoice line may stand for.
    """
    po = state.po
    credit = doc.doc_type == DocType.CREDIT_NOTE
    out: list[APException] = []
    matches: list[LineMatch] = []
    for index in assignment.unmatched_invoice:
        line = doc.lines[index]
        out.append(
            exception(
                R.INVOICE_LINE_UNMATCHED,
                f"Line {index + 1} ({line.sku or 'no SKU'}, {line.description or 'no description'!r}) "
                f"matches no line of purchase order {po.po_number}",
                invoice_line=index,
                sku=line.sku,
                description=line.description,
                best_score=str(assignment.best_score.get(index, 0.0)),
                po_number=po.po_number,
            )
        )
    three_way = checks.three_way and not credit
    billing = [p.invoice_line for p in assignment.pairs if not bills_nothing(doc.lines[p.invoice_line])]
    if three_way and billing and not state.has_receipts:
        out.append(
            exception(
                R.NO_RECEIPT,
                f"Nothing has been received yet for purchase order {po.po_number}",
                po_number=po.po_number,
                invoice_lines=billing,
            )
        )
    received = state.received
    billed: dict[int, tuple[int, Decimal]] = {}  # PO line_no -> (invoice line, quantity)
    for pair in assignment.pairs:
        line = doc.lines[pair.invoice_line]
        po_line = po.lines[pair.po_line_index]
        qty, price = line_quantity(line), line_price(line)
        matches.append(
            LineMatch(
                invoice_line=pair.invoice_line,
                po_line_no=po_line.line_no,
                score=pair.score,
                sku=po_line.sku,
                description=po_line.description,
                po_quantity=po_line.quantity,
                po_unit_price=po_line.unit_price,
                invoice_quantity=qty,
                invoice_unit_price=price,
                received=received.get(po_line.line_no, ZERO) if state.has_receipts else None,
                invoiced_before=state.invoiced_before.get(po_line.line_no, ZERO),
            )
        )
        where = {"invoice_line": pair.invoice_line, "po_line_no": po_line.line_no}
        if price is not None:
            out.extend(
                _price_checks(pair.invoice_line, price, po_line.unit_price, po_line.line_no, checks, where)
            )
        if qty is not None:
            billed[po_line.line_no] = (pair.invoice_line, qty)
    open_by_line = (
        {line.line_no: st.open_quantity for line, st in zip(po.lines, status, strict=True)}
        if status
        else None
    )
    for group in _quantity_groups(po, billed, open_by_line, by_article=credit):
        out.extend(_quantity_checks(group, state, received, checks, credit=credit, three_way=three_way))
    return out, matches


def _quantity_groups(
    po: PurchaseOrder,
    billed: dict[int, tuple[int, Decimal]],
    open_by_line: dict[int, Decimal] | None,
    *,
    by_article: bool = False,
) -> list[_Group]:
    """What the quantity checks compare: each billed PO line on its own, unless the invoice merged it.

    An invoice that itemises identical PO lines (same article and price) separately is checked
    line by line. One that bills such an article on fewer lines than the order has (two PO lines
    of 5 billed as one line of 10) cannot be split back, so the lines are checked pooled: the
    billed lines together with the identical PO lines this invoice does not mention but could
    have billed by its date (something open on them, see ``OrderState.open_lines``). A sibling
    line with nothing delivered yet by then does not lend its quantity to the pool.

    ``by_article`` (credit notes) always pools identical lines: crediting an article on one line
    or on its twin takes back the same money, so only the article's total can be over-credited.
    """

    def could_bill(line: POLine) -> bool:
        return line.line_no in billed or open_by_line is None or open_by_line.get(line.line_no, ZERO) > 0

    members: dict[tuple[str, Decimal], list[POLine]] = {}
    for po_line in po.lines:
        members.setdefault(fungible_key(po_line), []).append(po_line)
    groups: list[_Group] = []
    pooled: dict[tuple[str, Decimal], _Group] = {}
    for po_line in sorted(po.lines, key=lambda x: billed.get(x.line_no, (10**9, ZERO))[0]):
        if po_line.line_no not in billed:
            continue
        index, qty = billed[po_line.line_no]
        key = fungible_key(po_line)
        pool = members[key] if by_article else [s for s in members[key] if could_bill(s)]
        if len(pool) == 1 or (not by_article and all(s.line_no in billed for s in pool)):
            groups.append(_Group(lines=[po_line], first_invoice_line=index, now=qty, invoice_lines=[index]))
            continue
        if key not in pooled:
            pooled[key] = _Group(lines=pool, first_invoice_line=index)
            groups.append(pooled[key])
        pooled[key].now += qty
        pooled[key].invoice_lines.append(index)
    return groups


def _quantity_checks(
    group: _Group,
    state: OrderState,
    received_by_line: dict[int, Decimal],
    checks: Checks,
    *,
    credit: bool,
    three_way: bool,
) -> list[APException]:
    before = group.total(state.invoiced_before)
    lines = ", ".join(str(i + 1) for i in group.invoice_lines)
    if credit:
        if group.now <= before:
            return []
        return [
            exception(
                R.CREDIT_EXCEEDS_INVOICED,
                f"Line {lines} credits {num(group.now)} of {group.label()}, but only {num(before)} was "
                f"invoiced so far",
                **group.where(),
                invoiced_before=before,
                credited_now=group.now,
            )
        ]
    out = []
    ordered = sum((line.quantity for line in group.lines), ZERO)
    total = before + group.now
    if not checks.qty_ordered.allows(total - ordered, ordered):
        out.append(
            exception(
                R.QTY_ORDERED_EXCEEDED,
                f"Line {lines}: {num(before)} invoiced before + {num(group.now)} now = {num(total)}, "
                f"{group.label()} ordered {num(ordered)} (tolerance {checks.qty_ordered.describe()})",
                **group.where(),
                ordered=ordered,
                invoiced_before=before,
                invoiced_now=group.now,
                invoiced_total=total,
                **checks.qty_ordered.evidence(),
            )
        )
    if not three_way or not state.has_receipts:
        return out
    received = group.total(received_by_line)
    if received <= 0 and group.now <= 0:
        return out  # billed nothing now (a line listed for information): nothing to receive
    if received <= 0:
        out.append(
            exception(
                R.NO_RECEIPT,
                f"Line {lines}: nothing has been received for {group.label()}",
                **group.where(),
            )
        )
    elif not checks.qty_received.allows(total - received, received):
        out.append(
            exception(
                R.QTY_RECEIVED_EXCEEDED,
                f"Line {lines}: {num(before)} invoiced before + {num(group.now)} now = {num(total)}, "
                f"but only {num(received)} received for {group.label()} "
                f"(tolerance {checks.qty_received.describe()})",
                **group.where(),
                received=received,
                invoiced_before=before,
                invoiced_now=group.now,
                invoiced_total=total,
                **checks.qty_received.evidence(),
            )
        )
    return out


def _price_checks(
    index: int, price: Decimal, po_price: Decimal, line_no: int, checks: Checks, where: dict[str, int]
) -> list[APException]:
    difference = price - po_price
    tolerance = checks.price if difference > 0 else checks.price_under
    if tolerance is None or tolerance.allows(abs(difference), po_price):
        return []
    pct = (difference / po_price * 100).quantize(Decimal("0.1")) if po_price else None
    direction = "above" if difference > 0 else "below"
    shown = f"{num(abs(pct))}% {direction}" if pct is not None else direction
    return [
        exception(
            R.PRICE_VARIANCE,
            f"Line {index + 1}: unit price {num(price)} is {shown} PO price {num(po_price)} "
            f"(PO line {line_no}, limit {tolerance.describe()})",
            **where,
            invoice_price=price,
            po_price=po_price,
            difference=difference,
            variance_pct=pct,
            **tolerance.evidence(),
        )
    ]
