"""Metrics and structured logs: store gauges, stage latencies from the audit trail, JSON lines."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, utcnow
from ledgerbot.observability import (
    JsonFormatter,
    StoreCollector,
    correlated,
    observe_document_stages,
    quantiles,
)

S = DocState
ROBOT = Actor("robot:process")


def _walk(store: Store, n: int, states: list[DocState], outcome_last: str = "ok") -> int:
    with store.session() as session:
        document = DocumentRow(
            sha256=f"{n:064x}", source="t", filename=f"{n}.pdf", mime="application/pdf", size=1
        )
        session.add(document)
        for i, state in enumerate(states):
            outcome = outcome_last if i == len(states) - 1 else "ok"
            transition(session, document, state, actor=ROBOT, stage=state.value, outcome=outcome)
        return document.id


TO_MATCHED = [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.MATCHED]


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_store_gauges_count_states_straight_through_and_the_review_queue(store: Store) -> None:
    _walk(store, 1, [*TO_MATCHED, S.APPROVED], outcome_last="straight_through")
    _walk(store, 2, [*TO_MATCHED, S.APPROVED], outcome_last="straight_through")
    _walk(store, 3, TO_MATCHED)  # waits for a second approver
    review = _walk(store, 4, [*TO_MATCHED[:-1], S.EXCEPTION])
    _walk(store, 5, [S.RECEIVED])
    with store.session() as session:
        session.add(ExceptionRow(document_id=review, code="PRICE_VARIANCE", message="m"))
        session.get(DocumentRow, review).updated_at = utcnow() - timedelta(hours=2)  # type: ignore[union-attr]
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    samples = _samples(registry)
    assert samples[("ledgerbot_documents", (("state", "approved"),))] == 2
    assert samples[("ledgerbot_documents", (("state", "received"),))] == 1
    assert samples[("ledgerbot_documents", (("state", "posted"),))] == 0
    assert samples[("ledgerbot_straight_through_ratio", ())] == pytest.approx(2 / 4)
    assert samples[("ledgerbot_review_queue_length", ())] == 1
    assert samples[("ledgerbot_open_exceptions", ())] == 1
    assert 7100 < samples[("ledgerbot_review_queue_oldest_age_seconds", ())] < 7400


def test_stage_latencies_come_from_the_audit_trail(store: Store) -> None:
    doc = _walk(store, 1, [S.RECEIVED])
    start = utcnow()
    with store.session() as session:
        # Rows written with chosen times (the audit table is append-only: no updates afterwards).
        previous = "received"
        for offset, state in ((1.5, S.PARSED), (2.0, S.CLASSIFIED), (5.0, S.EXTRACTED)):
            session.add(
                AuditEventRow(
                    document_id=doc,
                    from_state=previous,
                    to_state=state.value,
                    actor=ROBOT.name,
                    stage=state.value,
                    at=start + timedelta(seconds=offset),
                )
            )
            previous = state.value
    durations = observe_document_stages(store, doc, start)
    assert durations == pytest.approx({"parsed": 1.5, "classified": 0.5, "extracted": 3.0})
    with store.session() as session:
        assert session.query(AuditEventRow).count() == 4


def test_quantiles_follow_histogram_quantile() -> None:
    registry = CollectorRegistry()
    hist = Histogram("t_seconds", "t", ["stage"], buckets=(1, 2, 4, 8), registry=registry)
    for value in [0.5] * 50 + [1.5] * 45 + [6] * 5:
        hist.labels(stage="x").observe(value)
    q = quantiles(hist, {"stage": "x"})
    assert q["p50"] == pytest.approx(1.0)  # 50 of 100 within the first bucket's upper bound
    assert 1 < q["p95"] <= 2 and 4 < q["p99"] <= 8
    assert quantiles(hist, {"stage": "none"})["p50"] != quantiles(hist, {"stage": "none"})["p50"]  # NaN


def test_json_logs_carry_the_document_correlation_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("ledgerbot.test.obs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with correlated(42, "ab" * 32) as cid:
            log.info("posted", extra={"erp_doc_number": "DOC-7"})
        log.warning("idle")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert cid == "doc-42-abababababab"
    assert first["correlation_id"] == cid and first["document_id"] == 42
    assert first["message"] == "posted" and first["erp_doc_number"] == "DOC-7" and first["level"] == "info"
    assert "correlation_id" not in second


def test_review_app_metrics_route(store: Store) -> None:
    from review_app.metrics import mount_metrics

    _walk(store, 1, [S.RECEIVED])
    app = FastAPI()
    mount_metrics(app, store)
    response = TestClient(app).get("/metrics")
    assert response.status_code == 200
    assert 'ledgerbot_documents{state="received"} 1.0' in response.text
    assert "ledgerbot_stage_seconds" in response.text or "ledgerbot_job_seconds" in response.text


def test_worker_metrics_endpoint_serves_store_gauges_and_histograms(tmp_path: Path) -> None:
    import socket

    import httpx

    from ledgerbot.observability import STAGE_SECONDS, serve_metrics

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    _walk(store, 1, [S.RECEIVED, S.PARSED])
    STAGE_SECONDS.labels(stage="parse").observe(0.2)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve_metrics(port, store, addr="127.0.0.1")
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'ledgerbot_documents{state="parsed"} 1.0' in body
    assert 'ledgerbot_stage_seconds_bucket{le="0.25",stage="parse"}' in body
    store.dispose()
