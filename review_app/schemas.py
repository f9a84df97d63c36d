"""Pydantic shapes of what the review app shows: the JSON API and the pages read the same models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from ledgerbot.core.domain import Money, Quantity


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QueueItem(_Out):
    document_id: int
    state: str
    vendor_id: str | None
    vendor_name: str
    invoice_number: str | None
    currency: str | None
    total: Money | None
    reasons: list[str]
    received_at: datetime
    age_hours: float
    sla: str  # ok | warn | breach
    assignee: str | None
    awaiting_second_approval: bool


class QueuePageOut(_Out):
    items: list[QueueItem]
    total: int
    page: int
    pages: int
    page_size: int
    sort: str
    descending: bool


class BoxOut(_Out):
    """A field's region as percentages of its page, so it scales with the image."""

    page: int
    left: float
    top: float
    width: float
    height: float
    # Degrees to turn the box about its centre (clockwise): it sits on a tilted scan's text.
    rotate: float = 0.0


class FieldOut(_Out):
    name: str
    label: str
    value: str | None
    confidence: float | None
    box: BoxOut | None


class ReceiptOut(_Out):
    """One goods receipt's quantity on a PO line."""

    receipt_number: str
    date: date
    quantity: Quantity


class POLineOut(_Out):
    po_number: str
    line_no: int
    sku: str | None
    description: str
    quantity: Quantity
    unit_price: Money
    received: Quantity | None
    receipts: list[ReceiptOut] = []


class LineOut(_Out):
    index: int
    description: str | None
    sku: str | None
    quantity: Quantity | None
    unit_price: Money | None
    amount: Money | None
    po_line: POLineOut | None
    matched_by: str | None  # "rules" or "sku"
    # Quantity of the PO line on earlier accepted invoices, as the rules counted it.
    invoiced_before: Quantity | None = None


class ExceptionOut(_Out):
    id: int
    code: str
    message: str
    evidence: dict[str, Any]
    status: str
    resolved_by: str | None


class EventOut(_Out):
    id: int
    at: datetime
    actor: str
    stage: str
    from_state: str | None
    to_state: str
    action: str | None
    outcome: str
    detail: dict[str, Any]


class PageOut(_Out):
    number: int
    width: float
    height: float


class OrderOut(_Out):
    po_number: str
    vendor_id: str
    status: str
    currency: str


class DocumentOut(_Out):
    id: int
    filename: str
    mime: str
    state: str
    doc_type: str | None
    doc_type_confidence: float | None
    vendor_id: str | None
    vendor_name: str | None
    received_at: datetime
    assignee: str | None
    extraction_id: int | None
    method: str | None
    fields: list[FieldOut]
    lines: list[LineOut]
    orders: list[OrderOut]
    exceptions: list[ExceptionOut]
    history: list[EventOut]
    pages: list[PageOut]
    approvals: list[str]
    editors: list[str]
    policy_version: str | None
    template_draft_available: bool


class ActionOut(_Out):
    ok: bool
    message: str
    detail: dict[str, Any] = {}


class ErrorOut(_Out):
    code: str
    message: str


class SplitPartOut(_Out):
    """One document of a file: its pages (1-based, inclusive) and where it stands."""

    document_id: int
    first: int
    last: int
    state: str
    doc_type: str | None


class SplitOut(_Out):
    """Where the documents of one file begin, as stored, and whether a clerk may change it."""

    document_id: int
    root_id: int
    filename: str
    pages: int
    parts: list[SplitPartOut]
    doubtful_pages: list[int]
    splitter: str | None
    split_confidence: float | None
    uncertain: bool
    refused: ErrorOut | None


def money_text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")
