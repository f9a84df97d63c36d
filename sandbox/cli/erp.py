"""``ledgerbot sandbox erp``: serve the demo legacy ERP (HTML screens only) over its own SQLite file."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import emit, fail, stderr
from sandbox.cli import sandbox_app
from sandbox.masterdata import DEFAULT_SEED


@sandbox_app.command("erp")
def erp(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on")] = 8070,
    host: Annotated[str, typer.Option(help="Interface to bind (keep it on loopback)")] = "127.0.0.1",
    db: Annotated[
        Path | None, typer.Option(help="ERP database file (default: $LEDGERBOT_HOME/sandbox-erp.db)")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Master-data seed used when the database is created")
    ] = DEFAULT_SEED,
    session_ttl: Annotated[float, typer.Option(min=1, help="Idle seconds before a session expires")] = 900.0,
    slow_every: Annotated[
        int, typer.Option(min=0, help="Every Nth list-screen request is slow; 0 = never")
    ] = 10,
    slow_seconds: Annotated[float, typer.Option(min=0, help="How long a slow page sleeps")] = 2.0,
    reset: Annotated[bool, typer.Option(help="Delete the database first (posted invoices are lost)")] = False,
) -> None:
    """Serve the sandbox ERP until Ctrl-C. Prints one JSON line (URL, database, record counts) on stdout."""
    from ledgerbot.core.settings import get_settings
    from sandbox.erp.app import create_app
    from sandbox.erp.auth import CLERK_USER, PASSWORD_ENV, ROBOT_USER
    from sandbox.erp.db import ErpDatabase
    from sandbox.erp.server import serve_forever

    db_path = db or get_settings().home / "sandbox-erp.db"
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    # Refuse a busy port before seeding, with one clear line instead of uvicorn's traceback.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise fail(f"cannot listen on {host}:{port}: {error.strerror}", code="E300") from None

    existing_seed = ErpDatabase(db_path).seed() if db_path.exists() else None
    if existing_seed is not None and existing_seed != seed:
        stderr.print(
            f"note: {db_path} was seeded with {existing_seed}; --seed {seed} is ignored "
            "(use --reset to reseed)"
        )
    stderr.print(f"seeding {db_path} ..." if existing_seed is None else f"opening {db_path}")
    app = create_app(
        db_path, seed=seed, session_ttl=session_ttl, slow_every=slow_every, slow_seconds=slow_seconds
    )
    counts = app.state.db.counts()
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    emit(
        {
            "url": url,
            "db": str(db_path),
            "seed": existing_seed if existing_seed is not None else seed,
            "seeded": existing_seed is None,
            "users": [ROBOT_USER, CLERK_USER],
            "password_env": PASSWORD_ENV,
            "session_ttl": session_ttl,
            "slow_every": slow_every,
            "slow_seconds": slow_seconds,
            **counts,
        }
    )
    stderr.print(f"sandbox ERP at {url} (Ctrl-C to stop)")
    serve_forever(app, host, port)
