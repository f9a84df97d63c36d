"""Drift: per day, the classifier's confidence histogram, the low-confidence and new-vendor shares.

Beside them, per vendor and field, the share of the window's documents a clerk corrected.

A day raises an alarm (a log event and the ``ledgerbot_drift_alarm`` gauge) when its share of
low-confidence document types rises past the share over the days before it by more than
``drift_margin``, or when more than ``new_vendor_share`` of its documents come from a vendor the
store had not seen before (or matched none): documents in another language or layout family
show both.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.store.models import DocumentRow
from ledgerbot.observability import CONFIDENCE_BUCKETS, REGISTRY

log = logging.getLogger("ledgerbot.drift")

DRIFT_ALARM = Gauge(
    "ledgerbot_drift_alarm",
    "1 while the last day's documents drift from the days before (low confidence, new vendors)",
    ["signal"],
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
            day["histogram"][
                min(bisect_left(CONFIDENCE_BUCKETS, confidence), len(CONFIDENCE_BUCKETS) - 1)
            ] += 1
            day["low_confidence"] += confidence < cfg.low_confidence
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
    alarms = _alarms(trend, cfg.drift_margin, cfg.new_vendor_share)
    corrections = correction_rates(session, since, end)
    if not alarm:
        return {
            "buckets": list(CONFIDENCE_BUCKETS),
            "days": trend,
            "corrections": corrections,
            "alarms": alarms,
        }
    for signal in ("low_confidence", "new_vendor"):
        DRIFT_ALARM.labels(signal=signal).set(1 if any(a["signal"] == signal for a in alarms) else 0)
    for raised in alarms:
        log.warning(
            "drift alarm: %s",
            raised["message"],
            extra={"event": "drift_alarm", "signal": raised["signal"], "day": raised["day"]},
        )
    return {"buckets": list(CONFIDENCE_BUCKETS), "days": trend, "corrections": corrections, "alarms": alarms}


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


def _alarms(trend: list[dict[str, Any]], margin: float, new_vendor_share: float) -> list[dict[str, Any]]:
    if not trend:
        return []
    last, before = trend[-1], trend[:-1]
    alarms = []
    if before:
        documents = sum(d["documents"] for d in before)
        base = sum(d["low_confidence"] for d in before) / documents if documents else 0.0
        if last["low_confidence_share"] - base > margin:
            alarms.append(
                {
                    "signal": "low_confidence",
                    "day": last["day"],
                    "message": f"low-confidence share {last['low_confidence_share']:.2f} on {last['day']} "
                    f"against {base:.2f} before (margin {margin})",
                }
            )
    if last["new_vendor_share"] > new_vendor_share:
        alarms.append(
            {
                "signal": "new_vendor",
                "day": last["day"],
                "message": f"{last['new_vendor_share']:.2f} of the documents on {last['day']} are from new "
                f"or unmatched vendors (threshold {new_vendor_share})",
            }
        )
    return alarms
