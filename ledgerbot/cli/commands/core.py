"""Store commands: migrate, receive files, counts per state, one document's history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerbot.cli.app import app, emit, progress, stderr


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Create or migrate the store's schema to the newest revision."""
    from ledgerbot.core.store import Store

    store = Store.from_settings()
    store.migrate()
    stderr.print(f"store at {store.engine.url.render_as_string(hide_password=True)} is up to date")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to receive")],
    source: Annotated[str, typer.Option(help="Where the files came from")] = "folder",
) -> None:
    """Receive files from disk into the store (the folder intake). One JSON line per file.

    A file that cannot be taken (empty, over the limit, a FIFO or device, unreadable) is recorded
    as a failed document with its code and the run goes on; running it again over the same
    files records nothing twice.
    """
    from ledgerbot.core.safe_files import display_name
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import FileStore, get_store
    from ledgerbot.intake import folder_entries, receive_path

    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files.extend(folder_entries(path))
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise typer.BadParameter(f"{display_name(str(path))} does not exist")
    store = get_store()
    file_store = FileStore(get_settings().files_dir)
    failed = 0
    for path in progress(files, total=len(files), desc="ingest"):
        received = receive_path(store, file_store, path, source=source)
        failed += received.code is not None
        emit({"file": display_name(str(path)), **received.as_dict()})
    if failed:
        stderr.print(f"{failed} of {len(files)} file(s) could not be taken; see their codes", highlight=False)


@app.command()
def status(
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics", help="Also p50/p95/p99 seconds and CPU seconds per stage (from the audit trail)"
        ),
    ] = False,
    days: Annotated[
        float, typer.Option("--days", min=0, help="With --metrics: documents of these days")
    ] = 30,
) -> None:
    """Counts of documents per life-cycle state, as one JSON object."""
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.sqlite_read import state_counts

    settings = get_settings()
    # The embedded store at this code's schema is counted without loading the database layer.
    counts = state_counts(settings.resolved_database_url) if settings.has_store and not metrics else None
    if counts is not None:
        emit(counts)
        return
    from ledgerbot.core.store import get_store

    store = get_store()
    out: dict[str, Any] = dict(store.state_counts())
    if metrics:
        from ledgerbot.cost import cpu_report, document_costs
        from ledgerbot.latency import stage_latency

        with store.session() as session:
            out["latency_seconds"] = stage_latency(session, days=days)
            out["cpu_seconds"] = cpu_report(document_costs(session, days=days))
    emit(out)


@app.command()
def show(doc: Annotated[str, typer.Argument(help="Document id or sha256 prefix")]) -> None:
    """One document's state, extraction, exceptions and full audit history, as JSON."""
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.queries import document_history, get_document

    with get_store().session() as session:
        emit(document_history(session, get_document(session, doc)))
