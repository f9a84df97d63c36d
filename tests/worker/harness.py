"""A local cluster for worker tests and the scaling benchmark: a store, a corpus, worker processes.

Workers are real ``ledgerbot worker`` processes (started with subprocess, killed with SIGKILL)
reading with the corpus-truth reader (``ledgerbot.worker.readers:truth_reader``), a documented
test double of extraction, so the figures are about queues, workers and the store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ledgerbot.core.domain import DocState
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.masterdata import upsert_purchase_orders, upsert_receipts, upsert_vendors
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.intake import receive

REPO = Path(__file__).resolve().parents[2]
LEDGERBOT = str(Path(sys.executable).with_name("ledgerbot"))
WORKING = [DocState.RECEIVED, DocState.PARSED, DocState.CLASSIFIED, DocState.EXTRACTED, DocState.VALIDATED]
# Where a document rests once no robot has anything left to do with it: booked, filed, or
# waiting for a clerk. "matched" waits for a second approver; "failed" would mean a fault.
SETTLED = {DocState.POSTED, DocState.REJECTED, DocState.DUPLICATE, DocState.EXCEPTION, DocState.MATCHED}


def seed_store(store: Store) -> None:
    from sandbox.masterdata import generate_master_data

    master = generate_master_data()
    with store.session() as session:
        upsert_vendors(session, master.vendors)
        upsert_purchase_orders(session, master.purchase_orders)
        upsert_receipts(session, master.receipts)


def corpus_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix != ".json" and p.name != "manifest.json"
    )


def ingest(store: Store, files: FileStore, paths: Iterable[Path]) -> list[int]:
    ids: list[int] = []
    for path in paths:
        with store.session() as session:
            ids.append(
                receive(session, files, path.read_bytes(), filename=path.name, source=f"test:{path}").id
            )
    return ids


def state_counts(store: Store) -> dict[str, int]:
    with store.session() as session:
        rows = session.execute(select(DocumentRow.state, func.count()).group_by(DocumentRow.state)).all()
    return {state: n for state, n in rows}


def unsettled(store: Store, posting: bool) -> int:
    waiting = [s.value for s in WORKING] + ([DocState.APPROVED.value] if posting else [])
    with store.session() as session:
        return session.scalar(select(func.count()).where(DocumentRow.state.in_(waiting))) or 0


@dataclass
class Cluster:
    """Worker processes sharing one PostgreSQL store."""

    url: str
    home: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0
    kills: int = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBOT_")}
        env.update(
            {
                "LEDGERBOT_HOME": str(self.home),
                "LEDGERBOT_DATABASE_URL": self.url,
                "LEDGERBOT_HEARTBEAT_SECONDS": "1",
                "LEDGERBOT_STALLED_SECONDS": "8",
                "LEDGERBOT_DISPATCH_CRON": "* * * * * */5",
                "LEDGERBOT_RECOVER_CRON": "* * * * * */3",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env_extra)
        return env

    def start(self, slot: int) -> None:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(logs / f"worker-{slot}.log", "ab") as log:
            self.processes[slot] = subprocess.Popen(
                [LEDGERBOT, "worker", "--name", f"w{slot}-{self.starts}", "--log-level", "WARNING"],
                cwd=REPO,
                env=self.env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill(self, slot: int) -> None:
        process = self.processes[slot]
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            self.kills += 1
        process.wait()

    def alive(self, slot: int) -> bool:
        return self.processes[slot].poll() is None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
