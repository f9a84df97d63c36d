from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.cascade import Cascade, Classification, Thresholds, choose_thresholds, route
from classifiers.errors import ArtifactError, ModelNotFound
from classifiers.labels import LABEL_INDEX
from ledgerbot.domain import DocType


def _p(*rows: tuple[int, float]) -> np.ndarray:
    """Rows of probabilities: (winning label index, its probability), the rest spread evenly."""
    out = np.zeros((len(rows), 7))
    for i, (label, top) in enumerate(rows):
        out[i, :] = (1 - top) / 6
        out[i, label] = top
    return out


def test_route_takes_the_baseline_when_sure_and_the_transformer_otherwise() -> None:
    p_b = _p((0, 0.97), (1, 0.6), (2, 0.5))
    p_t = _p((3, 0.95), (4, 0.3))  # only the two routed rows
    decided = route(p_b, p_t, Thresholds(accept_baseline=0.9, review=0.5))
    assert decided.predicted.tolist() == [0, 3, 4]
    assert decided.routed.tolist() == [False, True, True]
    assert decided.low_confidence.tolist() == [False, False, True]
    assert decided.confidence.tolist() == pytest.approx([0.97, 0.95, 0.3])


def test_thresholds_are_the_lowest_that_reach_the_wanted_precision() -> None:
    y = np.array([0, 1, 2, 3, 4])
    # Baseline: right at 0.99 and 0.95, wrong at 0.93, right below.
    p_b = _p((0, 0.99), (1, 0.95), (5, 0.93), (3, 0.7), (4, 0.6))
    p_t = _p((0, 0.99), (1, 0.99), (2, 0.9), (3, 0.8), (6, 0.55))
    t = choose_thresholds(p_b, p_t, y, accept_floor=0.5, review_floor=0.5)
    assert t.accept_baseline == pytest.approx(0.95)  # 0.93 would let the wrong answer through
    assert t.review == pytest.approx(0.8)  # the transformer is wrong at 0.55
    floored = choose_thresholds(p_b, p_t, y, accept_floor=0.96, review_floor=0.5)
    assert floored.accept_baseline >= 0.96


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
