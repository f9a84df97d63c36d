"""Drift: a batch of another language or layout family (unsure types, unseen vendors) raises alarms."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.drift import DRIFT_ALARM, drift_report

NOW = datetime(2026, 3, 10, 18, tzinfo=UTC)


def _documents(day: int, confidences: list[float], vendors: list[str | None]) -> None:
    with get_store().session() as session:
        for n, (confidence, vendor) in enumerate(zip(confidences, vendors, strict=True)):
            session.add(
                DocumentRow(
                    sha256=f"{day:02d}{n:062d}",
                    source="t",
                    filename=f"{n}.pdf",
                    mime="application/pdf",
                    size=1,
                    state="validated",
                    doc_type_confidence=confidence,
                    vendor_id=vendor,
                    received_at=datetime(2026, 3, day, 9, tzinfo=UTC) + timedelta(minutes=n),
                )
            )


@pytest.fixture
def usual_week() -> None:
    """Five days of the usual: sure types (one unsure in ten), the same four vendors."""
    for day in range(3, 8):
        _documents(day, [0.95] * 9 + [0.5], [f"V{n % 4}" for n in range(10)])


def test_usual_days_raise_no_alarm(usual_week: None) -> None:
    with get_store().session() as session:
        report = drift_report(session, now=NOW)
    assert [d["documents"] for d in report["days"]] == [10] * 5
    assert report["days"][-1]["low_confidence_share"] == 0.1
    assert report["days"][-1]["new_vendor_share"] == 0.0
    assert report["days"][-1]["histogram"][report["buckets"].index(0.95)] == 9
    assert report["alarms"] == []
    assert DRIFT_ALARM.labels(signal="low_confidence")._value.get() == 0


def test_a_drifted_batch_raises_both_alarms(usual_week: None, caplog: pytest.LogCaptureFixture) -> None:
    # Another language and layout family: the classifier is unsure, the vendors are unknown.
    _documents(9, [0.4] * 6 + [0.9] * 4, [None] * 5 + ["V1", "N1", "N2", "N3", "N4"])
    with caplog.at_level(logging.WARNING, logger="ledgerbot.drift"), get_store().session() as session:
        report = drift_report(session, now=NOW)
    last = report["days"][-1]
    assert last["day"] == "2026-03-09" and last["low_confidence_share"] == 0.6
    assert last["new_vendor_share"] == 0.9
    assert {a["signal"] for a in report["alarms"]} == {"low_confidence", "new_vendor"}
    assert DRIFT_ALARM.labels(signal="new_vendor")._value.get() == 1
    assert sum("drift alarm" in r.getMessage() for r in caplog.records) == 2
    _load_commands()
    result = CliRunner().invoke(app, ["models", "drift", "--days", "3650"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["alarms"]) == 2


def test_correction_rates_per_vendor_and_field(usual_week: None) -> None:
    from ledgerbot.core.store.models import ExtractionRow
    from ledgerbot.core.store.review import CorrectionRow

    with get_store().session() as session:
        # Vendor V1's documents (ids of the first day: V0..V3 repeating) get two totals corrected.
        ids = [d.id for d in session.query(DocumentRow).filter(DocumentRow.vendor_id == "V1").limit(2)]
        for document_id in ids:
            extraction = ExtractionRow(document_id=document_id, result={})
            session.add(extraction)
            session.flush()
            session.add(
                CorrectionRow(
                    document_id=document_id,
                    vendor_id="V1",
                    kind="field",
                    target="total",
                    old_value="1",
                    new_value="2",
                    extraction_id=extraction.id,
                    username="clerk",
                )
            )
    with get_store().session() as session:
        rates = drift_report(session, now=NOW, alarm=False)["corrections"]
    assert rates == [{"vendor": "V1", "field": "total", "documents": 15, "corrected": 2, "rate": 0.1333}]
