"""Assembles what the document page shows: fields with boxes, lines beside PO lines, history."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.domain import HEADER_FIELDS, ExtractionResult
from ledgerbot.store.models import DocumentRow, ExceptionRow, VendorRow
from ledgerbot.store.queries import latest_extraction
from review_app import learning, revalidate
from review_app.actions import editors
from review_app.models import ApprovalRow, DecisionRow, QueueEntryRow
from review_app.render import PageRenderer, PageSize
from review_app.schemas import (
    BoxOut,
    DocumentOut,
    EventOut,
    ExceptionOut,
    FieldOut,
    LineOut,
    OrderOut,
    PageOut,
    POLineOut,
)

FIELD_LABELS = {
    "vendor_name": "Vendor",
    "vendor_tax_id": "VAT id",
    "vendor_iban": "IBAN",
    "invoice_number": "Invoice no.",
    "invoice_date": "Invoice date",
    "due_date": "Due date",
    "po_number": "PO number",
    "currency": "Currency",
    "subtotal": "Subtotal",
    "tax_amount": "Tax",
    "total": "Total",
}


def _box(raw: dict[str, Any] | None, sizes: list[PageSize]) -> BoxOut | None:
    if not raw:
        return None
    page = int(raw.get("page", 1))
    bbox = raw.get("bbox") or ()
    if not 1 <= page <= len(sizes) or len(bbox) != 4:
        return None
    size = sizes[page - 1]
    x0, top, x1, bottom = (float(v) for v in bbox)
    return BoxOut(
        page=page,
        left=round(100 * x0 / size.width, 3),
        top=round(100 * top / size.height, 3),
        width=round(100 * max(0.0, x1 - x0) / size.width, 3),
        height=round(100 * max(0.0, bottom - top) / size.height, 3),
    )


def _lines(
    session: Session, document_id: int, extraction_id: int | None, result: ExtractionResult | None
) -> tuple[list[LineOut], list[OrderOut], str | None]:
    if result is None:
        return [], [], None
    orders = revalidate.load_orders(session, revalidate.po_numbers(result))
    received: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for receipt in revalidate.load_receipts(session, [o.po_number for o in orders]):
        for r in receipt.lines:
            received[(receipt.po_number, r.po_line_no)] += r.quantity
    po_lines = {(o.po_number, line.line_no): line for o in orders for line in o.lines}
    pairs: dict[int, tuple[tuple[str, int], str]] = {}
    decision = session.get(DecisionRow, document_id)
    policy_version = None
    if decision is not None and decision.extraction_id == extraction_id:
        policy_version = decision.decision.get("policy_version")
        for match in decision.decision.get("line_matches") or []:
            po_number = (
                match.get("po_number")
                or decision.decision.get("po_number")
                or (orders[0].po_number if orders else None)
            )
            if po_number is not None and match.get("po_line_no") is not None:
                pairs[int(match["invoice_line"])] = ((po_number, int(match["po_line_no"])), "rules")
    else:
        # No current decision (the engine has not run on this reading): pair on equal SKUs only,
        # which is never wrong when it pairs, rather than guess by position.
        by_sku = {line.sku: key for key, line in po_lines.items() if line.sku}
        for i, line in enumerate(result.lines):
            if line.sku and line.sku in by_sku:
                pairs[i] = (by_sku[line.sku], "sku")
    out: list[LineOut] = []
    for i, line in enumerate(result.lines):
        po_line = None
        matched_by = None
        if i in pairs and pairs[i][0] in po_lines:
            key, matched_by = pairs[i]
            p = po_lines[key]
            po_line = POLineOut(
                po_number=key[0],
                line_no=p.line_no,
                sku=p.sku,
                description=p.description,
                quantity=p.quantity,
                unit_price=p.unit_price,
                received=received.get(key),
            )
        out.append(
            LineOut(
                index=i,
                description=line.description,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                po_line=po_line,
                matched_by=matched_by,
            )
        )
    order_out = [
        OrderOut(po_number=o.po_number, vendor_id=o.vendor_id, status=o.status, currency=o.currency)
        for o in orders
    ]
    return out, order_out, policy_version


def _action(detail: dict[str, Any]) -> str | None:
    value = detail.get("action")
    return str(value) if value is not None else None


def document_view(session: Session, document: DocumentRow, renderer: PageRenderer) -> DocumentOut:
    extraction = latest_extraction(session, document.id)
    result = ExtractionResult.model_validate(extraction.result) if extraction else None
    sizes = renderer.sizes(document.sha256, document.mime)
    fields: list[FieldOut] = []
    if result is not None:
        values = result.fields.model_dump(mode="json")
        for name in HEADER_FIELDS:
            box = result.field_boxes.get(name)
            fields.append(
                FieldOut(
                    name=name,
                    label=FIELD_LABELS.get(name, name),
                    value=None if values.get(name) is None else str(values[name]),
                    confidence=result.field_confidence.get(name),
                    box=_box(box.model_dump() if box else None, sizes),
                )
            )
    lines, orders, policy_version = _lines(
        session, document.id, extraction.id if extraction else None, result
    )
    vendor = session.get(VendorRow, document.vendor_id) if document.vendor_id else None
    entry = session.get(QueueEntryRow, document.id)
    exceptions = session.scalars(
        select(ExceptionRow).where(ExceptionRow.document_id == document.id).order_by(ExceptionRow.id)
    ).all()
    # Loaded with the document already (the relationship is selectin), in id order.
    events = document.events
    approvals = session.scalars(
        select(ApprovalRow.username)
        .where(
            ApprovalRow.document_id == document.id,
            ApprovalRow.extraction_id == (extraction.id if extraction else None),
        )
        .order_by(ApprovalRow.id)
    ).all()
    return DocumentOut(
        id=document.id,
        filename=document.filename,
        mime=document.mime,
        state=document.state,
        doc_type=document.doc_type or (result.doc_type.value if result and result.doc_type else None),
        doc_type_confidence=document.doc_type_confidence,
        vendor_id=document.vendor_id,
        vendor_name=vendor.name if vendor else (result.fields.vendor_name if result else None),
        received_at=document.received_at,
        assignee=entry.assignee if entry else None,
        extraction_id=extraction.id if extraction else None,
        method=result.method if result else None,
        fields=fields,
        lines=lines,
        orders=orders,
        exceptions=[
            ExceptionOut(
                id=e.id,
                code=e.code,
                message=e.message,
                evidence=e.evidence or {},
                status=e.status,
                resolved_by=e.resolved_by,
            )
            for e in exceptions
        ],
        history=[
            EventOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                stage=e.stage,
                from_state=e.from_state,
                to_state=e.to_state,
                action=_action(e.detail or {}),
                outcome=e.outcome,
                detail=e.detail or {},
            )
            for e in events
        ],
        pages=[PageOut(number=i + 1, width=s.width, height=s.height) for i, s in enumerate(sizes)],
        approvals=list(approvals),
        editors=sorted(editors(session, document.id)),
        policy_version=policy_version,
        template_draft_available=learning.draft_offer(session, document) is not None,
    )
