"""The work queue: a denormalised copy of the documents waiting for a person, and its query.

The pipeline writes documents, extractions and exceptions; it knows nothing of this table.
Every move it makes leaves an audit event, so the queue follows the audit trail: ``sync``
refreshes exactly the documents whose events are newer than the last one it applied.

Every change to the table also bumps a version counter in the same transaction, so readers in
any worker process can keep pages and counts per version: a cached page is never older than
the last change that committed before the request read the version.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, ExtractionRow, VendorRow
from ledgerbot.core.store.review import ApprovalRow, CorrectionRow, QueueEntryRow, SyncMarkRow

SYNC_MARK = "audit"
# Bumped by every change to the queue table (see ``bump``); the key of every cached read.
VERSION_MARK = "queue_version"
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


# The sort key's range: a BIGINT holds 9.2e18, so totals are exact up to 9.2e14 and larger ones
# (a misread, never a real invoice) sort together at the ends instead of failing the request.
_KEY_LIMIT = 2**63 - 1


def total_key(total: Decimal | None) -> int | None:
    if total is None:
        return None
    if not total.is_finite():
        return None
    if abs(total) >= Decimal(_KEY_LIMIT) / 10000:
        return _KEY_LIMIT if total > 0 else -_KEY_LIMIT
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
    changed = False
    for start in range(0, len(ids), CHUNK):
        changed = _refresh_chunk(session, ids[start : start + CHUNK]) or changed
    # Only a real change invalidates every process's cached pages: the pipeline moving
    # documents that never wait for a person (posted, approved by rule) leaves them valid.
    if changed:
        bump(session)


def bump(session: Session) -> None:
    """Mark the queue as changed, in the caller's transaction, for every process's caches."""
    changed = session.execute(
        update(SyncMarkRow)
        .where(SyncMarkRow.name == VERSION_MARK)
        .values(value=SyncMarkRow.value + 1)
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):
        # Migration 0710 creates the counter; a store built another way gets it on first change.
        session.add(SyncMarkRow(name=VERSION_MARK, value=1))
        session.flush()


_VERSION = select(SyncMarkRow.value).where(SyncMarkRow.name == VERSION_MARK)


def version(session: Session) -> int:
    """The queue's current version: one primary-key read, cheap enough for every request."""
    value = session.connection().execute(_VERSION).scalar()
    return int(value or 0)


def _refresh_chunk(session: Session, ids: Sequence[int]) -> bool:
    """Rebuild these documents' entries; whether any entry appeared, went or changed."""
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
    changed = False
    for document_id, row in existing.items():
        if document_id not in waiting_ids:
            session.delete(row)
            changed = True
    if not waiting_ids:
        session.flush()
        return changed
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
            changed = True
        elif any(getattr(current, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(current, key, value)
            changed = True
    session.flush()
    return changed


# How long a page view's queue sync waits for SQLite's write lock before leaving the pipeline's
# news for the next sync: the page then shows the queue as of the last one, as it does between
# syncs anyway.
SYNC_LOCK_WAIT_SECONDS = 0.5


class QueueSync:
    """Applies new audit events to the queue, at most once per interval per process."""

    def __init__(self, store: Store, interval: float, lock_wait: float = SYNC_LOCK_WAIT_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self.lock_wait = lock_wait
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
                # Most looks find nothing new: they read without taking the write lock.
                with self.store.read_session() as session:
                    behind = is_behind(session)
                applied = 0
                if behind:
                    with self.store.session(lock_wait=None if force else self.lock_wait) as session:
                        applied = sync(session)
            except IntegrityError:
                # Another process inserted the same entries first; the next sync re-applies.
                applied = 0
            except OperationalError:
                if force:
                    raise
                # A writer kept the lock: the next sync applies what this one could not.
                applied = 0
            self._last = time.monotonic()
            return applied
        finally:
            self._lock.release()


def is_behind(session: Session) -> bool:
    """Whether the audit trail has events the queue has not applied yet (two primary-key reads)."""
    seen = session.scalar(select(SyncMarkRow.value).where(SyncMarkRow.name == SYNC_MARK)) or 0
    newest = session.scalar(select(func.max(AuditEventRow.id))) or 0
    return newest > seen


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


# A row of ``COLUMNS``: document id, state, vendor, invoice number, currency, total, reasons, ...
Entry = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class QueuePage:
    entries: list[Entry]  # the ``COLUMNS`` of each entry
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _filtered(query: _Query, f: QueueFilter) -> _Query:
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


# Just what the queue shows; a Core select of these is a fraction of the cost of ORM rows.
COLUMNS = (
    QueueEntryRow.document_id,
    QueueEntryRow.state,
    QueueEntryRow.vendor_id,
    QueueEntryRow.vendor_name,
    QueueEntryRow.invoice_number,
    QueueEntryRow.currency,
    QueueEntryRow.total,
    QueueEntryRow.reasons,
    QueueEntryRow.received_at,
    QueueEntryRow.assignee,
    QueueEntryRow.awaiting_second_approval,
)


class QueueCache:
    """Counts, pages and reason codes of the queue, per queue version, shared by a process's threads.

    Counting a filtered queue of tens of thousands of rows is the most expensive part of a page
    view, and neither it nor a page changes until the queue does. Entries are keyed on the
    version the request read before querying, so a newer version never sees an older entry;
    once a newer version is seen, everything older is dropped.
    """

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._version = -1
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, version: int, key: tuple[Any, ...]) -> Any | None:
        with self._lock:
            if version != self._version:
                if version > self._version:
                    self._values.clear()
                    self._version = version
                return None
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, version: int, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            if version != self._version:
                return  # read before a newer version was seen: not worth keeping
            self._values[key] = value
            if len(self._values) > self.max_entries:
                self._values.popitem(last=False)


def _count(session: Session, f: QueueFilter) -> int:
    return session.scalar(_filtered(select(func.count()).select_from(QueueEntryRow), f)) or 0


def _rows(session: Session, f: QueueFilter, page: int, total: int) -> list[Entry]:
    """One page of rows; never an OFFSET past the end, nor past the middle of the filtered queue.

    OFFSET walks every skipped row, so a page in the second half is read from the other end in
    the reverse order (each order ends in the primary key, so reversing it is exact).
    """
    skip = (page - 1) * f.page_size
    if skip >= total:
        return []
    columns = SORTS[f.sort]
    from_end = skip > total // 2
    descending = f.descending != from_end
    # No NULLS FIRST/LAST: it would stop the index from serving the order; empty amounts and
    # assignees sort where the database puts NULLs, which is also why reversing stays exact.
    order = [c.desc() if descending else c.asc() for c in columns]
    query = _filtered(select(*COLUMNS), f).order_by(*order)
    if not from_end:
        return list(session.execute(query.offset(skip).limit(f.page_size)))
    last = min(total, skip + f.page_size)
    rows = list(session.execute(query.offset(total - last).limit(last - skip)))
    rows.reverse()
    return rows


def list_queue(
    session: Session, f: QueueFilter, cache: QueueCache | None = None, at: int | None = None
) -> QueuePage:
    """One page of the queue; with a cache, as of queue version ``at`` (read now when not given)."""
    page = max(1, f.page)
    if cache is None:
        count = _count(session, f)
        rows = _rows(session, f, page, count)
        return QueuePage(entries=rows, total=count, page=page, page_size=f.page_size)
    current = version(session) if at is None else at
    where = (f.reason, f.vendor, f.assignee, f.min_amount, f.max_amount)
    total: int | None = cache.get(current, ("count", where))
    if total is None:
        total = _count(session, f)
        cache.put(current, ("count", where), total)
    key = ("page", where, f.sort, f.descending, page, f.page_size)
    entries: list[Entry] | None = cache.get(current, key)
    if entries is None:
        entries = _rows(session, f, page, total)
        cache.put(current, key, entries)
    return QueuePage(entries=entries, total=total, page=page, page_size=f.page_size)


def reason_codes(session: Session, cache: QueueCache | None = None, at: int | None = None) -> list[str]:
    """The reasons on the queue, for the filter drop-down; with a cache, as of version ``at``."""
    current = 0 if cache is None else version(session) if at is None else at
    codes: list[str] | None = cache.get(current, ("reasons",)) if cache is not None else None
    if codes is None:
        codes = list(
            session.scalars(
                select(QueueEntryRow.primary_reason).distinct().order_by(QueueEntryRow.primary_reason)
            )
        )
        if cache is not None:
            cache.put(current, ("reasons",), codes)
    return codes


def age_hours(received_at: datetime, now: datetime) -> float:
    return max(0.0, (now - received_at).total_seconds() / 3600)


# The next document for a person: built once, as every document page asks for it.
# On an expression, so no assignee index is chosen over walking the arrival order: the first
# free row in that order is near, and sorting every free row to find it is not.
_MINE_OR_FREE = func.coalesce(QueueEntryRow.assignee, "").in_(["", bindparam("username")])
_ARRIVAL = (QueueEntryRow.received_at, QueueEntryRow.document_id)
_NEXT_ANY = (
    select(QueueEntryRow.document_id)
    .where(_MINE_OR_FREE, QueueEntryRow.document_id != bindparam("document_id"))
    .order_by(*_ARRIVAL)
    .limit(1)
)
# A row-value comparison, so the (received_at, document_id) index serves it as a range.
_NEXT_LATER = _NEXT_ANY.where(
    tuple_(*_ARRIVAL)
    > tuple_(
        bindparam("received", type_=QueueEntryRow.received_at.type),
        bindparam("after", type_=QueueEntryRow.document_id.type),
    )
)
_RECEIVED = select(DocumentRow.received_at).where(DocumentRow.id == bindparam("document_id"))


def next_document(
    session: Session, document_id: int, username: str, received: datetime | None = None
) -> int | None:
    """The queue's next document after this one (oldest first) that is free or already this user's.

    ``received`` is the document's arrival time when the caller has it (saves a query).
    """
    db = session.connection()
    if received is None:
        received = db.execute(_RECEIVED, {"document_id": document_id}).scalar()
    mine = {"username": username, "document_id": document_id}
    if received is not None:
        found = db.execute(_NEXT_LATER, {**mine, "received": received, "after": document_id}).scalar()
        if found is not None:
            return int(found)
    first = db.execute(_NEXT_ANY, mine).scalar()
    return int(first) if first is not None else None
