"""Claims: one process per document stage, lost leases taken over, coded failures, retries."""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from ledgerbot.core.claims import claimed, try_claim
from ledgerbot.core.domain import DocState
from ledgerbot.core.errors import ClaimLost, error_code
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.audit_chain import verify
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, utcnow
from ledgerbot.intake import receive
from ledgerbot.processing import _mark_failed
from ledgerbot.retry import failed_ids, retry
from tests.worker.harness import seed_store

REPO = Path(__file__).resolve().parents[2]
LEDGERBOT = str(Path(sys.executable).with_name("ledgerbot"))
TTL = timedelta(minutes=5)
READ_STAGES = ("parse", "classify", "extract", "validate", "match", "approve")


def _doc(store: Store, files: FileStore, body: bytes = b"x") -> int:
    with store.session() as s:
        return receive(s, files, b"%PDF-1.4\n" + body, filename="a.pdf", source="test").id


def _move(store: Store, doc_id: int, target: DocState) -> None:
    with store.session() as s:
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None
        transition(s, doc, target, actor=Actor("test"), stage="test")


def _elsewhere(fn: Any, *args: Any) -> Any:
    """Run ``fn`` as another process would: without the claims this block holds."""
    return contextvars.Context().run(fn, *args)


def test_a_claimed_document_is_moved_only_by_its_holder(store: Store, file_store: FileStore) -> None:
    doc_id = _doc(store, file_store)
    with claimed(store, doc_id, holder="host:1:a", ttl=TTL) as ours:
        assert ours
        # Another process (no claim, or a claim of its own) can neither claim nor move it.
        assert not try_claim(store, doc_id, holder="host:2:b", ttl=TTL)
        with pytest.raises(ClaimLost):
            _elsewhere(_move, store, doc_id, DocState.PARSED)
        _move(store, doc_id, DocState.PARSED)  # inside the block: this is the holder
    _move(store, doc_id, DocState.CLASSIFIED)  # released: anyone may move it again
    with store.session() as s:
        events = s.scalars(select(AuditEventRow).where(AuditEventRow.document_id == doc_id)).all()
        assert [e.to_state for e in events] == ["received", "parsed", "classified"]
        assert events[1].detail["claim"] == "host:1:a" and "claim" not in events[2].detail


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_move_it(
    store: Store, file_store: FileStore
) -> None:
    doc_id = _doc(store, file_store)
    with claimed(store, doc_id, holder="host:1:a", ttl=TTL) as ours:
        assert ours
        with store.session() as s:  # the lease runs out (a stalled holder stopped renewing)
            s.execute(
                update(DocumentRow.__table__)
                .where(DocumentRow.__table__.c.id == doc_id)
                .values(claim_expires=utcnow() - timedelta(seconds=1))
            )
        assert try_claim(store, doc_id, holder="host:2:b", ttl=TTL)
        with pytest.raises(ClaimLost):
            _move(store, doc_id, DocState.PARSED)
        # Marking it failed is not the old holder's call either: the document is left alone.
        outcome = _mark_failed(store, doc_id, RuntimeError("boom"), holder="host:1:a")
        assert outcome.busy and outcome.state == DocState.RECEIVED
    with store.session() as s:
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None and doc.state == "received" and doc.claimed_by == "host:2:b"


def test_a_claim_of_a_dead_local_process_is_taken_over_at_once(store: Store, file_store: FileStore) -> None:
    doc_id = _doc(store, file_store)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    assert try_claim(store, doc_id, holder=f"{socket.gethostname()}:{dead.pid}:x", ttl=TTL)
    assert try_claim(store, doc_id, holder="host:2:b", ttl=TTL)


def test_store_errors_get_a_code_and_failed_documents_are_retried_with_who_and_why(
    store: Store, file_store: FileStore
) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    assert error_code(StaleDataError("x")) == "E013"
    assert error_code(OperationalError("select", {}, Exception("locked"))) == "E020"
    assert error_code(KeyError("x")) == "E099"
    doc_id = _doc(store, file_store)
    other = _doc(store, file_store, b"other")
    outcome = _mark_failed(store, doc_id, StaleDataError("version moved"))
    assert outcome.state == DocState.FAILED and outcome.codes == ["E013"]
    _mark_failed(store, other, KeyError("x"))
    assert failed_ids(store, "E0xx") == [doc_id, other] and failed_ids(store, "E013") == [doc_id]
    done = retry(store, doc_id, reason="store was restarted", by="user:anna")
    assert done.to_state == "received" and done.code == "E013"
    with store.session() as s:
        last = s.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == doc_id).order_by(AuditEventRow.id.desc())
        ).first()
        assert last is not None and last.actor == "user:anna" and last.stage == "retry"
        assert last.detail["reason"] == "store was restarted" and last.detail["failed_with"] == "E013"
    from ledgerbot.core.errors import RetryRefused

    with pytest.raises(RetryRefused):
        retry(store, doc_id, reason="again", by="user:anna")


# -- two real processes on one store -----------------------------------------------------------


@pytest.fixture(scope="module")
def einvoices(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Machine-readable invoices from the sandbox generator: the real pipeline reads them fast."""
    from sandbox.corpus.generator import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, 160, 11, scans=False, doc_types=["invoice"])
    picked = sorted(p for p in out.iterdir() if p.suffix == ".xml")
    assert len(picked) >= 15
    return picked


def _run(home: Path, url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBOT_")}
    env.update({"LEDGERBOT_HOME": str(home), "LEDGERBOT_DATABASE_URL": url, "PYTHONPATH": str(REPO)})
    return subprocess.Popen(
        [LEDGERBOT, "run", "--no-mail", "--no-pull", "--no-post"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_two_processing_runs_at_once_never_do_a_stage_twice(
    store: Store, einvoices: list[Path], tmp_path: Path
) -> None:
    seed_store(store)
    home = tmp_path / "home"
    files = FileStore(home / "files")
    # Two processes started together overlap only if neither finishes before the other starts;
    # a round where one did all the work proves nothing, so a fresh batch twice as large is
    # tried (at most 5 rounds): on a fast machine a small batch is done before the other starts.
    overlapped = False
    received = 0
    for attempt in range(5):
        with store.session() as s:
            batch = [
                receive(
                    s,
                    files,
                    path.read_bytes() + f"<!-- round {attempt} copy {copy} -->".encode(),
                    filename=path.name,
                    source="test",
                ).id
                for copy in range(2**attempt)
                for path in einvoices
            ]
        received += len(batch)
        runs = [_run(home, store.url), _run(home, store.url)]
        summaries = []
        for run in runs:
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, err.decode()[-2000:]
            summaries.append(json.loads(out.decode().strip().splitlines()[-1]))
        with store.session() as s:
            docs = s.scalars(select(DocumentRow)).all()
            events = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        pending = ("received", "parsed", "classified", "extracted", "validated")
        assert all(d.state not in pending for d in docs)
        assert all(d.claimed_by is None for d in docs), "a finished run left a claim behind"
        by_doc: dict[int, list[AuditEventRow]] = defaultdict(list)
        for event in events:
            by_doc[event.document_id].append(event)
        holders: set[str] = set()
        for doc_id, trail in by_doc.items():
            stages = [e.stage for e in trail if e.stage in READ_STAGES]
            assert len(stages) == len(set(stages)), f"document {doc_id} went through a stage twice: {stages}"
            moved_by = {e.detail.get("claim") for e in trail if e.stage != "intake"}
            assert len(moved_by) == 1 and None not in moved_by, f"document {doc_id} moved without one claim"
            if doc_id in batch:
                holders |= moved_by  # type: ignore[arg-type]
            assert all(e.outcome != "ok" for e in trail if e.to_state == "failed")
        with store.session() as s:
            assert verify(s).ok, "concurrent writers forked the audit chain"
        processed = sum(summary["processing"]["processed"] for summary in summaries)
        assert processed == len(batch), summaries
        if len(holders) == 2:
            overlapped = True
            break
    assert overlapped, "in no round did the two runs overlap; the test proves nothing"
    assert received >= len(einvoices)


class ReadAheadReader:
    """Test double of the reader: like the pipeline, it takes a whole chunk before answering."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    def extract_many(self, requests: Any) -> Any:
        for request in list(requests):
            yield self.results[request.filename].model_copy(update={"source": request.source})


def test_a_document_whose_file_is_gone_fails_alone_in_a_read_ahead_batch(
    store: Store, file_store: FileStore
) -> None:
    from ledgerbot.core.domain import ExtractionResult
    from ledgerbot.processing import process_pending

    ids = []
    for n in range(3):
        with store.session() as s:
            ids.append(receive(s, file_store, b"%PDF-1.4 %" + bytes([n]), filename=f"{n}.pdf", source="t").id)
    with store.session() as s:
        lost = s.get(DocumentRow, ids[1])
        assert lost is not None
        file_store.path_for(lost.sha256).unlink()
    other = ExtractionResult(source="x", doc_type="delivery_note", doc_type_confidence=0.99)
    outcomes = process_pending(store, file_store, ReadAheadReader({"0.pdf": other, "2.pdf": other}))
    by_id = {o.document_id: o for o in outcomes}
    assert by_id[ids[1]].state == "failed" and by_id[ids[1]].codes == ["E021"]
    assert by_id[ids[0]].state == by_id[ids[2]].state == "rejected"  # filed as not payable


def test_retry_command_sends_failed_documents_back_by_code(tmp_path: Path) -> None:
    from ledgerbot.core.store import get_store

    store = get_store()  # the store of this test's LEDGERBOT_HOME, which the command uses too
    files = FileStore(tmp_path / "files")
    first, second = _doc(store, files, b"1"), _doc(store, files, b"2")
    _mark_failed(store, first, KeyError("x"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [LEDGERBOT, "retry", "--code", "E0xx", "--reason", "fixed the reader", "--by", "user:anna"],
        env=env,
        capture_output=True,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert [json.loads(line) for line in run.stdout.decode().splitlines()] == [
        {"id": first, "failed_with": "E099", "state": "received"}
    ]
    refused = subprocess.run(
        [LEDGERBOT, "retry", str(second), "--reason", "why not"], env=env, capture_output=True, cwd=REPO
    )
    assert refused.returncode == 1 and "[E015]" in refused.stderr.decode()
    missing_reason = subprocess.run([LEDGERBOT, "retry", str(first)], env=env, capture_output=True, cwd=REPO)
    assert missing_reason.returncode == 1 and "[E015]" in missing_reason.stderr.decode()
