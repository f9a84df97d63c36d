"""The ranker's compiled trees answer as the fitted scikit-learn model does, and extraction reads
them without scikit-learn."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from extractors.generic.extractor import GenericExtractor
from extractors.generic.learned import MODEL_FILE, TREES_FILE, LearnedRanker
from extractors.generic.ranking import SHIPPED_MODEL, HeuristicScorer, shipped_scorer
from extractors.generic.trees import TREES_FORMAT, CompiledTrees, CompiledTreesError
from textlayer import read_document

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "templates" / "samples").glob("*/*.pdf"))


@pytest.fixture(scope="module")
def candidate_rows() -> np.ndarray:
    """Feature rows of every candidate of the committed sample invoices, as extraction builds them."""
    ranker = shipped_scorer()
    assert isinstance(ranker, LearnedRanker)
    reader = GenericExtractor(HeuristicScorer())
    rows = []
    for pdf in SAMPLES:
        reading = reader.read_unscored(read_document(pdf))
        rows.append(ranker.featurizer.matrix([c for cs in reading.candidates.values() for c in cs]))
    return np.vstack(rows)


def test_the_shipped_trees_give_the_fitted_models_probabilities(candidate_rows: np.ndarray) -> None:
    fitted = pickle.loads((SHIPPED_MODEL / MODEL_FILE).read_bytes())
    trees = CompiledTrees.load(SHIPPED_MODEL / TREES_FILE)
    assert len(candidate_rows) > 250  # the seven samples: enough rows to compare the two on
    expected = fitted.predict_proba(candidate_rows)
    np.testing.assert_allclose(trees.predict_proba(candidate_rows), expected, rtol=0, atol=1e-12)
    # A value the model never saw missing takes the branch the model gives it.
    holes = candidate_rows[:200].copy()
    holes[np.random.default_rng(0).random(holes.shape) < 0.2] = np.nan
    np.testing.assert_allclose(trees.predict_proba(holes), fitted.predict_proba(holes), rtol=0, atol=1e-12)


def test_compiling_the_shipped_model_again_gives_the_committed_trees() -> None:
    fitted = pickle.loads((SHIPPED_MODEL / MODEL_FILE).read_bytes())
    again, committed = CompiledTrees.from_sklearn(fitted), CompiledTrees.load(SHIPPED_MODEL / TREES_FILE)
    for name in ("feature", "threshold", "missing_left", "left", "right", "value", "roots"):
        np.testing.assert_array_equal(getattr(again, name), getattr(committed, name), err_msg=name)
    assert (again.baseline, again.depth, again.n_features) == (
        committed.baseline,
        committed.depth,
        committed.n_features,
    )
    meta = json.loads((SHIPPED_MODEL / "meta.json").read_text())
    assert meta["trees_format"] == TREES_FORMAT and meta["version"] and meta["code_version"]


def test_an_artifact_without_compiled_trees_is_compiled_on_load(tmp_path: Path) -> None:
    for name in (MODEL_FILE, "calibration.json"):
        (tmp_path / name).write_bytes((SHIPPED_MODEL / name).read_bytes())
    meta = json.loads((SHIPPED_MODEL / "meta.json").read_text())
    ranker = LearnedRanker.load(tmp_path, "old", meta)
    assert ranker is not None and ranker.version == "old" and ranker.model is not None
    committed = CompiledTrees.load(SHIPPED_MODEL / TREES_FILE)
    np.testing.assert_array_equal(ranker.model.threshold, committed.threshold)


def test_trees_of_another_format_or_shape_are_refused(tmp_path: Path) -> None:
    trees = CompiledTrees.load(SHIPPED_MODEL / TREES_FILE)
    with pytest.raises(CompiledTreesError):
        trees.predict_proba(np.zeros((2, trees.n_features + 1)))
    arrays = dict(np.load(SHIPPED_MODEL / TREES_FILE))
    arrays["format"] = np.array([TREES_FORMAT + 1])
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(CompiledTreesError):
        CompiledTrees.load(tmp_path / "future.npz")


def test_a_multiclass_model_is_not_compiled() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=3).fit([[0.0], [1.0], [2.0]] * 10, [0, 1, 2] * 10)
    with pytest.raises(CompiledTreesError):
        CompiledTrees.from_sklearn(model)


def test_extraction_with_the_shipped_ranker_imports_no_scikit_learn(tmp_path: Path) -> None:
    # A process of its own: what extraction imports is seen only there.
    code = (
        "import sys, json\n"
        "from extractors.generic import GenericExtractor\n"
        "from textlayer import read_document\n"
        "extractor = GenericExtractor.load(sys.argv[2])\n"
        "result = extractor.extract(read_document(sys.argv[1]))\n"
        "heavy = {'sklearn', 'scipy', 'torch', 'transformers'} & {m.split('.')[0] for m in sys.modules}\n"
        "out = {'lineage': extractor.lineage, 'total': str(result.fields.total), 'heavy': sorted(heavy)}\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLES[0]), str(tmp_path / "no-models")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout)
    truth = json.loads(SAMPLES[0].with_suffix(".json").read_text())
    assert "@shipped-" in out["lineage"] and out["total"] == truth["fields"]["total"]
    assert out["heavy"] == []
