"""``ledgerbot worker``: run stage jobs from the PostgreSQL queue; dispatch, recover, status."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, stderr

worker_app = typer.Typer(
    help="Scale-out workers on PostgreSQL (procrastinate). Without a sub-command: run a worker.",
    invoke_without_command=True,
)
app.add_typer(worker_app, name="worker")


def _url() -> str:
    from ledgerbot.core.settings import get_settings
    from ledgerbot.worker.app import require_postgres

    url = get_settings().resolved_database_url
    require_postgres(url)
    return url


@worker_app.callback()
def worker(
    ctx: typer.Context,
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues to take jobs from")
    ] = "process,post,robots",
    name: Annotated[str | None, typer.Option(help="Worker name in logs (default host:pid)")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve Prometheus /metrics on this port")] = None,
    wait: Annotated[
        bool, typer.Option(help="Keep waiting for jobs; --no-wait stops when the queues are empty")
    ] = True,
    log_level: Annotated[str, typer.Option(help="Log level of the JSON logs on stderr")] = "INFO",
) -> None:
    """Run one worker: take jobs from the queues until stopped (SIGINT/SIGTERM finish the current job)."""
    if ctx.invoked_subcommand is not None:
        return
    from ledgerbot.core.store import Store
    from ledgerbot.observability import configure_json_logging, serve_metrics
    from ledgerbot.worker.app import QUEUES, build_app, ensure_schema, recover_stalled
    from ledgerbot.worker.config import get_worker_settings
    from ledgerbot.worker.jobs import runtime, warm_up

    url = _url()
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown:
        raise typer.BadParameter(f"unknown queue(s) {unknown}; known: {list(QUEUES)}", param_hint="--queues")
    configure_json_logging(log_level.upper())
    settings = get_worker_settings()
    procrastinate_app = build_app(url, settings)
    worker_name = name or f"{socket.gethostname()}:{os.getpid()}"
    if metrics_port is not None:
        serve_metrics(metrics_port, Store(url))

    async def run() -> None:
        async with procrastinate_app.open_async():
            await asyncio.to_thread(ensure_schema, url, procrastinate_app)
            await asyncio.to_thread(warm_up, runtime())
            # Whatever a killed worker was doing is picked up before this one takes new work.
            await recover_stalled(procrastinate_app, settings.stalled_seconds)
            logging.getLogger("ledgerbot.worker").info(
                "worker started", extra={"worker": worker_name, "queues": chosen}
            )
            await procrastinate_app.run_worker_async(
                queues=chosen,
                name=worker_name,
                wait=wait,
                concurrency=1,
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_seconds,
                fetch_job_polling_interval=1.0,
                delete_jobs="successful",
            )

    asyncio.run(run())


@worker_app.command("dispatch")
def dispatch() -> None:
    """Queue a job for every document waiting to be processed, and a posting batch. Prints counts."""
    from ledgerbot.worker.app import build_app, enqueue_pending, ensure_schema
    from ledgerbot.worker.jobs import runtime

    url = _url()
    procrastinate_app = build_app(url)
    with procrastinate_app.open():
        ensure_schema(url, procrastinate_app)
        emit(enqueue_pending(procrastinate_app, runtime()))


@worker_app.command("recover")
def recover(
    seconds: Annotated[float | None, typer.Option(help="Heartbeat age that marks a worker dead")] = None,
) -> None:
    """Retry the jobs of workers that stopped sending heartbeats. Prints the retried job ids."""
    from ledgerbot.worker.app import build_app, recover_stalled
    from ledgerbot.worker.config import get_worker_settings

    procrastinate_app = build_app(_url())
    limit = seconds if seconds is not None else get_worker_settings().stalled_seconds

    async def run() -> list[int]:
        async with procrastinate_app.open_async():
            return await recover_stalled(procrastinate_app, limit)

    emit({"retried": asyncio.run(run())})


@worker_app.command("status")
def status() -> None:
    """Jobs per queue and status, and the pipeline's figures (the /metrics gauges), as one JSON object."""
    from ledgerbot.core.store import Store
    from ledgerbot.observability import pipeline_snapshot
    from ledgerbot.worker.app import build_app, job_counts

    url = _url()
    procrastinate_app = build_app(url)
    with procrastinate_app.open():
        jobs = job_counts(procrastinate_app)
    store = Store(url)
    try:
        emit({"jobs": jobs, "pipeline": pipeline_snapshot(store)})
    finally:
        store.dispose()
    stderr.print("jobs that finished successfully are deleted; failed ones stay for inspection")
