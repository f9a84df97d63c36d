"""Prometheus metrics and structured JSON logs with a correlation id per document.

Two kinds of metric live here. Figures about the whole pipeline (documents by state, the
straight-through rate, the review queue's length and age) are read from the store when
Prometheus scrapes, so every worker and the review app report the same truth however many
processes run. Figures about work done (stage latency, model confidence) are observed by the
process that did the work; Prometheus sums them over processes and ``histogram_quantile`` gives
p50/p95/p99 (``quantiles`` computes the same from one registry, for the CLI and benchmarks).
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ledgerbot.core.domain import DocState
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, utcnow

REGISTRY = CollectorRegistry(auto_describe=True)

# Stage work ranges from milliseconds (a rules check) to minutes (OCR of a long scan, a slow
# ERP screen), so the buckets are spread logarithmically over that range.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0)

STAGE_SECONDS = Histogram(
    "ledgerbot_stage_seconds",
    "Time one document spent in one stage (parse, classify, extract, validate, match, post)",
    ["stage"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "ledgerbot_job_seconds",
    "Wall time of one worker job",
    ["task", "outcome"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
CONFIDENCE = Histogram(
    "ledgerbot_model_confidence",
    "Confidence of model decisions: document type, and each extracted field",
    ["kind"],
    buckets=CONFIDENCE_BUCKETS,
    registry=REGISTRY,
)
DOCUMENTS_DONE = Counter(
    "ledgerbot_documents_processed",
    "Documents this process moved through processing or posting, by the state they reached",
    ["task", "state"],
    registry=REGISTRY,
)

# ---------------------------------------------------------------------------------------------
# Store-backed gauges


class StoreCollector(Collector):
    """Pipeline-wide gauges read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterable[Metric]:
        snap = pipeline_snapshot(self.store)
        by_state = GaugeMetricFamily("ledgerbot_documents", "Documents by life-cycle state", labels=["state"])
        for state, n in snap["documents_by_state"].items():
            by_state.add_metric([state], n)
        yield by_state
        yield GaugeMetricFamily(
            "ledgerbot_straight_through_ratio",
            "Share of documents reaching the decision point that the robot approved without a person",
            value=snap["straight_through_rate"],
        )
        yield GaugeMetricFamily(
            "ledgerbot_review_queue_length",
            "Documents waiting for a clerk",
            value=snap["review_queue_length"],
        )
        yield GaugeMetricFamily(
            "ledgerbot_review_queue_oldest_age_seconds",
            "Age of the oldest open exception",
            value=snap["review_queue_oldest_age_seconds"],
        )
        yield GaugeMetricFamily(
            "ledgerbot_open_exceptions",
            "Open exceptions (a document may have several)",
            value=snap["open_exceptions"],
        )

    def describe(self) -> Iterable[Metric]:
        return []


def straight_through_counts(store: Store) -> tuple[int, int]:
    """(auto-approved, decided): decided documents reached the decision point (matched or review)."""
    with store.read_session() as session:
        decided = session.scalar(
            select(func.count(func.distinct(AuditEventRow.document_id))).where(
                AuditEventRow.to_state.in_([DocState.MATCHED.value, DocState.EXCEPTION.value])
            )
        )
        auto = session.scalar(
            select(func.count(func.distinct(AuditEventRow.document_id))).where(
                AuditEventRow.to_state == DocState.APPROVED.value,
                AuditEventRow.outcome == "straight_through",
            )
        )
    return int(auto or 0), int(decided or 0)


def pipeline_snapshot(store: Store) -> dict[str, Any]:
    from ledgerbot.core.store.queries import state_counts

    with store.read_session() as session:
        counts = state_counts(session)
        open_exceptions = session.scalar(select(func.count()).where(ExceptionRow.status == "open")) or 0
        oldest = session.scalar(
            select(func.min(DocumentRow.updated_at)).where(DocumentRow.state == DocState.EXCEPTION.value)
        )
    auto, decided = straight_through_counts(store)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return {
        "documents_by_state": counts,
        "straight_through_rate": auto / decided if decided else 0.0,
        "review_queue_length": counts.get(DocState.EXCEPTION.value, 0),
        "review_queue_oldest_age_seconds": (utcnow() - oldest).total_seconds() if oldest else 0.0,
        "open_exceptions": int(open_exceptions),
    }


_store_collector: StoreCollector | None = None


def register_store(store: Store, registry: CollectorRegistry = REGISTRY) -> None:
    """Report ``store``'s pipeline gauges from ``registry``.

    One collector per registry, pointed at the newest store: two collectors would both emit
    ``ledgerbot_documents`` and make the exposition invalid.
    """
    global _store_collector
    if registry is not REGISTRY:
        registry.register(StoreCollector(store))
        return
    if _store_collector is None:
        _store_collector = StoreCollector(store)
        registry.register(_store_collector)
    _store_collector.store = store


def serve_metrics(port: int, store: Store | None = None, addr: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` from a background thread (the worker's endpoint)."""
    if store is not None:
        register_store(store)
    start_http_server(port, addr=addr, registry=REGISTRY)


# ---------------------------------------------------------------------------------------------
# Work-done observations


def observe_document_stages(store: Store, document_id: int, since: datetime) -> dict[str, float]:
    """Stage latencies of one document from its audit trail, for the moves made since ``since``.

    The audit rows are the one record every stage writes, so timing from them measures every
    stage without the stages knowing about metrics: a stage's latency is the gap between the
    previous move and the move that stage made.
    """
    with store.read_session() as session:
        events = session.execute(
            select(AuditEventRow.stage, AuditEventRow.at)
            .where(AuditEventRow.document_id == document_id)
            .order_by(AuditEventRow.id)
        ).all()
    durations: dict[str, float] = {}
    previous: datetime | None = None
    for stage, at in events:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if previous is not None and at >= since and stage not in ("intake", "recover"):
            seconds = max((at - max(previous, since)).total_seconds(), 0.0)
            durations[stage] = durations.get(stage, 0.0) + seconds
        previous = at
    for stage, seconds in durations.items():
        STAGE_SECONDS.labels(stage=stage).observe(seconds)
    return durations


def observe_confidence(doc_type_confidence: float | None, field_confidence: dict[str, float]) -> None:
    if doc_type_confidence is not None:
        CONFIDENCE.labels(kind="doc_type").observe(doc_type_confidence)
    for value in field_confidence.values():
        CONFIDENCE.labels(kind="field").observe(value)


@contextmanager
def timed_job(task: str) -> Iterator[dict[str, str]]:
    """Time one job; the body sets ``outcome['outcome']`` (default ``ok``, ``error`` on raise)."""
    outcome = {"outcome": "ok"}
    started = time.perf_counter()
    try:
        yield outcome
    except BaseException:
        outcome["outcome"] = "error"
        raise
    finally:
        JOB_SECONDS.labels(task=task, outcome=outcome["outcome"]).observe(time.perf_counter() - started)


def quantiles(
    histogram: Histogram, labels: dict[str, str], qs: Iterable[float] = (0.5, 0.95, 0.99)
) -> dict[str, float]:
    """p50/p95/p99 from a histogram's buckets, interpolated like PromQL's ``histogram_quantile``."""
    buckets: list[tuple[float, float]] = []
    for metric in histogram.collect():
        for sample in metric.samples:
            if sample.name.endswith("_bucket") and all(sample.labels.get(k) == v for k, v in labels.items()):
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    out: dict[str, float] = {}
    total = buckets[-1][1] if buckets else 0.0
    for q in qs:
        key = f"p{round(q * 100)}"
        if not total:
            out[key] = math.nan
            continue
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if math.isinf(bound):
                    out[key] = lower_bound
                else:
                    span = count - lower_count
                    out[key] = lower_bound + (bound - lower_bound) * (
                        (rank - lower_count) / span if span else 1
                    )
                break
            lower_bound, lower_count = bound, count
    return out


# ---------------------------------------------------------------------------------------------
# Structured logs

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ledgerbot_correlation", default=None
)
_document: contextvars.ContextVar[int | None] = contextvars.ContextVar("ledgerbot_document", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def correlation_id(document_id: int, sha256: str | None = None) -> str:
    """The id that ties every log line about one document together, across workers and retries."""
    return f"doc-{document_id}" + (f"-{sha256[:12]}" if sha256 else "")


@contextmanager
def correlated(document_id: int, sha256: str | None = None) -> Iterator[str]:
    """Tag every log line written inside the block with the document's correlation id."""
    cid = correlation_id(document_id, sha256)
    token_c, token_d = _correlation.set(cid), _document.set(document_id)
    try:
        yield cid
    finally:
        _correlation.reset(token_c)
        _document.reset(token_d)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid, doc = _correlation.get(), _document.get()
        if cid is not None:
            entry["correlation_id"] = cid
            entry["document_id"] = doc
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_json_logging(level: int | str = logging.INFO, stream: Any = None) -> logging.Handler:
    """Route ``ledgerbot`` and ``procrastinate`` logs to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("ledgerbot", "procrastinate"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("procrastinate").setLevel(
        max(logging.getLevelName(level) if isinstance(level, str) else level, logging.WARNING)
    )
    return handler
