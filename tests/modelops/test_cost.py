"""Cost per decision: CPU seconds per stage measured in the pipeline, kept in the audit trail, summed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerbot import cost
from ledgerbot.core.domain import DocState, ExtractionResult
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, utcnow
from ledgerbot.cost import cpu_report, document_costs, process_cpu, share, stage_seconds, worker_cpu
from ledgerbot.intake import receive
from ledgerbot.processing import ReadRequest, process_document
from ledgerbot.reports import write_report
from tests.support import clean_invoices, seed_master_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extractors"))

TODAY = date(2026, 11, 20)


def test_shares_and_sums_of_known_inputs() -> None:
    assert share(1.0, [1.0, 3.0]) == [0.25, 0.75]
    assert share(0.9, [0.0, 0.0, 0.0]) == pytest.approx([0.3, 0.3, 0.3])
    assert share(1.0, []) == []
    details = [
        {"cpu_seconds": {"text_layer": 0.5, "classify": 0.25}},
        None,
        {"vendor_id": "V1"},
        {"cpu_seconds": {"text_layer": 0.25, "match": 0.125}},  # a second read adds its cost
    ]
    assert stage_seconds(details) == {"text_layer": 0.75, "classify": 0.25, "match": 0.125}
    report = cpu_report({1: {"text_layer": 1.0, "match": 0.5}, 2: {"text_layer": 3.0}})
    assert report["per_stage"]["text_layer"] == {
        "documents": 2,
        "total": 4.0,
        "mean": 2.0,
        "p50": 2.0,
        "p95": 2.9,
        "p99": 2.98,
    }
    assert report["per_stage"]["match"]["documents"] == 1
    assert report["per_document"]["total"] == 4.5 and report["per_document"]["mean"] == 2.25


def test_the_text_layer_workers_cpu_is_counted() -> None:
    from invoice_fixtures import Invoice  # type: ignore[import-not-found]

    from textlayer import TextLayerReader

    pdfs = [(f"{n}.pdf", Invoice().pdf()) for n in range(4)]
    with TextLayerReader() as reader:
        reader.start(tasks=2)
        list(reader.read_many(pdfs[:1]))  # the workers' imports are done
        theirs, ours = worker_cpu(), process_cpu()
        documents = list(reader.read_many(pdfs))
        theirs, ours = worker_cpu() - theirs, process_cpu() - ours
    assert len(documents) == 4
    # The parsing happened in the worker processes: their time is seen, and it is most of it.
    assert theirs > 0 and theirs > ours


@pytest.mark.skipif(not cost._HAS_CHILDREN_FILES, reason="the kernel does not list a process's children")
def test_the_workers_cpu_read_from_proc_is_what_the_process_table_says() -> None:
    from invoice_fixtures import Invoice

    from textlayer import TextLayerReader

    with TextLayerReader() as reader:
        reader.start(tasks=2)
        list(reader.read_many([(f"{n}.pdf", Invoice().pdf()) for n in range(3)]))
        read, listed = cost._proc_worker_cpu(), cost._psutil_worker_cpu()
    # Both read the same kernel counters, in clock ticks (a worker may tick once in between).
    assert read is not None and read > 0
    assert read == pytest.approx(listed, abs=0.05)


def test_every_read_carries_its_cpu_per_stage() -> None:
    from invoice_fixtures import Invoice

    from ledgerbot.pipeline import Extractor, Source

    sources = [Source(name=f"{n}.pdf", data=Invoice().pdf()) for n in range(3)]
    results = list(Extractor(classify=False).extract_sources(sources))
    for result in results:
        assert result.cpu_seconds["text_layer"] > 0
        assert result.cpu_seconds["extract"] > 0
        assert "shadow" not in result.cpu_seconds  # no candidate in the registry
        assert "cpu_seconds" not in json.loads(result.to_json_line())  # not part of the extract line


class CostedReader:
    """Test double of the extraction stage: a clean invoice with a known cost per stage."""

    COST = {"text_layer": 0.5, "classify": 0.125, "extract": 0.25, "shadow": 0.0625}

    def __init__(self) -> None:
        self.result = next(iter(clean_invoices()))

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
        for request in requests:
            result = self.result.model_copy(deep=True, update={"source": request.source})
            result.cpu_seconds = dict(self.COST)
            yield result


def test_processing_keeps_the_cost_in_the_trail_for_status_and_workbook(
    store: Store, file_store: FileStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_master_data(store)
    with store.session() as session:
        doc_id = receive(session, file_store, b"%PDF-1.4\nx", filename="a.pdf", source="test").id
    outcome = process_document(store, file_store, doc_id, CostedReader(), today=TODAY)
    assert outcome.state == DocState.APPROVED, outcome.codes
    with store.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == doc_id).order_by(AuditEventRow.id)
        ).all()
        by_stage = {e.stage: e.detail for e in events}
        assert by_stage["parse"]["cpu_seconds"] == CostedReader.COST
        assert by_stage["validate"]["cpu_seconds"]["validate"] >= 0
        assert by_stage["match"]["cpu_seconds"]["match"] > 0
        costs = document_costs(session, days=1)
    assert set(costs) == {doc_id}
    assert costs[doc_id]["text_layer"] == 0.5 and costs[doc_id]["shadow"] == 0.0625
    total = sum(costs[doc_id].values())
    assert total > sum(CostedReader.COST.values())  # plus validation and matching

    from ledgerbot.cli.app import _load_commands, app
    from ledgerbot.core.settings import get_settings

    monkeypatch.setenv("LEDGERBOT_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    _load_commands()
    out = CliRunner().invoke(app, ["status", "--metrics"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.stdout)["cpu_seconds"]
    assert figures["per_stage"]["text_layer"]["total"] == 0.5
    assert figures["per_document"]["documents"] == 1

    today = utcnow().date()
    workbook = openpyxl.load_workbook(
        write_report(store, today - timedelta(days=1), today, tmp_path / "r.xlsx"), data_only=True
    )
    per_stage = {row[0]: row for row in workbook["Cost per stage"].iter_rows(min_row=2, values_only=True)}
    assert per_stage["text_layer"][1:3] == (1, 0.5)
    assert per_stage["whole document"][2] == pytest.approx(total, abs=1e-4)
    sheet = workbook["Cost per document"]
    header = [c.value for c in sheet[1]]
    [row] = list(sheet.iter_rows(min_row=2, values_only=True))
    assert row[0] == doc_id and row[header.index("classify CPU s")] == 0.125
    assert row[header.index("Total CPU s")] == pytest.approx(total, abs=1e-4)


class BusyTarget:
    """Test double of a target system whose robot drives another program: each posting keeps a
    child process busy for ``BURN`` CPU seconds (as the browser of the posting robot is)."""

    BURN = 0.3
    name, account = "busy", "busy-account"

    def find_posted(self, vendor_id: str, invoice_number: str, *, external_ref: str) -> str | None:
        return None

    def post(self, invoice: object, *, screenshot_to: Path) -> object:
        import subprocess

        from ledgerbot.core.target import PostResult

        burn = f"import time\nend = time.process_time() + {self.BURN}\nwhile time.process_time() < end: pass"
        subprocess.run([sys.executable, "-c", burn], check=True)
        return PostResult(erp_doc_number="INV-1", screenshot=None)

    def screenshot(self, path: Path) -> str | None:
        return None


def test_intake_and_posting_cost_is_kept_per_document(
    store: Store, file_store: FileStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbot.intake import receive_path
    from ledgerbot.posting import post_approved
    from tests.support import approved_document, vendor_of

    seed_master_data(store)
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"x" * 2_000_000)
    received = receive_path(store, file_store, path, source="folder")
    invoice = next(iter(clean_invoices()))
    posted = approved_document(store, file_store, invoice, vendor_of(invoice))
    report = post_approved(store, BusyTarget(), screenshots=tmp_path)  # type: ignore[arg-type]
    assert report.posted, report.summary()
    with store.session() as session:
        costs = document_costs(session, days=1)
    # Reading, hashing and storing 2 MB is taken in with the file; the robot's child process is
    # the posting's cost.
    assert costs[received.document_id]["intake"] > 0
    assert BusyTarget.BURN <= costs[posted]["post"] < BusyTarget.BURN + 1.0
    assert costs[posted]["intake"] >= 0
    from ledgerbot.cli.app import _load_commands, app
    from ledgerbot.core.settings import get_settings

    monkeypatch.setenv("LEDGERBOT_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    _load_commands()
    out = CliRunner().invoke(app, ["status", "--metrics"])
    assert out.exit_code == 0, out.output
    per_stage = json.loads(out.stdout)["cpu_seconds"]["per_stage"]
    assert per_stage["intake"]["documents"] == 2 and per_stage["post"]["documents"] == 1
    order = list(per_stage)
    assert order[0] == "intake" and order[-1] == "post"  # in pipeline order
