"""End to end on a tiny generated PDF corpus: train both models, route, save, reload, retrain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from classifier_corpus_gen import read_pdf

from classifiers.cascade import Cascade
from classifiers.features import extract_features
from classifiers.train import TrainReport, train_all
from classifiers.transformer import TransformerClassifier, TransformerConfig
from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType
from textlayer.model import Document

pytestmark = pytest.mark.slow


def _heldout(corpus: Path) -> tuple[list[Path], list[DocType]]:
    paths, truth = [], []
    for meta in sorted(corpus.glob("*.json")):
        data = json.loads(meta.read_text())
        if data["split"] == "heldout":
            paths.append(meta.with_suffix(".pdf"))
            truth.append(DocType(data["doc_type"]))
    return paths, truth


def test_training_really_learns_on_held_out_layouts(trained: tuple[TrainReport, Path]) -> None:
    report, _ = trained
    test = report.metrics["test"]
    assert report.counts["test"] == 28  # the two heldout layouts x 7 types x 2
    copies = report.counts["train_ocr_noise_copies"]
    assert report.counts["train"] - copies + report.counts["validation"] == 56  # the XML e-invoice is skipped
    assert 0 < copies < report.counts["train"]  # born-digital training documents, read as a scan would
    assert test["baseline"]["accuracy"] >= 0.9  # chance is 1/7
    assert test["transformer"]["accuracy"] >= 0.5
    assert test["cascade"]["accuracy"] >= 0.5
    assert 0.0 <= test["cascade"]["ece"] <= 1.0
    assert report.validation_layouts  # four dev layouts: validation holds out a whole layout


def test_artifacts_carry_metrics_data_hash_labels_and_thresholds(trained: tuple[TrainReport, Path]) -> None:
    report, models = trained
    store = ArtifactStore(models)
    cascade = store.resolve("cascade")
    assert cascade.ref == report.cascade
    for name in ("baseline", "transformer", "cascade"):
        meta = store.resolve(name).meta
        assert meta["data_sha256"] == report.data_sha256
        assert meta["labels"] == [t.value for t in DocType]
        assert "test" in meta["metrics"] and "created_at" in meta and "torch" in meta["libraries"]
    assert cascade.meta["thresholds"] == report.thresholds
    assert cascade.meta["components"] == {
        "baseline": report.baseline.split("@")[1],
        "transformer": report.transformer.split("@")[1],
    }
    assert report.cascade.split("@")[1].endswith(report.data_sha256[:6])


def test_saved_models_reload_and_give_identical_predictions(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path
) -> None:
    report, models = trained
    paths, truth = _heldout(tiny_pdf_corpus)
    docs = [read_pdf(p) for p in paths]
    first = Cascade.load(models).classify(docs)
    second = Cascade.load(models).classify(docs)
    assert first == second
    assert {c.version for c in first} == {report.cascade}
    pooled = f"{report.baseline}+{report.transformer}"
    assert all(c.model == (pooled if c.route == "combined" else report.baseline) for c in first)
    assert all(c.lineage()["classifier"] == report.cascade for c in first)
    accuracy = np.mean([c.doc_type == t for c, t in zip(first, truth, strict=True)])
    assert accuracy == pytest.approx(report.metrics["test"]["cascade"]["accuracy"], abs=1e-4)
    # The transformer alone, reloaded from disk twice: the very same probabilities.
    features = [extract_features(d) for d in docs]
    folder = ArtifactStore(models).resolve("transformer").path
    a = TransformerClassifier.load(folder, threads=1).predict_proba(features)
    b = TransformerClassifier.load(folder, threads=1).predict_proba(features)
    assert np.array_equal(a, b)


def test_retraining_with_corrections_makes_a_new_version_and_keeps_the_old(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path, tmp_path: Path
) -> None:
    report, shared = trained
    models = tmp_path / "models"
    shutil.copytree(shared, models)  # the other tests keep the session's models as they were
    corrections: list[tuple[Document | str, DocType]] = [
        (
            "REMITTANCE ADVICE\nWe have paid the following invoices\nTotal remitted 100.00",
            DocType.REMITTANCE_ADVICE,
        ),
        ("Spring Sale\nSave 20 percent this month", DocType.OTHER),
    ]
    # As ``load_corrections`` hands them over: the stored file's whole text layer.
    paths, truth = _heldout(tiny_pdf_corpus)
    corrections.append((read_pdf(paths[0]), truth[0]))
    quick = TransformerConfig(max_length=32, batch_size=8, epochs=1, max_steps=2, threads=1)
    again = train_all(
        [tiny_pdf_corpus],
        models,
        extra_examples=corrections,
        reader=read_pdf,
        reader_name="tests.read_pdf",
        cache_dir=models.parent / "cache",
        transformer_config=quick,
    )
    assert again.counts["corrections"] == 3
    assert again.counts["train"] == report.counts["train"] + 3
    assert again.data_sha256 != report.data_sha256
    assert again.cascade != report.cascade
    assert Cascade.load(models).version == again.cascade
    assert Cascade.load(models, report.cascade.split("@")[1]).version == report.cascade
