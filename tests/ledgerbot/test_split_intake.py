"""A received file holding several documents becomes one stored document per part, the bytes kept once."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import pytest
from sqlalchemy import select

from ledgerbot.core.domain import DocState, ErrorEntry, ExtractionResult
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, SplitCorrectionRow
from ledgerbot.intake import receive
from ledgerbot.processing import ReadRequest, process_document, process_pending
from ledgerbot.splitting import SplitCorrectionRefused, current_split, resplit
from tests.support import clean_invoices, seed_master_data

CLEAN = list(clean_invoices())
SPLITTER = {"splitter": "splitter@test", "split_confidence": "0.990"}


class SplittingReader:
    """Test double of the splitting extraction stage: a whole file gives its parts; a page range one part."""

    def __init__(self, parts: list[tuple[int, int]], *, doubt: bool = False) -> None:
        self.parts = parts
        self.doubt = doubt
        self.requests: list[ReadRequest] = []

    def _part(self, k: int, n: int, pages: tuple[int, int], source: str) -> ExtractionResult:
        result = CLEAN[(k - 1) % len(CLEAN)].model_copy(deep=True)
        result.source, result.pages, result.part = source, list(pages), [k, n]
        result.lineage.update(SPLITTER)
        if self.doubt:
            result.errors.append(ErrorEntry(code="E520", message="where the documents begin is uncertain"))
        return result

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
        for request in requests:
            self.requests.append(request)
            if request.pages is not None:
                yield self._part(1, 1, request.pages, request.source)
                continue
            for k, pages in enumerate(self.parts, start=1):
                yield self._part(k, len(self.parts), pages, request.source)


def _stack_pdf(pages: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def _receive(store: Store, files: FileStore, pages: int | None = None) -> int:
    data = _stack_pdf(pages) if pages else b"%PDF-1.4\nstack of three"
    with store.session() as s:
        return receive(s, files, data, filename="stack.pdf", source="test").id


def test_a_stack_becomes_one_document_per_part_with_its_pages(store: Store, file_store: FileStore) -> None:
    seed_master_data(store)
    first = _receive(store, file_store)
    reader = SplittingReader([(1, 2), (4, 4), (5, 6)])
    outcomes = process_pending(store, file_store, reader)
    assert len(outcomes) == 3
    assert len(reader.requests) == 1  # the file is read once
    with store.session() as s:
        rows = s.scalars(select(DocumentRow).order_by(DocumentRow.id)).all()
        assert [(r.page_first, r.page_last) for r in rows] == [(1, 2), (4, 4), (5, 6)]
        assert [r.split_from for r in rows] == [None, first, first]
        assert len({r.sha256 for r in rows}) == 1
        for row in rows:
            assert row.state == DocState.APPROVED, (row.id, row.state)
        split_events = s.scalars(select(AuditEventRow).where(AuditEventRow.stage == "split")).all()
        assert sorted(e.document_id for e in split_events) == [r.id for r in rows[1:]]
        assert {e.component for e in split_events} == {"splitter"}
    blobs = [p for p in file_store.root.rglob("*") if p.is_file()]
    assert len(blobs) == 1


def test_a_split_document_is_read_again_by_its_own_pages(store: Store, file_store: FileStore) -> None:
    seed_master_data(store)
    _receive(store, file_store)
    reader = SplittingReader([(1, 1), (2, 3)])
    process_pending(store, file_store, reader)
    with store.session() as s:
        second = s.scalars(select(DocumentRow).where(DocumentRow.split_from.is_not(None))).one()
        second.state = DocState.RECEIVED  # as after a retry
        second_id = second.id
    process_document(store, file_store, second_id, reader)
    assert reader.requests[-1].pages == (2, 3)
    with store.session() as s:
        assert s.scalar(select(DocumentRow.id).order_by(DocumentRow.id.desc()).limit(1)) == second_id


def test_an_uncertain_split_goes_to_a_clerk(store: Store, file_store: FileStore) -> None:
    seed_master_data(store)
    _receive(store, file_store)
    process_pending(store, file_store, SplittingReader([(1, 1), (2, 2)], doubt=True))
    with store.session() as s:
        rows = s.scalars(select(DocumentRow).order_by(DocumentRow.id)).all()
        assert [r.state for r in rows] == [DocState.EXCEPTION, DocState.EXCEPTION]
        codes = s.scalars(select(ExceptionRow.code)).all()
        assert codes == ["SPLIT_UNCERTAIN", "SPLIT_UNCERTAIN"]


def test_a_clerks_corrected_split_recreates_the_documents(store: Store, file_store: FileStore) -> None:
    seed_master_data(store)
    _receive(store, file_store, pages=4)
    reader = SplittingReader([(1, 1), (2, 2), (3, 4)], doubt=True)
    process_pending(store, file_store, reader)
    with store.session() as s:
        old = s.scalars(select(DocumentRow.id).order_by(DocumentRow.id)).all()
    done = resplit(
        store, file_store, old[1], [(1, 2), (3, 4)], clerk="anna", reason="pages 1-2 are one invoice"
    )
    new = done.created
    assert done.replaced == list(old) and done.changed
    with store.session() as s:
        rows = {r.id: r for r in s.scalars(select(DocumentRow))}
        assert all(rows[i].state == DocState.REJECTED for i in old)
        assert [(rows[i].page_first, rows[i].page_last, rows[i].state) for i in new] == [
            (1, 2, DocState.RECEIVED),
            (3, 4, DocState.RECEIVED),
        ]
        assert {rows[i].split_from for i in new} == {old[0]}
        record = s.scalars(select(SplitCorrectionRow)).one()
        assert (record.before, record.after, record.actor, record.reason, record.pages) == (
            [[1, 1], [2, 2], [3, 4]],
            [[1, 2], [3, 4]],
            "user:anna",
            "pages 1-2 are one invoice",
            4,
        )
        assert (record.replaced, record.created) == (list(old), new)
        rejected = s.scalars(
            select(AuditEventRow).where(
                AuditEventRow.document_id == old[1], AuditEventRow.outcome == "resplit"
            )
        ).one()
        assert (rejected.actor, rejected.detail["reason"], rejected.detail["replaced_by"]) == (
            "user:anna",
            "pages 1-2 are one invoice",
            new,
        )
        # The current split is what the correction opened, not the rejected documents.
        assert current_split(s, old[0], 4).ranges == [(1, 2), (3, 4)]
    with store.session() as s:
        uncertain = s.scalars(select(ExceptionRow).where(ExceptionRow.document_id.in_(old))).all()
        assert {(e.code, e.status) for e in uncertain} == {("SPLIT_UNCERTAIN", "resolved")}
    reader.doubt = False
    process_pending(store, file_store, reader)
    assert [r.pages for r in reader.requests[-2:]] == [(1, 2), (3, 4)]
    with pytest.raises(SplitCorrectionRefused) as refused:
        resplit(store, file_store, new[0], [(1, 3), (3, 4)], clerk="anna")
    assert refused.value.code == "E521"
    with pytest.raises(SplitCorrectionRefused, match="has 4 page"):
        resplit(store, file_store, new[0], [(1, 2), (3, 5)], clerk="anna")


def test_a_split_with_a_part_signed_off_stays(store: Store, file_store: FileStore) -> None:
    seed_master_data(store)
    _receive(store, file_store, pages=2)
    process_pending(store, file_store, SplittingReader([(1, 1), (2, 2)]))
    with store.session() as s:
        ids = s.scalars(select(DocumentRow.id).order_by(DocumentRow.id)).all()
        assert {s.get(DocumentRow, i).state for i in ids} == {DocState.APPROVED}  # type: ignore[union-attr]
    with pytest.raises(SplitCorrectionRefused, match="signed off") as refused:
        resplit(store, file_store, ids[0], [(1, 2)], clerk="anna", reason="one invoice")
    assert refused.value.code == "E521"
    with store.session() as s:
        assert s.scalars(select(SplitCorrectionRow)).all() == []
        assert {s.get(DocumentRow, i).state for i in ids} == {DocState.APPROVED}  # type: ignore[union-attr]
