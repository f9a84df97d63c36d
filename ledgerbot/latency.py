"""Per-stage latency percentiles (p50/p95/p99) of documents, read from the audit trail.

Every stage writes an audit row when it moves a document, so the time a stage took on a document
is the gap between the move before and the stage's own move (intake: from the document row's
creation to its first move). Processing writes the text layer's, the classifier's and the
extractors' moves together after one read, so ``text_layer`` carries the whole read (and the time
the document waited for it) and ``classify`` / ``extract`` only their own bookkeeping; ``post``
includes the wait for approval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from statistics import quantiles
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.store.models import AuditEventRow, DocumentRow

# The stage names, from the audit trail's stage names.
STAGES = {
    "intake": "intake",
    "parse": "text_layer",
    "classify": "classify",
    "extract": "extract",
    "validate": "validate",
    "match": "match",
    "approve": "match",
    "post": "post",
}
ORDER = ("intake", "text_layer", "classify", "extract", "validate", "match", "post")
PERCENTILES = (50, 95, 99)


def percentiles(values: Sequence[float], points: Iterable[int] = PERCENTILES) -> dict[str, float]:
    """Exact percentiles, linear between the closest ranks (numpy's and Excel's PERCENTILE.INC)."""
    if not values:
        return {}
    if len(values) == 1:
        return {f"p{p}": float(values[0]) for p in points}
    cuts = quantiles(values, n=100, method="inclusive")
    return {f"p{p}": round(cuts[p - 1], 6) for p in points}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def document_stage_seconds(received_at: datetime, events: Iterable[tuple[str, datetime]]) -> dict[str, float]:
    """Seconds one document spent per stage, from its audit moves in order."""
    durations: dict[str, float] = {}
    previous = _utc(received_at)
    for stage, at in events:
        at = _utc(at)
        name = STAGES.get(stage)
        if name is not None:
            durations[name] = durations.get(name, 0.0) + max((at - previous).total_seconds(), 0.0)
        previous = max(previous, at)
    return durations


def stage_latency(session: Session, *, days: float = 30.0, now: datetime | None = None) -> dict[str, Any]:
    """p50/p95/p99 seconds per stage over documents received in the last ``days``."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows = session.execute(
        select(AuditEventRow.document_id, AuditEventRow.stage, AuditEventRow.at, DocumentRow.received_at)
        .join(DocumentRow, DocumentRow.id == AuditEventRow.document_id)
        .where(DocumentRow.received_at >= since)
        .order_by(AuditEventRow.document_id, AuditEventRow.id)
    ).all()
    per_document: dict[int, tuple[datetime, list[tuple[str, datetime]]]] = {}
    for document_id, stage, at, received_at in rows:
        per_document.setdefault(document_id, (received_at, []))[1].append((stage, at))
    samples: dict[str, list[float]] = {stage: [] for stage in ORDER}
    for received_at, events in per_document.values():
        for stage, seconds in document_stage_seconds(received_at, events).items():
            samples[stage].append(seconds)
    return {stage: {"documents": len(values), **percentiles(values)} for stage, values in samples.items()}
