"""The transformer read through onnxruntime: the same answers as torch, without torch in the process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from classifier_corpus_gen import read_pdf
from typer.testing import CliRunner

from classifiers import transformer_onnx
from classifiers.cascade import Cascade, Thresholds
from classifiers.errors import ArtifactError
from classifiers.features import extract_features
from classifiers.train import TrainReport
from classifiers.transformer import WEIGHTS_DIR, TransformerClassifier
from classifiers.transformer_onnx import (
    GRAPH,
    GRAPH_META,
    LOGIT_TOLERANCE,
    OnnxTransformer,
    export,
    has_graph,
    load_transformer,
    probe_features,
)
from ledgerbot.core.artifacts import ArtifactStore

pytestmark = pytest.mark.slow


def _transformer_folder(models: Path) -> Path:
    return ArtifactStore(models).resolve("transformer").path


def _every_document(corpus: Path) -> list[object]:
    return [extract_features(read_pdf(p)) for p in sorted(corpus.glob("*.pdf"))]


class _Unsure:
    """The baseline's probabilities, halfway to uniform: never sure enough to settle a document alone."""

    def __init__(self, baseline: object) -> None:
        self.baseline = baseline

    def predict_proba(self, features: object) -> np.ndarray:
        p = self.baseline.predict_proba(features)  # type: ignore[attr-defined]
        return 0.5 * p + 0.5 / p.shape[1]


def _asking_the_transformer(cascade: Cascade) -> Cascade:
    """``cascade`` with the baseline never sure, so every document is pooled with the transformer."""
    cascade.baseline = _Unsure(cascade.baseline)
    cascade.thresholds = Thresholds(
        accept_baseline=0.9, review=0.0, baseline_weight=cascade.thresholds.baseline_weight
    )
    return cascade


def _without_graph(models: Path, tmp_path: Path) -> Path:
    """A copy of the trained models whose transformer is as saved before ONNX export existed."""
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    weights = _transformer_folder(copy) / WEIGHTS_DIR
    for name in (GRAPH, GRAPH_META):
        (weights / name).unlink()
    return copy


def test_training_writes_a_graph_checked_against_torch(trained: tuple[TrainReport, Path]) -> None:
    report, models = trained
    artifact = ArtifactStore(models).resolve("transformer")
    assert artifact.ref == report.transformer
    assert has_graph(artifact.path)
    checked = json.loads((artifact.path / WEIGHTS_DIR / GRAPH_META).read_text())
    assert 0.0 <= checked["max_logit_difference"] <= LOGIT_TOLERANCE
    # the validation documents and the built-in probes
    assert checked["probes"] > len(probe_features())
    assert artifact.meta["onnx"]["max_logit_difference"] == checked["max_logit_difference"]


def test_onnxruntime_and_torch_give_the_same_probabilities(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path
) -> None:
    _, models = trained
    folder = _transformer_folder(models)
    features = _every_document(tiny_pdf_corpus) + probe_features()
    torch_model = TransformerClassifier.load(folder, threads=1)
    onnx_model = OnnxTransformer.load(folder, threads=1)
    assert onnx_model.temperature == torch_model.temperature
    assert onnx_model.encode(features) == torch_model._encode(features)  # type: ignore[arg-type]
    p_torch = torch_model.predict_proba(features)  # type: ignore[arg-type]
    p_onnx = onnx_model.predict_proba(features)  # type: ignore[arg-type]
    assert p_onnx.shape == p_torch.shape == (len(features), p_torch.shape[1])
    assert np.abs(p_onnx - p_torch).max() < 1e-4
    assert (p_onnx.argmax(axis=1) == p_torch.argmax(axis=1)).all()
    # One at a time (no padding) as in a batch: the same.
    alone = np.vstack([onnx_model.predict_proba([f]) for f in features[:5]])  # type: ignore[list-item]
    assert np.abs(alone - p_onnx[:5]).max() < 1e-5


def test_the_cascade_reads_through_onnxruntime_and_says_so(
    trained: tuple[TrainReport, Path], tiny_pdf_corpus: Path, tmp_path: Path
) -> None:
    _, models = trained
    docs = [read_pdf(p) for p in sorted(tiny_pdf_corpus.glob("*.pdf"))[:12]]
    fast = _asking_the_transformer(Cascade.load(models))
    slow = _asking_the_transformer(Cascade.load(_without_graph(models, tmp_path)))
    by_onnx, by_torch = fast.classify(docs), slow.classify(docs)
    assert fast.transformer.runtime == "onnxruntime" and slow.transformer.runtime == "torch"
    assert all(c.route == "combined" for c in by_onnx + by_torch)
    assert {c.lineage()["classifier_runtime"] for c in by_onnx} == {"onnxruntime"}
    assert {c.lineage()["classifier_runtime"] for c in by_torch} == {"torch"}
    # The same model version and the same answers either way.
    for a, b in zip(by_onnx, by_torch, strict=True):
        assert (a.doc_type, a.model, a.version) == (b.doc_type, b.model, b.version)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
    # What the baseline settles alone names no transformer runtime.
    sure = Cascade.load(models)
    sure.thresholds = Thresholds(accept_baseline=0.0, review=0.0)
    assert all("classifier_runtime" not in c.lineage() for c in sure.classify(docs[:3]))


def test_an_artifact_without_graph_reads_through_torch_until_exported(
    trained: tuple[TrainReport, Path], tmp_path: Path
) -> None:
    from ledgerbot.cli.app import app

    _, models = trained
    old = _without_graph(models, tmp_path)
    folder = _transformer_folder(old)
    assert not has_graph(folder)
    assert isinstance(load_transformer(folder, threads=1), TransformerClassifier)
    runner = CliRunner()
    done = runner.invoke(app, ["models", "export-onnx", "--models-dir", str(old)])
    assert done.exit_code == 0, done.output
    [line] = [json.loads(row) for row in done.stdout.splitlines()]
    assert line["exported"] is True and line["transformer"] == ArtifactStore(old).resolve("transformer").ref
    assert line["max_logit_difference"] <= LOGIT_TOLERANCE
    assert has_graph(folder)
    assert isinstance(load_transformer(folder, threads=1), OnnxTransformer)
    again = runner.invoke(app, ["models", "export-onnx", "--models-dir", str(old)])
    assert again.exit_code == 0 and json.loads(again.stdout)["exported"] is False


def test_a_damaged_graph_costs_speed_not_answers(trained: tuple[TrainReport, Path], tmp_path: Path) -> None:
    _, models = trained
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    folder = _transformer_folder(copy)
    graph = folder / WEIGHTS_DIR / GRAPH
    graph.write_bytes(graph.read_bytes()[: 1 << 16])  # cut short, as a full disk would leave it
    assert has_graph(folder)
    model = load_transformer(folder, threads=1)
    assert isinstance(model, TransformerClassifier) and model.runtime == "torch"


def test_an_export_that_differs_from_torch_is_refused_and_nothing_is_written(
    trained: tuple[TrainReport, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, models = trained
    folder = _transformer_folder(_without_graph(models, tmp_path))
    classifier = TransformerClassifier.load(folder, threads=1)
    other = TransformerClassifier.from_pretrained_base(classifier.config)  # another head, untrained
    real_trace = transformer_onnx._trace
    monkeypatch.setattr(transformer_onnx, "_trace", lambda _model, path: real_trace(other, path))
    with pytest.raises(ArtifactError) as refused:
        export(classifier, folder)
    assert float(refused.value.evidence["difference"]) > LOGIT_TOLERANCE
    assert not has_graph(folder)
    assert not [p for p in (folder / WEIGHTS_DIR).iterdir() if GRAPH in p.name]  # no staging file left


def test_asking_the_onnx_transformer_imports_no_torch(trained: tuple[TrainReport, Path]) -> None:
    _, models = trained
    # A process of its own: what classification imports is seen only there.
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from classifiers.cascade import Cascade, Thresholds\n"
        "from classifiers.features import document_from_text\n"
        "from classifiers.labels import LABELS\n"
        "cascade = Cascade.load(Path(sys.argv[1]))\n"
        "cascade.thresholds = Thresholds(accept_baseline=1.0, review=0.0)\n"
        "sure = cascade.baseline.predict_proba\n"
        "cascade.baseline.predict_proba = lambda features: 0.5 * sure(features) + 0.5 / len(LABELS)\n"
        "[c] = cascade.classify([document_from_text('CREDIT NOTE\\nCredit for invoice 7\\n-12.00')])\n"
        "heavy = {'torch', 'transformers', 'sklearn', 'scipy'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(json.dumps({'lineage': c.lineage(), 'heavy': sorted(heavy)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(models)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["lineage"]["classifier_route"] == "combined"
    assert seen["lineage"]["classifier_runtime"] == "onnxruntime"
    assert seen["heavy"] == []
