"""Types clerks corrected in review become training examples: the final word, with the document's layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from classifier_corpus_gen import read_pdf

from classifiers.corrections import load_corrections
from classifiers.features import extract_features
from ledgerbot.core.domain import DocType
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import ExtractionRow
from ledgerbot.core.store.review import CorrectionRow
from ledgerbot.intake import receive


def _pdf_of(corpus: Path, doc_type: DocType) -> Path:
    for meta in sorted(corpus.glob("*.json")):
        truth = json.loads(meta.read_text())
        if truth["doc_type"] == doc_type.value and meta.with_suffix(".pdf").is_file():
            return meta.with_suffix(".pdf")
    raise AssertionError(f"no {doc_type.value} PDF in the tiny corpus")


def _received(store: Store, files: FileStore, pdf: Path, *corrected_to: object) -> int:
    """A stored document whose type clerks changed, in order, to each of ``corrected_to``."""
    with store.session() as s:
        doc = receive(s, files, pdf.read_bytes(), filename=pdf.name, source="test")
        extraction = ExtractionRow(document_id=doc.id, method="test", result={})
        s.add(extraction)
        s.flush()
        for value in corrected_to:
            s.add(
                CorrectionRow(
                    document_id=doc.id,
                    kind="doc_type",
                    target="doc_type",
                    old_value="invoice",
                    new_value=value,
                    extraction_id=extraction.id,
                    username="clerk",
                )
            )
        return doc.id


@pytest.mark.slow
def test_the_newest_correction_per_document_is_a_training_example_with_its_layout(
    tiny_pdf_corpus: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ledgerbot.db'}")
    store.migrate()
    files = FileStore(tmp_path / "files")
    advice = _pdf_of(tiny_pdf_corpus, DocType.REMITTANCE_ADVICE)
    _received(store, files, advice, "statement", "remittance_advice")  # the clerk changed their mind
    _received(store, files, _pdf_of(tiny_pdf_corpus, DocType.OTHER), "not-a-type")
    notes: list[str] = []

    examples = load_corrections(
        store=store,
        files_dir=tmp_path / "files",
        cache_dir=tmp_path / "cache",
        reader=read_pdf,
        reader_name="tests.read_pdf",
        log=notes.append,
    )

    assert [doc_type for _, doc_type in examples] == [DocType.REMITTANCE_ADVICE]
    document = examples[0][0]
    # The whole text layer, so the title and its position reach the models as for corpus files.
    assert extract_features(document) == extract_features(read_pdf(advice))
    assert extract_features(document).title
    assert any("'not-a-type' is not a document type" in note for note in notes)
    store.dispose()
