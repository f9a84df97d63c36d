"""Whether Tryton's supplier invoices agree with what the store recorded as posted.

Every document the store holds is looked for in Tryton by its idempotency key; each posted one
is read back over RPC and compared field by field and line by line with the entry the robot
meant to make. Nothing may be booked twice (by key, or by supplier and reference), nothing
booked that the store does not record as posted, nothing recorded that Tryton does not hold.
The demo, the tests and the benchmarks judge a run with this one check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from adapters.tryton.client import TrytonErp, compare
from ledgerbot.core.domain import DocState
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow, PostingRow
from ledgerbot.posting import idempotency_key, planned_entry


@dataclass(frozen=True)
class BooksCheck:
    """Tryton's posted supplier invoices against the store's posted documents."""

    store_posted: int
    tryton_posted: int
    # Invoices booked more than once: the same key, or the same supplier and reference.
    double_postings: int
    # Keys Tryton booked whose document the store does not record as posted.
    unrecorded: list[str] = field(default_factory=list)
    # Documents the store records as posted that Tryton does not hold posted.
    missing: list[int] = field(default_factory=list)
    # Document id -> the fields where Tryton holds something else than was meant.
    differences: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    # Drafts carrying our key (a run that stopped after Tryton's save): the next run posts them.
    drafts_waiting: int = 0

    @property
    def agrees(self) -> bool:
        return not (self.double_postings or self.unrecorded or self.missing or self.differences)

    def summary(self) -> dict[str, Any]:
        return {
            "erp_posted_invoices": self.tryton_posted,
            "erp_agrees_with_store": self.agrees,
            "erp_double_postings": self.double_postings,
            "erp_differences": sum(len(found) for found in self.differences.values())
            + len(self.unrecorded)
            + len(self.missing),
            "erp_drafts_waiting": self.drafts_waiting,
        }


def check_books(store: Store, erp: TrytonErp) -> BooksCheck:
    """Compare every invoice Tryton holds under one of the store's keys with the store's record."""
    with store.session() as s:
        documents = {idempotency_key(d): d for d in s.scalars(select(DocumentRow))}
        numbers = {
            row.document_id: row.erp_doc_number
            for row in s.scalars(select(PostingRow).where(PostingRow.status == "posted"))
        }
        recorded = {
            key: document.id
            for key, document in documents.items()
            if document.state == DocState.POSTED and numbers.get(document.id)
        }
        meant = {doc_id: planned_entry(s, documents[key]) for key, doc_id in recorded.items()}
    held = []
    keys = list(documents)
    for start in range(0, len(keys), 200):
        held += erp.rpc.search_read(
            "account.invoice",
            [("type", "=", "in"), ("description", "in", keys[start : start + 200])],
            ["number", "state", "description", "reference", "party"],
        )
    posted = [row for row in held if row["state"] in ("posted", "paid")]
    by_key = Counter(row["description"] for row in posted)
    by_reference = Counter((row["party"], row["reference"]) for row in posted)
    double = sum(n - 1 for n in by_key.values()) + sum(n - 1 for n in by_reference.values())
    number_of = {row["description"]: row["number"] for row in posted}
    differences: dict[int, list[dict[str, str]]] = {}
    missing = []
    for key, doc_id in recorded.items():
        if number_of.get(key) != numbers[doc_id]:
            missing.append(doc_id)
            continue
        back = erp.read_back(numbers[doc_id] or "")
        found = [{"field": "invoice", "meant": "booked", "tryton": "none"}] if back is None else []
        if back is not None:
            found = compare(erp.with_po_lines(meant[doc_id]), back)
        if found:
            differences[doc_id] = found
    return BooksCheck(
        store_posted=len(recorded),
        tryton_posted=len(posted),
        double_postings=double,
        unrecorded=sorted(key for key in by_key if key not in recorded),
        missing=missing,
        differences=differences,
        drafts_waiting=sum(1 for row in held if row["state"] in ("draft", "validated")),
    )
