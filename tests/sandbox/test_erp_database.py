"""The sandbox ERP's database file: created once, never mixed into another application's file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sandbox.erp import create_app
from sandbox.erp.db import ErpDatabase, ErpDatabaseError, invoice_number_key


def test_new_file_in_new_folder_is_created_and_seeded(tmp_path: Path) -> None:
    db = ErpDatabase(tmp_path / "deep" / "er" / "erp.db")
    assert db.seed() is None
    assert db.initialise(seed=7) is True
    assert db.initialise(seed=8) is False
    assert db.seed() == 7


def test_file_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    with pytest.raises(ErpDatabaseError) as caught:
        create_app(path, users={})
    assert caught.value.code == "E301"


def test_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the tables you are looking for\n" * 50)
    with pytest.raises(ErpDatabaseError, match="not a usable sandbox ERP database"):
        ErpDatabase(path).initialise()


def test_invoice_number_key_ignores_case_and_spaces() -> None:
    assert invoice_number_key(" re-2026 / 1001 ") == invoice_number_key("RE-2026/1001")
    assert invoice_number_key("RE-1") != invoice_number_key("RE-11")
