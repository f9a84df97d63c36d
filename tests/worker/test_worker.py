"""Worker jobs on PostgreSQL: queueing, locks, stalled-job recovery, the truth reader, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from ledgerbot.core.domain import DocState, DocType
from ledgerbot.core.errors import ConfigError
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.locks import LockBusy, try_acquire
from ledgerbot.core.settings import TargetSettings, WorkerSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, ExceptionRow, ExtractionRow, RobotLockRow
from ledgerbot.posting import duplicate_of_posted
from ledgerbot.worker.app import build_app, conninfo, enqueue_pending, ensure_schema, recover_stalled
from ledgerbot.worker.jobs import Runtime, _hold_lease, erp_lock_name
from ledgerbot.worker.readers import TruthReader
from tests.worker.harness import SETTLED, corpus_files, ingest, seed_store, state_counts

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sandbox.corpus import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, 16, seed=5, scans=False, einvoices=False)
    return out


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    store.migrate()
    yield store
    store.dispose()


def test_conninfo_drops_the_sqlalchemy_driver_and_sqlite_is_refused() -> None:
    assert conninfo("postgresql+psycopg://u:p@h:5432/db") == "postgresql://u:p@h:5432/db"
    with pytest.raises(ConfigError) as refused:
        conninfo("sqlite:///var/ledgerbot.db")
    assert refused.value.code == "E805"


def test_worker_command_on_the_embedded_store_is_one_coded_line() -> None:
    from ledgerbot.cli.app import _load_commands, app

    _load_commands()
    result = CliRunner().invoke(app, ["worker", "--no-wait"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError) and result.exception.code == "E805"


def test_truth_reader_answers_with_the_corpus_truth(corpus: Path) -> None:
    reader = TruthReader(corpus)
    path = corpus_files(corpus)[0]
    truth = json.loads(path.with_suffix(".json").read_text())
    result = reader.extract(path.read_bytes(), filename=path.name, source="doc:1")
    assert result.doc_type == DocType(truth["doc_type"])
    assert result.source == "doc:1" and result.lineage["extractor"] == "truth@1"
    if truth.get("fields"):
        assert str(result.fields.total) == truth["fields"]["total"]
    missing = reader.extract(b"x", filename="nothing.pdf", source="doc:2")
    assert missing.doc_type is None and missing.errors[0].code == "E803"
    with pytest.raises(ConfigError):
        TruthReader(corpus / "absent")


def _configure(monkeypatch: pytest.MonkeyPatch, url: str, home: Path, corpus: Path) -> None:
    from ledgerbot.core.settings import get_settings
    from ledgerbot.worker import jobs

    monkeypatch.setenv("LEDGERBOT_DATABASE_URL", url)
    monkeypatch.setenv("LEDGERBOT_HOME", str(home))
    monkeypatch.setenv("LEDGERBOT_READER", "ledgerbot.worker.readers:truth_reader")
    monkeypatch.setenv("LEDGERBOT_TRUTH_DIR", str(corpus))
    for cached in (get_settings, jobs.runtime):
        cached.cache_clear()


def test_jobs_process_every_document_once_and_report_metrics(
    pg_url: str, pg_store: Store, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbot.observability import STAGE_SECONDS, quantiles
    from ledgerbot.worker import jobs

    home = tmp_path / "home"
    _configure(monkeypatch, pg_url, home, corpus)
    seed_store(pg_store)
    files = FileStore(home / "files")
    ids = ingest(pg_store, files, corpus_files(corpus))
    before = quantiles(STAGE_SECONDS, {"stage": "match"})
    app = build_app(pg_url)
    with app.open():
        ensure_schema(pg_url, app)
        first = enqueue_pending(app, jobs.runtime())
        again = enqueue_pending(app, jobs.runtime())
    assert first["queued"] == len(ids) and first["post_batches"] == 0
    # The queueing lock keeps one waiting job per document however often the dispatcher runs.
    assert again == {"queued": 0, "already_queued": len(ids), "post_batches": 0}
    app.run_worker(queues=["process"], wait=False, install_signal_handlers=False, delete_jobs="successful")
    counts = state_counts(pg_store)
    assert sum(counts.values()) == len(ids)
    # No ERP is configured here, so approved documents wait for a posting robot.
    assert all(DocState(state) in SETTLED | {DocState.APPROVED} for state in counts), counts
    with pg_store.session() as session:
        extractions = session.scalar(select(text("count(*)")).select_from(ExtractionRow))
    payable = sum(
        json.loads(p.with_suffix(".json").read_text())["doc_type"] in ("invoice", "credit_note")
        for p in corpus_files(corpus)
    )
    assert extractions == payable  # each payable document read exactly once
    after = quantiles(STAGE_SECONDS, {"stage": "match"})
    assert after["p50"] == after["p50"] and after != before  # observed (not NaN, changed)
    # A second run finds nothing to do.
    with app.open():
        assert enqueue_pending(app, jobs.runtime())["queued"] == 0
    from ledgerbot.cli.app import _load_commands
    from ledgerbot.cli.app import app as cli

    _load_commands()
    result = CliRunner().invoke(cli, ["worker", "status"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout.strip().splitlines()[0])
    assert sum(status["pipeline"]["documents_by_state"].values()) == len(ids)
    assert status["pipeline"]["documents_by_state"] == {**status["pipeline"]["documents_by_state"], **counts}


def test_stalled_jobs_of_a_dead_worker_are_retried(pg_url: str, pg_store: Store) -> None:
    app = build_app(pg_url, WorkerSettings())
    with app.open():
        ensure_schema(pg_url, app)
        job_id = app.configure_task("ledgerbot.process_document", lock="doc:1").defer(document_id=1)
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        dead = conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '5 minutes') RETURNING id"
            )
        ).scalar()
        alive = conn.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")).scalar()
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"),
            {"w": dead, "j": job_id},
        )
    import asyncio

    async def run() -> list[int]:
        async with app.open_async():
            return await recover_stalled(app, 30)

    assert asyncio.run(run()) == [job_id]
    with engine.begin() as conn:
        status = conn.execute(
            text("SELECT status FROM procrastinate_jobs WHERE id = :j"), {"j": job_id}
        ).scalar()
        # A job of a live worker is left alone.
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"),
            {"w": alive, "j": job_id},
        )
    assert status == "todo"
    assert asyncio.run(run()) == []
    # A dead job whose queued twin (same queueing lock) is already waiting is closed, not
    # retried (the queueing lock allows one waiting job), and the twin does the work.
    with engine.begin() as conn:
        conn.execute(
            # The dead worker was pruned by the first recovery, which leaves its jobs without one.
            text("UPDATE procrastinate_jobs SET worker_id = NULL, queueing_lock = 'q:1' WHERE id = :j"),
            {"j": job_id},
        )
    with app.open():
        twin = app.configure_task("ledgerbot.process_document", queueing_lock="q:1").defer(document_id=1)
    assert asyncio.run(run()) == []
    with engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT id, status FROM procrastinate_jobs")).all())
    assert rows == {job_id: "failed", twin: "todo"}
    engine.dispose()


def test_a_posting_job_takes_over_the_lease_of_its_killed_predecessor(
    pg_store: Store, tmp_path: Path
) -> None:
    settings = WorkerSettings()
    target = TargetSettings(url="http://erp.example:8070/", lease_seconds=60)
    rt = Runtime(pg_store, FileStore(tmp_path / "files"), settings, target=target)
    assert rt.erp_account == "ap-robot@http://erp.example:8070"
    name = erp_lock_name(rt.erp_account)
    first = _hold_lease(rt, name)  # then "killed": never released
    second = _hold_lease(rt, name)
    assert second.holder == first.holder
    with pg_store.session() as session:
        assert session.get(RobotLockRow, name) is not None
    from ledgerbot.core.locks import release

    release(second)
    other = try_acquire(pg_store, name, ttl=timedelta(minutes=5), holder="laptop:ledgerbot-post")
    assert other is not None
    with pytest.raises(LockBusy):
        _hold_lease(rt, name)


def _posted_invoice(store: Store, n: int, number: str, state: DocState) -> int:
    path = [DocState.RECEIVED, DocState.PARSED, DocState.CLASSIFIED, DocState.EXTRACTED, DocState.VALIDATED]
    path += [DocState.MATCHED, DocState.APPROVED] + ([DocState.POSTED] if state is DocState.POSTED else [])
    with store.session() as session:
        document = DocumentRow(
            sha256=f"{n:064x}", source="t", filename=f"{n}.pdf", mime="application/pdf", size=1
        )
        session.add(document)
        for target in path:
            transition(session, document, target, actor=Actor("test"), stage=target.value)
        document.vendor_id, document.doc_type = "V1", "invoice"
        session.add(
            ExtractionRow(
                document_id=document.id,
                result={"source": "x", "doc_type": "invoice", "fields": {"invoice_number": number}},
            )
        )
        return document.id


class _UntouchableTarget:
    """A target the posting service must not reach: every call is a failure of the test."""

    name = "untouchable"
    account = "robot@nowhere"

    def find_posted(self, *args: object, **kwargs: object) -> str | None:
        raise AssertionError("the target was searched for a duplicate the store already knows")

    def post(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a second copy of a posted invoice reached the target")


def test_a_second_copy_of_a_posted_invoice_goes_to_review_not_to_the_erp(
    pg_store: Store, tmp_path: Path
) -> None:
    from ledgerbot.core.lifecycle import Actor
    from ledgerbot.posting import post_one

    first = _posted_invoice(pg_store, 1, "INV-9", DocState.POSTED)
    copy = _posted_invoice(pg_store, 2, "INV-9", DocState.APPROVED)
    other = _posted_invoice(pg_store, 3, "INV-10", DocState.APPROVED)
    with pg_store.session() as session:
        assert duplicate_of_posted(session, session.get(DocumentRow, copy)) == first  # type: ignore[arg-type]
        assert duplicate_of_posted(session, session.get(DocumentRow, other)) is None  # type: ignore[arg-type]
    # The one posting service (runner, robot task and worker alike) checks before it touches the target.
    outcome, detail = post_one(
        pg_store,
        _UntouchableTarget(),
        copy,
        screenshots=tmp_path,
        actor=Actor("robot:post"),  # type: ignore[arg-type]
    )
    assert (outcome, detail["duplicate_of"]) == ("duplicate", first)
    with pg_store.session() as session:
        assert session.get(DocumentRow, copy).state == "exception"  # type: ignore[union-attr]
        codes = session.scalars(select(ExceptionRow.code).where(ExceptionRow.document_id == copy)).all()
    assert codes == ["DUPLICATE"]
