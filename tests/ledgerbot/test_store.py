"""The store on SQLite and PostgreSQL: exact money, intake, duplicates, append-only lineage."""

from __future__ import annotations

import sqlite3
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ledgerbot.core.domain import DocState
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import (
    AuditEventRow,
    DocumentRow,
    GoodsReceiptRow,
    POLineRow,
    PurchaseOrderRow,
    ReceiptLineRow,
    VendorRow,
)
from ledgerbot.core.store.queries import document_history, get_document, state_counts
from ledgerbot.intake import UnsupportedFile, receive, sniff_mime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_money_round_trips_exactly(store: Store) -> None:
    with store.session() as s:
        s.add(VendorRow(vendor_id="V1", name="Acme Tools GmbH", currency="EUR"))
        s.add(
            PurchaseOrderRow(
                po_number="PO-1",
                vendor_id="V1",
                order_date=date(2026, 3, 1),
                lines=[
                    POLineRow(
                        line_no=1, sku="A", description="x", quantity=Decimal("3"), unit_price=Decimal("0.10")
                    ),
                    POLineRow(
                        line_no=2,
                        sku="B",
                        description="y",
                        quantity=Decimal("2.5"),
                        unit_price=Decimal("123456789012.34"),
                    ),
                ],
            )
        )
    with store.session() as s:
        po = s.get(PurchaseOrderRow, "PO-1")
        assert po is not None
        prices = [line.unit_price for line in po.lines]
        assert prices == [Decimal("0.10"), Decimal("123456789012.34")]
        assert str(prices[0]) == "0.10"
        assert po.lines[0].quantity * po.lines[0].unit_price == Decimal("0.30")
        assert po.order_date == date(2026, 3, 1)


def test_receipts_belong_to_orders(store: Store) -> None:
    with store.session() as s:
        s.add(
            GoodsReceiptRow(
                receipt_number="GR-1",
                po_number="PO-1",
                date=date(2026, 3, 5),
                lines=[ReceiptLineRow(po_line_no=1, quantity=Decimal("4"))],
            )
        )
    with store.session() as s:
        receipt = s.get(GoodsReceiptRow, "GR-1")
        assert receipt is not None and receipt.lines[0].quantity == Decimal("4")


def test_receive_stores_file_once_and_flags_second_delivery(store: Store, file_store: FileStore) -> None:
    with store.session() as s:
        first = receive(s, file_store, PDF, filename="inv.pdf", source="mail:1")
        second = receive(s, file_store, PDF, filename="inv-again.pdf", source="mail:2")
        assert first.state == DocState.RECEIVED
        assert second.state == DocState.DUPLICATE
        assert second.duplicate_of == first.id
        assert first.mime == "application/pdf"
    stored = list(file_store.root.rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 1
    assert file_store.get(first.sha256) == PDF
    with store.session() as s:
        assert state_counts(s)["received"] == 1
        assert state_counts(s)["duplicate"] == 1
        history = document_history(s, get_document(s, second.id))
        assert [(h["from"], h["to"]) for h in history["history"]] == [
            (None, "received"),
            ("received", "duplicate"),
        ]
        assert history["history"][1]["detail"] == {"duplicate_of": first.id}


def test_receive_refuses_empty_file(store: Store, file_store: FileStore) -> None:
    with store.session() as s, pytest.raises(UnsupportedFile) as error:
        receive(s, file_store, b"", filename="empty.pdf", source="folder")
    assert error.value.code == "E101"


def test_audit_rows_cannot_be_changed_or_deleted(store: Store, file_store: FileStore) -> None:
    with store.session() as s:
        receive(s, file_store, PDF, filename="inv.pdf", source="folder")
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises((DBAPIError, IntegrityError)), store.session() as s:
            s.execute(text(statement))
    with store.session() as s:
        assert s.scalars(select(AuditEventRow.actor)).all() == ["intake"]


def test_concurrent_writers_cannot_both_move_a_document(store: Store, file_store: FileStore) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from ledgerbot.core.lifecycle import Actor, transition

    with store.session() as s:
        doc_id = receive(s, file_store, PDF, filename="inv.pdf", source="folder").id
    robot = Actor("worker-a")
    # Worker a read the document; worker b moved it since. (Interleaved in one thread: on
    # SQLite two open write transactions cannot coexist, every transaction begins IMMEDIATE.)
    with store.session() as s1:
        mine = s1.get(DocumentRow, doc_id)
        assert mine is not None
    with store.session() as s2:
        theirs = s2.get(DocumentRow, doc_id)
        assert theirs is not None
        transition(s2, theirs, DocState.PARSED, actor=Actor("worker-b"), stage="parse")
    with pytest.raises(StaleDataError), store.session() as s3:
        mine = s3.merge(mine, load=False)
        transition(s3, mine, DocState.PARSED, actor=robot, stage="parse")
    with store.session() as s:
        events = s.scalars(select(AuditEventRow).where(AuditEventRow.document_id == doc_id)).all()
        assert [e.actor for e in events] == ["intake", "worker-b"]


def test_get_document_by_sha_prefix(store: Store, file_store: FileStore) -> None:
    with store.session() as s:
        doc = receive(s, file_store, PDF, filename="inv.pdf", source="folder")
        assert get_document(s, doc.sha256[:10]).id == doc.id


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (b"%PDF-1.7 ...", "a.pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\nxxxx", "scan.png", "image/png"),
        (b"\xff\xd8\xff\xe0", "scan.jpg", "image/jpeg"),
        (b"II*\x00", "scan.tif", "image/tiff"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><Invoice/>", "x.xml", "application/xml"),
        (b"PK\x03\x04", "batch.zip", "application/zip"),
        (b"hello, this is not a pdf", "fake.pdf", "application/octet-stream"),
    ],
)
def test_mime_is_sniffed_from_content_not_name(data: bytes, name: str, mime: str) -> None:
    assert sniff_mime(data, name) == mime


def test_a_store_knows_it_is_current_without_alembic(tmp_path: Path) -> None:
    from ledgerbot.core.store.engine import head_revisions

    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert not store.is_current()
    store.migrate()
    assert store.is_current()
    # A revision the code does not know (a newer release migrated it) is not "current" either.
    head = sorted(head_revisions())[0]
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = 'zzzz' WHERE version_num = '{head}'")
    assert not store.is_current()
    assert "0001" not in head_revisions()  # the first migration is built on
    store.dispose()


def _hold_write_lock(path: str) -> sqlite3.Connection:
    """Another process's writer, mid-transaction: a raw connection holding the SQLite write lock."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_read_session_neither_waits_for_nor_takes_the_write_lock(
    tmp_path: Path, file_store: FileStore
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'locks.db'}")
    store.migrate()
    with store.session() as s:
        receive(s, file_store, PDF, filename="inv.pdf", source="folder")
    holder = _hold_write_lock(str(tmp_path / "locks.db"))
    try:
        started = time.monotonic()
        with store.read_session() as s:
            assert s.scalar(select(func.count()).select_from(DocumentRow)) == 1
        assert store.state_counts()["received"] == 1
        # An IMMEDIATE begin would have waited out the 30 s busy timeout here.
        assert time.monotonic() - started < 10
        # A write slipped into a read fails at once, rather than taking the lock mid-way.
        with pytest.raises(OperationalError, match="readonly"), store.read_session() as s:
            s.execute(text("UPDATE documents SET filename = 'x'"))
        # A write with a bounded lock wait gives up after it.
        with pytest.raises(OperationalError, match="locked"), store.session(lock_wait=0.05) as s:
            s.execute(text("UPDATE documents SET filename = 'x'"))
    finally:
        holder.rollback()
        holder.close()
    # The same pooled connections write normally again: read-only and the short wait were undone.
    for _ in range(3):
        with store.session() as s:
            s.execute(text("UPDATE documents SET filename = 'renamed.pdf'"))
        with store.read_session() as s:
            assert s.scalar(select(DocumentRow.filename)) == "renamed.pdf"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.dispose()


def test_a_write_session_takes_the_write_lock_at_its_start(tmp_path: Path, file_store: FileStore) -> None:
    store = Store(f"sqlite:///{tmp_path / 'locks.db'}")
    store.migrate()
    # A session that only reads so far still holds the lock: its later write cannot fail on a
    # snapshot another process moved in between.
    with store.session() as s:
        s.scalar(select(func.count()).select_from(DocumentRow))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _hold_write_lock(str(tmp_path / "locks.db"))
    store.dispose()


@pytest.mark.postgres
def test_a_read_session_on_postgresql_sends_no_begin_or_commit(pg_url: str, file_store: FileStore) -> None:
    store = Store(pg_url)
    store.migrate()
    with store.session() as s:
        receive(s, file_store, PDF, filename="inv.pdf", source="folder")
    for _ in range(2):  # the same pooled connection, from a write to a read and back
        with store.read_session() as s:
            assert s.scalar(select(DocumentRow.filename)) == "inv.pdf"
            driver = s.connection().connection.driver_connection
            # Idle between statements: no transaction was begun, so none has to be committed.
            assert driver.pgconn.transaction_status == 0  # type: ignore[union-attr]
        with store.session() as s:
            s.execute(text("UPDATE documents SET filename = 'inv.pdf'"))
            driver = s.connection().connection.driver_connection
            assert driver.pgconn.transaction_status == 2  # type: ignore[union-attr]
    store.dispose()
