"""Store commands: migrate, receive files, counts per state, one document's history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    """Receive files from disk into the store (the folder intake). One JSON line per file."""
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import FileStore, get_store
    from ledgerbot.intake import receive

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(".json")))
        elif path.is_file():
            files.append(path)
        else:
            raise typer.BadParameter(f"{path} does not exist")
    store = get_store()
    file_store = FileStore(get_settings().files_dir)
    for path in progress(files, total=len(files), desc="ingest"):
        with store.session() as session:
            document = receive(
                session, file_store, path.read_bytes(), filename=path.name, source=f"{source}:{path}"
            )
            emit(
                {
                    "id": document.id,
                    "file": str(path),
                    "sha256": document.sha256,
                    "state": document.state,
                    "duplicate_of": document.duplicate_of,
                }
            )


@app.command()
def status() -> None:
    """Counts of documents per life-cycle state, as one JSON object."""
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.queries import state_counts

    with get_store().session() as session:
        emit(state_counts(session))


@app.command()
def show(doc: Annotated[str, typer.Argument(help="Document id or sha256 prefix")]) -> None:
    """One document's state, extraction, exceptions and full audit history, as JSON."""
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.queries import document_history, get_document

    with get_store().session() as session:
        emit(document_history(session, get_document(session, doc)))
