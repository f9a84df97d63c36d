"""2-way (invoice vs order) and 3-way (invoice vs order vs goods receipt) checks on matched lines.

Quantities are cumulative: what earlier accepted invoices of the same order already billed
(less what credit notes took back) plus this document, against what was ordered and what was
received. So an order delivered in parts and billed by several invoices passes as long as
billing never runs ahead of delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledgerbot.domain import APException, DocType, GoodsReceipt, InvoiceLine, PurchaseOrder
from rules.case import CaseDocument, HistoricDocument
from rules.codes import ReasonCode as R
from rules.matching import Assignment, match_lines
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


def line_price(line: InvoiceLine) -> Decimal | None:
    if line.unit_price is not None:
        return line.unit_price
    if line.amount is not None and line.quantity:
        return abs(line.amount / line.quantity)
    return None


@dataclass(frozen=True)
class OrderState:
    """What is known about one order before this document: received and already-invoiced per line."""

    po: PurchaseOrder
    received: dict[int, Decimal]
    has_receipts: bool
    invoiced_before: dict[int, Decimal]


def order_state(
    po: PurchaseOrder,
    receipts: Sequence[GoodsReceipt],
    history: Sequence[HistoricDocument],
    *,
    exclude_source: str,
    min_score: float,
) -> OrderState:
    key = normalise_po(po.po_number)
    received: dict[int, Decimal] = {}
    has_receipts = False
    for receipt in receipts:
        if normalise_po(receipt.po_number) != key:
            continue
        has_receipts = True
        for rl in receipt.lines:
            received[rl.po_line_no] = received.get(rl.po_line_no, ZERO) + rl.quantity
    invoiced: dict[int, Decimal] = {}
    for doc in history:
        if not doc.counts or normalise_po(doc.fields.po_number) != key:
            continue
        if exclude_source and doc.source == exclude_source:
            continue
        sign = -1 if doc.doc_type == DocType.CREDIT_NOTE else 1
        # Earlier documents are paired with the order the same way as this one.
        assignment = match_lines(doc.lines, po.lines, min_score=min_score)
        for pair in assignment.pairs:
            qty = line_quantity(doc.lines[pair.invoice_line])
            if qty is not None:
                line_no = po.lines[pair.po_line_index].line_no
                invoiced[line_no] = invoiced.get(line_no, ZERO) + sign * qty
    return OrderState(po=po, received=received, has_receipts=has_receipts, invoiced_before=invoiced)


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


def check_order_lines(
    doc: CaseDocument, state: OrderState, assignment: Assignment, checks: Checks
) -> tuple[list[APException], list[LineMatch]]:
    """Price and cumulative quantity checks per matched line; unmatched invoice lines are exceptions."""
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
    if three_way and assignment.pairs and not state.has_receipts:
        out.append(
            exception(
                R.NO_RECEIPT,
                f"Nothing has been received yet for purchase order {po.po_number}",
                po_number=po.po_number,
                invoice_lines=[p.invoice_line for p in assignment.pairs],
            )
        )
    for pair in assignment.pairs:
        line = doc.lines[pair.invoice_line]
        po_line = po.lines[pair.po_line_index]
        qty, price = line_quantity(line), line_price(line)
        before = state.invoiced_before.get(po_line.line_no, ZERO)
        received = state.received.get(po_line.line_no, ZERO)
        where = {"invoice_line": pair.invoice_line, "po_line_no": po_line.line_no}
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
                received=received if state.has_receipts else None,
                invoiced_before=before,
            )
        )
        if price is not None:
            out.extend(
                _price_checks(pair.invoice_line, price, po_line.unit_price, po_line.line_no, checks, where)
            )
        if qty is None:
            continue
        if credit:
            if qty > before:
                out.append(
                    exception(
                        R.CREDIT_EXCEEDS_INVOICED,
                        f"Line {pair.invoice_line + 1} credits {num(qty)} of PO line {po_line.line_no}, "
                        f"but only {num(before)} was invoiced so far",
                        **where,
                        invoiced_before=before,
                        credited_now=qty,
                    )
                )
            continue
        total = before + qty
        if not checks.qty_ordered.allows(total - po_line.quantity, po_line.quantity):
            out.append(
                exception(
                    R.QTY_ORDERED_EXCEEDED,
                    f"Line {pair.invoice_line + 1}: {num(before)} invoiced before + {num(qty)} now = "
                    f"{num(total)}, PO line {po_line.line_no} ordered {num(po_line.quantity)} "
                    f"(tolerance {checks.qty_ordered.describe()})",
                    **where,
                    ordered=po_line.quantity,
                    invoiced_before=before,
                    invoiced_now=qty,
                    invoiced_total=total,
                    **checks.qty_ordered.evidence(),
                )
            )
        if not three_way or not state.has_receipts:
            continue
        if received <= 0:
            out.append(
                exception(
                    R.NO_RECEIPT,
                    f"Line {pair.invoice_line + 1}: nothing has been received for PO line {po_line.line_no}",
                    **where,
                )
            )
        elif not checks.qty_received.allows(total - received, received):
            out.append(
                exception(
                    R.QTY_RECEIVED_EXCEEDED,
                    f"Line {pair.invoice_line + 1}: {num(before)} invoiced before + {num(qty)} now = "
                    f"{num(total)}, but only {num(received)} received for PO line {po_line.line_no} "
                    f"(tolerance {checks.qty_received.describe()})",
                    **where,
                    received=received,
                    invoiced_before=before,
                    invoiced_now=qty,
                    invoiced_total=total,
                    **checks.qty_received.evidence(),
                )
            )
    return out, matches


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
