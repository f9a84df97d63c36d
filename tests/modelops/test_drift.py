"""Drift: a batch of another language or layout family (unsure types, unseen vendors) raises alarms."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.store import get_store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.drift import DRIFT_ALARM, drift_report
from tests.support import drift_document, pipeline_read

NOW = datetime(2026, 3, 10, 18, tzinfo=UTC)


def _documents(day: int, confidences: list[float], vendors: list[str | None]) -> None:
    with get_store().session() as session:
        for n, (confidence, vendor) in enumerate(zip(confidences, vendors, strict=True)):
            at = datetime(2026, 3, day, 9, tzinfo=UTC) + timedelta(minutes=n)
            drift_document(session, f"{day:02d}{n:062d}", at, confidence, vendor)


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


def _read(day: int, n: int, method: str, total: float, *, first: int = 0) -> None:
    """``n`` documents of one day read by ``method``: a sure invoice number, the total at ``total``."""
    from ledgerbot.core.store.models import ExtractionRow

    with get_store().session() as session:
        for k in range(first, first + n):
            at = datetime(2026, 3, day, 9, tzinfo=UTC) + timedelta(minutes=k)
            document = drift_document(session, f"e{day:02d}{k:061d}", at, 0.97, f"V{k % 4}")
            pipeline_read(session, document, method, {"invoice_number": 0.96, "total": total})
            # A clerk's later edit is no reading of the pipeline: it does not count.
            session.add(
                ExtractionRow(document_id=document.id, result={"field_confidence": {}}, created_by="user:ann")
            )


def test_a_drifted_day_raises_the_alarm_of_the_extraction_field_it_reads_unsure(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from ledgerbot.drift import STAGE_ALARM

    for day in range(3, 8):  # the usual: totals read sure, templates read 6 of 10
        _read(day, 6, "template:acme", 0.95)
        _read(day, 4, "generic", 0.9, first=6)
    # A new layout: the totals are read unsure, the templates no longer match most documents.
    _read(9, 2, "template:acme", 0.95)
    _read(9, 8, "generic", 0.3, first=2)
    with caplog.at_level(logging.WARNING, logger="ledgerbot.drift"), get_store().session() as session:
        report = drift_report(session, now=NOW)
    total = report["stages"]["extract.total"]
    assert [d["low_confidence_share"] for d in total] == [0.0] * 5 + [0.8]
    assert total[-1]["histogram"][report["buckets"].index(0.3)] == 8
    assert report["stages"]["extract.invoice_number"][-1]["low_confidence_share"] == 0.0
    assert report["template_share"][-1]["template_share"] == 0.2
    raised = {(a["signal"], a["stage"]) for a in report["alarms"]}
    # The total's field, the generic read it came from, and the templates' share: not the number.
    assert raised == {
        ("low_confidence", "extract.total"),
        ("low_confidence", "ranker"),
        ("template_share", "template"),
    }
    assert STAGE_ALARM.labels(stage="extract.total")._value.get() == 1
    assert STAGE_ALARM.labels(stage="extract.invoice_number")._value.get() == 0
    assert any("extract.total" in r.getMessage() for r in caplog.records)
    summary = {row["stage"]: row for row in report["summary"]}
    assert summary["extract.total"]["before_share"] == 0.0 and summary["extract.total"]["documents"] == 10
    _load_commands()
    result = CliRunner().invoke(app, ["models", "drift", "--days", "3650"])
    assert result.exit_code == 0, result.output
    assert ("low_confidence", "extract.total") in {
        (a["signal"], a["stage"]) for a in json.loads(result.stdout)["alarms"]
    }
    assert "extract.total" in result.stderr
    # The finance workbook holds the trend of every stage.
    from datetime import date

    from openpyxl import load_workbook

    from ledgerbot.reports import write_report

    out = write_report(get_store(), date(2026, 3, 3), date(2026, 3, 9), tmp_path / "report.xlsx")
    sheet = load_workbook(out, read_only=True)["Drift per stage"]
    rows = {(row[0], row[1]): row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("2026-03-09", "extract.total")][2:4] == (10, 0.8)
    assert rows[("2026-03-03", "extract.total")][2:4] == (10, 0.0)
    assert rows[("2026-03-09", "template reads")][4] == 0.2


def test_a_stage_with_too_few_documents_on_its_day_raises_no_alarm() -> None:
    for day in range(3, 8):
        _read(day, 6, "generic", 0.95)
    _read(9, 4, "generic", 0.3)  # under drift_min_documents (5): too few to tell
    with get_store().session() as session:
        report = drift_report(session, now=NOW, alarm=False)
    assert report["stages"]["extract.total"][-1]["low_confidence_share"] == 1.0
    assert report["alarms"] == []


def test_line_matching_confidence_is_its_weakest_pairing() -> None:
    from ledgerbot.core.store.models import DecisionRow

    _read(9, 1, "generic", 0.9)
    with get_store().session() as session:
        document = session.query(DocumentRow).one()
        pairings = [{"score": 91.0}, {"score": 42.0}]
        session.add(DecisionRow(document_id=document.id, decision={"line_matches": pairings}))
    with get_store().session() as session:
        report = drift_report(session, now=NOW, alarm=False)
    [day] = report["stages"]["match"]
    assert day["documents"] == 1 and day["low_confidence"] == 1  # 0.42 < 0.6
    assert day["histogram"][report["buckets"].index(0.5)] == 1
