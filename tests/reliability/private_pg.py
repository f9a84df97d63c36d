"""A private PostgreSQL instance for tests that restart the database: its own data folder, port
and socket, started with the server's own initdb/pg_ctl, so a restart hurts no other test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OS_USER = "postgres"  # initdb refuses to run as root


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.root / 'sock'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        command = [str(_bindir() / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "log")]
        subprocess.run(
            ["runuser", "-u", OS_USER, "--", *command, "-o", options, "-w", "-t", "60", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        """Stop (fast: open connections are cut, as a service restart does) and start again."""
        self._ctl("-m", "fast", "restart")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Under /tmp, not pytest's tmp_path: the server's OS user must be able to reach its folder.
    root = Path(tempfile.mkdtemp(prefix="ledgerbot-pg-"))
    os.chmod(root, 0o755)
    (root / "sock").mkdir()
    shutil.chown(root, OS_USER, OS_USER)
    shutil.chown(root / "sock", OS_USER, OS_USER)
    subprocess.run(
        [
            "runuser",
            "-u",
            OS_USER,
            "--",
            str(_bindir() / "initdb"),
            "-D",
            str(root / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = PrivatePostgres(root, _free_port())
    server._ctl("start")
    try:
        yield server
    finally:
        try:
            server._ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)
