"""Review app commands: serve it, manage its users, export the labels people made."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, fail, progress, stderr

users_app = typer.Typer(help="Users of the review app (clerks, approvers, admins).", no_args_is_help=True)
labels_app = typer.Typer(help="Labelled examples from clerks' corrections.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(labels_app, name="labels")

PASSWORD_ENV = "LEDGERBOT_REVIEW_PASSWORD"


def _documents_in(database: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def open_demo_by_default() -> None:
    """With no store configured and none of one's own yet, the review commands open the demo's.

    ``make demo`` leaves its store in ``var/demo``; a new user who then runs ``ledgerbot review``
    should see the demo's exceptions, not an empty queue. Any configured home or database wins.
    """
    from ledgerbot.core.settings import get_settings

    if os.environ.get("LEDGERBOT_HOME") or os.environ.get("LEDGERBOT_DATABASE_URL"):
        return
    settings = get_settings()
    if settings.store.database_url or settings.home != Path("var"):
        return
    demo = settings.home / "demo" / "ledgerbot.db"
    if not demo.exists() or _documents_in(settings.home / "ledgerbot.db") > 0:
        return
    # Set in the environment, so the server's worker processes open the same store.
    os.environ["LEDGERBOT_HOME"] = str(demo.parent.resolve())
    get_settings.cache_clear()
    stderr.print(f"no documents of your own yet: opening the demo's store in {demo.parent}")


@app.command()
def review(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on")] = 8700,
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean otherwise")
    ] = "127.0.0.1",
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="Worker processes (default: one per core, at most 8)"),
    ] = None,
) -> None:
    """Serve the review app on the configured store."""
    import uvicorn

    from ledgerbot.core.store import get_store
    from review_app.config import default_workers
    from review_app.server import HTTP_PROTOCOL

    workers = workers or default_workers()
    open_demo_by_default()

    store = get_store()  # migrate once here, not in every worker
    stderr.print(
        f"review app on http://{host}:{port}/ over {store.engine.url.render_as_string(hide_password=True)}"
        f" ({workers} worker{'s' if workers > 1 else ''})"
    )
    store.dispose()
    uvicorn.run(
        "review_app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http=HTTP_PROTOCOL,
        # Browsers and load balancers reuse connections; uvicorn's 5 s default races with a busy
        # loop and drops requests already on the wire.
        timeout_keep_alive=30,
    )


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise fail(
            f"no password: use --password-stdin, set {PASSWORD_ENV}, or run in a terminal", code="E701"
        )
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    role: Annotated[str, typer.Option(help="clerk, approver or admin")] = "clerk",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin")
    ] = False,
) -> None:
    """Create a user; the password comes from a prompt, stdin or the environment, never the command line."""
    from ledgerbot.core.store import get_store
    from review_app.security import add_user

    password = _read_password(password_stdin)
    open_demo_by_default()
    with get_store().session() as session:
        user = add_user(session, username, password, role)
        emit({"username": user.username, "role": user.role, "id": user.id})


@users_app.command("list")
def users_list() -> None:
    """Every user, one JSON line each (never the password hash)."""
    from sqlalchemy import select

    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.review import UserRow

    open_demo_by_default()
    with get_store().session() as session:
        for user in session.scalars(select(UserRow).order_by(UserRow.username)):
            emit({"username": user.username, "role": user.role, "active": user.active, "id": user.id})


@labels_app.command("export")
def labels_export(
    folder: Annotated[Path, typer.Argument(help="Where to write the labelled corpus")],
    doc_types_only: Annotated[
        bool, typer.Option("--doc-types-only", help="Only documents whose type a person corrected")
    ] = False,
) -> None:
    """Write corrected documents with their ground truth (file + <stem>.json), for retraining and eval."""
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import FileStore, get_store
    from review_app.learning import export_corpus

    kinds = ("doc_type",) if doc_types_only else None
    open_demo_by_default()
    with get_store().session() as session:
        for record in progress(
            export_corpus(session, FileStore(get_settings().files_dir), folder, kinds), desc="export"
        ):
            emit(record)
