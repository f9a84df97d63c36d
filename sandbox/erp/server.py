"""Running the sandbox ERP: in a background thread for tests and demos, or in the foreground for the CLI."""

from __future__ import annotations

import copy
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from sandbox.erp.app import create_app


def _stderr_logging() -> dict[str, Any]:
    """uvicorn's logging, but the access log too on stderr: stdout stays machine-readable."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # only the main thread may own signals
        pass


@contextmanager
def serve_in_thread(
    db_path: Path | str | None = None,
    *,
    app: FastAPI | None = None,
    startup_timeout: float = 20.0,
    **app_options: Any,
) -> Iterator[str]:
    """Serve an ERP on 127.0.0.1 at a free port; yields its base URL (no trailing slash).

    Without ``db_path`` the database lives in a temporary folder removed afterwards;
    ``app_options`` go to ``create_app`` (``seed``, ``session_ttl``, ``slow_every``, ...), or pass
    a ready ``app``. On exit the server stops accepting, finishes open requests and the thread
    is joined.
    """
    with tempfile.TemporaryDirectory(prefix="ledgerbot-erp-") as tmp:
        if app is None:
            app = create_app(Path(db_path) if db_path else Path(tmp) / "erp.db", **app_options)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", log_config=_stderr_logging(), lifespan="off")
        server = _ThreadServer(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"erp-{port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("sandbox ERP server thread died during startup")
            if time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"sandbox ERP did not start within {startup_timeout}s")
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()


def serve_forever(app: FastAPI, host: str, port: int) -> None:
    """Foreground server for ``ledgerbot sandbox erp``; returns on Ctrl-C / SIGTERM."""
    uvicorn.run(app, host=host, port=port, log_config=_stderr_logging(), log_level="info", lifespan="off")
