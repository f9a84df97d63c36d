"""The work queue: a denormalised copy of the documents waiting for a person, and its query.

The pipeline writes documents, extractions and exceptions; it knows nothing of this table.
Every move it makes leaves an audit event, so the queue follows the audit trail: ``sync``
refreshes exactly the documents whose events are newer than the last one it applied.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledgerbot.domain import DocState
from ledgerbot.store import Store
from ledgerbot.store.models import AuditEventRow, DocumentRow, ExceptionRow, ExtractionRow, VendorRow
from review_app.models import ApprovalRow, CorrectionRow, QueueEntryRow, SyncMarkRow

SYNC_MARK = "audit"
CHUNK = 500
# Shown when a corrected document matched but still waits for its approval.
READY_REASON = "READY_FOR_APPROVAL"

SortKey = Literal["age", "amount", "vendor", "reason", "assignee"]
# Every order ends in the primary key, so pages are stable, and each matches one index exactly.
SORTS: dict[str, tuple[Any, ...]] = {
    "age": (QueueEntryRow.received_at, QueueEntryRow.document_id),
    "amount": (QueueEntryRow.total_key, QueueEntryRow.document_id),
    "vendor": (QueueEntryRow.vendor_name, QueueEntryRow.document_id),
    "reason": (QueueEntryRow.primary_reason, QueueEntryRow.received_at, QueueEntryRow.document_id),
    "assignee": (QueueEntryRow.assignee, QueueEntryRow.received_at, QueueEntryRow.document_id),
}


def total_key(total: Decimal | None) -> int | None:
    if total is None:
        return None
    return int((total * 10000).to_integral_value())


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def refresh(session: Session, document_ids: Iterable[int]) -> None:
    """Rebuild the queue entries of these documents from the core tables."""
    ids = sorted(set(document_ids))
    counts.clear()
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(session, ids[start : start + CHUNK])


def _refresh_chunk(session: Session, ids: Sequence[int]) -> None:
    documents = session.execute(
        select(DocumentRow.id, DocumentRow.state, DocumentRow.vendor_id, DocumentRow.received_at).where(
            DocumentRow.id.in_(ids)
        )
    ).all()
    reviewed = set(
        session.scalars(select(CorrectionRow.document_id).where(CorrectionRow.document_id.in_(ids)))
    ) | set(session.scalars(select(ApprovalRow.document_id).where(ApprovalRow.document_id.in_(ids))))
    # A document waits for a person while in exception, and after a correction made it match
    # until someone approves it.
    waiting = [
        d
        for d in documents
        if d.state == DocState.EXCEPTION or (d.state == DocState.MATCHED and d.id in reviewed)
    ]
    waiting_ids = [d.id for d in waiting]
    existing = {
        row.document_id: row
        for row in session.scalars(select(QueueEntryRow).where(QueueEntryRow.document_id.in_(ids)))
    }
    for document_id, row in existing.items():
        if document_id not in waiting_ids:
            session.delete(row)
    if not waiting_ids:
        session.flush()
        return
    latest = (
        select(func.max(ExtractionRow.id))
        .where(ExtractionRow.document_id.in_(waiting_ids))
        .group_by(ExtractionRow.document_id)
    )
    extractions = {
        e.document_id: e
        for e in session.execute(
            select(ExtractionRow.id, ExtractionRow.document_id, ExtractionRow.result).where(
                ExtractionRow.id.in_(latest)
            )
        )
    }
    codes: dict[int, list[str]] = {}
    for document_id, code in session.execute(
        select(ExceptionRow.document_id, ExceptionRow.code)
        .where(ExceptionRow.document_id.in_(waiting_ids), ExceptionRow.status == "open")
        .order_by(ExceptionRow.id)
    ):
        codes.setdefault(document_id, []).append(code)
    vendor_ids = {d.vendor_id for d in waiting if d.vendor_id}
    vendor_names: dict[str, str] = {
        vendor_id: name
        for vendor_id, name in session.execute(
            select(VendorRow.vendor_id, VendorRow.name).where(VendorRow.vendor_id.in_(vendor_ids))
        )
    }
    approved_on = {
        (a.document_id, a.extraction_id)
        for a in session.execute(
            select(ApprovalRow.document_id, ApprovalRow.extraction_id).where(
                ApprovalRow.document_id.in_(waiting_ids)
            )
        )
    }
    for d in waiting:
        extraction = extractions.get(d.id)
        fields: dict[str, Any] = (extraction.result or {}).get("fields") or {} if extraction else {}
        total = _decimal(fields.get("total"))
        doc_codes = list(dict.fromkeys(codes.get(d.id, [])))
        if not doc_codes and d.state == DocState.MATCHED:
            doc_codes = [READY_REASON]
        values = {
            "state": d.state,
            "vendor_id": d.vendor_id,
            "vendor_name": (vendor_names.get(d.vendor_id or "") or fields.get("vendor_name") or "")[:300],
            "invoice_number": (str(fields["invoice_number"])[:100] if fields.get("invoice_number") else None),
            "currency": (str(fields["currency"])[:3] if fields.get("currency") else None),
            "total": total,
            "total_key": total_key(total),
            "primary_reason": doc_codes[0] if doc_codes else "",
            "reasons": "," + ",".join(doc_codes) + ("," if doc_codes else ""),
            "received_at": d.received_at,
            "awaiting_second_approval": extraction is not None and (d.id, extraction.id) in approved_on,
        }
        current = existing.get(d.id)
        if current is None:
            session.add(QueueEntryRow(document_id=d.id, assignee=None, **values))
        else:
            for key, value in values.items():
                setattr(current, key, value)
    session.flush()


class QueueSync:
    """Applies new audit events to the queue, at most once per interval per process."""

    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self._lock = threading.Lock()
        self._last = 0.0

    def __call__(self, force: bool = False) -> int:
        if not force and time.monotonic() - self._last < self.interval:
            return 0
        # Readers must not queue up behind a sync another request is already doing.
        if not self._lock.acquire(blocking=force):
            return 0
        try:
            try:
                with self.store.session() as session:
                    applied = sync(session)
            except IntegrityError:
                # Another process inserted the same entries first; the next sync re-applies.
                applied = 0
            self._last = time.monotonic()
            return applied
        finally:
            self._lock.release()


def sync(session: Session) -> int:
    """Refresh the documents touched since the last applied audit event; returns how many."""
    mark = session.get(SyncMarkRow, SYNC_MARK)
    seen = mark.value if mark else 0
    newest = session.scalar(select(func.max(AuditEventRow.id))) or 0
    if newest <= seen:
        return 0
    touched = list(
        session.scalars(
            select(AuditEventRow.document_id)
            .where(AuditEventRow.id > seen, AuditEventRow.id <= newest)
            .distinct()
        )
    )
    refresh(session, touched)
    if mark is None:
        session.add(SyncMarkRow(name=SYNC_MARK, value=newest))
    else:
        mark.value = newest
    return len(touched)


@dataclass(frozen=True)
class QueueFilter:
    reason: str | None = None
    vendor: str | None = None
    assignee: str | None = None  # a user name, "me" resolved by the caller, or "-" for nobody
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sort: SortKey = "age"
    descending: bool = False
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntryRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _filtered(query: Select[Any], f: QueueFilter) -> Select[Any]:
    conditions = []
    if f.reason:
        conditions.append(QueueEntryRow.reasons.contains(f",{f.reason},", autoescape=True))
    if f.vendor:
        needle = f.vendor.strip()
        conditions.append(
            or_(
                QueueEntryRow.vendor_id == needle,
                QueueEntryRow.vendor_name.icontains(needle, autoescape=True),
            )
        )
    if f.assignee == "-":
        conditions.append(QueueEntryRow.assignee.is_(None))
    elif f.assignee:
        conditions.append(QueueEntryRow.assignee == f.assignee)
    if f.min_amount is not None:
        conditions.append(QueueEntryRow.total_key >= total_key(f.min_amount))
    if f.max_amount is not None:
        conditions.append(QueueEntryRow.total_key <= total_key(f.max_amount))
    return query.where(and_(*conditions)) if conditions else query


class _CountCache:
    """Queue counts per filter, kept for as long as the queue itself may lag the audit trail.

    Counting a filtered queue of tens of thousands of rows is the most expensive part of a page
    view, and the number changes only when the queue does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[Any, ...], tuple[float, int]] = {}

    def get(self, key: tuple[Any, ...], ttl: float) -> int | None:
        with self._lock:
            hit = self._values.get(key)
        if hit is None or time.monotonic() - hit[0] > ttl:
            return None
        return hit[1]

    def put(self, key: tuple[Any, ...], value: int) -> None:
        with self._lock:
            if len(self._values) > 1000:
                self._values.clear()
            self._values[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


counts = _CountCache()


def list_queue(session: Session, f: QueueFilter, count_ttl: float = 0.0) -> QueuePage:
    """One page of the queue; every sort order is served by an index ending in a unique key."""
    columns = SORTS[f.sort]
    # No NULLS FIRST/LAST: it would stop the index from serving the order; empty amounts and
    # assignees sort where the database puts NULLs.
    order = [c.desc() if f.descending else c.asc() for c in columns]
    query = _filtered(select(QueueEntryRow), f).order_by(*order)
    key = (f.reason, f.vendor, f.assignee, f.min_amount, f.max_amount)
    count = counts.get(key, count_ttl) if count_ttl > 0 else None
    if count is None:
        count = session.scalar(_filtered(select(func.count()).select_from(QueueEntryRow), f)) or 0
        counts.put(key, count)
    page = max(1, f.page)
    entries = list(session.scalars(query.offset((page - 1) * f.page_size).limit(f.page_size)))
    return QueuePage(entries=entries, total=count, page=page, page_size=f.page_size)


def reason_codes(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(QueueEntryRow.primary_reason).distinct().order_by(QueueEntryRow.primary_reason)
        )
    )


def age_hours(received_at: datetime, now: datetime) -> float:
    return max(0.0, (now - received_at).total_seconds() / 3600)
