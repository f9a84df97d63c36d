"""Drift: per day and stage, confidence histograms and low-confidence shares; new vendors.

The stages and what their confidence is: ``classify`` the document type's; ``extract.<field>``
each field's as the pipeline read it (``lines`` for the line items); ``ranker`` the weakest
field confidence of a generic (ranked) read; ``template`` the weakest of a template read; ``match``
the weakest line pairing's similarity (0-100, as a share). Beside them, the share of reads a
template made (against the generic extractor), the new-vendor share, and per vendor and field the
share of the window's documents a clerk corrected.

A day raises an alarm (a log event, the ``ledgerbot_drift_alarm`` gauge per signal and the
``ledgerbot_drift_stage_alarm`` gauge per stage) when, at any stage with at least
``drift_min_documents`` on that day, its share of low-confidence decisions rises past the share
over the days before it by more than ``drift_margin``; when the share of template reads falls by
more than ``drift_margin``; or when more than ``new_vendor_share`` of its documents come from a
vendor the store had not seen before (or matched none). Documents in another language or layout
family show several.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.store.models import DocumentRow
from ledgerbot.observability import CONFIDENCE_BUCKETS, REGISTRY

log = logging.getLogger("ledgerbot.drift")

CLASSIFY = "classify"
# Stages whose figures come from the pipeline's read (the newest one of each document).
EXTRACT_PREFIX = "extract."
RANKER, TEMPLATE, MATCH = "ranker", "template", "match"

DRIFT_ALARM = Gauge(
    "ledgerbot_drift_alarm",
    "1 while the last day's documents drift from the days before (low confidence, new vendors)",
    ["signal"],
    registry=REGISTRY,
)
STAGE_ALARM = Gauge(
    "ledgerbot_drift_stage_alarm",
    "1 while the last day's share of low-confidence decisions of a stage drifts from the days before",
    ["stage"],
    registry=REGISTRY,
)


def drift_report(
    session: Session, *, days: int = 14, now: datetime | None = None, alarm: bool = True
) -> dict[str, Any]:
    """Figures per day over the last ``days`` and the alarms the newest day raises.

    With ``alarm`` (the default) the alarms are also logged and set on the gauge; a report of a
    past period (the finance workbook) reads the figures only.
    """
    from ledgerbot.core.settings import get_settings

    cfg = get_settings().modelops
    end = now or datetime.now(UTC)
    since = end - timedelta(days=days)
    rows = session.execute(
        select(DocumentRow.received_at, DocumentRow.doc_type_confidence, DocumentRow.vendor_id)
        .where(DocumentRow.received_at <= end)
        .order_by(DocumentRow.received_at, DocumentRow.id)
    ).all()
    seen: set[str] = set()
    per_day: dict[date, dict[str, Any]] = {}
    classified: list[tuple[date, float]] = []
    for received_at, confidence, vendor in rows:
        at = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
        new_vendor = vendor is None or vendor not in seen
        if vendor is not None:
            seen.add(vendor)
        if at < since:
            continue
        day = per_day.setdefault(
            at.date(),
            {
                "documents": 0,
                "low_confidence": 0,
                "new_vendor": 0,
                "histogram": [0] * len(CONFIDENCE_BUCKETS),
            },
        )
        day["documents"] += 1
        day["new_vendor"] += new_vendor
        if confidence is not None:
            day["histogram"][_bucket(confidence)] += 1
            day["low_confidence"] += confidence < cfg.low_confidence
            classified.append((at.date(), confidence))
    per_stage: dict[str, list[tuple[date, float]]] = {}
    reads: list[tuple[date, bool]] = []  # (day, read by a template) of generic and template reads
    for on, result, method in _pipeline_reads(session, since, end):
        read = result.get("field_confidence") or {}
        confidences = [(name, float(c)) for name, c in read.items() if isinstance(c, int | float)]
        for name, confidence in confidences:
            per_stage.setdefault(EXTRACT_PREFIX + name, []).append((on, confidence))
        method = method or result.get("method") or ""
        if method == "generic" or method.startswith("template"):
            by_template = method.startswith("template")
            reads.append((on, by_template))
            if confidences:
                weakest = min(c for _, c in confidences)
                per_stage.setdefault(TEMPLATE if by_template else RANKER, []).append((on, weakest))
    for on, confidence in _line_matching(session, since, end):
        per_stage.setdefault(MATCH, []).append((on, confidence))
    trend = []
    for on, figures in sorted(per_day.items()):
        n = figures["documents"]
        trend.append(
            {
                "day": on.isoformat(),
                **figures,
                "low_confidence_share": round(figures["low_confidence"] / n, 4),
                "new_vendor_share": round(figures["new_vendor"] / n, 4),
            }
        )
    if classified:
        per_stage[CLASSIFY] = classified
    stages = {stage: _stage_trend(values, cfg.low_confidence) for stage, values in sorted(per_stage.items())}
    templates = _template_trend(reads)
    minimum = cfg.drift_min_documents
    alarms = [
        *_alarms(trend, cfg.drift_margin, cfg.new_vendor_share, minimum),
        *(
            raised
            for stage, days_of in stages.items()
            if stage != CLASSIFY
            for raised in _stage_alarms(stage, days_of, cfg.drift_margin, minimum)
        ),
        *_template_alarms(templates, cfg.drift_margin, minimum),
    ]
    report = {
        "buckets": list(CONFIDENCE_BUCKETS),
        "days": trend,
        "stages": stages,
        "summary": [_summary(stage, days_of) for stage, days_of in stages.items()],
        "template_share": templates,
        "corrections": correction_rates(session, since, end),
        "alarms": alarms,
    }
    if not alarm:
        return report
    for signal in ("low_confidence", "new_vendor", "template_share"):
        DRIFT_ALARM.labels(signal=signal).set(1 if any(a["signal"] == signal for a in alarms) else 0)
    for stage in stages:
        STAGE_ALARM.labels(stage=stage).set(1 if any(a.get("stage") == stage for a in alarms) else 0)
    for raised in alarms:
        log.warning(
            "drift alarm: %s",
            raised["message"],
            extra={
                "event": "drift_alarm",
                "signal": raised["signal"],
                "stage": raised.get("stage"),
                "day": raised["day"],
            },
        )
    return report


def _bucket(confidence: float) -> int:
    return min(bisect_left(CONFIDENCE_BUCKETS, confidence), len(CONFIDENCE_BUCKETS) - 1)


def _stage_trend(values: list[tuple[date, float]], low: float) -> list[dict[str, Any]]:
    """Per day: how many decisions of the stage, their histogram, the low-confidence share."""
    per_day: dict[date, list[float]] = {}
    for day, confidence in values:
        per_day.setdefault(day, []).append(confidence)
    out = []
    for day, confidences in sorted(per_day.items()):
        histogram = [0] * len(CONFIDENCE_BUCKETS)
        for confidence in confidences:
            histogram[_bucket(confidence)] += 1
        lows = sum(c < low for c in confidences)
        out.append(
            {
                "day": day.isoformat(),
                "documents": len(confidences),
                "histogram": histogram,
                "low_confidence": lows,
                "low_confidence_share": round(lows / len(confidences), 4),
            }
        )
    return out


def _summary(stage: str, days_of: list[dict[str, Any]]) -> dict[str, Any]:
    """A stage's newest day beside the days before it (the admin page's table)."""
    last, before = days_of[-1], days_of[:-1]
    documents = sum(d["documents"] for d in before)
    return {
        "stage": stage,
        "day": last["day"],
        "documents": last["documents"],
        "low_confidence_share": last["low_confidence_share"],
        "before_share": round(sum(d["low_confidence"] for d in before) / documents, 4) if documents else None,
        "histogram": last["histogram"],
    }


def _template_trend(reads: list[tuple[date, bool]]) -> list[dict[str, Any]]:
    """Per day: reads by a template or the generic extractor, and the template's share."""
    per_day: dict[date, list[bool]] = {}
    for day, by_template in reads:
        per_day.setdefault(day, []).append(by_template)
    return [
        {
            "day": day.isoformat(),
            "documents": len(flags),
            "template": sum(flags),
            "template_share": round(sum(flags) / len(flags), 4),
        }
        for day, flags in sorted(per_day.items())
    ]


def _pipeline_reads(
    session: Session, since: datetime, end: datetime
) -> Iterator[tuple[date, dict[str, Any], str | None]]:
    """The pipeline's newest read of each document received in the window: (day, result, method)."""
    from ledgerbot.core.store.models import ExtractionRow
    from ledgerbot.processing import PIPELINE

    query = (
        select(ExtractionRow.document_id, ExtractionRow.method, ExtractionRow.result, DocumentRow.received_at)
        .join(DocumentRow, DocumentRow.id == ExtractionRow.document_id)
        .where(
            DocumentRow.received_at >= since,
            DocumentRow.received_at <= end,
            ExtractionRow.created_by == PIPELINE,
        )
        .order_by(ExtractionRow.id)
    )
    newest: dict[int, tuple[date, dict[str, Any], str | None]] = {}
    for document_id, method, result, received_at in session.execute(query):
        newest[document_id] = (_day(received_at), result or {}, method)
    yield from newest.values()


def _line_matching(session: Session, since: datetime, end: datetime) -> Iterator[tuple[date, float]]:
    """Per decided document with paired lines: (day, the weakest pairing's similarity as a share)."""
    from ledgerbot.core.store.models import DecisionRow

    query = (
        select(DecisionRow.decision, DocumentRow.received_at)
        .join(DocumentRow, DocumentRow.id == DecisionRow.document_id)
        .where(DocumentRow.received_at >= since, DocumentRow.received_at <= end)
    )
    for decision, received_at in session.execute(query):
        scores = [
            float(m["score"])
            for m in (decision or {}).get("line_matches") or []
            if m.get("score") is not None
        ]
        if scores:
            yield _day(received_at), min(scores) / 100.0


def _day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).date()


def correction_rates(session: Session, since: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per vendor and field: documents received in the window and the share a clerk corrected."""
    from sqlalchemy import func

    from ledgerbot.core.store.review import CorrectionRow

    received = select(DocumentRow.id, DocumentRow.vendor_id).where(
        DocumentRow.received_at >= since, DocumentRow.received_at <= end
    )
    per_vendor: dict[str, int] = {}
    for _id, vendor in session.execute(received):
        per_vendor[vendor or "(unknown)"] = per_vendor.get(vendor or "(unknown)", 0) + 1
    rows = session.execute(
        select(
            DocumentRow.vendor_id, CorrectionRow.target, func.count(func.distinct(CorrectionRow.document_id))
        )
        .join(DocumentRow, DocumentRow.id == CorrectionRow.document_id)
        .where(DocumentRow.received_at >= since, DocumentRow.received_at <= end)
        .group_by(DocumentRow.vendor_id, CorrectionRow.target)
    ).all()
    out = []
    for vendor, target, corrected in sorted(rows, key=lambda r: (r[0] or "", r[1])):
        documents = per_vendor.get(vendor or "(unknown)", 0)
        out.append(
            {
                "vendor": vendor or "(unknown)",
                "field": target,
                "documents": documents,
                "corrected": corrected,
                "rate": round(corrected / documents, 4) if documents else None,
            }
        )
    return out


def _alarms(
    trend: list[dict[str, Any]], margin: float, new_vendor_share: float, minimum: int
) -> list[dict[str, Any]]:
    if not trend:
        return []
    alarms = _stage_alarms(CLASSIFY, trend, margin, minimum)
    last = trend[-1]
    if last["new_vendor_share"] > new_vendor_share:
        alarms.append(
            {
                "signal": "new_vendor",
                "stage": "intake",
                "day": last["day"],
                "message": f"{last['new_vendor_share']:.2f} of the documents on {last['day']} are from new "
                f"or unmatched vendors (threshold {new_vendor_share})",
            }
        )
    return alarms


def _stage_alarms(
    stage: str, trend: list[dict[str, Any]], margin: float, minimum: int
) -> list[dict[str, Any]]:
    """The low-confidence alarm of one stage: its newest day against the days before it."""
    if len(trend) < 2 or trend[-1]["documents"] < minimum:
        return []
    last, before = trend[-1], trend[:-1]
    documents = sum(d["documents"] for d in before)
    base = sum(d["low_confidence"] for d in before) / documents if documents else 0.0
    if last["low_confidence_share"] - base <= margin:
        return []
    what = "document type" if stage == CLASSIFY else stage
    return [
        {
            "signal": "low_confidence",
            "stage": stage,
            "day": last["day"],
            "message": f"{what}: low-confidence share {last['low_confidence_share']:.2f} on {last['day']} "
            f"against {base:.2f} before (margin {margin})",
        }
    ]


def _template_alarms(trend: list[dict[str, Any]], margin: float, minimum: int) -> list[dict[str, Any]]:
    """Templates stop reading a vendor's documents (a new layout): their share of reads falls."""
    if len(trend) < 2 or trend[-1]["documents"] < minimum:
        return []
    last, before = trend[-1], trend[:-1]
    documents = sum(d["documents"] for d in before)
    base = sum(d["template"] for d in before) / documents if documents else 0.0
    if base - last["template_share"] <= margin:
        return []
    return [
        {
            "signal": "template_share",
            "stage": TEMPLATE,
            "day": last["day"],
            "message": f"templates read {last['template_share']:.2f} of the documents on {last['day']} "
            f"against {base:.2f} before (margin {margin}); the rest went to the generic extractor",
        }
    ]
