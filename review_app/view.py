"""Assembles what the document page shows: fields with boxes, lines beside PO lines, history.

The page is read with a fixed set of prebuilt Core statements (no ORM objects, no per-request
statement building): it is the second most viewed page and every query on it costs CPU.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from ledgerbot.core.domain import HEADER_FIELDS, ExtractionResult
from ledgerbot.core.store.models import (
    AuditEventRow,
    DecisionRow,
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    GoodsReceiptRow,
    POLineRow,
    PurchaseOrderRow,
    ReceiptLineRow,
    VendorRow,
)
from ledgerbot.core.store.review import ApprovalRow, CorrectionRow, QueueEntryRow
from review_app import learning, revalidate
from review_app.actions import NoSuchDocument
from review_app.learning import DraftOffer
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
    ReceiptOut,
)

_DOCUMENT: BindParameter[int] = bindparam("document_id")
_NEWEST = aliased(ExtractionRow)
# The document with its vendor's name, its assignee, its newest extraction, the rules'
# decision and its vendor's count of corrections (for the template draft offer) in one statement.
_HEAD = (
    select(
        DocumentRow.id,
        DocumentRow.sha256,
        DocumentRow.filename,
        DocumentRow.mime,
        DocumentRow.state,
        DocumentRow.doc_type,
        DocumentRow.doc_type_confidence,
        DocumentRow.vendor_id,
        DocumentRow.received_at,
        VendorRow.name.label("vendor_name"),
        QueueEntryRow.assignee,
        ExtractionRow.id.label("extraction_id"),
        ExtractionRow.result.label("extraction"),
        DecisionRow.extraction_id.label("decided_on"),
        DecisionRow.decision,
        learning.vendor_corrections(DocumentRow.vendor_id).label("vendor_corrections"),
    )
    .outerjoin(VendorRow, VendorRow.vendor_id == DocumentRow.vendor_id)
    .outerjoin(QueueEntryRow, QueueEntryRow.document_id == DocumentRow.id)
    .outerjoin(
        ExtractionRow,
        ExtractionRow.id
        == select(func.max(_NEWEST.id)).where(_NEWEST.document_id == DocumentRow.id).scalar_subquery(),
    )
    .outerjoin(DecisionRow, DecisionRow.document_id == DocumentRow.id)
    .where(DocumentRow.id == _DOCUMENT)
)
_FILE = select(DocumentRow.sha256, DocumentRow.mime).where(DocumentRow.id == _DOCUMENT)
_EVENTS = (
    select(
        AuditEventRow.id,
        AuditEventRow.at,
        AuditEventRow.actor,
        AuditEventRow.stage,
        AuditEventRow.from_state,
        AuditEventRow.to_state,
        AuditEventRow.outcome,
        AuditEventRow.detail,
    )
    .where(AuditEventRow.document_id == _DOCUMENT)
    .order_by(AuditEventRow.id)
)
_EXCEPTIONS = (
    select(
        ExceptionRow.id,
        ExceptionRow.code,
        ExceptionRow.message,
        ExceptionRow.evidence,
        ExceptionRow.status,
        ExceptionRow.resolved_by,
    )
    .where(ExceptionRow.document_id == _DOCUMENT)
    .order_by(ExceptionRow.id)
)
_PO_NUMBERS: BindParameter[list[str]] = bindparam("po_numbers", expanding=True)
# The named orders, their lines and each line's receipts, in one statement: a line received
# several times comes once per receipt, a line never received once with empty receipt columns.
_RECEIPT = (
    select(
        GoodsReceiptRow.po_number,
        ReceiptLineRow.po_line_no,
        ReceiptLineRow.quantity,
        GoodsReceiptRow.receipt_number,
        GoodsReceiptRow.date,
    )
    .join(ReceiptLineRow, ReceiptLineRow.receipt_number == GoodsReceiptRow.receipt_number)
    .where(GoodsReceiptRow.po_number.in_(_PO_NUMBERS))
    .subquery()
)
_ORDER_LINES = (
    select(
        PurchaseOrderRow.po_number,
        PurchaseOrderRow.vendor_id,
        PurchaseOrderRow.status,
        PurchaseOrderRow.currency,
        POLineRow.line_no,
        POLineRow.sku,
        POLineRow.description,
        POLineRow.quantity,
        POLineRow.unit_price,
        _RECEIPT.c.quantity.label("received"),
        _RECEIPT.c.receipt_number,
        _RECEIPT.c.date.label("received_on"),
    )
    .outerjoin(POLineRow, POLineRow.po_number == PurchaseOrderRow.po_number)
    .outerjoin(
        _RECEIPT,
        and_(_RECEIPT.c.po_number == POLineRow.po_number, _RECEIPT.c.po_line_no == POLineRow.line_no),
    )
    .where(PurchaseOrderRow.po_number.in_(_PO_NUMBERS))
    .order_by(PurchaseOrderRow.po_number, POLineRow.line_no, _RECEIPT.c.date, _RECEIPT.c.receipt_number)
)
# Who approved the current reading (in order) and who corrected the document, in one statement.
_PEOPLE = union_all(
    select(literal("approval").label("kind"), ApprovalRow.username, ApprovalRow.id).where(
        ApprovalRow.document_id == _DOCUMENT, ApprovalRow.extraction_id == bindparam("extraction_id")
    ),
    select(literal("edit").label("kind"), CorrectionRow.username, literal(0).label("id"))
    .where(CorrectionRow.document_id == _DOCUMENT)
    .distinct(),
).order_by("kind", "id")

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
    rotate = 0.0
    if size.skew:
        # The box is in the straightened frame; on the scan as shown, its centre turns with the
        # page about the page's centre (counter-clockwise by the tilt) and the box with it.
        theta = math.radians(size.skew)
        cx, cy = size.width / 2, size.height / 2
        dx, dy = (x0 + x1) / 2 - cx, (top + bottom) / 2 - cy
        mx = cx + dx * math.cos(theta) + dy * math.sin(theta)
        my = cy - dx * math.sin(theta) + dy * math.cos(theta)
        half_w, half_h = (x1 - x0) / 2, (bottom - top) / 2
        x0, x1, top, bottom = mx - half_w, mx + half_w, my - half_h, my + half_h
        rotate = -size.skew  # CSS turns clockwise for positive angles
    return BoxOut(
        page=page,
        left=round(100 * x0 / size.width, 3),
        top=round(100 * top / size.height, 3),
        width=round(100 * max(0.0, x1 - x0) / size.width, 3),
        height=round(100 * max(0.0, bottom - top) / size.height, 3),
        rotate=round(rotate, 2),
    )


def _orders(db: Connection, numbers: list[str]) -> tuple[list[OrderOut], dict[tuple[str, int], POLineOut]]:
    """The named purchase orders (in the order the invoice names them) and their lines, with receipts."""
    if not numbers:
        return [], {}
    orders: dict[str, OrderOut] = {}
    rows: dict[tuple[str, int], Any] = {}
    received: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    receipts: dict[tuple[str, int], list[ReceiptOut]] = defaultdict(list)
    for row in db.execute(_ORDER_LINES, {"po_numbers": numbers}):
        if row.po_number not in orders:
            orders[row.po_number] = OrderOut(
                po_number=row.po_number, vendor_id=row.vendor_id, status=row.status, currency=row.currency
            )
        if row.line_no is None:
            continue
        key = (row.po_number, row.line_no)
        rows.setdefault(key, row)
        if row.receipt_number is not None:
            received[key] += row.received
            receipts[key].append(
                ReceiptOut(receipt_number=row.receipt_number, date=row.received_on, quantity=row.received)
            )
    lines = {
        key: POLineOut(
            po_number=row.po_number,
            line_no=row.line_no,
            sku=row.sku,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            received=received.get(key),
            receipts=receipts.get(key, []),
        )
        for key, row in rows.items()
    }
    named = {number: i for i, number in enumerate(numbers)}
    return sorted(orders.values(), key=lambda o: named.get(o.po_number, len(named))), lines


def _lines(
    db: Connection, result: ExtractionResult | None, decision: dict[str, Any] | None
) -> tuple[list[LineOut], list[OrderOut], str | None]:
    """Invoice lines beside their PO lines; ``decision`` is the rules' decision on this reading."""
    if result is None:
        return [], [], None
    orders, po_lines = _orders(db, revalidate.po_numbers(result))
    pairs: dict[int, tuple[tuple[str, int], str]] = {}
    before: dict[int, Decimal] = {}
    policy_version = None
    if decision is not None:
        made = decision
        policy_version = made.get("policy_version")
        for match in made.get("line_matches") or []:
            po_number = (
                match.get("po_number") or made.get("po_number") or (orders[0].po_number if orders else None)
            )
            if po_number is not None and match.get("po_line_no") is not None:
                pairs[int(match["invoice_line"])] = ((po_number, int(match["po_line_no"])), "rules")
                if match.get("invoiced_before") is not None:
                    before[int(match["invoice_line"])] = Decimal(str(match["invoiced_before"]))
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
            po_line = po_lines[key]
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
                invoiced_before=before.get(i) if po_line is not None else None,
            )
        )
    return out, orders, policy_version


def _action(detail: dict[str, Any]) -> str | None:
    value = detail.get("action")
    return str(value) if value is not None else None


def _fields(result: ExtractionResult, sizes: list[PageSize]) -> list[FieldOut]:
    values = result.fields.model_dump(mode="json")
    fields = []
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
    return fields


def document_page_view(
    session: Session, document_id: int, renderer: PageRenderer
) -> tuple[DocumentOut, DraftOffer | None]:
    """Everything the document page shows, and the template draft on offer for its vendor, if any."""
    # Straight to the connection: a read-only page needs neither ORM objects nor autoflush.
    db = session.connection()
    head = db.execute(_HEAD, {"document_id": document_id}).first()
    if head is None:
        raise NoSuchDocument(f"no document {document_id}")
    extraction_id: int | None = head.extraction_id
    result = ExtractionResult.model_validate(head.extraction) if extraction_id is not None else None
    sizes = renderer.sizes(head.sha256, head.mime)
    # A decision counts only for the reading it was made on.
    current = head.decision if head.decision is not None and head.decided_on == extraction_id else None
    lines, orders, policy_version = _lines(db, result, current)
    offer = learning.draft_offer_for(session, head.vendor_id, head.mime, head.vendor_corrections)
    approvals: list[str] = []
    editors: list[str] = []
    for kind, username, _ in db.execute(
        _PEOPLE, {"document_id": document_id, "extraction_id": extraction_id}
    ):
        (approvals if kind == "approval" else editors).append(username)
    view = DocumentOut(
        id=head.id,
        filename=head.filename,
        mime=head.mime,
        state=head.state,
        doc_type=head.doc_type or (result.doc_type.value if result and result.doc_type else None),
        doc_type_confidence=head.doc_type_confidence,
        vendor_id=head.vendor_id,
        vendor_name=head.vendor_name or (result.fields.vendor_name if result else None),
        received_at=head.received_at,
        assignee=head.assignee,
        extraction_id=extraction_id,
        method=result.method if result else None,
        fields=_fields(result, sizes) if result else [],
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
            for e in db.execute(_EXCEPTIONS, {"document_id": document_id})
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
            for e in db.execute(_EVENTS, {"document_id": document_id})
        ],
        pages=[PageOut(number=i + 1, width=s.width, height=s.height) for i, s in enumerate(sizes)],
        approvals=approvals,
        editors=sorted(editors),
        policy_version=policy_version,
        template_draft_available=offer is not None,
    )
    return view, offer


def document_view(session: Session, document_id: int, renderer: PageRenderer) -> DocumentOut:
    """What the document page shows, as its JSON API returns it."""
    return document_page_view(session, document_id, renderer)[0]


def document_file(session: Session, document_id: int) -> tuple[str, str]:
    """The content hash and type of a document's original, for its page images."""
    row = session.connection().execute(_FILE, {"document_id": document_id}).first()
    if row is None:
        raise NoSuchDocument(f"no document {document_id}")
    return row.sha256, row.mime
