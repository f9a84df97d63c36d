"""From the store to the rules engine: the case for one document, the policy, the decision kept.

The rules engine is pure; this module reads what it needs from the store (the vendors the
invoice may belong to, the purchase orders it names with their receipts, and the vendor's
accepted invoices) in the shape of ``docs/contracts/matching.md``. Processing and the review
app both build cases here, so a document is judged the same way wherever it is judged.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.orm import Session

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.store.models import (
    DecisionRow,
    DocumentRow,
    ExtractionRow,
    GoodsReceiptRow,
    PurchaseOrderRow,
    VendorRow,
    utcnow,
)

# Accepted invoices count for every later document; invoices still waiting (matched, or with an
# open exception) count only for documents that arrived after them, so the later copy of a pair
# is the one held as the duplicate suspect, never both.
HISTORY_STATES = ("approved", "posted")
PENDING_STATES = ("matched", "exception")
HISTORY_LIMIT = 500
_VENDOR_LOCK_SPACE = 0x4C42  # "LB": the first key of the two-key PostgreSQL advisory lock


def lock_vendor(session: Session, vendor_id: str) -> bool:
    """Serialise the match stage per vendor until the transaction ends; True when a lock was taken.

    Two workers matching two copies of one invoice at the same moment would each judge its copy
    against a history without the other. On PostgreSQL the second waits on a transaction-scoped
    advisory lock and then re-reads the history. SQLite has one writer at a time and the
    embedded mode runs one processing loop, so nothing is taken there.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:vendor))"),
        {"space": _VENDOR_LOCK_SPACE, "vendor": vendor_id},
    )
    return True


@lru_cache(maxsize=4)
def load_policy_cached(path: str | None) -> Any:
    """The tolerance policy (the shipped default without a path), parsed once per process."""
    from rules.policy import load_policy

    return load_policy(Path(path) if path else None)


def policy(path: Path | None = None) -> Any | None:
    """The tolerance policy, or ``None`` when the rules package is not installed."""
    try:
        return load_policy_cached(str(path) if path else None)
    except ImportError:
        return None


def _vendor_dict(v: VendorRow) -> dict[str, Any]:
    return {
        "vendor_id": v.vendor_id,
        "name": v.name,
        "tax_id": v.tax_id,
        "iban": v.iban,
        "bic": v.bic,
        "currency": v.currency,
        "address": v.address,
    }


def _po_dict(po: PurchaseOrderRow) -> dict[str, Any]:
    return {
        "po_number": po.po_number,
        "vendor_id": po.vendor_id,
        "currency": po.currency,
        "status": po.status,
        "order_date": po.order_date,
        "company": po.company,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in po.lines
        ],
    }


def _receipt_dict(receipt: GoodsReceiptRow) -> dict[str, Any]:
    return {
        "receipt_number": receipt.receipt_number,
        "po_number": receipt.po_number,
        "date": receipt.date,
        "lines": [{"po_line_no": r.po_line_no, "quantity": r.quantity} for r in receipt.lines],
    }


def po_numbers(result: ExtractionResult) -> list[str]:
    raw = result.fields.po_number or ""
    # Some vendors quote several orders on one invoice ("PO-1 / PO-2").
    parts = [p.strip() for p in raw.replace(";", ",").replace("/", ",").split(",")]
    return [p for p in parts if p]


def load_orders(session: Session, numbers: list[str]) -> list[PurchaseOrderRow]:
    if not numbers:
        return []
    return list(session.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.po_number.in_(numbers))))


def load_receipts(session: Session, numbers: list[str]) -> list[GoodsReceiptRow]:
    if not numbers:
        return []
    return list(
        session.scalars(
            select(GoodsReceiptRow)
            .where(GoodsReceiptRow.po_number.in_(numbers))
            .order_by(GoodsReceiptRow.date, GoodsReceiptRow.receipt_number)
        )
    )


def build_case(
    session: Session, document: DocumentRow, result: ExtractionResult, today: date | None = None
) -> dict[str, Any]:
    """The case for ``document`` in the shape of ``docs/contracts/matching.md``."""
    fields = result.fields
    orders = load_orders(session, po_numbers(result))
    vendor_conditions: list[ColumnElement[bool]] = [VendorRow.vendor_id.in_({po.vendor_id for po in orders})]
    if document.vendor_id:
        vendor_conditions.append(VendorRow.vendor_id == document.vendor_id)
    if fields.vendor_tax_id:
        vendor_conditions.append(VendorRow.tax_id == fields.vendor_tax_id)
    if fields.vendor_iban:
        vendor_conditions.append(VendorRow.iban == fields.vendor_iban)
    vendors = list(session.scalars(select(VendorRow).where(or_(*vendor_conditions))))
    if fields.vendor_name and not vendors:
        # No key matched: the engine's fuzzy name lookup needs the whole master to choose from.
        vendors = list(session.scalars(select(VendorRow)))
    vendor_ids = {v.vendor_id for v in vendors} | ({document.vendor_id} if document.vendor_id else set())
    history: list[dict[str, Any]] = []
    if vendor_ids:
        others = session.execute(
            select(DocumentRow.id, DocumentRow.state)
            .where(
                DocumentRow.vendor_id.in_(vendor_ids),
                or_(
                    DocumentRow.state.in_(HISTORY_STATES),
                    and_(DocumentRow.state.in_(PENDING_STATES), DocumentRow.id < document.id),
                ),
                DocumentRow.id != document.id,
            )
            .order_by(DocumentRow.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        states = {o.id: o.state for o in others}
        for extraction in latest_extractions(session, list(states)):
            past = ExtractionResult.model_validate(extraction.result).model_dump(mode="json")
            past["status"] = states[extraction.document_id]
            history.append(past)
    invoice = result.model_dump(mode="json")
    return {
        "invoice": invoice,
        "vendors": [_vendor_dict(v) for v in vendors],
        "purchase_orders": [_po_dict(po) for po in orders],
        "receipts": [_receipt_dict(r) for r in load_receipts(session, [po.po_number for po in orders])],
        "history": history,
        "today": today or date.today(),
    }


def latest_extractions(session: Session, document_ids: list[int]) -> list[ExtractionRow]:
    if not document_ids:
        return []
    newest = (
        select(func.max(ExtractionRow.id))
        .where(ExtractionRow.document_id.in_(document_ids))
        .group_by(ExtractionRow.document_id)
    )
    return list(session.scalars(select(ExtractionRow).where(ExtractionRow.id.in_(newest))))


def record_decision(
    session: Session, document_id: int, extraction_id: int | None, decision: dict[str, Any]
) -> None:
    """Keep the newest decision per document (the review app shows its line matches)."""
    stored = session.get(DecisionRow, document_id)
    if stored is None:
        session.add(DecisionRow(document_id=document_id, extraction_id=extraction_id, decision=decision))
    else:
        stored.extraction_id = extraction_id
        stored.decision = decision
        stored.at = utcnow()
