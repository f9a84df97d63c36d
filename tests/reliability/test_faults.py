"""Faults all at once: SIGKILLed workers and posting robot, a PostgreSQL restart, mail arriving.

Three ``ledgerbot worker`` processes work through generated documents on a private PostgreSQL
instance (its own data folder and port, so restarting it disturbs no other test) while a seeded
RNG kills workers with SIGKILL (some aimed at the worker driving the sandbox ERP's browser),
PostgreSQL is restarted once in the middle, and a thread delivers mails with more invoices to a
real Dovecot and runs the mail intake. Afterwards: none lost, none posted twice, every document
in a final or retryable state, and the audit trail's hash chain verifies.

Extraction is the corpus-truth reader (a documented test double), so the test is about queues,
claims, restarts and exactly-once effects; posting is real (Playwright against the sandbox ERP).
``LEDGERBOT_FAULT_DOCS`` sets the size (CI: 100; ``benchmarks/bench_faults.py`` runs 500).
"""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
import subprocess
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from ledgerbot.core.domain import DocState
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.audit_chain import verify
from ledgerbot.core.store.models import AuditEventRow, DocumentRow
from ledgerbot.worker.app import build_app, enqueue_pending, ensure_schema
from ledgerbot.worker.config import WorkerSettings
from ledgerbot.worker.jobs import Runtime
from sandbox.erp.auth import DEFAULT_ROBOT_PASSWORD
from tests.reliability.private_pg import private_postgres
from tests.worker.harness import (
    LEDGERBOT,
    REPO,
    SETTLED,
    Cluster,
    corpus_files,
    ingest,
    seed_store,
    unsettled,
)
from tests.worker.test_fault_tolerance import _children, _free_port, _posting_slot, _wait_for_erp

DOCUMENTS = int(os.environ.get("LEDGERBOT_FAULT_DOCS", "100"))
MAILED = max(4, DOCUMENTS // 10)  # of them, delivered by mail during the run
WORKERS = 3
SEED = 20261206
KILLS = int(os.environ.get("LEDGERBOT_FAULT_KILLS", "6"))
POSTING_KILLS = 2
DEADLINE_SECONDS = float(os.environ.get("LEDGERBOT_FAULT_DEADLINE", "900"))
# The test's own limit leaves room after the run's deadline for the checks and the shutdown.
pytestmark = [
    pytest.mark.heavy,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(max(1800, DEADLINE_SECONDS + 600)),
]
MAIL_USER, MAIL_PASSWORD = "ap@example.test", "mail-pass-1"
RETRYABLE = {DocState.FAILED}


def _policy(tmp: Path) -> Path:
    """The shipped policy with a low second-approver limit: a handful go on to the browser."""
    policy = tmp / "policy.yaml"
    default = (REPO / "rules" / "policies" / "default.yaml").read_text()
    policy.write_text(
        default.replace('second_approver_above: "10000.00"', 'second_approver_above: "1500.00"').replace(
            "name: default", "name: fault-test"
        )
    )
    return policy


def _mail(path: Path, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "billing@vendor.test", MAIL_USER, f"Invoice {n}"
    msg["Message-ID"] = f"<fault-{n}@vendor.test>"
    msg.set_content("Please find our invoice attached.")
    maintype, subtype = ("application", "pdf") if path.suffix == ".pdf" else ("application", "xml")
    msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg.as_bytes()


class MailFeed(threading.Thread):
    """Delivers the mailed share one message at a time and runs the mail intake after each."""

    def __init__(self, paths: list[Path], store: Store, files: FileStore, host: str, port: int) -> None:
        super().__init__(daemon=True)
        from ledgerbot.mail.intake import MailSettings

        self.paths, self.store, self.files = paths, store, files
        self.settings = MailSettings(
            host=host, port=port, user=MAIL_USER, password=SecretStr(MAIL_PASSWORD), folder="INBOX"
        )
        self.delivered = 0
        self.intake_errors = 0
        self.done = threading.Event()
        self.stop = threading.Event()

    def _intake(self) -> bool:
        from ledgerbot.mail.intake import ImapMailbox, run_mail_intake

        mailbox = ImapMailbox(self.settings)
        try:
            run_mail_intake(self.store, self.files, mailbox, self.settings)
            return True
        except Exception:  # the store is down (restart): the mail stays and is read next turn
            self.intake_errors += 1
            return False
        finally:
            mailbox.close()

    def run(self) -> None:
        from imap_tools import MailBoxUnencrypted

        rng = random.Random(SEED + 1)
        for n, path in enumerate(self.paths):
            with MailBoxUnencrypted(self.settings.host, self.settings.port).login(
                MAIL_USER, MAIL_PASSWORD
            ) as box:
                box.append(_mail(path, n), "INBOX")
            self.delivered += 1
            self._intake()
            if self.stop.wait(rng.uniform(0.5, 2.0)):
                return
        while not self.stop.is_set() and not self._intake():
            time.sleep(1)
        self.done.set()


def test_kills_a_database_restart_and_mail_lose_nothing_and_post_once(tmp_path: Path) -> None:
    from sandbox import mailserver
    from sandbox.corpus import generate_corpus

    corpus = tmp_path / "corpus"
    generate_corpus(corpus, DOCUMENTS, seed=SEED, scans=False)
    every = corpus_files(corpus)
    rng = random.Random(SEED)
    mailed = sorted(rng.sample(every, MAILED))
    direct = [p for p in every if p not in mailed]
    home = tmp_path / "home"
    files = FileStore(home / "files")
    port = _free_port()
    erp_url = f"http://127.0.0.1:{port}"
    erp_db = tmp_path / "erp.db"
    erp = subprocess.Popen(
        [LEDGERBOT, "sandbox", "erp", "--port", str(port), "--db", str(erp_db), "--slow-every", "0"],
        env={**os.environ, "LEDGERBOT_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with private_postgres() as pg, mailserver.running({MAIL_USER: MAIL_PASSWORD}) as imap:
        store = Store(pg.url)
        cluster = Cluster(
            pg.url,
            home,
            {
                "LEDGERBOT_READER": "ledgerbot.worker.readers:truth_reader",
                "LEDGERBOT_TRUTH_DIR": str(corpus),
                "LEDGERBOT_ERP_URL": erp_url,
                "LEDGERBOT_ERP_PASSWORD": DEFAULT_ROBOT_PASSWORD,
                "LEDGERBOT_ERP_LEASE_SECONDS": "60",
                "LEDGERBOT_POST_BACKOFF_SECONDS": "0.5",
                "LEDGERBOT_POLICY": str(_policy(tmp_path)),
                "LEDGERBOT_CLAIM_SECONDS": "60",
            },
        )
        feed = MailFeed(mailed, store, files, imap.host, imap.port)
        restarted_at: float | None = None
        try:
            _wait_for_erp(erp_url, erp)
            store.migrate()
            seed_store(store)
            ingest(store, files, direct)
            app = build_app(pg.url, WorkerSettings(erp_url=erp_url))
            with app.open():
                ensure_schema(pg.url, app)
                enqueue_pending(app, Runtime(store, files, WorkerSettings(erp_url=erp_url)))
            started = time.monotonic()
            for slot in range(WORKERS):
                cluster.start(slot)
            feed.start()
            deadline = started + DEADLINE_SECONDS
            kills_left, posting_kills = KILLS, 0
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(1.0, 3.0))
                for slot in range(WORKERS):  # a supervisor's job: start what died (kill, lost DB)
                    if not cluster.alive(slot):
                        cluster.start(slot)
                try:
                    left = unsettled(store, posting=True)
                except Exception:  # the database is restarting
                    continue
                if restarted_at is None and left < 0.7 * DOCUMENTS:
                    pg.restart()
                    restarted_at = time.monotonic() - started
                    continue
                if not left and feed.done.is_set():
                    break
                posting = _posting_slot(cluster)
                if posting is not None and posting_kills < POSTING_KILLS:
                    time.sleep(rng.uniform(0.5, 5.0))
                    posting_kills += bool(_children(cluster.processes[posting].pid))
                    cluster.kill(posting)
                elif kills_left > 0 and rng.random() < 0.3:
                    cluster.kill(rng.randrange(WORKERS))
                    kills_left -= 1
            elapsed = time.monotonic() - started
            left = unsettled(store, posting=True)
        finally:
            feed.stop.set()
            cluster.stop()
            erp.terminate()
            erp.wait(timeout=30)
        with store.session() as session:
            documents = session.scalars(select(DocumentRow).order_by(DocumentRow.id)).all()
            events = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
            chain = verify(session)
        store.dispose()

    with sqlite3.connect(erp_db) as conn:
        erp_rows = conn.execute("SELECT vendor_id, invoice_number, external_ref FROM invoices").fetchall()
    posted = [d for d in documents if d.state == DocState.POSTED.value]
    failed = [d for d in documents if d.state == DocState.FAILED.value]
    counts: dict[str, int] = {}
    for d in documents:
        counts[d.state] = counts.get(d.state, 0) + 1
    print(
        f"\nfaults: {len(every)} documents ({MAILED} by mail; {feed.intake_errors} mail runs hit the "
        "restart), "
        f"{WORKERS} workers, {cluster.kills} SIGKILLs ({posting_kills} at the posting robot), "
        f"PostgreSQL restarted at {restarted_at:.0f}s, {cluster.starts} worker starts, {elapsed:.0f}s\n"
        f"  states {dict(sorted(counts.items()))}, ERP invoices {len(erp_rows)}, audit chain: {chain.line()}"
    )
    assert restarted_at is not None and feed.done.is_set()
    # None lost: every file delivered (directly or by mail) is a document, none left mid-way.
    assert {d.filename for d in documents} >= {p.name for p in every}
    assert left == 0, counts
    assert all(DocState(d.state) in SETTLED | RETRYABLE for d in documents), counts
    # A failure is retryable and says why, with a code.
    last_failure = {e.document_id: e.outcome for e in events if e.to_state == "failed"}
    assert all(last_failure[d.id].startswith("E") for d in failed)
    # None posted twice: one ERP invoice per posted document, each (vendor, number) once.
    assert len(erp_rows) == len(posted) == len({(v, n) for v, n, _ in erp_rows})
    # Each document's trail is one unbroken walk ending in its state; the chain verifies.
    trail: dict[int, list[AuditEventRow]] = {}
    for event in events:
        trail.setdefault(event.document_id, []).append(event)
    for document in documents:
        walk = trail[document.id]
        assert walk[0].from_state is None and walk[-1].to_state == document.state
        assert all(b.from_state == a.to_state for a, b in itertools.pairwise(walk))
    assert chain.ok, chain.line()
    assert cluster.kills >= 1
