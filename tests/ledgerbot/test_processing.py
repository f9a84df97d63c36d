"""Processing stages over the store: lineage per stage, idempotency, recovery, straight-through."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledgerbot.core.domain import DocState, DocType, ErrorEntry, ExtractionResult
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, ExtractionRow
from ledgerbot.intake import receive
from ledgerbot.processing import ReadRequest, process_document, process_pending
from tests.support import clean_invoices, seed_master_data

TODAY = date(2026, 11, 20)


CLEAN = list(clean_invoices())


def _clean_invoice_for(index: int) -> ExtractionResult:
    """A different clean invoice (bills what was received, at PO prices) for each index."""
    return CLEAN[index % len(CLEAN)].model_copy(deep=True)


class PreparedReader:
    """Test double of the extraction stage: returns a prepared result per file name."""

    def __init__(self, results: dict[str, ExtractionResult]) -> None:
        self.results = results
        self.calls = 0

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
        for request in requests:
            self.calls += 1
            yield self.results[request.filename].model_copy(update={"source": request.source})


@pytest.fixture
def seeded(store: Store) -> Store:
    seed_master_data(store)
    return store


def _receive(store: Store, files: FileStore, name: str, body: bytes) -> int:
    with store.session() as s:
        return receive(s, files, b"%PDF-1.4\n" + body, filename=name, source="test").id


def test_clean_invoice_goes_straight_through_with_lineage(seeded: Store, file_store: FileStore) -> None:
    reader = PreparedReader({"clean.pdf": _clean_invoice_for(0)})
    doc_id = _receive(seeded, file_store, "clean.pdf", b"clean")
    outcome = process_document(seeded, file_store, doc_id, reader, today=TODAY)
    assert outcome.state == DocState.APPROVED, outcome.codes
    with seeded.session() as s:
        events = s.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == doc_id).order_by(AuditEventRow.id)
        ).all()
        assert [e.to_state for e in events] == [
            "received",
            "parsed",
            "classified",
            "extracted",
            "validated",
            "matched",
            "approved",
        ]
        by_stage = {e.stage: e for e in events}
        assert (by_stage["parse"].component, by_stage["parse"].component_version) == ("pdfplumber", "0.11")
        assert (by_stage["classify"].component, by_stage["classify"].component_version) == ("cascade", "v1")
        assert (by_stage["extract"].component, by_stage["extract"].component_version) == ("tpl-test", "2")
        assert by_stage["match"].component == "rules"
        assert by_stage["match"].component_version == "default@4"
        assert by_stage["approve"].outcome == "straight_through"
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None and doc.vendor_id is not None
    # Running the stage again changes nothing.
    again = process_document(seeded, file_store, doc_id, reader, today=TODAY)
    assert again.skipped and reader.calls == 1


def test_price_variance_goes_to_review_with_evidence(seeded: Store, file_store: FileStore) -> None:
    invoice = _clean_invoice_for(5)
    lines = [
        invoice.lines[0].model_copy(
            update={
                "unit_price": invoice.lines[0].unit_price * Decimal("1.15"),  # type: ignore[operator]
                "amount": invoice.lines[0].quantity * invoice.lines[0].unit_price * Decimal("1.15"),
            }
        )
    ]  # type: ignore[operator]
    lines += invoice.lines[1:]
    subtotal = sum((ln.amount for ln in lines if ln.amount is not None), Decimal(0))
    tax = invoice.fields.tax_amount
    bad = invoice.model_copy(
        update={
            "lines": lines,
            "fields": invoice.fields.model_copy(
                update={"subtotal": subtotal, "total": subtotal + (tax or 0), "tax_amount": tax}
            ),
        }
    )
    doc_id = _receive(seeded, file_store, "bad.pdf", b"bad")
    outcome = process_document(seeded, file_store, doc_id, PreparedReader({"bad.pdf": bad}), today=TODAY)
    assert outcome.state == DocState.EXCEPTION
    assert "PRICE_VARIANCE" in outcome.codes
    with seeded.session() as s:
        rows = s.scalars(select(ExceptionRow).where(ExceptionRow.document_id == doc_id)).all()
        price = next(r for r in rows if r.code == "PRICE_VARIANCE")
        assert price.evidence["po_price"] and price.status == "open"


def test_unreadable_file_fails_visibly_and_non_invoices_are_filed(
    seeded: Store, file_store: FileStore
) -> None:
    broken = ExtractionResult(
        source="x",
        errors=[ErrorEntry(code="E204", message="truncated PDF")],
        lineage={"text_layer": "pdfplumber@0.11"},
    )
    delivery = ExtractionResult(
        source="x",
        doc_type=DocType.DELIVERY_NOTE,
        doc_type_confidence=0.97,
        lineage={"classifier": "cascade@v1"},
    )
    reader = PreparedReader({"broken.pdf": broken, "dn.pdf": delivery})
    a = _receive(seeded, file_store, "broken.pdf", b"broken")
    b = _receive(seeded, file_store, "dn.pdf", b"dn")
    outcomes = {o.document_id: o for o in process_pending(seeded, file_store, reader, today=TODAY)}
    assert outcomes[a].state == DocState.FAILED
    assert outcomes[b].state == DocState.REJECTED
    with seeded.session() as s:
        fail = s.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == a, AuditEventRow.to_state == "failed")
        ).one()
        assert fail.outcome == "E204"
        assert s.scalars(select(ExtractionRow)).all() == []


def test_a_document_left_half_read_by_a_dead_worker_is_read_again(
    seeded: Store, file_store: FileStore
) -> None:
    reader = PreparedReader({"c.pdf": _clean_invoice_for(9)})
    doc_id = _receive(seeded, file_store, "c.pdf", b"c")
    with seeded.session() as s:
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None
        transition(s, doc, DocState.PARSED, actor=Actor("dead-worker"), stage="parse")
    outcome = process_document(seeded, file_store, doc_id, reader, today=TODAY)
    assert outcome.state == DocState.APPROVED, outcome.codes
    with seeded.session() as s:
        states = s.scalars(
            select(AuditEventRow.to_state)
            .where(AuditEventRow.document_id == doc_id)
            .order_by(AuditEventRow.id)
        ).all()
        assert states[:4] == ["received", "parsed", "failed", "received"]


def test_an_exception_in_one_document_does_not_stop_the_batch(seeded: Store, file_store: FileStore) -> None:
    class Exploding(PreparedReader):
        def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
            for request in requests:
                if request.filename == "boom.pdf":
                    raise RuntimeError("reader crashed")
                yield from super().extract_many([request])

    reader = Exploding({"ok.pdf": _clean_invoice_for(12)})
    boom = _receive(seeded, file_store, "boom.pdf", b"boom")
    ok = _receive(seeded, file_store, "ok.pdf", b"ok")
    outcomes = {o.document_id: o for o in process_pending(seeded, file_store, reader, today=TODAY)}
    assert outcomes[boom].state == DocState.FAILED
    assert outcomes[ok].state == DocState.APPROVED


def test_a_copy_of_an_invoice_still_in_review_is_held_as_duplicate(
    seeded: Store, file_store: FileStore
) -> None:
    # The first copy waits in review (an exception); the second copy arrives later and must not
    # pass while the first is still open. Only the later arrival is the suspect.
    first = _clean_invoice_for(2)
    first.lines[0].unit_price = first.lines[0].unit_price * 2  # a price variance keeps it in review
    reader = PreparedReader({"a.pdf": first, "b.pdf": _clean_invoice_for(2)})
    a = _receive(seeded, file_store, "a.pdf", b"copy a")
    b = _receive(seeded, file_store, "b.pdf", b"copy b")
    assert process_document(seeded, file_store, a, reader, today=TODAY).state == DocState.EXCEPTION
    outcome = process_document(seeded, file_store, b, reader, today=TODAY)
    assert outcome.state == DocState.EXCEPTION
    assert "DUPLICATE_SUSPECT" in outcome.codes
    with seeded.session() as s:
        codes_a = set(s.scalars(select(ExceptionRow.code).where(ExceptionRow.document_id == a)))
    assert "DUPLICATE_SUSPECT" not in codes_a


@pytest.mark.postgres
def test_two_workers_matching_two_copies_at_once_let_only_one_through(
    pg_url: str, file_store: FileStore
) -> None:
    """Both workers judge their copy before either commits; the vendor lock makes one see the other."""
    import threading

    from sqlalchemy import text

    from ledgerbot.cases import _VENDOR_LOCK_SPACE
    from tests.support import vendor_of

    store = Store(pg_url)
    store.migrate()
    try:
        seed_master_data(store)
        invoice = _clean_invoice_for(3)
        reader = PreparedReader({"a.pdf": invoice, "b.pdf": invoice})
        ids = [_receive(store, file_store, name, name.encode()) for name in ("a.pdf", "b.pdf")]
        outcomes: dict[int, str] = {}
        errors: list[BaseException] = []

        def run(doc_id: int) -> None:
            try:
                outcomes[doc_id] = process_document(store, file_store, doc_id, reader, today=TODAY).state
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        # Hold the vendor's lock so both workers are past their first judgement and waiting on it.
        with store.engine.connect() as holder:
            holder.execute(
                text("SELECT pg_advisory_lock(:s, hashtext(:v))"),
                {"s": _VENDOR_LOCK_SPACE, "v": vendor_of(invoice)},
            )
            workers = [threading.Thread(target=run, args=(doc_id,)) for doc_id in ids]
            for w in workers:
                w.start()
            deadline = 50
            while deadline:
                waiting = holder.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                ).scalar_one()
                if waiting == 2:
                    break
                deadline -= 1
                threading.Event().wait(0.1)
            assert waiting == 2, "both workers should be waiting on the vendor lock"
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
            holder.commit()
        for w in workers:
            w.join(30)
        assert not errors, errors
        assert sorted(outcomes.values()) == [DocState.APPROVED, DocState.EXCEPTION]
        with store.session() as s:
            flagged = set(
                s.scalars(select(ExceptionRow.document_id).where(ExceptionRow.code == "DUPLICATE_SUSPECT"))
            )
        assert len(flagged) == 1
    finally:
        store.dispose()
