"""A generated stack in the store, cut by a splitter double, for the split page's tests.

The stack is real: four documents of a generated corpus joined into one PDF with a blank
separator page (``sandbox.corpus.stacks``), received through intake and processed with
``ledgerbot.processing``. Only the reading is a double: it cuts the file where the test says
and may doubt the cut, as the splitter does when it is unsure (``E520``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import select

from ledgerbot.core.domain import ErrorEntry, ExtractionResult
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.intake import receive
from ledgerbot.processing import ReadRequest, process_pending
from sandbox.corpus import generate_corpus
from sandbox.corpus.stacks import StackTruth, corpus_files, write_stack
from tests.support import clean_invoices

# Pages 1, 2, 4 and 5 each hold one document; page 3 is a blank separator.
TRUTH = [(1, 1), (2, 2), (4, 4), (5, 5)]
# What the splitter double says: it missed the documents beginning on pages 2 and 5, unsure at 2.
SPLITTER_SAYS = [(1, 2), (4, 5)]
DOUBTFUL = "2"


def make_stack(folder: Path) -> tuple[Path, bytes, StackTruth]:
    """A generated corpus in ``folder`` and a five-page stack of four of its documents."""
    corpus = folder / "corpus"
    generate_corpus(corpus, 36, seed=5, split="all", scans=False, einvoices=False)
    one_page = [f for f in corpus_files(corpus) if _pages(f.path) == 1]
    out = folder / "stack.pdf"
    truth = write_stack(one_page[:4], [False, True, False, False], out)
    assert truth.parts == TRUTH, truth.parts
    return corpus, out.read_bytes(), truth


def _pages(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


class SplittingReader:
    """Reads a whole file as the parts it was given; a page range as one document of those pages."""

    def __init__(self, parts: list[tuple[int, int]], *, doubt: bool = True) -> None:
        self.parts = parts
        self.doubt = doubt
        self.clean = list(clean_invoices())

    def _part(self, k: int, n: int, pages: tuple[int, int], source: str, doubt: bool) -> ExtractionResult:
        result = self.clean[(k - 1) % len(self.clean)].model_copy(deep=True)
        result.source, result.pages, result.part = source, list(pages), [k, n]
        result.lineage.update({"splitter": "splitter@test", "split_confidence": "0.610"})
        if doubt:
            result.lineage["split_doubts"] = DOUBTFUL
            result.errors.append(ErrorEntry(code="E520", message="where the documents begin is uncertain"))
        return result

    def extract_many(self, requests: Iterable[ReadRequest]) -> Iterator[ExtractionResult]:
        for request in requests:
            if request.pages is not None:
                yield self._part(1, 1, request.pages, request.source, doubt=False)
                continue
            for k, pages in enumerate(self.parts, start=1):
                yield self._part(k, len(self.parts), pages, request.source, self.doubt)


def receive_stack(store: Store, files: FileStore, data: bytes, reader: SplittingReader) -> list[int]:
    """The stack received and processed: the ids of the documents it was cut into, in page order."""
    with store.session() as session:
        receive(session, files, data, filename="mailroom-scan.pdf", source="test")
    process_pending(store, files, reader)
    with store.session() as session:
        rows = session.scalars(select(DocumentRow).where(DocumentRow.filename == "mailroom-scan.pdf"))
        return [row.id for row in sorted(rows, key=lambda r: (r.page_first or 0, r.id))]
