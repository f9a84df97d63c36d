"""The classifier and splitter shipped with the code: shipped from a models folder, installed into another."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from classifier_corpus_gen import read_pdf

from classifiers.cascade import NO_TEXT_MODEL, Cascade
from classifiers.shipped import PROVENANCE, install, provenance, ship
from classifiers.train import TrainReport
from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType
from textlayer.model import Document, Page

pytestmark = pytest.mark.slow


def _with_splitter(models: Path, into: Path) -> Path:
    """A copy of the trained models with a splitter version beside them, as `train splitter` adds."""
    shutil.copytree(models, into)
    ArtifactStore(into).save(
        "splitter",
        "2026-12-07T0300-abcdef",
        lambda folder: (folder / "splitter.npz").write_bytes(b"weights"),
        {"feature_version": 1},
    )
    return into


def test_shipped_models_install_into_an_empty_folder_and_classify_as_trained(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path, tmp_path: Path
) -> None:
    report, models = trained
    source = _with_splitter(models, tmp_path / "trained")
    transformer = ArtifactStore(source).resolve_exact("transformer", report.transformer.partition("@")[2])
    (transformer.path / "model" / "classifier.onnx").write_bytes(b"derived")  # rebuilt where installed

    shipped = ship(source, {"seed": 0, "code_version": "abc"}, out=tmp_path / "shipped")
    assert shipped.refs == [
        report.cascade,
        report.baseline,
        report.transformer,
        "splitter@2026-12-07T0300-abcdef",
    ]
    files = {p.name for p in (tmp_path / "shipped").rglob("*")}
    assert "classifier.onnx" not in files and "baseline.joblib" not in files
    assert "model.safetensors" not in files  # the MiniLM as a delta, not the whole encoder
    assert shipped.bytes < 40e6
    made = provenance(tmp_path / "shipped")
    assert made is not None and made["seed"] == 0 and made["artifacts"] == shipped.refs

    fresh = tmp_path / "fresh"
    installed = install(fresh, source=tmp_path / "shipped")
    assert [a.ref for a in installed] == shipped.refs
    assert install(fresh, source=tmp_path / "shipped") == installed  # again: nothing changes
    docs = [read_pdf(p) for p in sorted(tiny_pdf_corpus.glob("*.pdf"))[:12]]
    assert Cascade.load(fresh).classify(docs) == Cascade.load(models).classify(docs)
    assert ArtifactStore(fresh).latest_version("splitter") == "2026-12-07T0300-abcdef"


def test_nothing_is_installed_when_nothing_is_shipped(tmp_path: Path) -> None:
    assert install(tmp_path / "models", source=tmp_path / "none") == []
    assert not (tmp_path / "models").exists()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / PROVENANCE).write_text("{not json")
    assert provenance(tmp_path / "broken") is None


def test_a_document_without_words_goes_to_a_clerk_typed_by_no_model(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path
) -> None:
    _, models = trained
    worded = [read_pdf(p) for p in sorted(tiny_pdf_corpus.glob("*.pdf"))[:2]]
    blank = Document(source="blank.pdf", pages=[Page(1, 595.0, 842.0, [])])
    cascade = Cascade.load(models)
    first, wordless, second = cascade.classify([worded[0], blank, worded[1]])
    assert [first, second] == cascade.classify(worded)  # the others are typed as before, in order
    assert (wordless.doc_type, wordless.confidence, wordless.route) == (DocType.OTHER, 0.0, "no_text")
    assert wordless.low_confidence and wordless.model == NO_TEXT_MODEL
    exception = wordless.exception()
    assert exception is not None and exception.evidence["classifier_model"] == NO_TEXT_MODEL
