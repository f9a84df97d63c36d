"""Audit integrity: overwrites refused by the database, any tampering found by the hash chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.audit_chain import verify
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, utcnow
from ledgerbot.intake import receive

REPO = Path(__file__).resolve().parents[2]
LEDGERBOT = str(Path(sys.executable).with_name("ledgerbot"))
INSERT = (
    "INSERT INTO audit_events (id, document_id, from_state, to_state, actor, stage, outcome, detail, at) "
    "VALUES (1, 1, NULL, 'received', 'forger', 'intake', 'ok', '{}', '2026-01-01 00:00:00')"
)


def _trail(store: Store, files: FileStore) -> None:
    """Three documents with a few moves each, and one review-app style event written directly."""
    for n in range(3):
        with store.session() as s:
            doc = receive(s, files, b"%PDF-1.4 %" + bytes([n]), filename=f"{n}.pdf", source="test")
            transition(s, doc, DocState.PARSED, actor=Actor("t"), stage="parse", detail={"n": n, "x": 0.5})
    with store.session() as s:
        s.add(
            AuditEventRow(
                document_id=1, from_state="parsed", to_state="parsed", actor="user:anna", stage="review"
            )
        )


def _report(store: Store) -> tuple[bool, int | None]:
    with store.session() as s:
        report = verify(s)
    return report.ok, report.broken_at


@contextmanager
def _tamper(store: Store) -> Iterator[Connection]:
    """A connection with the append-only guards off, as someone with the database's keys has."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
            conn.exec_driver_sql("DROP TRIGGER audit_chain_no_delete")
        else:
            conn.exec_driver_sql("SET session_replication_role = replica")  # triggers off
        yield conn
        conn.commit()


def test_overwrites_are_refused_by_the_database(store: Store, file_store: FileStore) -> None:
    _trail(store, file_store)
    statements = [
        "UPDATE audit_events SET outcome = 'forged' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
        INSERT.replace("INSERT", "INSERT OR REPLACE") if store.engine.dialect.name == "sqlite" else None,
        INSERT + " ON CONFLICT (id) DO UPDATE SET outcome = 'forged'",
        INSERT + " ON CONFLICT (id) DO NOTHING",
        "TRUNCATE audit_events" if store.engine.dialect.name == "postgresql" else None,
    ]
    for statement in filter(None, statements):
        with store.engine.connect() as conn:
            try:
                conn.execute(text(statement))
                conn.commit()
            except DBAPIError:
                conn.rollback()
    assert _report(store) == (True, None)
    with store.session() as s:
        first = s.get(AuditEventRow, 1)
        assert first is not None and first.actor == "intake" and s.query(AuditEventRow).count() == 7


@pytest.mark.parametrize("kind", ["edit", "delete", "reorder", "cut_tail", "forge_insert"])
def test_any_tampering_is_found(store: Store, file_store: FileStore, kind: str) -> None:
    _trail(store, file_store)
    assert _report(store) == (True, None)
    with _tamper(store) as conn:
        if kind == "edit":
            conn.exec_driver_sql("UPDATE audit_events SET outcome = 'forged' WHERE id = 3")
        elif kind == "delete":
            conn.exec_driver_sql("DELETE FROM audit_events WHERE id = 3")
        elif kind == "reorder":  # swap two rows' contents and hashes, ids stay
            rows = {
                r[0]: r[1:]
                for r in conn.exec_driver_sql(
                    "SELECT id, actor, stage, to_state, prev_hash, row_hash FROM audit_events "
                    "WHERE id IN (3, 4)"
                )
            }
            for target, source in ((3, 4), (4, 3)):
                conn.execute(
                    text(
                        "UPDATE audit_events SET actor=:a, stage=:s, to_state=:t, prev_hash=:p, row_hash=:h "
                        "WHERE id=:id"
                    ),
                    dict(zip(["a", "s", "t", "p", "h"], rows[source], strict=True), id=target),
                )
        elif kind == "cut_tail":
            conn.exec_driver_sql("DELETE FROM audit_events WHERE id = 7")
        else:  # a row appended around the chain
            conn.exec_driver_sql(INSERT.replace("VALUES (1,", "VALUES (8,"))
    ok, at = _report(store)
    assert not ok
    assert at == {"edit": 3, "delete": 4, "reorder": 3, "cut_tail": 7, "forge_insert": 8}[kind]


def test_audit_verify_command_and_the_finance_report_say_it(tmp_path: Path) -> None:
    from ledgerbot.reports import collect

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBOT_")}
    env.update({"LEDGERBOT_HOME": str(home), "PYTHONPATH": str(REPO)})
    store = Store(f"sqlite:///{(home / 'ledgerbot.db').resolve()}")
    store.migrate()
    _trail(store, FileStore(home / "files"))
    run = subprocess.run([LEDGERBOT, "audit", "verify"], env=env, capture_output=True, cwd=REPO)
    assert run.returncode == 0 and json.loads(run.stdout) == {
        "ok": True,
        "rows": 7,
        "broken_at": None,
        "problem": None,
    }
    data = collect(store, date(2020, 1, 1), utcnow().date())
    assert data.audit_trail == "verified (7 rows)"
    with _tamper(store) as conn:
        conn.exec_driver_sql('UPDATE audit_events SET detail = \'{"n": 9, "x": 0.5}\' WHERE id = 2')
    run = subprocess.run([LEDGERBOT, "audit", "verify"], env=env, capture_output=True, cwd=REPO)
    assert run.returncode == 1 and json.loads(run.stdout)["broken_at"] == 2
    assert "[E030]" in run.stderr.decode()
    assert collect(store, date(2020, 1, 1), utcnow().date()).audit_trail.startswith("BROKEN at row 2")
    store.dispose()


def test_documents_keep_their_audit_rows_in_order(store: Store, file_store: FileStore) -> None:
    _trail(store, file_store)
    with store.session() as s:
        doc = s.get(DocumentRow, 1)
        assert doc is not None
        assert [e.to_state for e in doc.events] == ["received", "parsed", "parsed"]
