"""Per-stage latency percentiles: exact on known inputs, and from a real audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import AuditEventRow
from ledgerbot.latency import document_stage_seconds, percentiles, stage_latency
from tests.support import drift_document


def test_percentiles_of_known_inputs() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentiles(values) == {"p50": 50.5, "p95": 95.05, "p99": 99.01}
    assert percentiles([3.0]) == {"p50": 3.0, "p95": 3.0, "p99": 3.0}
    assert percentiles([0.0, 10.0]) == {"p50": 5.0, "p95": 9.5, "p99": 9.9}
    assert percentiles([]) == {}


def test_stage_seconds_are_the_gaps_between_moves() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        ("intake", t0 + timedelta(seconds=0.5)),
        ("parse", t0 + timedelta(seconds=10.5)),
        ("classify", t0 + timedelta(seconds=11)),
        ("extract", t0 + timedelta(seconds=12)),
        ("validate", t0 + timedelta(seconds=12.25)),
        ("match", t0 + timedelta(seconds=13)),
        ("approve", t0 + timedelta(seconds=14)),
        ("recover", t0 + timedelta(seconds=20)),
        ("post", t0 + timedelta(seconds=50)),
    ]
    assert document_stage_seconds(t0, events) == {
        "intake": 0.5,
        "text_layer": 10.0,
        "classify": 0.5,
        "extract": 1.0,
        "validate": 0.25,
        "match": 1.75,  # match and approval
        "post": 30.0,  # from the last move before it (the recovery), not from the approval
    }


@pytest.fixture
def audited() -> None:
    """Ten documents whose text layer took 1..10 s and whose match took 0.1 s each."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    with get_store().session() as session:
        for n in range(1, 11):
            received = t0 + timedelta(minutes=n)
            document = drift_document(session, f"{n:064d}", received, None, None)
            moves = [("intake", 0.0), ("parse", float(n)), ("match", float(n) + 0.1)]
            for stage, offset in moves:
                session.add(
                    AuditEventRow(
                        document_id=document.id,
                        to_state="x",
                        actor="t",
                        stage=stage,
                        at=received + timedelta(seconds=offset),
                    )
                )


def test_status_metrics_reports_percentiles_per_stage(audited: None) -> None:
    with get_store().session() as session:
        figures = stage_latency(session)
    assert figures["text_layer"] == {"documents": 10, "p50": 5.5, "p95": 9.55, "p99": 9.91}
    assert figures["match"]["documents"] == 10 and figures["match"]["p99"] == pytest.approx(0.1)
    assert figures["post"] == {"documents": 0}
    _load_commands()
    result = CliRunner().invoke(app, ["status", "--metrics"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["validated"] == 10
    assert out["latency_seconds"]["text_layer"]["p95"] == 9.55
    assert list(out["latency_seconds"]) == [
        "intake",
        "text_layer",
        "classify",
        "extract",
        "validate",
        "match",
        "post",
    ]


def test_the_finance_workbook_has_the_latency_and_drift_sheets(audited: None, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from ledgerbot.reports import write_report

    today = datetime.now(UTC).date()
    out = write_report(get_store(), today - timedelta(days=1), today, tmp_path / "report.xlsx")
    workbook = load_workbook(out, read_only=True)
    latency = {row[0]: row[1:] for row in workbook["Stage latency"].iter_rows(min_row=2, values_only=True)}
    assert latency["text_layer"] == (10, 5.5, 9.55, 9.91)
    assert latency["post"] == (0, None, None, None)
    drift = list(workbook["Drift trend"].iter_rows(min_row=2, values_only=True))
    assert sum(row[1] for row in drift) == 10  # every document counted on its day
