"""What each worker job does, as plain functions over the store (procrastinate wiring is in app.py).

Jobs are at-least-once (a killed worker's job is run again); their effects are exactly-once
because every stage is idempotent and the posting robot searches the ERP before it types.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ledgerbot.circuit import breaker_for
from ledgerbot.core.claims import claimed
from ledgerbot.core.domain import DocState, ExtractionResult
from ledgerbot.core.errors import BusinessError, ConfigError, error_code
from ledgerbot.core.lifecycle import ALLOWED, Actor
from ledgerbot.core.locks import Lease, LockBusy, release, try_acquire
from ledgerbot.core.settings import TargetSettings, WorkerSettings, get_settings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, utcnow
from ledgerbot.core.store.queries import latest_extraction
from ledgerbot.observability import (
    DOCUMENTS_DONE,
    correlated,
    observe_confidence,
    observe_document_stages,
)
from ledgerbot.processing import DocumentReader, claim_ttl, pending_documents, process_document
from ledgerbot.targets import account_of, open_target

log = logging.getLogger("ledgerbot.worker")


@dataclass
class Runtime:
    """What one worker process keeps between jobs: the store, the files, the reader."""

    store: Store
    files: FileStore
    settings: WorkerSettings
    target: TargetSettings = field(default_factory=lambda: get_settings().target)
    policy: Path | None = field(default_factory=lambda: get_settings().policy.path)
    _reader: DocumentReader | None = field(default=None, repr=False)

    @property
    def reader(self) -> DocumentReader:
        if self._reader is None:
            from ledgerbot.worker.readers import configured_reader

            self._reader = configured_reader(self.settings)
        return self._reader

    @property
    def erp_account(self) -> str | None:
        """The account name the posting robot uses, the same string the adapter's ``account`` gives."""
        return account_of(self.target)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    core = get_settings()
    return Runtime(Store(core.resolved_database_url), FileStore(core.files_dir), core.worker)


def warm_up(rt: Runtime) -> None:
    """Load the reader's models and the rules engine before the first job, not inside it.

    Importing the matching stack (scipy) and loading models takes seconds; doing it at start-up
    keeps that out of the first job's latency and out of the window a kill can waste.
    """
    import review_app.revalidate  # noqa: F401  (the rules engine and case builder)
    import rules.engine  # noqa: F401

    _ = rt.reader


def erp_lock_name(account: str) -> str:
    """One name for both guards of an ERP account: the procrastinate lock and the store lease."""
    return f"erp:{account}"


# -- processing ---------------------------------------------------------------------------------


def _sha(store: Store, document_id: int) -> str | None:
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        return document.sha256 if document else None


def process(rt: Runtime, document_id: int) -> dict[str, Any]:
    """Run one document through every stage it has not passed yet."""
    with correlated(document_id, _sha(rt.store, document_id)):
        started = utcnow()
        outcome = process_document(rt.store, rt.files, document_id, rt.reader, policy_path=rt.policy)
        if not outcome.skipped:
            stages = observe_document_stages(rt.store, document_id, started)
            with rt.store.session() as session:
                row = latest_extraction(session, document_id)
                if row is not None and row.created_at >= started:
                    result = ExtractionResult.model_validate(row.result)
                    observe_confidence(result.doc_type_confidence, result.field_confidence)
            DOCUMENTS_DONE.labels(task="process", state=outcome.state).inc()
            log.info(
                "processed",
                extra={
                    "state": outcome.state,
                    "doc_type": outcome.doc_type,
                    "codes": outcome.codes,
                    "stages": stages,
                },
            )
        return {"document_id": document_id, "state": outcome.state, "skipped": outcome.skipped}


def process_or_fail(rt: Runtime, document_id: int, *, last_attempt: bool) -> dict[str, Any]:
    """The processing job: a business error fails the document at once with its code; any other
    error is raised for the queue to retry, and fails the document with its code on the last try.
    """
    try:
        return process(rt, document_id)
    except BusinessError as error:
        # Bad data never gets better by retrying: straight to failed, with its code.
        return {"document_id": document_id, "state": mark_failed(rt, document_id, error), "failed": True}
    except Exception as error:
        if last_attempt:
            return {"document_id": document_id, "state": mark_failed(rt, document_id, error), "failed": True}
        raise


def mark_failed(rt: Runtime, document_id: int, error: BaseException) -> str | None:
    """Record a document whose processing gave up (a business error, or retries used up).

    Only under the document's claim: one another process holds is that process's to record.
    """
    from ledgerbot.processing import _mark_failed

    code = error_code(error)
    with correlated(document_id):
        with rt.store.session() as session:
            document = session.get(DocumentRow, document_id)
            if document is None or DocState.FAILED not in ALLOWED[DocState(document.state)]:
                return None
        cause = error if isinstance(error, Exception) else RuntimeError(repr(error))
        outcome = _mark_failed(rt.store, document_id, cause)
        if outcome.busy:
            return None
        log.warning("processing failed", extra={"code": code, "error": str(error)[:500]})
        return outcome.state


def pending_ids(rt: Runtime) -> list[int]:
    with rt.store.session() as session:
        return pending_documents(session)


def has_approved(rt: Runtime) -> bool:
    from ledgerbot.posting import approved_documents

    with rt.store.session() as session:
        return bool(approved_documents(session, limit=1))


# -- posting ------------------------------------------------------------------------------------


def _hold_lease(rt: Runtime, name: str) -> Lease:
    """The store lease on the ERP account, taken over from a killed job of the same lock.

    procrastinate's lock lets one posting job per account run at a time, so a lease held under
    the lock's own holder name can only belong to a job of this lock that died: this job takes
    it over at once instead of waiting for it to expire. A lease under any other holder (a
    ``ledgerbot post`` run outside the workers) is respected.
    """
    ttl = timedelta(seconds=rt.target.lease_seconds)
    holder = f"procrastinate:{name}"
    lease = Lease(rt.store, name, holder, ttl)
    try:
        lease.renew()
        return lease
    except LockBusy:
        pass
    acquired = try_acquire(rt.store, name, ttl=ttl, holder=holder)
    if acquired is None:
        raise LockBusy(f"another robot holds {name!r}; the posting job will retry", name=name)
    return acquired


def post_batch(rt: Runtime, *, limit: int | None = None, target: Any = None) -> dict[str, Any]:
    """Post every approved invoice to the configured ERP account, one after another."""
    from ledgerbot.posting import approved_documents, post_one

    account = rt.erp_account
    if account is None:
        raise ConfigError("posting needs LEDGERBOT_ERP_URL (the target's base URL)", code="E804")
    name = erp_lock_name(account)
    lease = _hold_lease(rt, name)
    counts: dict[str, int] = {}
    own_target = target is None
    try:
        if own_target:
            # Playwright objects belong to the thread that made them; a job may run on any
            # thread of the worker's pool, so each batch opens and closes its own browser.
            target = open_target(rt.target)
            # Sign in before the first search: the search screen waits for its form and would
            # time out on the login screen a fresh browser is sent to. Reading the vendor list
            # goes through the client's own re-login path and proves the account works.
            target.vendor_ids()
        actor = Actor(name="robot:post", component=type(target).__name__, version=account)
        screenshots = rt.files.root.parent / "screenshots"
        screenshots.mkdir(parents=True, exist_ok=True)
        with rt.store.session() as session:
            ids = approved_documents(session, limit)
        breaker = breaker_for(account)
        for document_id in ids:
            if not breaker.allow():  # the ERP failed again and again: the rest wait for later
                counts["left_for_later"] = counts.get("left_for_later", 0) + 1
                continue
            lease.renew()
            with correlated(document_id, _sha(rt.store, document_id)):
                started = utcnow()
                approved = [DocState.APPROVED.value]
                with claimed(rt.store, document_id, ttl=claim_ttl(), states=approved) as ours:
                    if not ours:  # a clerk or another process is on it: the next batch
                        continue
                    outcome, _detail = post_one(
                        rt.store,
                        target,
                        document_id,
                        screenshots=screenshots,
                        actor=actor,
                        attempts=rt.target.post_attempts,
                        backoff=rt.target.post_backoff_seconds,
                    )
                if outcome != "duplicate":
                    observe_document_stages(rt.store, document_id, started)
                breaker.record(outcome)
                counts[outcome] = counts.get(outcome, 0) + 1
                DOCUMENTS_DONE.labels(task="post", state=outcome).inc()
                log.info("post", extra={"outcome": outcome, "erp_account": account})
    finally:
        if own_target and target is not None:
            target.close()
        release(lease)
    paused = breaker_for(account).pause_report(counts.get("left_for_later", 0))
    if paused:
        log.warning("posting paused: the ERP keeps failing", extra=paused)
    return {"erp_account": account, **counts, **({"paused": paused} if paused else {})}


# -- robots on a schedule -----------------------------------------------------------------------


def intake_folder(rt: Runtime) -> list[int]:
    """Receive every file in the inbox folder, each on its own: a bad one never stops the rest.

    A stored file moves to ``inbox/received/``; one that could not be taken (empty, over the
    limit, a FIFO or device, unreadable) is recorded as a failed document with its code and
    moves, as it is, to ``inbox/failed/``.
    """
    from ledgerbot.intake import folder_entries, receive_path

    inbox = rt.settings.inbox
    if inbox is None or not inbox.is_dir():
        return []
    received: list[int] = []
    for path in folder_entries(inbox, skip=("received", "failed")):
        outcome = receive_path(rt.store, rt.files, path, source="folder")
        received.append(outcome.document_id)
        if outcome.code:
            log.warning("intake failed", extra={"code": outcome.code, "document_id": outcome.document_id})
        # A kill between the commit and the move re-delivers the file next run; intake then
        # finds the document of this delivery (same source, same bytes) and records nothing twice.
        done = inbox / ("failed" if outcome.code else "received")
        done.mkdir(exist_ok=True)
        try:
            shutil.move(str(path), done / path.name)
        except OSError as error:
            log.warning("could not move an inbox file", extra={"error": str(error)[:300]})
    return received


def scheduled_report(rt: Runtime, today: date | None = None) -> Path | None:
    if rt.settings.report_dir is None:
        return None
    from ledgerbot.reports import write_report

    end = today or date.today()
    start = end - timedelta(days=rt.settings.report_days)
    out = rt.settings.report_dir / f"ap-report-{end.isoformat()}.xlsx"
    return write_report(rt.store, start, end, out)
