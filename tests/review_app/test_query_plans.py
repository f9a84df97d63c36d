"""The document page's reads stay index probes on a large store, statistics or not (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from review_app.view import _HEAD

DOCUMENTS = 20000
# A reading the size of a real one (header fields and a few lines), so the table has as many pages.
LINES = [
    {"description": f"Item {i}", "quantity": "10", "unit_price": "115.00", "amount": "1150.00"}
    for i in range(8)
]


def _seed(store: Store) -> None:
    now = datetime.now(UTC)
    documents: list[dict[str, Any]] = []
    extractions: list[dict[str, Any]] = []
    for doc_id in range(1, DOCUMENTS + 1):
        documents.append(
            {
                "id": doc_id,
                "sha256": f"{doc_id:064x}",
                "source": "test",
                "filename": f"invoice-{doc_id}.pdf",
                "mime": "application/pdf",
                "size": 1000,
                "state": "exception",
                "meta": {},
                "received_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        extractions.append(
            {
                "document_id": doc_id,
                "method": "generic",
                "created_by": "pipeline",
                "created_at": now,
                "result": {"fields": {"invoice_number": f"RE-{doc_id}", "total": "119.00"}, "lines": LINES},
            }
        )
    with store.session() as session:
        session.execute(insert(DocumentRow), documents)
        session.execute(insert(ExtractionRow), extractions)


@pytest.mark.postgres
def test_the_newest_extraction_of_an_old_document_is_one_index_probe(pg_url: str) -> None:
    store = Store(pg_url)
    store.migrate()
    _seed(store)
    # Bulk-loaded and never analysed (autovacuum may be off or not have run yet): the plan must
    # not depend on statistics. The first document is the one a backward walk of the primary
    # key reaches last.
    with store.read_session() as session:
        db = session.connection()
        # Lists of constants (the correction kinds) are written out, as executing the statement does.
        statement = _HEAD.compile(dialect=db.dialect).construct_expanded_state({"document_id": 1})
        explain = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement.statement}"
        plan = db.exec_driver_sql(explain, statement.parameters).scalar()
    root = plan[0]["Plan"]
    # One probe per joined table reads a handful of pages; walking the table reads thousands.
    assert root["Shared Hit Blocks"] + root.get("Shared Read Blocks", 0) < 100, root
    store.dispose()
