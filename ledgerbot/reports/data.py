"""The figures of the finance report, read from the store for one period (no Excel here)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState, ExtractionResult
from ledgerbot.core.errors import LedgerbotError
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import (
    AuditEventRow,
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    PostingRow,
    VendorRow,
    utcnow,
)
from ledgerbot.latency import percentiles

# Ageing buckets of open exceptions, in whole days since the exception was raised.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2 days", 0, 2),
    ("3-7 days", 3, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("over 30 days", 31, None),
)
STRAIGHT_THROUGH = "straight_through"


class ReportError(LedgerbotError):
    code = "E820"


@dataclass(frozen=True)
class ProcessedInvoice:
    document_id: int
    doc_type: str
    vendor_id: str
    vendor_name: str
    invoice_number: str
    invoice_date: date | None
    due_date: date | None
    po_number: str | None
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    erp_doc_number: str
    erp_account: str
    posted_at: datetime
    approved_by: str
    approved_at: datetime | None
    straight_through: bool


@dataclass(frozen=True)
class OpenException:
    exception_id: int
    document_id: int
    vendor_id: str
    vendor_name: str
    invoice_number: str
    total: Decimal | None
    currency: str
    code: str
    message: str
    raised_at: datetime
    age_days: int
    bucket: str


@dataclass(frozen=True)
class VendorSpend:
    vendor_id: str
    vendor_name: str
    currency: str
    invoices: int
    credit_notes: int
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal


@dataclass(frozen=True)
class VendorExceptions:
    vendor_id: str
    vendor_name: str
    decided: int
    straight_through: int
    documents_with_exceptions: int
    exceptions: int


@dataclass(frozen=True)
class ReviewDecision:
    """A person's override, rejection or proposed rejection in the period, with the reason they gave."""

    document_id: int
    vendor_id: str
    vendor_name: str
    at: datetime
    user: str
    action: str  # approve | first_approval | reject | propose_reject
    overridden: str  # the exception codes an approval went over, comma-separated
    reason_code: str
    reason_label: str
    reason: str


@dataclass(frozen=True)
class ReasonFigures:
    """One exception reason over the period: how often it sent documents to review, how fast it was cleared.

    ``review_rate`` is the share of the documents that reached a decision in the period which this
    reason sent to review (None when none reached a decision); the hours to resolve are over the
    exceptions of the period already resolved, from raised to resolved.
    """

    code: str
    exceptions: int
    documents: int
    review_rate: float | None
    resolved: int
    still_open: int
    hours_to_resolve_p50: float | None
    hours_to_resolve_p90: float | None


@dataclass(frozen=True)
class DocumentCost:
    """CPU seconds one document received in the period cost, per stage (``ledgerbot.cost``)."""

    document_id: int
    filename: str
    vendor_id: str
    vendor_name: str
    state: str
    stages: dict[str, float]

    @property
    def total(self) -> float:
        return round(sum(self.stages.values()), 6)


# Review actions whose audit detail carries a reason the report lists.
REASONED_ACTIONS = ("approve", "first_approval", "reject", "propose_reject")


@dataclass
class ReportData:
    start: date
    end: date
    as_of: datetime
    processed: list[ProcessedInvoice] = field(default_factory=list)
    open_exceptions: list[OpenException] = field(default_factory=list)
    decided: int = 0
    straight_through: int = 0
    exceptions_by_reason: list[tuple[str, int]] = field(default_factory=list)
    reasons: list[ReasonFigures] = field(default_factory=list)
    exceptions_by_vendor: list[VendorExceptions] = field(default_factory=list)
    spend: list[VendorSpend] = field(default_factory=list)
    review_decisions: list[ReviewDecision] = field(default_factory=list)
    # The audit trail's hash chain, re-computed when the report was made: "verified (N rows)"
    # or where it is broken.
    audit_trail: str = ""
    # Model operations: per day of the period the drift figures, per stage the latency percentiles.
    drift_days: list[dict[str, Any]] = field(default_factory=list)
    # Per day and stage (each extracted field, the ranker, templates, matching): the decisions,
    # their low-confidence share and histogram; the "template reads" rows the templates' share.
    drift_stages: list[dict[str, Any]] = field(default_factory=list)
    stage_latency: dict[str, dict[str, float]] = field(default_factory=dict)
    # Cost per decision: CPU seconds per stage and per document, of the documents received in it.
    cpu_per_stage: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu_per_document: dict[str, float] = field(default_factory=dict)
    document_costs: list[DocumentCost] = field(default_factory=list)

    @property
    def straight_through_rate(self) -> float:
        return self.straight_through / self.decided if self.decided else 0.0

    def ageing(self) -> list[tuple[str, int]]:
        counts = Counter(e.bucket for e in self.open_exceptions)
        return [(name, counts.get(name, 0)) for name, _, _ in AGEING_BUCKETS]


def bucket_for(age_days: int) -> str:
    for name, low, high in AGEING_BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return name
    return AGEING_BUCKETS[0][0]  # a clock skew can make a fresh exception look a day younger


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ReportError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latest_extractions(session: Session, ids: list[int]) -> dict[int, ExtractionResult]:
    out: dict[int, ExtractionResult] = {}
    for chunk in range(0, len(ids), 500):
        rows = session.scalars(
            select(ExtractionRow)
            .where(ExtractionRow.document_id.in_(ids[chunk : chunk + 500]))
            .order_by(ExtractionRow.id)
        ).all()
        for row in rows:  # ordered by id, so the newest per document wins
            out[row.document_id] = ExtractionResult.model_validate(row.result)
    return out


def _approvals(session: Session, ids: list[int]) -> dict[int, AuditEventRow]:
    out: dict[int, AuditEventRow] = {}
    for chunk in range(0, len(ids), 500):
        rows = session.scalars(
            select(AuditEventRow)
            .where(
                AuditEventRow.document_id.in_(ids[chunk : chunk + 500]),
                AuditEventRow.to_state == DocState.APPROVED.value,
            )
            .order_by(AuditEventRow.id)
        ).all()
        for row in rows:
            out[row.document_id] = row
    return out


def approver(event: AuditEventRow | None) -> str:
    """Who approved: the clerk(s) of a review decision, or the robot for straight-through."""
    if event is None:
        return "unknown"
    if event.outcome == STRAIGHT_THROUGH:
        return f"straight-through ({event.actor})"
    approvers: Any = (event.detail or {}).get("approvers")
    if isinstance(approvers, list) and approvers:
        return ", ".join(str(a) for a in approvers)
    return event.actor


def collect(store: Store, start: date, end: date, *, as_of: datetime | None = None) -> ReportData:
    """Everything the report shows for ``start``..``end`` (inclusive, UTC days)."""
    low, high = _bounds(start, end)
    as_of = as_of or min(utcnow(), high)
    data = ReportData(start=start, end=end, as_of=as_of)
    with store.session() as session:
        vendors = {v.vendor_id: v.name for v in session.scalars(select(VendorRow))}
        _processed(session, data, vendors, low, high)
        _exceptions(session, data, vendors, high)
        _decisions(session, data, vendors, low, high)
        _review_decisions(session, data, vendors, low, high)
        data.audit_trail = _audit_trail(session)
        _model_operations(session, data, high)
        _costs(session, data, vendors, high)
    _spend(data)
    return data


def _model_operations(session: Session, data: ReportData, high: datetime) -> None:
    from ledgerbot.drift import drift_report
    from ledgerbot.latency import stage_latency

    days = (data.end - data.start).days + 1
    drift = drift_report(session, days=days, now=high, alarm=False)
    data.drift_days = drift["days"]
    rows = [{"stage": stage, **d} for stage, trend in drift["stages"].items() for d in trend]
    rows += [{"stage": "template reads", **d} for d in drift["template_share"]]
    data.drift_stages = sorted(rows, key=lambda r: (r["day"], r["stage"]))
    data.stage_latency = stage_latency(session, days=days, now=high)


def _costs(session: Session, data: ReportData, vendors: dict[str, str], high: datetime) -> None:
    from ledgerbot.cost import cpu_report, document_costs

    costs = document_costs(session, days=(data.end - data.start).days + 1, now=high)
    report = cpu_report(costs)
    data.cpu_per_stage, data.cpu_per_document = report["per_stage"], report["per_document"]
    ids = sorted(costs)
    for chunk in range(0, len(ids), 500):
        for document in session.scalars(
            select(DocumentRow).where(DocumentRow.id.in_(ids[chunk : chunk + 500]))
        ):
            vendor_id = document.vendor_id or ""
            data.document_costs.append(
                DocumentCost(
                    document_id=document.id,
                    filename=document.filename or "",
                    vendor_id=vendor_id,
                    vendor_name=vendors.get(vendor_id, ""),
                    state=document.state or "",
                    stages=costs[document.id],
                )
            )
    data.document_costs.sort(key=lambda c: c.document_id)


def _audit_trail(session: Session) -> str:
    from ledgerbot.core.store.audit_chain import verify

    report = verify(session)
    if report.ok:
        return f"verified ({report.rows} rows)"
    return f"BROKEN at row {report.broken_at}: {report.problem}"


def _processed(
    session: Session, data: ReportData, vendors: dict[str, str], low: datetime, high: datetime
) -> None:
    rows = session.execute(
        select(PostingRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == PostingRow.document_id)
        .where(
            PostingRow.status == "posted",
            PostingRow.posted_at >= low,
            PostingRow.posted_at < high,
            DocumentRow.state == DocState.POSTED.value,
        )
        .order_by(PostingRow.posted_at, PostingRow.document_id)
    ).all()
    ids = [document.id for _, document in rows]
    results = _latest_extractions(session, ids)
    approvals = _approvals(session, ids)
    for posting, document in rows:
        result = results.get(document.id)
        if result is None or posting.posted_at is None or posting.erp_doc_number is None:
            continue
        f = result.fields
        event = approvals.get(document.id)
        vendor_id = document.vendor_id or ""
        data.processed.append(
            ProcessedInvoice(
                document_id=document.id,
                doc_type=document.doc_type or "invoice",
                vendor_id=vendor_id,
                vendor_name=vendors.get(vendor_id, f.vendor_name or ""),
                invoice_number=f.invoice_number or "",
                invoice_date=f.invoice_date,
                due_date=f.due_date,
                po_number=f.po_number,
                currency=f.currency or "",
                subtotal=f.subtotal or Decimal(0),
                tax_amount=f.tax_amount or Decimal(0),
                total=f.total or Decimal(0),
                erp_doc_number=posting.erp_doc_number,
                erp_account=posting.erp_account,
                posted_at=_aware(posting.posted_at),
                approved_by=approver(event),
                approved_at=_aware(event.at) if event else None,
                straight_through=bool(event and event.outcome == STRAIGHT_THROUGH),
            )
        )


def _exceptions(session: Session, data: ReportData, vendors: dict[str, str], high: datetime) -> None:
    rows = session.execute(
        select(ExceptionRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == ExceptionRow.document_id)
        .where(
            ExceptionRow.status == "open",
            ExceptionRow.created_at < high,
            DocumentRow.state == DocState.EXCEPTION.value,
        )
        .order_by(ExceptionRow.created_at, ExceptionRow.id)
    ).all()
    results = _latest_extractions(session, sorted({d.id for _, d in rows}))
    for exc, document in rows:
        result = results.get(document.id)
        f = result.fields if result else None
        raised = _aware(exc.created_at)
        age = max((data.as_of - raised).days, 0)
        vendor_id = document.vendor_id or ""
        data.open_exceptions.append(
            OpenException(
                exception_id=exc.id,
                document_id=document.id,
                vendor_id=vendor_id,
                vendor_name=vendors.get(vendor_id, (f.vendor_name if f else None) or ""),
                invoice_number=(f.invoice_number if f else None) or "",
                total=f.total if f else None,
                currency=(f.currency if f else None) or "",
                code=exc.code,
                message=exc.message,
                raised_at=raised,
                age_days=age,
                bucket=bucket_for(age),
            )
        )


def _decisions(
    session: Session, data: ReportData, vendors: dict[str, str], low: datetime, high: datetime
) -> None:
    """Straight-through rate and exception counts over documents that reached a decision in the period.

    A document reaches the decision point the first time it is matched or sent to review; it
    counts as straight-through when the robot then approved it without a person.
    """
    events = session.execute(
        select(AuditEventRow.document_id, AuditEventRow.at)
        .where(AuditEventRow.to_state.in_([DocState.MATCHED.value, DocState.EXCEPTION.value]))
        .order_by(AuditEventRow.id)
    ).all()
    first: dict[int, datetime] = {}
    for doc_id, at in events:
        first.setdefault(doc_id, _aware(at))
    decided = {d for d, at in first.items() if low <= at < high}
    auto = (
        set(
            session.scalars(
                select(AuditEventRow.document_id).where(
                    AuditEventRow.to_state == DocState.APPROVED.value,
                    AuditEventRow.outcome == STRAIGHT_THROUGH,
                )
            )
        )
        & decided
    )
    data.decided, data.straight_through = len(decided), len(auto)
    vendor_of = (
        dict(
            session.execute(
                select(DocumentRow.id, DocumentRow.vendor_id).where(DocumentRow.id.in_(list(decided)))
            ).all()
        )
        if decided
        else {}
    )
    exceptions = session.execute(
        select(
            ExceptionRow.document_id,
            ExceptionRow.code,
            ExceptionRow.status,
            ExceptionRow.created_at,
            ExceptionRow.resolved_at,
        ).where(ExceptionRow.created_at >= low, ExceptionRow.created_at < high)
    ).all()
    raised = [(doc_id, code) for doc_id, code, *_ in exceptions]
    by_reason = Counter(code for _, code in raised)
    data.exceptions_by_reason = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    data.reasons = _reason_figures(exceptions, data.decided, data.as_of)
    if raised:
        missing = {d for d, _ in raised} - set(vendor_of)
        if missing:
            vendor_of.update(
                session.execute(
                    select(DocumentRow.id, DocumentRow.vendor_id).where(DocumentRow.id.in_(missing))
                ).all()
            )
    per_vendor: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"decided": 0, "auto": 0, "docs": set(), "n": 0}
    )
    for doc_id in decided:
        entry = per_vendor[vendor_of.get(doc_id) or ""]
        entry["decided"] += 1
        entry["auto"] += doc_id in auto
    for doc_id, _code in raised:
        entry = per_vendor[vendor_of.get(doc_id) or ""]
        entry["docs"].add(doc_id)
        entry["n"] += 1
    data.exceptions_by_vendor = sorted(
        (
            VendorExceptions(
                vendor_id=vendor_id,
                vendor_name=vendors.get(vendor_id, "unknown vendor" if not vendor_id else ""),
                decided=entry["decided"],
                straight_through=entry["auto"],
                documents_with_exceptions=len(entry["docs"]),
                exceptions=entry["n"],
            )
            for vendor_id, entry in per_vendor.items()
        ),
        key=lambda v: (-v.exceptions, v.vendor_id),
    )


def _reason_figures(exceptions: Sequence[Any], decided: int, as_of: datetime) -> list[ReasonFigures]:
    """Per reason code: counts, review rate and hours from raised to resolved (p50, p90)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in exceptions:
        grouped[row.code].append(row)
    out = []
    for code, rows in grouped.items():
        hours = [
            (_aware(r.resolved_at) - _aware(r.created_at)).total_seconds() / 3600
            for r in rows
            if r.resolved_at is not None and _aware(r.resolved_at) <= as_of
        ]
        cuts = percentiles(sorted(max(h, 0.0) for h in hours), (50, 90))
        documents = len({r.document_id for r in rows})
        out.append(
            ReasonFigures(
                code=code,
                exceptions=len(rows),
                documents=documents,
                review_rate=documents / decided if decided else None,
                resolved=sum(r.status != "open" for r in rows),
                still_open=sum(r.status == "open" for r in rows),
                hours_to_resolve_p50=cuts.get("p50"),
                hours_to_resolve_p90=cuts.get("p90"),
            )
        )
    return sorted(out, key=lambda r: (-r.exceptions, r.code))


def _spend(data: ReportData) -> None:
    groups: dict[tuple[str, str], list[ProcessedInvoice]] = defaultdict(list)
    for invoice in data.processed:
        groups[(invoice.vendor_id, invoice.currency)].append(invoice)
    data.spend = sorted(
        (
            VendorSpend(
                vendor_id=vendor_id,
                vendor_name=items[0].vendor_name,
                currency=currency,
                invoices=sum(i.doc_type != "credit_note" for i in items),
                credit_notes=sum(i.doc_type == "credit_note" for i in items),
                subtotal=sum((i.subtotal for i in items), Decimal(0)),
                tax_amount=sum((i.tax_amount for i in items), Decimal(0)),
                total=sum((i.total for i in items), Decimal(0)),
            )
            for (vendor_id, currency), items in groups.items()
        ),
        key=lambda s: (s.currency, -s.total, s.vendor_id),
    )


def _review_decisions(
    session: Session, data: ReportData, vendors: dict[str, str], low: datetime, high: datetime
) -> None:
    """Overrides and rejections people made in the period, each with its listed reason and words."""
    rows = session.execute(
        select(AuditEventRow, DocumentRow.vendor_id)
        .join(DocumentRow, DocumentRow.id == AuditEventRow.document_id)
        .where(AuditEventRow.stage == "review", AuditEventRow.at >= low, AuditEventRow.at < high)
        .order_by(AuditEventRow.id)
    ).all()
    for event, vendor_id in rows:
        detail = event.detail or {}
        if detail.get("action") not in REASONED_ACTIONS or not detail.get("reason_code"):
            continue
        data.review_decisions.append(
            ReviewDecision(
                document_id=event.document_id,
                vendor_id=vendor_id or "",
                vendor_name=vendors.get(vendor_id or "", ""),
                at=_aware(event.at),
                user=event.actor.removeprefix("user:"),
                action=str(detail["action"]),
                overridden=", ".join(str(c) for c in detail.get("overridden") or detail.get("closed") or []),
                reason_code=str(detail.get("reason_code")),
                reason_label=str(detail.get("reason_label") or ""),
                reason=str(detail.get("reason") or ""),
            )
        )
