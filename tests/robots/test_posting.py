"""The posting robot in a real headless Chromium against the sandbox ERP."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.sandbox_erp.client import SandboxErp
from ledgerbot.core.domain import DocState
from ledgerbot.core.locks import LockBusy, exclusive, try_acquire
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import ExceptionRow, PostingRow
from ledgerbot.posting import post_approved
from sandbox.erp.db import ErpDatabase
from sandbox.erp.server import serve_in_thread
from tests.support import approved_document, clean_invoices, seed_master_data, state_of, vendor_of

pytestmark = [pytest.mark.slow, pytest.mark.browser]
USER, PASSWORD = "ap-robot", "robot-pass-1"


@pytest.fixture(scope="module")
def erp_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("erp") / "erp.db"
    ErpDatabase(path).initialise()
    return path


@pytest.fixture
def erp_db(tmp_path: Path, erp_template: Path) -> Path:
    target = tmp_path / "erp.db"
    target.write_bytes(erp_template.read_bytes())
    return target


@pytest.fixture
def erp_url(erp_db: Path) -> Iterator[str]:
    with serve_in_thread(erp_db, session_ttl=600) as url:
        yield url


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    seed_master_data(store)
    return store


def erp_invoices(erp_db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(erp_db) as conn:
        return conn.execute("SELECT vendor_id, invoice_number, external_ref FROM invoices").fetchall()


def test_approved_invoices_are_posted_once_with_number_and_screenshot(
    store: Store, file_store: FileStore, erp_url: str, erp_db: Path, tmp_path: Path
) -> None:
    invoices = list(clean_invoices())[:2]
    ids = [approved_document(store, file_store, inv, vendor_of(inv)) for inv in invoices]
    with SandboxErp(erp_url, USER, PASSWORD) as erp:
        report = post_approved(store, erp, screenshots=tmp_path / "shots", backoff=0.1)
        assert report.summary()["posted"] == 2, report.summary()
        again = post_approved(store, erp, screenshots=tmp_path / "shots", backoff=0.1)
        assert again.summary()["posted"] == 0
    assert [state_of(store, i) for i in ids] == [DocState.POSTED, DocState.POSTED]
    posted = erp_invoices(erp_db)
    assert sorted(p[1] for p in posted) == sorted(inv.fields.invoice_number for inv in invoices)
    with store.session() as s:
        rows = s.scalars(select(PostingRow).order_by(PostingRow.document_id)).all()
        assert all(r.erp_doc_number and r.erp_doc_number.startswith("DOC-") for r in rows)
        assert all(r.screenshot and Path(r.screenshot).stat().st_size > 1000 for r in rows)
        assert {r.idempotency_key for r in rows} == {p[2] for p in posted}


def test_long_invoice_needs_added_rows_and_a_credit_note_posts_negative(
    store: Store, file_store: FileStore, erp_url: str, erp_db: Path, tmp_path: Path
) -> None:
    long_invoice = next(inv for inv in clean_invoices(limit=Decimal(10**9)) if len(inv.lines) > 5)
    doc_id = approved_document(store, file_store, long_invoice, vendor_of(long_invoice))
    credit = long_invoice.model_copy(deep=True)
    credit.doc_type = credit.doc_type.CREDIT_NOTE  # type: ignore[union-attr]
    credit.source = "credit"
    credit.fields.invoice_number = "CN-" + (credit.fields.invoice_number or "")
    line = credit.lines[0].model_copy(update={"amount": -(credit.lines[0].amount or 0)})
    tax_rate = (long_invoice.fields.tax_amount or 0) / (long_invoice.fields.subtotal or 1)
    tax = -(abs(line.amount or 0) * tax_rate).quantize(Decimal("0.01"))
    credit.lines = [line]
    credit.fields.subtotal, credit.fields.tax_amount = line.amount, tax
    credit.fields.total = (line.amount or 0) + tax
    credit_id = approved_document(store, file_store, credit, vendor_of(long_invoice))
    with SandboxErp(erp_url, USER, PASSWORD) as erp:
        summary = post_approved(store, erp, screenshots=tmp_path, backoff=0.1).summary()
    assert summary["posted"] == 2, summary
    assert state_of(store, doc_id) == state_of(store, credit_id) == DocState.POSTED


def test_erp_validation_error_becomes_a_business_exception(
    store: Store, file_store: FileStore, erp_url: str, erp_db: Path, tmp_path: Path
) -> None:
    bad = next(clean_invoices())
    bad.fields.total = (bad.fields.total or Decimal(0)) + Decimal("10.00")  # gross != net + tax
    doc_id = approved_document(store, file_store, bad, vendor_of(bad))
    with SandboxErp(erp_url, USER, PASSWORD) as erp:
        summary = post_approved(store, erp, screenshots=tmp_path, backoff=0.1).summary()
    assert summary["rejected_by_erp"] == 1
    assert state_of(store, doc_id) == DocState.EXCEPTION
    assert erp_invoices(erp_db) == []
    with store.session() as s:
        exc = s.scalars(select(ExceptionRow).where(ExceptionRow.document_id == doc_id)).one()
        assert exc.code == "ERP_REJECTED" and "TOTAL" in exc.evidence["errors"].upper()


def test_expired_session_is_logged_into_again(
    store: Store, file_store: FileStore, erp_db: Path, tmp_path: Path
) -> None:
    inv = next(clean_invoices())
    doc_id = approved_document(store, file_store, inv, vendor_of(inv))
    with serve_in_thread(erp_db, session_ttl=5) as url, SandboxErp(url, USER, PASSWORD) as erp:
        erp.vendor_ids()
        time.sleep(6)
        post_approved(store, erp, screenshots=tmp_path, backoff=0.1)
        assert erp.logins >= 2
    assert state_of(store, doc_id) == DocState.POSTED


def test_only_one_robot_drives_an_erp_account(store: Store) -> None:
    name = "erp:ap-robot@http://erp"
    with exclusive(store, name), pytest.raises(LockBusy), exclusive(store, name):
        pass
    with exclusive(store, name):  # released after the first holder left
        pass
    # A holder on this machine whose process is gone (SIGKILL) does not block the account.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert try_acquire(store, name, ttl=timedelta(hours=1), holder=f"{socket.gethostname()}:{dead.pid}:x")
    assert try_acquire(store, name, ttl=timedelta(hours=1)) is not None
    assert try_acquire(store, name, ttl=timedelta(hours=1)) is None  # a live holder does block


ROBOT = """
import sys
from pathlib import Path
from ledgerbot.posting import post_approved
from ledgerbot.core.store import Store
from adapters.sandbox_erp.client import SandboxErp
store = Store(sys.argv[1])
with SandboxErp(sys.argv[2], "ap-robot", "robot-pass-1") as erp:
    print(post_approved(store, erp, screenshots=Path(sys.argv[3]), backoff=0.1).summary()["posted"])
"""


def test_killed_between_submit_and_record_is_never_posted_twice(
    store: Store, file_store: FileStore, erp_url: str, erp_db: Path, tmp_path: Path
) -> None:
    invoices = list(clean_invoices())[:4]
    ids = [approved_document(store, file_store, inv, vendor_of(inv)) for inv in invoices]
    caught = 0
    for _ in range(6):
        if all(state_of(store, i) == DocState.POSTED for i in ids):
            break
        before = len(erp_invoices(erp_db))
        robot = subprocess.Popen(
            [sys.executable, "-c", ROBOT, store.url, erp_url, str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Kill the robot the moment the ERP has booked an invoice the store has not recorded yet.
        deadline = time.monotonic() + 120
        while robot.poll() is None and time.monotonic() < deadline:
            if len(erp_invoices(erp_db)) > before:
                os.killpg(robot.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        robot.wait(timeout=30)
        with store.session() as s:
            recorded = len(s.scalars(select(PostingRow).where(PostingRow.status == "posted")).all())
        caught += len(erp_invoices(erp_db)) > recorded
    # A last undisturbed run finishes what is left.
    subprocess.run(
        [sys.executable, "-c", ROBOT, store.url, erp_url, str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert caught >= 1, "the kill never landed between submit and record"
    assert all(state_of(store, i) == DocState.POSTED for i in ids)
    booked = erp_invoices(erp_db)
    assert len(booked) == len(ids) == len({(v, n) for v, n, _ in booked})
    with store.session() as s:
        found = s.scalars(select(PostingRow).where(PostingRow.found_existing.is_(True))).all()
        assert len(found) >= 1  # the invoice booked before the kill was found, not typed again
