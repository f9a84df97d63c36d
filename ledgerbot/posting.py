"""Posting approved invoices into the target ERP, exactly once.

Before typing anything the robot searches the ERP for the vendor and invoice number; a hit
means an earlier run got as far as submitting (maybe killed before it could record the result),
so the existing ERP document is recorded instead of posting again. Only one robot at a time
drives a given ERP account (a lease in the store). ERP validation errors are business
exceptions for a clerk; timeouts and crashes are retried with backoff, keeping a screenshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.circuit import CircuitBreaker, breaker_for
from ledgerbot.core.claims import claimed
from ledgerbot.core.domain import DocState, DocType, ExtractionResult
from ledgerbot.core.errors import ApplicationError, BusinessError
from ledgerbot.core.lifecycle import Actor, input_hash, transition
from ledgerbot.core.locks import exclusive
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import (
    DecisionRow,
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    PostingRow,
    utcnow,
)
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.core.target import (
    ErpRejected,
    NotPostable,
    TargetInvoice,
    TargetLine,
    TargetSystem,
)
from ledgerbot.cost import DETAIL_KEY, CpuMeter


def idempotency_key(document: DocumentRow) -> str:
    return f"LB-{document.id}-{document.sha256[:12]}"


def _line_matches(session: Session, document_id: int) -> dict[int, int]:
    """The rules engine's pairing of invoice lines with order lines, from its newest decision."""
    stored = session.get(DecisionRow, document_id)
    if stored is None:
        return {}
    pairs = stored.decision.get("line_matches") or []
    return {int(m["invoice_line"]): int(m["po_line_no"]) for m in pairs if "po_line_no" in m}


def erp_invoice(
    document: DocumentRow, result: ExtractionResult, line_matches: dict[int, int] | None = None
) -> TargetInvoice:
    """The ERP entry for a document, or NotPostable naming what is missing.

    ``line_matches`` maps an invoice line (0-based) to the purchase-order line the rules engine
    paired it with, so the target can link the booked line to its order line.
    """
    f = result.fields
    missing = [
        name
        for name, value in (
            ("vendor", document.vendor_id),
            ("invoice_number", f.invoice_number),
            ("invoice_date", f.invoice_date),
            ("currency", f.currency),
            ("subtotal", f.subtotal),
            ("tax_amount", f.tax_amount),
            ("total", f.total),
        )
        if value is None
    ]
    if missing:
        raise NotPostable(f"document {document.id} cannot be posted: {', '.join(missing)} missing")
    assert f.invoice_number and f.invoice_date and f.currency and document.vendor_id
    assert f.subtotal is not None and f.tax_amount is not None and f.total is not None
    lines = [
        TargetLine(
            sku=line.sku,
            description=(line.description or line.sku or "item")[:200],
            quantity=line.quantity if line.quantity is not None else Decimal(1),
            unit_price=line.unit_price if line.unit_price is not None else (line.amount or Decimal(0)),
            amount=line.amount if line.amount is not None else Decimal(0),
            po_line_no=(line_matches or {}).get(index),
        )
        for index, line in enumerate(result.lines)
    ]
    return TargetInvoice(
        doc_type=result.doc_type or DocType.INVOICE,
        vendor_id=document.vendor_id,
        invoice_number=f.invoice_number,
        invoice_date=f.invoice_date,
        due_date=f.due_date,
        po_number=f.po_number,
        currency=f.currency,
        subtotal=f.subtotal,
        tax_amount=f.tax_amount,
        total=f.total,
        external_ref=idempotency_key(document),
        lines=lines,
    )


def planned_entry(session: Session, document: DocumentRow) -> TargetInvoice:
    """The entry the robot makes for a document: its newest extraction with the rules engine's
    line pairing; what a check of the target's books compares with."""
    extraction = latest_extraction(session, document.id)
    if extraction is None:
        raise NotPostable(f"document {document.id} has no extraction")
    result = ExtractionResult.model_validate(extraction.result)
    return erp_invoice(document, result, _line_matches(session, document.id))


@dataclass
class PostingReport:
    posted: list[dict[str, Any]] = field(default_factory=list)
    already_posted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    retry_later: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    # Set when the target's circuit breaker paused posting (``ledgerbot.circuit``): once per run.
    paused: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "posted": len(self.posted),
            "already_posted": len(self.already_posted),
            "rejected_by_erp": len(self.rejected),
            "retry_later": len(self.retry_later),
            "duplicates": len(self.duplicates),
            **({"paused": self.paused} if self.paused else {}),
            "details": self.posted + self.already_posted + self.rejected + self.retry_later + self.duplicates,
        }


def approved_documents(session: Session, limit: int | None = None) -> list[int]:
    query = (
        select(DocumentRow.id)
        .where(
            DocumentRow.state == DocState.APPROVED,
            DocumentRow.doc_type.in_([DocType.INVOICE.value, DocType.CREDIT_NOTE.value]),
        )
        .order_by(DocumentRow.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def _posting_row(session: Session, document: DocumentRow, account: str) -> PostingRow:
    row = session.get(PostingRow, document.id)
    if row is None:
        row = PostingRow(
            document_id=document.id,
            idempotency_key=idempotency_key(document),
            erp_account=account,
            status="pending",
            attempts=0,
            found_existing=False,
        )
        session.add(row)
    return row


def _record_posted(
    session: Session,
    document: DocumentRow,
    row: PostingRow,
    actor: Actor,
    number: str,
    *,
    found: bool,
    screenshot: str | None,
    digest: str,
    cpu_seconds: float,
) -> None:
    row.status, row.erp_doc_number, row.found_existing = "posted", number, found
    row.screenshot = screenshot or row.screenshot
    row.posted_at = utcnow()
    row.last_error = None
    transition(
        session,
        document,
        DocState.POSTED,
        actor=actor,
        stage="post",
        input_digest=digest,
        outcome="found_in_erp" if found else "posted",
        detail={
            "erp_doc_number": number,
            "erp_account": row.erp_account,
            "idempotency_key": row.idempotency_key,
            "screenshot": screenshot,
            DETAIL_KEY: {"post": round(cpu_seconds, 6)},
        },
    )


def _invoice_key(result: ExtractionResult) -> tuple[str | None, str | None]:
    return (result.doc_type.value if result.doc_type else None, result.fields.invoice_number)


def duplicate_of_posted(session: Session, document: DocumentRow) -> int | None:
    """A document already posted for the same vendor, type and invoice number, if any.

    Two copies of one invoice (a re-sent mail, a scan and its e-invoice twin) processed at the
    same moment on two workers can both pass the duplicate check, which only sees documents
    already approved. Posting is serialised per target account, so checking here, under that lock,
    is race-free: the second copy goes to a clerk instead of being recorded against the first
    copy's ERP document.
    """
    current = latest_extraction(session, document.id)
    if current is None or document.vendor_id is None:
        return None
    key = _invoice_key(ExtractionResult.model_validate(current.result))
    if key[1] is None:
        return None
    posted = list(
        session.scalars(
            select(DocumentRow.id).where(
                DocumentRow.vendor_id == document.vendor_id,
                DocumentRow.state == DocState.POSTED.value,
                DocumentRow.id != document.id,
            )
        )
    )
    if not posted:
        return None
    rows = session.scalars(
        select(ExtractionRow).where(ExtractionRow.document_id.in_(posted)).order_by(ExtractionRow.id)
    ).all()
    latest = {row.document_id: row for row in rows}
    for doc_id, row in sorted(latest.items()):
        if _invoice_key(ExtractionResult.model_validate(row.result)) == key:
            return doc_id
    return None


def _to_review_as_duplicate(session: Session, document: DocumentRow, original: int, actor: Actor) -> None:
    session.add(
        ExceptionRow(
            document_id=document.id,
            code="DUPLICATE",
            message=f"same vendor and invoice number as document {original}, already posted",
            evidence={"duplicate_of": str(original)},
        )
    )
    transition(
        session,
        document,
        DocState.EXCEPTION,
        actor=actor,
        stage="post",
        outcome="duplicate_at_posting",
        detail={"duplicate_of": original},
    )


def post_one(
    store: Store,
    target: TargetSystem,
    document_id: int,
    *,
    screenshots: Path,
    actor: Actor,
    attempts: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, dict[str, Any]]:
    """Post one approved document; returns (outcome, detail). Safe to call again after a crash.

    What it cost (this process and the robot's browser below it, over every attempt) is written
    with the move that ends the posting, as the document's ``post`` CPU seconds.
    """
    meter = CpuMeter(tree=True)
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        if document is None or document.state != DocState.APPROVED:
            return "skipped", {"document_id": document_id}
        original = duplicate_of_posted(session, document)
        if original is not None:
            _to_review_as_duplicate(session, document, original, actor)
            return "duplicate", {"document_id": document_id, "duplicate_of": original}
        extraction = latest_extraction(session, document_id)
        if extraction is None:
            raise NotPostable(f"document {document_id} has no extraction")
        result = ExtractionResult.model_validate(extraction.result)
        row = _posting_row(session, document, target.account)
        try:
            entry = erp_invoice(document, result, _line_matches(session, document_id))
        except NotPostable as error:
            _to_review(session, document, row, actor, error, input_hash(extraction.result), meter.lap())
            return "rejected", {"document_id": document_id, **error.as_dict()}
    digest = input_hash(entry.model_dump(mode="json"))
    last_error: ApplicationError | None = None
    for attempt in range(1, attempts + 1):
        # The attempt is on record before the robot touches the ERP.
        with store.session() as session:
            row = _posting_row(session, session.get(DocumentRow, document_id), target.account)  # type: ignore[arg-type]
            row.attempts += 1
        try:
            existing = target.find_posted(
                entry.vendor_id, entry.invoice_number, external_ref=entry.external_ref
            )
            if existing is None:
                shot = screenshots / f"posted-{document_id}.png"
                result_ = target.post(entry, screenshot_to=shot)
                number, screenshot, found = result_.erp_doc_number, result_.screenshot, False
            else:
                number, screenshot, found = existing, None, True
        except ErpRejected as error:
            with store.session() as session:
                document = session.get(DocumentRow, document_id)
                assert document is not None
                row = _posting_row(session, document, target.account)
                _to_review(session, document, row, actor, error, digest, meter.lap())
            return "rejected", {"document_id": document_id, **error.as_dict()}
        except ApplicationError as error:
            last_error = error
            error_shot = target.screenshot(screenshots / f"error-{document_id}-{attempt}.png")
            with store.session() as session:
                failed = session.get(PostingRow, document_id)
                assert failed is not None
                failed.last_error = str(error)
                failed.screenshot = error_shot or failed.screenshot
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
            continue
        with store.session() as session:
            document = session.get(DocumentRow, document_id)
            assert document is not None
            row = _posting_row(session, document, target.account)
            _record_posted(
                session,
                document,
                row,
                actor,
                number,
                found=found,
                screenshot=screenshot,
                digest=digest,
                cpu_seconds=meter.lap(),
            )
        outcome = "already_posted" if found else "posted"
        return outcome, {"document_id": document_id, "erp_doc_number": number}
    assert last_error is not None
    return "retry_later", {"document_id": document_id, **last_error.as_dict()}


def _to_review(
    session: Session,
    document: DocumentRow,
    row: PostingRow,
    actor: Actor,
    error: BusinessError,
    digest: str,
    cpu_seconds: float,
) -> None:
    row.status, row.last_error = "error", str(error)
    # What the target showed when it refused, kept with the document's posting record.
    row.screenshot = str(error.evidence.get("screenshot") or "") or row.screenshot
    session.add(
        ExceptionRow(
            document_id=document.id,
            code="ERP_REJECTED" if error.code == "E730" else "NOT_POSTABLE",
            message=error.message,
            evidence={k: str(v) for k, v in error.evidence.items()},
        )
    )
    transition(
        session,
        document,
        DocState.EXCEPTION,
        actor=actor,
        stage="post",
        input_digest=digest,
        outcome=error.code,
        detail={**error.as_dict(), DETAIL_KEY: {"post": round(cpu_seconds, 6)}},
    )


def post_approved(
    store: Store,
    target: TargetSystem,
    *,
    screenshots: Path,
    limit: int | None = None,
    attempts: int = 3,
    backoff: float = 2.0,
    lease: timedelta = timedelta(minutes=15),
    progress: Callable[[Any], Any] = lambda items: items,
    breaker: CircuitBreaker | None = None,
) -> PostingReport:
    """Post every approved invoice, holding the ERP account's lease for the whole run.

    While the account's circuit breaker is open (the target failed again and again), the rest
    wait for a later run; the pause is reported once in the summary.
    """
    actor = Actor(name="robot:post", component=type(target).__name__, version=target.account)
    report = PostingReport()
    breaker = breaker or breaker_for(target.account)
    claim_ttl = timedelta(seconds=get_settings().processing.claim_seconds)
    left_for_later = 0
    screenshots.mkdir(parents=True, exist_ok=True)
    with exclusive(store, f"erp:{target.account}", ttl=lease) as held:
        with store.session() as session:
            ids = approved_documents(session, limit)
        for document_id in progress(ids):
            if not breaker.allow():
                left_for_later += 1
                continue
            held.renew()
            with claimed(store, document_id, ttl=claim_ttl, states=[DocState.APPROVED.value]) as ours:
                if not ours:  # a clerk or another process is on it right now: next run
                    continue
                outcome, detail = post_one(
                    store,
                    target,
                    document_id,
                    screenshots=screenshots,
                    actor=actor,
                    attempts=attempts,
                    backoff=backoff,
                )
            breaker.record(outcome)
            bucket = {
                "duplicate": report.duplicates,
                "posted": report.posted,
                "already_posted": report.already_posted,
                "rejected": report.rejected,
                "retry_later": report.retry_later,
            }.get(outcome)
            if bucket is not None:
                bucket.append(detail)
    report.paused = breaker.pause_report(left_for_later)
    return report
