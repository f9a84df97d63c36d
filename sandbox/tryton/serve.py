"""Runs ``trytond`` on a SQLite database without repeating a transaction to take no-op locks.

Runs inside Tryton's own virtual environment (``python serve.py -c CONFIG -d DATABASE``, the
arguments of ``trytond``) and imports nothing of ledgerbot.

Tryton takes its locks at the start of a transaction: a method that meets a table or records it
must lock (a strict sequence such as the invoice and move numbers, a journal's period) raises,
and the dispatcher rolls the call back and runs it again from the start with that lock taken
first. Posting a supplier invoice meets two such locks, so every post ran three times. On
SQLite the lock taken at the restart is no lock at all (its backend's ``lock`` and
``lock_records`` do nothing: SQLite serialises writers with its database-wide write lock, which
is also why Tryton's own constraint checks skip ``lock`` there). The transaction that succeeds is
the third one, which differs from the first only by those no-op calls; here the first one is it.
On any other backend Tryton's own behaviour is kept.
"""

from __future__ import annotations

import sys
from typing import Any


def _sqlite_locks_taken_in_place() -> None:
    from trytond.transaction import Transaction

    lock_table, lock_records = Transaction.lock_table, Transaction.lock_records

    def on_sqlite(transaction: Any) -> bool:
        from trytond import backend

        return backend.name == "sqlite"

    def lock_table_in_place(self: Any, table: Any) -> None:
        if not on_sqlite(self):
            lock_table(self, table)

    def lock_records_in_place(self: Any, table: Any, ids: Any) -> None:
        if not on_sqlite(self):
            lock_records(self, table, ids)

    Transaction.lock_table = lock_table_in_place  # type: ignore[method-assign]
    Transaction.lock_records = lock_records_in_place  # type: ignore[method-assign]


def main() -> int:
    from trytond.cli import main as trytond

    _sqlite_locks_taken_in_place()
    sys.argv[0] = "trytond"
    result: int | None = trytond()
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
