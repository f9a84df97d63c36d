from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.cascade import (
    MIN_WEIGHT,
    Cascade,
    Classification,
    Thresholds,
    choose_thresholds,
    choose_weight,
    pool,
    route,
)
from classifiers.errors import ArtifactError, IncompatibleModel, ModelNotFound
from classifiers.features import FEATURE_VERSION
from classifiers.labels import LABEL_INDEX
from ledgerbot.core.artifacts import ArtifactStore
from ledgerbot.core.domain import DocType


def _p(*rows: tuple[int, float]) -> np.ndarray:
    """Rows of probabilities: (winning label index, its probability), the rest spread evenly."""
    out = np.zeros((len(rows), 7))
    for i, (label, top) in enumerate(rows):
        out[i, :] = (1 - top) / 6
        out[i, label] = top
    return out


def test_route_takes_the_baseline_when_sure_and_pools_both_models_otherwise() -> None:
    p_b = _p((0, 0.97), (1, 0.6), (2, 0.5))
    p_t = _p((3, 0.95), (4, 0.3))  # only the two routed rows
    decided = route(p_b, p_t, Thresholds(accept_baseline=0.9, review=0.5, baseline_weight=0.5))
    # Row 2: a sure transformer outvotes an unsure baseline (0.475 + 0.033 against 0.3 + 0.004).
    # Row 3: neither is sure; the baseline's 0.5 still outweighs the transformer's 0.3, but the
    # pooled 0.31 is below the review threshold, so a clerk confirms it.
    assert decided.predicted.tolist() == [0, 3, 2]
    assert decided.routed.tolist() == [False, True, True]
    assert decided.low_confidence.tolist() == [False, False, True]
    assert decided.confidence == pytest.approx([0.97, 0.4 / 6 / 2 + 0.475, 0.25 + 0.7 / 6 / 2])


def test_a_moderately_sure_baseline_is_not_overruled_by_an_unsure_transformer() -> None:
    p_b = _p((2, 0.75))
    p_t = _p((5, 0.45))
    decided = route(p_b, p_t, Thresholds(accept_baseline=0.9, review=0.3, baseline_weight=0.5))
    assert decided.routed.tolist() == [True]
    assert decided.predicted.tolist() == [2]
    assert not decided.low_confidence[0]
    # With all the say given to the transformer, the same document would have flipped.
    handed_over = route(p_b, p_t, Thresholds(accept_baseline=0.9, review=0.3, baseline_weight=0.0))
    assert handed_over.predicted.tolist() == [5]


def test_pool_weight_comes_from_validation_errors_then_log_loss() -> None:
    y = np.array([0, 1, 2, 3])
    right = _p((0, 0.9), (1, 0.9), (2, 0.9), (3, 0.9))
    # Equally good models: the middle of the grid.
    assert choose_weight(right, right, y) == pytest.approx(0.5)
    # The transformer is sure and wrong on one document the baseline gets right: the baseline
    # gets the larger share, but never all of it.
    flawed = _p((0, 0.9), (1, 0.9), (2, 0.9), (6, 0.95))
    w = choose_weight(right, flawed, y)
    assert 0.5 < w <= 1 - MIN_WEIGHT
    assert choose_weight(flawed, right, y) == pytest.approx(1 - w)


def test_thresholds_are_the_lowest_that_reach_the_wanted_precision() -> None:
    y = np.array([0, 1, 2, 3, 4])
    # Baseline: right at 0.99 and 0.95, wrong at 0.93, right below.
    p_b = _p((0, 0.99), (1, 0.95), (5, 0.93), (3, 0.7), (4, 0.6))
    p_t = _p((0, 0.99), (1, 0.99), (2, 0.9), (3, 0.8), (4, 0.55))
    t = choose_thresholds(p_b, p_t, y, accept_floor=0.5, review_floor=0.3)
    assert t.accept_baseline == pytest.approx(0.95)  # 0.93 would let the wrong answer through
    # Routed: the three documents below 0.95; pooled, all three are right, so nothing needs a
    # clerk and the review threshold stays at its floor.
    pooled = pool(p_b, p_t, t.baseline_weight)
    routed = p_b.max(axis=1) < t.accept_baseline
    assert (pooled[routed].argmax(axis=1) == y[routed]).all()
    assert t.review == pytest.approx(0.3)
    floored = choose_thresholds(p_b, p_t, y, accept_floor=0.96, review_floor=0.5)
    assert floored.accept_baseline >= 0.96
    # A transformer that is wrong where the unsure baseline is right: the pool must not go below
    # the confidence at which that wrong answer would be accepted.
    p_t_wrong = _p((0, 0.99), (1, 0.99), (2, 0.9), (3, 0.8), (6, 0.55))
    strict = choose_thresholds(p_b, p_t_wrong, y, accept_floor=0.5, review_floor=0.3)
    pooled = pool(p_b, p_t_wrong, strict.baseline_weight)
    wrong = (pooled.argmax(axis=1) != y) & (p_b.max(axis=1) < strict.accept_baseline)
    assert (pooled[wrong].max(axis=1) < strict.review).all()


def test_inconsistent_thresholds_are_refused() -> None:
    with pytest.raises(ArtifactError):
        Thresholds(accept_baseline=0.4, review=0.6)


def test_classification_lineage_and_review_exception() -> None:
    c = Classification(
        doc_type=DocType.STATEMENT,
        confidence=0.42,
        route="transformer",
        low_confidence=True,
        model="transformer@2026-11-22T0512-ab12cd",
        version="cascade@2026-11-22T0512-ab12cd",
        baseline_confidence=0.31,
    )
    assert c.lineage() == {
        "classifier": "cascade@2026-11-22T0512-ab12cd",
        "classifier_model": "transformer@2026-11-22T0512-ab12cd",
        "classifier_route": "transformer",
        "classifier_confidence": "0.4200",
        "classifier_low_confidence": "true",
    }
    exception = c.exception()
    assert exception is not None and exception.code == "LOW_CONFIDENCE"
    assert exception.evidence["doc_type"] == "statement"
    sure = Classification(DocType.INVOICE, 0.99, "baseline", False, "baseline@v", "cascade@v", 0.99)
    assert sure.exception() is None
    assert LABEL_INDEX[DocType.INVOICE] == 0


def test_load_without_models_is_a_clear_coded_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        Cascade.load(tmp_path / "models")
    assert caught.value.code == "E501"
    assert "run `ledgerbot train classifier <corpus>`" in caught.value.message


def test_load_defaults_to_the_settings_models_dir(_isolated_home: Path) -> None:
    with pytest.raises(ModelNotFound, match=str(_isolated_home / "models")):
        Cascade.load()


def test_a_model_trained_on_other_features_is_refused_at_load_with_how_to_retrain(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    # A cascade saved before feature versions existed: its meta has no feature_version at all.
    store.save("cascade", "2026-01-01T0000-aaaaaa", lambda _folder: None, {"thresholds": {}})
    with pytest.raises(IncompatibleModel) as caught:
        Cascade.load(tmp_path)
    assert caught.value.code == "E506"
    assert "v1" in caught.value.message and f"v{FEATURE_VERSION}" in caught.value.message
    assert "ledgerbot train classifier" in caught.value.message


def test_the_acceptance_threshold_follows_the_out_of_layout_evidence_when_given() -> None:
    y = np.array([0, 1, 2])
    p_b = _p((0, 0.99), (1, 0.95), (2, 0.7))  # validation: the baseline is always right
    p_t = _p((0, 0.99), (1, 0.99), (2, 0.9))
    assert choose_thresholds(p_b, p_t, y, accept_floor=0.6).accept_baseline == pytest.approx(0.6)
    # Across all layouts the baseline was once sure and wrong at 0.8: accept only above it.
    evidence = (_p((0, 0.99), (4, 0.8), (2, 0.85), (3, 0.97)), np.array([0, 1, 2, 3]))
    t = choose_thresholds(p_b, p_t, y, accept_floor=0.6, baseline_evidence=evidence)
    assert t.accept_baseline == pytest.approx(0.85)
