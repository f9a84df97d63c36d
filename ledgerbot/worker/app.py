"""The procrastinate App: stage jobs, periodic robot jobs, queue locks and stalled-job recovery.

Queues: ``process`` (one job per document), ``post`` (one batch job at a time per ERP account,
enforced by procrastinate's ``lock``), ``robots`` (the periodic jobs). procrastinate's schema is
applied with its own schema manager (``ensure_schema``), not through our alembic chain: its
tables are versioned by procrastinate and upgraded with ``procrastinate schema --migrate``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledgerbot.core.errors import ConfigError
from ledgerbot.observability import timed_job
from ledgerbot.worker import jobs
from ledgerbot.worker.config import WorkerSettings, get_worker_settings

log = logging.getLogger("ledgerbot.worker")

PROCESS_QUEUE, POST_QUEUE, ROBOTS_QUEUE = "process", "post", "robots"
QUEUES = (PROCESS_QUEUE, POST_QUEUE, ROBOTS_QUEUE)
PROCESS_ATTEMPTS = 4
# Workers take the highest priority first. Recovery must never wait behind a backlog (it frees
# the locks of dead jobs), scheduled robots come next, and the posting batch goes before the
# processing backlog: it is one job per ERP account and keeps approved invoices moving.
PRIORITY_RECOVER, PRIORITY_ROBOTS, PRIORITY_POST, PRIORITY_PROCESS = 100, 50, 20, 0
# Any key works for pg_advisory_lock as long as every worker uses the same one.
_SETUP_LOCK = 0x1ED6E7B07

TASK_PROCESS = "ledgerbot.process_document"
TASK_POST = "ledgerbot.post_batch"
TASK_DISPATCH = "ledgerbot.dispatch"
TASK_RECOVER = "ledgerbot.recover_stalled"
TASK_INTAKE = "ledgerbot.intake_folder"
TASK_REPORT = "ledgerbot.finance_report"


def require_postgres(url: str) -> None:
    if not url.startswith("postgresql"):
        raise ConfigError(
            "workers need LEDGERBOT_DATABASE_URL pointing at PostgreSQL; with the embedded "
            "SQLite store the stages run in-process instead",
            code="E805",
        )


def conninfo(url: str) -> str:
    """The libpq URL for a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    require_postgres(url)
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(url: str, settings: WorkerSettings | None = None) -> App:
    """A procrastinate App on ``url`` with every ledgerbot job registered."""
    settings = settings or get_worker_settings()
    app = App(connector=PsycopgConnector(conninfo=conninfo(url)))

    @app.task(
        name=TASK_PROCESS,
        queue=PROCESS_QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=PROCESS_ATTEMPTS - 1, wait=2),
    )
    def process_document(context: JobContext, document_id: int) -> dict[str, Any]:
        rt = jobs.runtime()
        with timed_job("process") as outcome:
            last = context.job.attempts + 1 >= PROCESS_ATTEMPTS
            result = jobs.process_or_fail(rt, document_id, last_attempt=last)
            if result.pop("failed", False):
                outcome["outcome"] = "failed"
                return result
            outcome["outcome"] = result["state"]
        if result["state"] == "approved":
            defer_post(context.app, rt)
        return result

    @app.task(name=TASK_POST, queue=POST_QUEUE, retry=RetryStrategy(max_attempts=20, wait=5))
    def post_batch(erp_account: str) -> dict[str, Any]:
        rt = jobs.runtime()
        if rt.erp_account != erp_account:
            raise ConfigError(
                f"this worker posts to {rt.erp_account!r}, not {erp_account!r}; check LEDGERBOT_ERP_URL",
                code="E804",
            )
        with timed_job("post"):
            return jobs.post_batch(rt)

    @app.periodic(cron=settings.dispatch_cron, periodic_id="dispatch", priority=PRIORITY_ROBOTS)
    @app.task(name=TASK_DISPATCH, queue=ROBOTS_QUEUE, queueing_lock=TASK_DISPATCH, pass_context=True)
    def dispatch(context: JobContext, timestamp: int) -> dict[str, int]:
        return enqueue_pending(context.app, jobs.runtime())

    @app.periodic(cron=settings.recover_cron, periodic_id="recover", priority=PRIORITY_RECOVER)
    @app.task(name=TASK_RECOVER, queue=ROBOTS_QUEUE, queueing_lock=TASK_RECOVER, pass_context=True)
    async def recover(context: JobContext, timestamp: int) -> list[int]:
        return await recover_stalled(context.app, settings.stalled_seconds)

    @app.periodic(cron=settings.dispatch_cron, periodic_id="intake", priority=PRIORITY_ROBOTS)
    @app.task(name=TASK_INTAKE, queue=ROBOTS_QUEUE, queueing_lock=TASK_INTAKE, pass_context=True)
    def intake(context: JobContext, timestamp: int) -> int:
        rt = jobs.runtime()
        received = jobs.intake_folder(rt)
        if received:
            enqueue_pending(context.app, rt)
        return len(received)

    @app.periodic(cron=settings.report_cron, periodic_id="finance_report", priority=PRIORITY_ROBOTS)
    @app.task(name=TASK_REPORT, queue=ROBOTS_QUEUE, queueing_lock=TASK_REPORT)
    def finance_report(timestamp: int) -> str | None:
        path = jobs.scheduled_report(jobs.runtime(), today=date.today())
        return str(path) if path else None

    return app


def defer_post(app: App, rt: jobs.Runtime) -> bool:
    """Queue a posting batch for the configured account, unless one is already waiting."""
    account = rt.erp_account
    if account is None:
        return False
    name = jobs.erp_lock_name(account)
    try:
        # lock: one running batch per account across all workers; queueing_lock: at most one
        # waiting behind it, which will pick up everything approved meanwhile.
        app.configure_task(TASK_POST, lock=name, queueing_lock=f"queue:{name}", priority=PRIORITY_POST).defer(
            erp_account=account
        )
    except AlreadyEnqueued:
        return False
    return True


def enqueue_pending(app: App, rt: jobs.Runtime) -> dict[str, int]:
    """Queue a processing job for every document waiting in a processing state, and a posting batch."""
    queued = already = 0
    for document_id in jobs.pending_ids(rt):
        try:
            # lock: two jobs for one document never run at once (a dispatch can queue a second
            # one while the first is running); queueing_lock: never two waiting.
            app.configure_task(
                TASK_PROCESS,
                lock=f"doc:{document_id}",
                queueing_lock=f"doc:{document_id}",
                priority=PRIORITY_PROCESS,
            ).defer(document_id=document_id)
            queued += 1
        except AlreadyEnqueued:
            already += 1
    posting = int(jobs.has_approved(rt) and defer_post(app, rt))
    return {"queued": queued, "already_queued": already, "post_batches": posting}


async def recover_stalled(app: App, seconds_since_heartbeat: float) -> list[int]:
    """Retry the running jobs of workers whose heartbeat stopped (killed, or cut off)."""
    manager = app.job_manager
    await manager.prune_stalled_workers(seconds_since_heartbeat)
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    retried: list[int] = []
    for job in stalled:
        assert job.id is not None
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # A twin with the same queueing lock is already waiting (a dispatch queued it while
            # this one ran), and it does the same work. Closing the dead one frees its lock.
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning("closed stalled job; its queued twin takes over", extra={"job_id": job.id})
            continue
        retried.append(job.id)
        log.warning("retrying stalled job", extra={"job_id": job.id, "task": job.task_name, "lock": job.lock})
    return retried


def ensure_schema(url: str, app: App) -> None:
    """Migrate the store and apply procrastinate's schema once, whoever starts first.

    Several workers starting together would race on CREATE TABLE; a PostgreSQL advisory lock
    makes the second wait and then find everything in place.
    """
    from ledgerbot.core.store import Store

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SETUP_LOCK})
            try:
                store = Store(url)
                try:
                    store.migrate()
                finally:
                    store.dispose()
                if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
                    app.schema_manager.apply_schema()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SETUP_LOCK})
    finally:
        engine.dispose()


def job_counts(app: App) -> dict[str, dict[str, int]]:
    """Jobs per queue and status, for ``ledgerbot worker status`` and the tests."""
    out: dict[str, dict[str, int]] = {}
    for row in app.job_manager.list_jobs():
        out.setdefault(row.queue, {}).setdefault(str(row.status), 0)
        out[row.queue][str(row.status)] += 1
    return out
